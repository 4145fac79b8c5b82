//! Every client under test, behind one of two small traits: [`Blocking`]
//! (shared by threads) and [`Async`] (shared by tasks). Each does exactly
//! what the workload asks and no more: a GET whose body is read through
//! the caller's 64 KiB buffer (or, for the chunk-stream APIs of hyper and
//! reqwest async, counted chunk by chunk, which is how their users read
//! it: no extra copy), or a POST of a shared in-memory body.
//!
//! Every client is set up alike: one client object reused for the whole
//! run, no proxy from the environment, TCP_NODELAY on, and room in its pool
//! for 64+ idle connections per host (ureq keeps 3 and hawser 10 by
//! default, which would turn the 64-way workload into a connect benchmark).
//! A "new connection" request carries `Connection: close`; the server
//! answers with `Connection: close` and closes, so no client may reuse it.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use bytes::Bytes;
use futures_lite::AsyncReadExt;

/// Idle connections per host every pooled client may keep.
pub const POOL: usize = 128;

/// One request of a workload.
pub struct Req<'a> {
    /// The full URL (`http://127.0.0.1:PORT/path`).
    pub url: &'a str,
    /// The path alone (for the raw client).
    pub path: &'a str,
    /// Send `Connection: close`.
    pub close: bool,
}

/// A blocking client, shared by every thread of a run.
pub trait Blocking: Send + Sync + 'static {
    /// Per-thread state (the raw client's connection; nothing for the rest).
    type Local: Send;
    fn local(&self) -> Self::Local;
    /// A new client set up like this one (the `fresh` workload).
    fn fresh(&self) -> Self
    where
        Self: Sized;
    /// GET; the body length.
    fn get(&self, l: &mut Self::Local, r: &Req<'_>, buf: &mut [u8]) -> u64;
    /// POST `body`; the response body length.
    fn post(&self, l: &mut Self::Local, r: &Req<'_>, body: &Bytes) -> u64;
}

/// An async client, cloned into every task of a run.
pub trait Async: Clone + Send + Sync + 'static {
    /// A new client set up like this one (the `fresh` workload).
    fn fresh(&self) -> Self;
    fn get(&self, r: &Req<'_>, buf: &mut [u8]) -> impl Future<Output = u64> + Send;
    fn post(&self, r: &Req<'_>, body: &Bytes) -> impl Future<Output = u64> + Send;
}

fn drain(mut r: impl Read, buf: &mut [u8]) -> u64 {
    let mut n = 0u64;
    loop {
        match r.read(buf) {
            Ok(0) => return n,
            Ok(k) => n += k as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading the body: {e}"),
        }
    }
}

async fn drain_async(mut r: impl futures_lite::AsyncRead + Unpin, buf: &mut [u8]) -> u64 {
    let mut n = 0u64;
    loop {
        match r.read(buf).await {
            Ok(0) => return n,
            Ok(k) => n += k as u64,
            Err(e) => panic!("reading the body: {e}"),
        }
    }
}

// ---------------------------------------------------------------- raw

/// The baseline: a hand-written request over a std `TcpStream`, the
/// response head parsed with httparse, the body framed by Content-Length.
/// What any client must do and nothing more: no URL parsing, no pool (one
/// connection per thread), no policy.
pub struct Raw {
    pub addr: SocketAddr,
}

pub struct RawConn {
    stream: Option<TcpStream>,
    req: Vec<u8>,
    head: Vec<u8>,
}

impl Raw {
    fn exchange(&self, l: &mut RawConn, head: &[u8], body: &[u8], buf: &mut [u8]) -> u64 {
        let mut s = match l.stream.take() {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(self.addr).expect("raw: connect");
                s.set_nodelay(true).expect("raw: nodelay");
                s
            }
        };
        s.write_all(head).expect("raw: write head");
        if !body.is_empty() {
            s.write_all(body).expect("raw: write body");
        }
        l.head.clear();
        let (hlen, blen, close) = loop {
            let mut hs = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut hs);
            if let httparse::Status::Complete(n) = resp.parse(&l.head).expect("raw: bad head") {
                assert_eq!(resp.code, Some(200), "raw: status");
                let mut len = None;
                let mut close = false;
                for h in resp.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        len = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.parse::<u64>().ok());
                    } else if h.name.eq_ignore_ascii_case("connection") {
                        close = h.value.eq_ignore_ascii_case(b"close");
                    }
                }
                break (n, len.expect("raw: Content-Length"), close);
            }
            let k = s.read(buf).expect("raw: read head");
            assert!(k > 0, "raw: EOF in head");
            l.head.extend_from_slice(&buf[..k]);
        };
        let early = (l.head.len() - hlen) as u64;
        let mut left = blen - early;
        while left > 0 {
            let want = buf.len().min(left as usize);
            let k = s.read(&mut buf[..want]).expect("raw: read body");
            assert!(k > 0, "raw: EOF in body");
            left -= k as u64;
        }
        if !close {
            l.stream = Some(s);
        }
        blen
    }
}

