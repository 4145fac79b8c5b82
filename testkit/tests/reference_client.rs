//! A small reference client, written only to prove that the conformance
//! suite is runnable and its expectations consistent: it runs the whole
//! suite through the same one-call-per-scenario interface a backend uses.
//!
//! It follows RETRY.md as plainly as possible (std sockets, rustls, no
//! hawser code). It is not a product: no connection limits beyond a simple
//! cap, a toy cookie jar, only what the scenarios exercise.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hawser_testkit::conformance::{
    AuthConfig, ClientConfig, ConformanceClient, ConformanceSession, Phase, TestBody, TestError,
    TestErrorKind, TestRequest, TestResponse,
};
use hawser_testkit::{digest_authorization, DigestAlgorithm};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use url::Url;

fn e(kind: TestErrorKind, msg: impl Into<String>) -> TestError {
    TestError {
        kind,
        message: msg.into(),
        cause: None,
    }
}

fn timeout(phase: Phase) -> TestError {
    e(
        TestErrorKind::Timeout { phase },
        format!("timed out: {phase:?}"),
    )
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(b),
            Stream::Tls(s) => s.read(b),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(b),
            Stream::Tls(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    idle_since: Instant,
    keep_alive: Option<Duration>,
}

/// Waits are bounded by the phase timeout and the deadline; this says which.
#[derive(Clone, Copy)]
struct Clock {
    deadline: Option<Instant>,
    read: Duration,
}

impl Clock {
    fn bound(&self, phase_limit: Duration, phase: Phase) -> Result<(Duration, Phase), TestError> {
        match self.deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(timeout(Phase::Deadline))
                } else if left < phase_limit {
                    Ok((left, Phase::Deadline))
                } else {
                    Ok((phase_limit, phase))
                }
            }
            None => Ok((phase_limit, phase)),
        }
    }
}

enum Fail {
    /// Nothing reached the server (connect, TLS handshake).
    Connect(TestError),
    /// Failed after request bytes were written.
    Read(TestError),
    /// Deterministic: never retried.
    Final(TestError),
}

struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Conn {
    fn fill(&mut self, clock: &Clock, phase: Phase) -> Result<usize, TestError> {
        let (limit, named) = clock.bound(clock.read, phase)?;
        let _ = self.stream.tcp().set_read_timeout(Some(limit));
        let mut tmp = [0u8; 16384];
        match self.stream.read(&mut tmp) {
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                Ok(n)
            }
            Err(err) if is_timeout(&err) => Err(timeout(named)),
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            Err(err) => Err(e(TestErrorKind::Other, err.to_string())),
        }
    }

    /// Reads one response head (skipping 1xx unless `stop_at_100`).
    fn read_head(&mut self, clock: &Clock, stop_at_100: bool) -> Result<Raw, (TestError, bool)> {
        let mut got_any = !self.buf.is_empty();
        loop {
            let mut hs = [httparse::EMPTY_HEADER; 128];
            let mut resp = httparse::Response::new(&mut hs);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let status = resp.code.unwrap_or(0);
                    let headers: Vec<(String, String)> = resp
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    self.buf.drain(..n);
                    if (100..200).contains(&status) && !(stop_at_100 && status == 100) {
                        continue;
                    }
                    return Ok(Raw {
                        status,
                        headers,
                        body: Vec::new(),
                    });
                }
                Ok(httparse::Status::Partial) => {}
                Err(err) => return Err((e(TestErrorKind::Protocol, err.to_string()), true)),
            }
            if self.buf.len() > 64 * 1024 {
                return Err((e(TestErrorKind::Protocol, "response head too large"), true));
            }
            match self.fill(clock, Phase::ResponseHead) {
                Ok(0) if got_any => {
                    return Err((e(TestErrorKind::Protocol, "closed inside the head"), true))
                }
                Ok(0) => {
                    return Err((
                        e(TestErrorKind::Protocol, "closed before a response"),
                        false,
                    ))
                }
                Ok(_) => got_any = true,
                Err(err) if err.kind == TestErrorKind::Other => return Err((err, got_any)),
                Err(err) => return Err((err, true)),
            }
        }
    }

    fn take(&mut self, n: usize, clock: &Clock) -> Result<Vec<u8>, TestError> {
        while self.buf.len() < n {
            if self.fill(clock, Phase::Body)? == 0 {
                return Err(e(TestErrorKind::Body, "body ended early"));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self, clock: &Clock) -> Result<String, TestError> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(l);
            }
            if self.buf.len() > 4096 {
                return Err(e(TestErrorKind::Protocol, "line too long"));
            }
            if self.fill(clock, Phase::Body)? == 0 {
                return Err(e(TestErrorKind::Body, "body ended early"));
            }
        }
    }

    /// Reads the body; returns whether the connection may be reused.
    fn read_body(&mut self, raw: &mut Raw, method: &str, clock: &Clock) -> Result<bool, TestError> {
        let te = raw.header("transfer-encoding").map(str::to_ascii_lowercase);
        let cl = raw.header("content-length").map(str::to_string);
        if te.is_some() && cl.is_some() {
            return Err(e(
                TestErrorKind::Protocol,
                "Content-Length with Transfer-Encoding",
            ));
        }
        let close = raw
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if method == "HEAD" || raw.status == 204 || raw.status == 304 {
            return Ok(!close);
        }
        if te.is_some_and(|t| t.contains("chunked")) {
            loop {
                let line = self.line(clock)?;
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| e(TestErrorKind::Protocol, "bad chunk size"))?;
                if size == 0 {
                    while !self.line(clock)?.is_empty() {}
                    break;
                }
                let mut chunk = self.take(size + 2, clock)?;
                chunk.truncate(size);
                raw.body.extend_from_slice(&chunk);
            }
        } else if let Some(cl) = cl {
            let n: usize = cl
                .trim()
                .parse()
                .map_err(|_| e(TestErrorKind::Protocol, "bad Content-Length"))?;
            raw.body = self.take(n, clock)?;
        } else {
            while self.fill(clock, Phase::Body)? > 0 {}
            raw.body = std::mem::take(&mut self.buf);
            return Ok(false);
        }
        if raw
            .header("content-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
        {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw.body.as_slice())
                .read_to_end(&mut out)
                .map_err(|err| e(TestErrorKind::Body, err.to_string()))?;
            raw.body = out;
        }
        self.keep_alive = raw.header("keep-alive").and_then(|v| {
            v.split(',')
                .filter_map(|p| p.trim().strip_prefix("timeout="))
                .find_map(|n| n.trim().parse().ok())
                .map(Duration::from_secs)
        });
        Ok(!close)
    }
}

struct Pool {
    idle: HashMap<String, Vec<Conn>>,
    active: HashMap<String, usize>,
}

struct Session {
    cfg: ClientConfig,
    tls: Arc<rustls::ClientConfig>,
    pool: Mutex<Pool>,
    freed: Condvar,
    opened: AtomicUsize,
    jar: Mutex<Vec<(String, String, String, String)>>,
    digest_nc: Mutex<HashMap<String, u32>>,
}

struct Target {
    url: Url,
    key: String,
    host: String,
    port: u16,
    tls: bool,
}

