//! hawser-async-std runs the shared conformance suite from hawser-testkit
//! (each blocking `send` runs the future with `async_std::task::block_on`).

use std::error::Error as _;
use std::time::Duration;

use hawser_async_std::{
    Auth, Error, ErrorKind, PoolConfig, Proxy, ProxyConfig, Retry, Session, TimeoutPhase,
    TlsConfig, WhenFull,
};
use hawser_testkit::conformance::{
    AuthConfig, ClientConfig, ConformanceClient, ConformanceSession, Phase, RetryConfig, TestBody,
    TestError, TestErrorKind, TestRequest, TestResponse,
};

struct AsyncStdClient;

struct AsyncStdSession(Session);

fn retry(r: &RetryConfig) -> Retry {
    if !r.enabled {
        return Retry::disabled();
    }
    let mut p = Retry::new(r.total)
        .connect(r.connect)
        .read(r.read)
        .status(r.status)
        .status_forcelist(r.status_forcelist.iter().copied())
        .backoff_factor(Duration::from_secs_f64(r.backoff_factor))
        .respect_retry_after_header(r.respect_retry_after)
        .raise_on_status(r.raise_on_status);
    if let Some(max) = r.backoff_max {
        p = p.backoff_max(Duration::from_secs_f64(max));
    }
    if let Some(m) = &r.allowed_methods {
        p = p.allowed_methods(m.iter().filter_map(|s| s.parse().ok()));
    }
    p
}

fn auth(a: &AuthConfig) -> Auth {
    match a {
        AuthConfig::Basic { user, pass } => Auth::basic(user, pass),
        AuthConfig::Digest { user, pass } => Auth::digest(user, pass),
        AuthConfig::Bearer(t) => Auth::bearer(t),
    }
}

fn test_error(e: &Error) -> TestError {
    let kind = match e.kind() {
        ErrorKind::Connect => TestErrorKind::Connect,
        ErrorKind::Timeout => TestErrorKind::Timeout {
            phase: match e.timeout_phase() {
                Some(TimeoutPhase::PoolWait) => Phase::PoolWait,
                Some(TimeoutPhase::Connect) => Phase::Connect,
                Some(TimeoutPhase::TlsHandshake) => Phase::TlsHandshake,
                Some(TimeoutPhase::Send) => Phase::Send,
                Some(TimeoutPhase::ResponseHead) => Phase::ResponseHead,
                Some(TimeoutPhase::Body) => Phase::Body,
                _ => Phase::Deadline,
            },
        },
        ErrorKind::Tls => TestErrorKind::Tls,
        ErrorKind::Certificate => TestErrorKind::Certificate,
        ErrorKind::Protocol => TestErrorKind::Protocol,
        ErrorKind::Body => TestErrorKind::Body,
        ErrorKind::TooManyRedirects => TestErrorKind::TooManyRedirects,
        ErrorKind::RetriesExhausted | ErrorKind::RetryBudgetExhausted => {
            TestErrorKind::RetriesExhausted
        }
        ErrorKind::BodyNotReplayable => TestErrorKind::BodyNotReplayable,
        ErrorKind::Proxy => TestErrorKind::Proxy,
        ErrorKind::Status => TestErrorKind::Status,
        _ => TestErrorKind::Other,
    };
    let cause = e
        .source()
        .and_then(|s| s.downcast_ref::<Error>())
        .map(|c| Box::new(test_error(c)));
    TestError {
        kind,
        message: e.to_string(),
        cause,
    }
}

impl ConformanceClient for AsyncStdClient {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        let mut b = Session::builder()
            .retry(retry(&cfg.retry))
            .cookie_store(cfg.cookies);
        if let Some(d) = cfg.connect_timeout {
            b = b.connect_timeout(d);
        }
        if let Some(d) = cfg.read_timeout {
            b = b.read_timeout(d);
        }
        if let Some(d) = cfg.deadline {
            b = b.deadline(d);
        }
        if let Some(n) = cfg.max_redirects {
            b = b.max_redirects(n);
        }
        if let Some(a) = &cfg.auth {
            b = b.auth(auth(a));
        }
        if let Some(p) = &cfg.proxy {
            b = b.proxies(ProxyConfig::new().with_all(Proxy::parse(p).expect("proxy URL")));
        }
        if let Some(pem) = &cfg.ca_pem {
            let tls = TlsConfig::new()
                .add_root_certificate_pem(pem.as_bytes())
                .expect("test CA");
            b = b.tls(tls);
        }
        for (n, v) in &cfg.default_headers {
            b = b.header(n, v);
        }
        if let Some(n) = cfg.max_connections_per_host {
            b = b.pool(PoolConfig {
                max_active_per_host: n,
                when_full: if cfg.pool_wait {
                    WhenFull::Wait
                } else {
                    WhenFull::Error
                },
                ..PoolConfig::default()
            });
        }
        Box::new(AsyncStdSession(b.build().expect("session config")))
    }
}

impl ConformanceSession for AsyncStdSession {
    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        let method = req.method.parse().expect("method");
        let mut b = self.0.request(method, &req.url);
        for (n, v) in &req.headers {
            b = b.header(n, v);
        }
        match &req.body {
            Some(TestBody::Bytes(bytes)) => b = b.body(bytes.clone()),
            Some(TestBody::Stream(bytes)) => {
                b = b.body_stream(Box::new(futures_lite::io::Cursor::new(bytes.clone())), None);
            }
            None => {}
        }
        let o = &req.overrides;
        if let Some(d) = o.connect_timeout.or(o.read_timeout) {
            let base = self.0.config().timeouts;
            let mut t = base;
            if let Some(c) = o.connect_timeout {
                t = t.with_connect(c).expect("timeout");
            }
            if let Some(r) = o.read_timeout {
                t = t.with_read(r).expect("timeout");
            }
            let _ = d;
            b = b.with_timeouts(t);
        }
        if let Some(d) = o.deadline {
            b = b.deadline(d);
        }
        if let Some(a) = &o.auth {
            b = b.auth(auth(a));
        }
        if o.expect_continue {
            b = b.header("expect", "100-continue");
        }
        async_std::task::block_on(async {
            let resp = b.send().await.map_err(|e| test_error(&e))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let final_url = resp.url().to_string();
            let report = resp.report();
            let body = resp.bytes().await.map_err(|e| test_error(&e))?;
            let history = report
                .attempts
                .iter()
                .rev()
                .skip(1)
                .rev()
                .filter_map(|a| match &a.outcome {
                    hawser_async_std::AttemptOutcome::Status(s) => Some(s.as_u16()),
                    _ => None,
                })
                .collect();
            Ok(TestResponse {
                status,
                headers,
                body,
                final_url,
                history,
                connections_opened: Some(self.0.pool_stats().opened as usize),
            })
        })
    }
}

hawser_testkit::conformance_tests!(AsyncStdClient);