impl Blocking for Raw {
    type Local = RawConn;
    fn fresh(&self) -> Raw {
        Raw { addr: self.addr }
    }
    fn local(&self) -> RawConn {
        RawConn {
            stream: None,
            req: Vec::with_capacity(256),
            head: Vec::with_capacity(4096),
        }
    }
    fn get(&self, l: &mut RawConn, r: &Req<'_>, buf: &mut [u8]) -> u64 {
        let mut req = std::mem::take(&mut l.req);
        req.clear();
        write!(
            req,
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: raw\r\nAccept: */*\r\n{}\r\n",
            r.path,
            self.addr,
            if r.close { "Connection: close\r\n" } else { "" }
        )
        .expect("raw: format");
        let n = self.exchange(l, &req, &[], buf);
        l.req = req;
        n
    }
    fn post(&self, l: &mut RawConn, r: &Req<'_>, body: &Bytes) -> u64 {
        let mut req = std::mem::take(&mut l.req);
        req.clear();
        write!(
            req,
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: raw\r\nAccept: */*\r\n\
             Content-Length: {}\r\n{}\r\n",
            r.path,
            self.addr,
            body.len(),
            if r.close { "Connection: close\r\n" } else { "" }
        )
        .expect("raw: format");
        let mut small = [0u8; 4096];
        let n = self.exchange(l, &req, body, &mut small);
        l.req = req;
        n
    }
}

// ---------------------------------------------------------------- ureq

pub struct Ureq(pub ureq::Agent);

impl Ureq {
    pub fn new() -> Ureq {
        let config = ureq::Agent::config_builder()
            .proxy(None)
            .max_idle_connections(POOL)
            .max_idle_connections_per_host(POOL)
            .build();
        Ureq(ureq::Agent::new_with_config(config))
    }
}

impl Blocking for Ureq {
    type Local = ();
    fn fresh(&self) -> Ureq {
        Ureq::new()
    }
    fn local(&self) {}
    fn get(&self, _: &mut (), r: &Req<'_>, buf: &mut [u8]) -> u64 {
        let mut req = self.0.get(r.url);
        if r.close {
            req = req.header("connection", "close");
        }
        let mut resp = req.call().expect("ureq: GET");
        drain(resp.body_mut().as_reader(), buf)
    }
    fn post(&self, _: &mut (), r: &Req<'_>, body: &Bytes) -> u64 {
        let mut req = self.0.post(r.url);
        if r.close {
            req = req.header("connection", "close");
        }
        let mut resp = req.send(&body[..]).expect("ureq: POST");
        drain(resp.body_mut().as_reader(), &mut [0u8; 4096])
    }
}

// ---------------------------------------------------------------- reqwest

pub struct ReqwestBlocking(pub reqwest::blocking::Client);

impl ReqwestBlocking {
    pub fn new() -> ReqwestBlocking {
        ReqwestBlocking(
            reqwest::blocking::Client::builder()
                .no_proxy()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(POOL)
                .build()
                .expect("reqwest blocking client"),
        )
    }
}

impl Blocking for ReqwestBlocking {
    type Local = ();
    fn fresh(&self) -> ReqwestBlocking {
        ReqwestBlocking::new()
    }
    fn local(&self) {}
    fn get(&self, _: &mut (), r: &Req<'_>, buf: &mut [u8]) -> u64 {
        let mut req = self.0.get(r.url);
        if r.close {
            req = req.header("connection", "close");
        }
        let resp = req.send().expect("reqwest blocking: GET");
        assert_eq!(resp.status(), 200);
        drain(resp, buf)
    }
    fn post(&self, _: &mut (), r: &Req<'_>, body: &Bytes) -> u64 {
        let mut req = self.0.post(r.url).body(body.clone());
        if r.close {
            req = req.header("connection", "close");
        }
        let resp = req.send().expect("reqwest blocking: POST");
        assert_eq!(resp.status(), 200);
        drain(resp, &mut [0u8; 4096])
    }
}

#[derive(Clone)]
pub struct Reqwest(pub reqwest::Client);

impl Reqwest {
    /// Must be called inside the tokio runtime it will run on.
    pub fn new() -> Reqwest {
        Reqwest(
            reqwest::Client::builder()
                .no_proxy()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(POOL)
                .build()
                .expect("reqwest client"),
        )
    }
}

impl Async for Reqwest {
    fn fresh(&self) -> Reqwest {
        Reqwest::new()
    }
    async fn get(&self, r: &Req<'_>, _buf: &mut [u8]) -> u64 {
        let mut req = self.0.get(r.url);
        if r.close {
            req = req.header("connection", "close");
        }
        let mut resp = req.send().await.expect("reqwest: GET");
        assert_eq!(resp.status(), 200);
        let mut n = 0;
        while let Some(c) = resp.chunk().await.expect("reqwest: body") {
            n += c.len() as u64;
        }
        n
    }
    async fn post(&self, r: &Req<'_>, body: &Bytes) -> u64 {
        let mut req = self.0.post(r.url).body(body.clone());
        if r.close {
            req = req.header("connection", "close");
        }
        let mut resp = req.send().await.expect("reqwest: POST");
        assert_eq!(resp.status(), 200);
        let mut n = 0;
        while let Some(c) = resp.chunk().await.expect("reqwest: body") {
            n += c.len() as u64;
        }
        n
    }
}