fn target(u: &Url) -> Result<Target, TestError> {
    let host = u
        .host_str()
        .ok_or_else(|| e(TestErrorKind::Other, "no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = u
        .port_or_known_default()
        .ok_or_else(|| e(TestErrorKind::Other, "no port"))?;
    Ok(Target {
        url: u.clone(),
        key: format!("{}://{}:{}", u.scheme(), host, port),
        host,
        port,
        tls: u.scheme() == "https",
    })
}

fn origin_of(u: &Url) -> String {
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

impl Session {
    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
        clock: &Clock,
        limit: Duration,
    ) -> Result<TcpStream, Fail> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|err| Fail::Connect(e(TestErrorKind::Connect, err.to_string())))?
            .collect();
        let mut last = e(TestErrorKind::Connect, "no address");
        for a in addrs {
            let (t, phase) = clock.bound(limit, Phase::Connect).map_err(Fail::Connect)?;
            match TcpStream::connect_timeout(&a, t) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
                    return Ok(s);
                }
                Err(err) if is_timeout(&err) => last = timeout(phase),
                Err(err) => last = e(TestErrorKind::Connect, err.to_string()),
            }
        }
        Err(Fail::Connect(last))
    }

    fn open(&self, t: &Target, clock: &Clock, limit: Duration) -> Result<Conn, Fail> {
        let proxy = self.cfg.proxy.as_deref().and_then(|p| Url::parse(p).ok());
        let mut tcp = match &proxy {
            Some(p) => self.connect_tcp(
                p.host_str().unwrap_or(""),
                p.port().unwrap_or(80),
                clock,
                limit,
            )?,
            None => self.connect_tcp(&t.host, t.port, clock, limit)?,
        };
        self.opened.fetch_add(1, Ordering::SeqCst);
        if let (Some(p), true) = (&proxy, t.tls) {
            let authority = format!("{}:{}", t.url.host_str().unwrap_or(""), t.port);
            let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
            if !p.username().is_empty() {
                let auth = basic(p.username(), p.password().unwrap_or(""));
                req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
            }
            req.push_str("\r\n");
            tcp.write_all(req.as_bytes())
                .map_err(|err| Fail::Connect(e(TestErrorKind::Proxy, err.to_string())))?;
            let mut c = Conn {
                stream: Stream::Plain(tcp),
                buf: Vec::new(),
                idle_since: Instant::now(),
                keep_alive: None,
            };
            let head = c
                .read_head(clock, false)
                .map_err(|(err, _)| Fail::Final(e(TestErrorKind::Proxy, err.message)))?;
            if head.status != 200 {
                return Err(Fail::Final(e(
                    TestErrorKind::Proxy,
                    format!("CONNECT answered {}", head.status),
                )));
            }
            tcp = match c.stream {
                Stream::Plain(s) => s,
                Stream::Tls(s) => s.sock,
            };
        }
        let stream = if t.tls {
            let name = ServerName::try_from(t.host.clone())
                .map_err(|err| Fail::Final(e(TestErrorKind::Other, err.to_string())))?;
            let mut tls = rustls::ClientConnection::new(self.tls.clone(), name)
                .map_err(|err| Fail::Final(e(TestErrorKind::Tls, err.to_string())))?;
            let (lim, phase) = clock
                .bound(limit, Phase::TlsHandshake)
                .map_err(Fail::Connect)?;
            let _ = tcp.set_read_timeout(Some(lim));
            while tls.is_handshaking() {
                if let Err(err) = tls.complete_io(&mut tcp) {
                    if is_timeout(&err) {
                        return Err(Fail::Connect(timeout(phase)));
                    }
                    let cert = err
                        .get_ref()
                        .and_then(|i| i.downcast_ref::<rustls::Error>())
                        .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
                    return Err(if cert {
                        Fail::Final(e(TestErrorKind::Certificate, err.to_string()))
                    } else {
                        Fail::Connect(e(TestErrorKind::Tls, err.to_string()))
                    });
                }
            }
            Stream::Tls(Box::new(rustls::StreamOwned::new(tls, tcp)))
        } else {
            Stream::Plain(tcp)
        };
        Ok(Conn {
            stream,
            buf: Vec::new(),
            idle_since: Instant::now(),
            keep_alive: None,
        })
    }

    /// A pooled connection (true = reused) or a new one, within the cap.
    fn checkout(&self, t: &Target, clock: &Clock, limit: Duration) -> Result<(Conn, bool), Fail> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(list) = pool.idle.get_mut(&t.key) {
                while let Some(c) = list.pop() {
                    let idle = c.idle_since.elapsed();
                    if c.keep_alive
                        .is_some_and(|ka| idle + Duration::from_millis(100) >= ka)
                    {
                        continue; // The server's Keep-Alive timeout: evict.
                    }
                    *pool.active.entry(t.key.clone()).or_default() += 1;
                    return Ok((c, true));
                }
            }
            let active = pool.active.get(&t.key).copied().unwrap_or(0);
            if self.cfg.max_connections_per_host.is_none_or(|m| active < m) {
                *pool.active.entry(t.key.clone()).or_default() += 1;
                break;
            }
            pool = self
                .freed
                .wait_timeout(pool, Duration::from_millis(50))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        drop(pool);
        match self.open(t, clock, limit) {
            Ok(c) => Ok((c, false)),
            Err(f) => {
                self.release(t, None);
                Err(f)
            }
        }
    }

    fn release(&self, t: &Target, conn: Option<Conn>) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = pool.active.get_mut(&t.key) {
            *a = a.saturating_sub(1);
        }
        if let Some(mut c) = conn {
            c.idle_since = Instant::now();
            pool.idle.entry(t.key.clone()).or_default().push(c);
        }
        self.freed.notify_all();
    }

    fn cookies_for(&self, u: &Url) -> Option<String> {
        let host = u.host_str().unwrap_or("");
        let jar = self.jar.lock().unwrap_or_else(|p| p.into_inner());
        let v: Vec<String> = jar
            .iter()
            .filter(|(h, p, _, _)| h == host && u.path().starts_with(p.as_str()))
            .map(|(_, _, n, v)| format!("{n}={v}"))
            .collect();
        (!v.is_empty()).then(|| v.join("; "))
    }

    fn store_cookies(&self, u: &Url, raw: &Raw) {
        if !self.cfg.cookies {
            return;
        }
        let host = u.host_str().unwrap_or("").to_string();
        let mut jar = self.jar.lock().unwrap_or_else(|p| p.into_inner());
        for (_, v) in raw
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        {
            let mut parts = v.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let attrs: Vec<&str> = parts.map(str::trim).collect();
            let path = attrs
                .iter()
                .find_map(|a| a.strip_prefix("Path="))
                .unwrap_or("/")
                .to_string();
            let secure = attrs.iter().any(|a| a.eq_ignore_ascii_case("secure"));
            let expired = attrs.iter().any(|a| {
                a.strip_prefix("Max-Age=")
                    .is_some_and(|v| v.trim().parse::<i64>().is_ok_and(|n| n <= 0))
            });
            jar.retain(|(h, p, n, _)| !(h == &host && p == &path && n == name.trim()));
            if !expired && (!secure || u.scheme() == "https") {
                jar.push((
                    host.clone(),
                    path,
                    name.trim().to_string(),
                    value.trim().to_string(),
                ));
            }
        }
    }

    /// One attempt: write the request, read the response.
    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        t: &Target,
        method: &str,
        headers: &[(String, String)],
        body: &[u8],
        replayable: bool,
        expect: bool,
        clock: &Clock,
        connect: Duration,
    ) -> Result<Raw, Fail> {
        let mut fresh_only = false;
        loop {
            let (mut c, reused) = if fresh_only {
                let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
                *pool.active.entry(t.key.clone()).or_default() += 1;
                drop(pool);
                match self.open(t, clock, connect) {
                    Ok(c) => (c, false),
                    Err(f) => {
                        self.release(t, None);
                        return Err(f);
                    }
                }
            } else {
                self.checkout(t, clock, connect)?
            };
            let via_proxy = self.cfg.proxy.is_some() && !t.tls;
            let target = if via_proxy {
                t.url.as_str().to_string()
            } else {
                let mut s = t.url.path().to_string();
                if let Some(q) = t.url.query() {
                    s.push('?');
                    s.push_str(q);
                }
                s
            };
            let mut head = format!("{method} {target} HTTP/1.1\r\n");
            let host_port = match t.url.port() {
                Some(p) => format!("{}:{p}", t.url.host_str().unwrap_or("")),
                None => t.url.host_str().unwrap_or("").to_string(),
            };
            head.push_str(&format!("Host: {host_port}\r\n"));
            for (n, v) in headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            if via_proxy {
                if let Some(p) = self.cfg.proxy.as_deref().and_then(|p| Url::parse(p).ok()) {
                    if !p.username().is_empty() {
                        head.push_str(&format!(
                            "Proxy-Authorization: {}\r\n",
                            basic(p.username(), p.password().unwrap_or(""))
                        ));
                    }
                }
            }
            if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            if expect {
                head.push_str("Expect: 100-continue\r\n");
            }
            head.push_str("Accept-Encoding: gzip\r\n\r\n");
            let mut out = head.into_bytes();
            if !expect {
                out.extend_from_slice(body);
            }
            let result = (|| -> Result<(Raw, bool), (TestError, bool)> {
                c.stream
                    .write_all(&out)
                    .map_err(|err| (e(TestErrorKind::Other, err.to_string()), false))?;
                let mut raw = if expect {
                    let first = c.read_head(clock, true)?;
                    if first.status == 100 {
                        c.stream
                            .write_all(body)
                            .map_err(|err| (e(TestErrorKind::Other, err.to_string()), true))?;
                        c.read_head(clock, false)?
                    } else {
                        let mut r = first;
                        let _ = c.read_body(&mut r, method, clock);
                        return Ok((r, false));
                    }
                } else {
                    c.read_head(clock, false)?
                };
                let reusable = c
                    .read_body(&mut raw, method, clock)
                    .map_err(|err| (err, true))?;
                Ok((raw, reusable))
            })();
            match result {
                Ok((raw, reusable)) => {
                    self.release(t, reusable.then_some(c));
                    return Ok(raw);
                }
                Err((err, response_started)) => {
                    self.release(t, None);
                    // RETRY.md 3: re-send a reused connection's failure
                    // only for idempotent methods (we cannot know whether
                    // the server accepted the bytes).
                    let idempotent = matches!(
                        method,
                        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
                    );
                    let stale = reused
                        && idempotent
                        && replayable
                        && !response_started
                        && !matches!(err.kind, TestErrorKind::Timeout { .. });
                    if stale && !fresh_only {
                        // Re-send once on a fresh connection, for free.
                        fresh_only = true;
                        continue;
                    }
                    return Err(Fail::Read(err));
                }
            }
        }
    }

    fn run(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        let cfg = &self.cfg;
        let o = &req.overrides;
        let start = Instant::now();
        let deadline = o.deadline.or(cfg.deadline).map(|d| start + d);
        let clock = Clock {
            deadline,
            read: o
                .read_timeout
                .or(cfg.read_timeout)
                .unwrap_or(Duration::from_secs(30)),
        };
        let connect = o
            .connect_timeout
            .or(cfg.connect_timeout)
            .unwrap_or(Duration::from_secs(10));
        let mut url =
            Url::parse(&req.url).map_err(|err| e(TestErrorKind::Other, err.to_string()))?;
        let first_origin = origin_of(&url);
        let mut method = req.method.clone();
        let (mut body, replayable) = match &req.body {
            None => (Vec::new(), true),
            Some(TestBody::Bytes(b)) => (b.clone(), true),
            Some(TestBody::Stream(b)) => (b.clone(), false),
        };
        let mut manual = req.headers.clone();
        let auth = o.auth.clone().or(cfg.auth.clone());
        let mut history = Vec::new();
        let r = &cfg.retry;
        let mut total = r.total;
        // Per-kind counters: connect, read, status.
        let mut kinds = [r.connect, r.read, r.status];
        let mut consecutive = 0u32;
        let max_redirects = cfg.max_redirects.unwrap_or(10);
        let mut redirects = 0;
        let mut digest_header: Option<String> = None;
        let mut auth_tries = 0;
        let allowed = |m: &str| match &r.allowed_methods {
            Some(v) => v.iter().any(|a| a.eq_ignore_ascii_case(m)),
            None => matches!(m, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"),
        };
        loop {
            let t = target(&url)?;
            let mut headers = manual.clone();
            for (n, v) in &cfg.default_headers {
                if !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n)) {
                    headers.push((n.clone(), v.clone()));
                }
            }
            let same_origin = origin_of(&url) == first_origin;
            if same_origin
                && !headers
                    .iter()
                    .any(|(h, _)| h.eq_ignore_ascii_case("authorization"))
            {
                match (&auth, &digest_header) {
                    (_, Some(d)) => headers.push(("Authorization".into(), d.clone())),
                    (Some(AuthConfig::Basic { user, pass }), _) => {
                        headers.push(("Authorization".into(), basic(user, pass)))
                    }
                    (Some(AuthConfig::Bearer(tok)), _) => {
                        headers.push(("Authorization".into(), format!("Bearer {tok}")))
                    }
                    _ => {}
                }
            }
            if cfg.cookies {
                if let Some(c) = self.cookies_for(&url) {
                    match headers
                        .iter_mut()
                        .find(|(h, _)| h.eq_ignore_ascii_case("cookie"))
                    {
                        Some((_, v)) => *v = format!("{v}; {c}"),
                        None => headers.push(("Cookie".into(), c)),
                    }
                }
            }
            let outcome = self.attempt(
                &t,
                &method,
                &headers,
                &body,
                replayable,
                o.expect_continue,
                &clock,
                connect,
            );
            // Decide: the error (or status) and whether it may be retried.
            let (err, retriable, sleep_hint, last_raw, kind) = match outcome {
                Err(Fail::Final(err)) => return Err(err),
                Err(Fail::Connect(err)) => (Some(err), true, None, None, 0),
                Err(Fail::Read(err)) => {
                    let ok_method = allowed(&method) && replayable;
                    (Some(err), ok_method, None, None, 1)
                }
                Ok(raw) => {
                    self.store_cookies(&url, &raw);
                    // Digest challenge.
                    if raw.status == 401 && auth_tries < 2 {
                        if let (Some(AuthConfig::Digest { user, pass }), Some(ch)) =
                            (&auth, raw.header("www-authenticate"))
                        {
                            let p = parse_challenge(ch);
                            let first_try = digest_header.is_none();
                            let stale = p
                                .get("stale")
                                .is_some_and(|s| s.eq_ignore_ascii_case("true"));
                            if first_try || stale {
                                let alg = if p
                                    .get("algorithm")
                                    .is_some_and(|a| a.eq_ignore_ascii_case("SHA-256"))
                                {
                                    DigestAlgorithm::Sha256
                                } else {
                                    DigestAlgorithm::Md5
                                };
                                let nonce = p.get("nonce").cloned().unwrap_or_default();
                                let realm = p.get("realm").cloned().unwrap_or_default();
                                let nc = {
                                    let mut m =
                                        self.digest_nc.lock().unwrap_or_else(|p| p.into_inner());
                                    let n = m.entry(nonce.clone()).or_default();
                                    *n += 1;
                                    *n
                                };
                                let mut uri = url.path().to_string();
                                if let Some(q) = url.query() {
                                    uri.push('?');
                                    uri.push_str(q);
                                }
                                digest_header = Some(digest_authorization(
                                    user, pass, &realm, &nonce, &method, &uri, nc, "0a4f113b", alg,
                                ));
                                auth_tries += 1;
                                history.push(401);
                                continue;
                            }
                        }
                    }
                    // Redirects.
                    if matches!(raw.status, 301 | 302 | 303 | 307 | 308) && max_redirects > 0 {
                        if let Some(loc) = raw.header("location") {
                            redirects += 1;
                            if redirects > max_redirects {
                                return Err(e(
                                    TestErrorKind::TooManyRedirects,
                                    "too many redirects",
                                ));
                            }
                            let next = url
                                .join(loc)
                                .map_err(|err| e(TestErrorKind::Protocol, err.to_string()))?;
                            let to_get = (matches!(raw.status, 302 | 303) && method != "HEAD")
                                || (raw.status == 301 && method == "POST");
                            if to_get {
                                method = "GET".into();
                                body.clear();
                                manual.retain(|(n, _)| {
                                    !n.to_ascii_lowercase().starts_with("content-")
                                });
                            } else if !replayable && !body.is_empty() {
                                return Err(e(
                                    TestErrorKind::BodyNotReplayable,
                                    "307/308 with a stream body",
                                ));
                            }
                            if origin_of(&next) != origin_of(&url) {
                                manual.retain(|(n, _)| {
                                    !matches!(
                                        n.to_ascii_lowercase().as_str(),
                                        "authorization" | "cookie" | "proxy-authorization"
                                    )
                                });
                            }
                            history.push(raw.status);
                            url = next;
                            consecutive = 0;
                            continue;
                        }
                    }
                    let retry_after = raw
                        .header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let forced = r.status_forcelist.contains(&raw.status);
                    let implicit = r.respect_retry_after
                        && matches!(raw.status, 413 | 429 | 503)
                        && raw.header("retry-after").is_some();
                    let wants = r.enabled && allowed(&method) && (forced || implicit);
                    if !wants {
                        return Ok(self.finish(raw, &url, history));
                    }
                    if total.is_some_and(|n| n == 0) || kinds[2].is_some_and(|n| n == 0) {
                        if forced && r.raise_on_status {
                            return Err(e(
                                TestErrorKind::RetriesExhausted,
                                format!("status {}", raw.status),
                            ));
                        }
                        return Ok(self.finish(raw, &url, history));
                    }
                    let hint = retry_after.filter(|s| *s > 0).map(Duration::from_secs);
                    (None, true, hint, Some(raw), 2)
                }
            };
            if !r.enabled || !retriable {
                return Err(err.unwrap_or_else(|| e(TestErrorKind::Other, "unreachable")));
            }
            if total.is_some_and(|n| n == 0) || kinds[kind].is_some_and(|n| n == 0) {
                let mut x = e(TestErrorKind::RetriesExhausted, "retries exhausted");
                x.cause = err.map(Box::new);
                return Err(x);
            }
            total = total.map(|n| n - 1);
            kinds[kind] = kinds[kind].map(|n| n - 1);
            consecutive += 1;
            let backoff = if consecutive <= 1 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(
                    (r.backoff_factor * 2f64.powi(consecutive as i32 - 1))
                        .min(r.backoff_max.unwrap_or(120.0)),
                )
            };
            let sleep = sleep_hint.unwrap_or(backoff);
            if let Some(d) = deadline {
                if Instant::now() + sleep >= d {
                    let mut x = timeout(Phase::Deadline);
                    x.cause = err.map(Box::new);
                    return Err(x);
                }
            }
            if let Some(raw) = &last_raw {
                history.push(raw.status);
            }
            std::thread::sleep(sleep);
        }
    }

    fn finish(&self, raw: Raw, url: &Url, history: Vec<u16>) -> TestResponse {
        TestResponse {
            status: raw.status,
            headers: raw.headers,
            body: raw.body,
            final_url: url.to_string(),
            history,
            connections_opened: Some(self.opened.load(Ordering::SeqCst)),
        }
    }
}

