//! The mapping from the conformance suite's plain data types onto hawser's
//! shared builders, used by every hawser backend's `tests/conformance.rs`
//! (included with `#[path]`). It lives beside hawser-testkit rather than in
//! it because the testkit must not depend on hawser-core: the two must not
//! be able to share a bug. Backends differ only in how they send and read
//! the body (blocking or async), so that is all their own test files keep.

use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hawser_core::auth::Auth;
use hawser_core::call::{AttemptOutcome, CallReport, Head, Mount};
use hawser_core::client::{Backend, RequestBuilder, SessionBuilder};
use hawser_core::pool::{PoolConfig, WhenFull};
use hawser_core::proxy::{Proxy, ProxyConfig};
use hawser_core::retry::Retry;
use hawser_core::tls::TlsConfig;
use hawser_core::{Error, ErrorKind, TimeoutPhase};
use hawser_testkit::conformance::{
    AuthConfig, ClientConfig, MountConfig, Phase, RetryConfig, TestBody, TestError, TestErrorKind,
    TestRequest, TestResponse,
};

/// urllib3's `Retry` as the suite describes it.
pub fn retry(r: &RetryConfig) -> Retry {
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

/// What the suite's hooks logged ([`ClientConfig::hooks`]).
pub type HookLog = Arc<Mutex<Vec<String>>>;

/// The entries of `log` so far.
pub fn hook_log(log: &HookLog) -> Vec<String> {
    log.lock().expect("hook log").clone()
}

fn pool_for(max: Option<usize>, wait: bool) -> Option<PoolConfig> {
    max.map(|n| PoolConfig {
        max_active_per_host: n,
        when_full: if wait {
            WhenFull::Wait
        } else {
            WhenFull::Error
        },
        ..PoolConfig::default()
    })
}

fn mount(m: &MountConfig, pool_wait: bool) -> Mount {
    let mut out = Mount::new(&m.prefix);
    if let Some(r) = &m.retry {
        out = out.retry(retry(r));
    }
    if let Some(d) = m.read_timeout {
        out = out.read_timeout(d);
    }
    if let Some(d) = m.deadline {
        out = out.deadline(d);
    }
    if let Some(n) = m.max_redirects {
        out = out.max_redirects(n);
    }
    if let Some(p) = pool_for(m.max_connections_per_host, pool_wait) {
        out = out.pool(p);
    }
    out
}

/// A session of backend `B` configured as the suite asks, and the log its
/// hooks write to.
pub fn session<B: Backend>(cfg: &ClientConfig) -> (B, HookLog) {
    let log = HookLog::default();
    let mut b = SessionBuilder::<B>::new()
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
    if let Some(d) = cfg.pool_wait_timeout {
        b = b.config(|c| {
            c.timeouts = c.timeouts.with_pool_wait(d).expect("pool wait timeout");
        });
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
    if let Some(n) = cfg.max_body_in_memory {
        b = b.max_body_in_memory(n);
    }
    for n in &cfg.sensitive_headers {
        b = b.sensitive_header(n);
    }
    if let Some(p) = pool_for(cfg.max_connections_per_host, cfg.pool_wait) {
        b = b.pool(p);
    }
    for m in &cfg.mounts {
        b = b.mount(mount(m, cfg.pool_wait));
    }
    if cfg.hooks {
        let (l1, l2) = (Arc::clone(&log), Arc::clone(&log));
        b = b
            .on_request(move |req| {
                let n = req.attempt();
                req.add_header("x-hook-attempt", &n.to_string())
                    .expect("a new header");
                let line = format!("> {} {} #{n}", req.method(), req.url().path());
                l1.lock().expect("hook log").push(line);
            })
            .on_response(move |resp| {
                let line = format!("< {} #{}", resp.status().as_u16(), resp.attempt());
                l2.lock().expect("hook log").push(line);
            });
    }
    (b.build().expect("session config"), log)
}

/// The request the suite describes, on `session`; `stream` wraps the bytes
/// of a non-replayable body in the backend's body source.
pub fn request<B: Backend>(
    session: &B,
    req: &TestRequest,
    stream: impl FnOnce(Vec<u8>) -> B::BodySource,
) -> RequestBuilder<B> {
    let method = req.method.parse().expect("method");
    let mut b = RequestBuilder::new(session.clone(), method, &req.url);
    for (n, v) in &req.headers {
        b = b.header(n, v);
    }
    match &req.body {
        Some(TestBody::Bytes(bytes)) => b = b.body(bytes.clone()),
        Some(TestBody::Stream(bytes)) => b = b.body_stream(stream(bytes.clone()), None),
        Some(TestBody::Json(value)) => b = b.json(value),
        Some(TestBody::Form(pairs)) => b = b.form(pairs),
        None => {}
    }
    for (n, v) in &req.headers_after_body {
        b = b.header(n, v);
    }
    for n in &req.remove_headers {
        b = b.remove_header(n);
    }
    let o = &req.overrides;
    if let Some(c) = o.connect_timeout {
        b = b.connect_timeout(c);
    }
    if let Some(r) = o.read_timeout {
        b = b.read_timeout(r);
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
    b
}

/// A finished response in the suite's terms. `history` lists the statuses
/// of every attempt before the final one (redirects, auth challenges,
/// retried statuses), from the call report.
pub fn response(head: &Head, report: &CallReport, body: Vec<u8>, opened: u64) -> TestResponse {
    let headers = head
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let earlier = report.attempts.len().saturating_sub(1);
    let history = report.attempts[..earlier]
        .iter()
        .filter_map(|a| match &a.outcome {
            AttemptOutcome::Status(s) => Some(s.as_u16()),
            _ => None,
        })
        .collect();
    TestResponse {
        status: head.status.as_u16(),
        headers,
        body,
        final_url: head.url.to_string(),
        history,
        connections_opened: Some(opened as usize),
        reason: head.reason().to_owned(),
    }
}

/// A hawser error in the suite's terms, with its cause chain.
pub fn test_error(e: &Error) -> TestError {
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
        ErrorKind::BodyTooLarge => TestErrorKind::BodyTooLarge,
        ErrorKind::InvalidRequest => TestErrorKind::InvalidRequest,
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
        report: e.report().map(|r| r.to_string()),
    }
}