// ---------------------------------------------------------------- hyper

type HyperClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<Bytes>,
>;

/// hyper-util's pooled legacy client (what reqwest is built on), used
/// directly, as a hyper user would.
#[derive(Clone)]
pub struct Hyper(pub HyperClient);

impl Hyper {
    /// Must be called inside the tokio runtime it will run on.
    pub fn new() -> Hyper {
        let mut conn = hyper_util::client::legacy::connect::HttpConnector::new();
        conn.set_nodelay(true);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_max_idle_per_host(POOL)
                .build(conn);
        Hyper(client)
    }

    async fn send(&self, r: &Req<'_>, method: http::Method, body: Bytes) -> u64 {
        use http_body_util::BodyExt;
        let uri: http::Uri = r.url.parse().expect("hyper: uri");
        let mut req = http::Request::builder().method(method).uri(uri);
        if r.close {
            req = req.header(http::header::CONNECTION, "close");
        }
        let req = req
            .body(http_body_util::Full::new(body))
            .expect("hyper: request");
        let resp = self.0.request(req).await.expect("hyper: request");
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let mut n = 0;
        while let Some(frame) = body.frame().await {
            if let Ok(d) = frame.expect("hyper: body").into_data() {
                n += d.len() as u64;
            }
        }
        n
    }
}

impl Async for Hyper {
    fn fresh(&self) -> Hyper {
        Hyper::new()
    }
    async fn get(&self, r: &Req<'_>, _buf: &mut [u8]) -> u64 {
        self.send(r, http::Method::GET, Bytes::new()).await
    }
    async fn post(&self, r: &Req<'_>, body: &Bytes) -> u64 {
        self.send(r, http::Method::POST, body.clone()).await
    }
}

// ---------------------------------------------------------------- hawser

fn hawser_pool() -> hawser_std::PoolConfig {
    hawser_std::PoolConfig {
        max_idle_per_host: POOL,
        max_idle_total: POOL,
        max_active_per_host: POOL,
        ..hawser_std::PoolConfig::default()
    }
}

pub struct HawserStd(pub hawser_std::Session);

impl HawserStd {
    pub fn new() -> HawserStd {
        HawserStd(
            hawser_std::Session::builder()
                .pool(hawser_pool())
                .build()
                .expect("hawser-std session"),
        )
    }
}

impl Blocking for HawserStd {
    type Local = ();
    fn fresh(&self) -> HawserStd {
        HawserStd::new()
    }
    fn local(&self) {}
    fn get(&self, _: &mut (), r: &Req<'_>, buf: &mut [u8]) -> u64 {
        let mut req = self.0.get(r.url);
        if r.close {
            req = req.header("connection", "close");
        }
        let resp = req.send().expect("hawser-std: GET");
        assert_eq!(resp.status(), 200);
        drain(resp, buf)
    }
    fn post(&self, _: &mut (), r: &Req<'_>, body: &Bytes) -> u64 {
        let mut req = self.0.post(r.url).body(body.clone());
        if r.close {
            req = req.header("connection", "close");
        }
        let resp = req.send().expect("hawser-std: POST");
        assert_eq!(resp.status(), 200);
        drain(resp, &mut [0u8; 4096])
    }
}

macro_rules! hawser_async {
    ($name:ident, $krate:ident) => {
        #[derive(Clone)]
        pub struct $name(pub $krate::Session);

        impl $name {
            pub fn new() -> $name {
                $name(
                    $krate::Session::builder()
                        .pool(hawser_pool())
                        .build()
                        .expect(concat!(stringify!($krate), " session")),
                )
            }
        }

        impl Async for $name {
            fn fresh(&self) -> $name {
                $name::new()
            }
            async fn get(&self, r: &Req<'_>, buf: &mut [u8]) -> u64 {
                let mut req = self.0.get(r.url);
                if r.close {
                    req = req.header("connection", "close");
                }
                let resp = req
                    .send()
                    .await
                    .expect(concat!(stringify!($krate), ": GET"));
                assert_eq!(resp.status(), 200);
                drain_async(resp, buf).await
            }
            async fn post(&self, r: &Req<'_>, body: &Bytes) -> u64 {
                let mut req = self.0.post(r.url).body(body.clone());
                if r.close {
                    req = req.header("connection", "close");
                }
                let resp = req
                    .send()
                    .await
                    .expect(concat!(stringify!($krate), ": POST"));
                assert_eq!(resp.status(), 200);
                drain_async(resp, &mut [0u8; 4096]).await
            }
        }
    };
}

hawser_async!(HawserSmol, hawser_smol);
hawser_async!(HawserAsyncStd, hawser_async_std);
hawser_async!(HawserTokio, hawser_tokio);