fn parse_challenge(v: &str) -> HashMap<String, String> {
    let rest = v.trim().split_once(' ').map(|(_, r)| r).unwrap_or("");
    let mut out = HashMap::new();
    for part in rest.split(',') {
        if let Some((k, val)) = part.split_once('=') {
            out.insert(
                k.trim().to_ascii_lowercase(),
                val.trim().trim_matches('"').to_string(),
            );
        }
    }
    out
}

impl ConformanceSession for Session {
    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        self.run(req)
    }
}

struct Reference;

impl ConformanceClient for Reference {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(pem) = &cfg.ca_pem {
            if let Ok(der) = CertificateDer::from_pem_slice(pem.as_bytes()) {
                let _ = roots.add(der);
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|err| panic!("rustls config: {err}"));
        Box::new(Session {
            cfg: cfg.clone(),
            tls: Arc::new(tls),
            pool: Mutex::new(Pool {
                idle: HashMap::new(),
                active: HashMap::new(),
            }),
            freed: Condvar::new(),
            opened: AtomicUsize::new(0),
            jar: Mutex::new(Vec::new()),
            digest_nc: Mutex::new(HashMap::new()),
        })
    }
}

// One #[test] per scenario, exactly as a backend runs the suite.
hawser_testkit::conformance_tests!(Reference);
