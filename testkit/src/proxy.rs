//! A forward HTTP proxy for tests: absolute-form requests and CONNECT
//! tunnels, optional Basic or Digest proxy auth, and a record of what it saw.

use std::io::{self, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::auth::{basic_ok, DigestAlgorithm, DigestState, DigestVerdict};
use crate::server::{lock, read_response_framed, StartError};
use crate::wire::{head_bytes, Conn, Head, HeadRead, Stream};

/// One request the proxy received (before any forwarding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRecord {
    /// `GET`, `CONNECT`, ...
    pub method: String,
    /// The target as sent: absolute-form URL or `host:port` for CONNECT.
    pub target: String,
    /// The headers the proxy received (including `Proxy-Authorization`).
    pub headers: Vec<(String, String)>,
    /// Which accepted client connection carried it.
    pub connection: u64,
    /// Whether the proxy credentials were accepted (true when none needed).
    pub authorized: bool,
}

impl ProxyRecord {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The realm of the proxy's challenges.
const REALM: &str = "testkit-proxy";

struct Shared {
    credentials: Option<(String, String)>,
    /// `Some`: answer with Digest (MD5, qop=auth) challenges instead of Basic.
    digest: Option<Mutex<DigestState>>,
    /// `Some(status)`: answer every (authorized) CONNECT with this status
    /// instead of opening a tunnel.
    refuse_connect: Option<u16>,
    records: Mutex<Vec<ProxyRecord>>,
    accepted: AtomicUsize,
    next_conn: AtomicU64,
    /// Tracking ids for upstream sockets, apart from client connection ids.
    next_upstream: AtomicU64,
    stop: Arc<AtomicBool>,
    open: Mutex<Vec<(u64, TcpStream)>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// A forward proxy on 127.0.0.1. It only forwards to loopback addresses
/// (anything else gets 502), so tests never leave the machine. Dropping it
/// stops its threads and tunnels.
///
/// Requests are forwarded with `Proxy-Authorization`, `Proxy-Connection`
/// and `Connection` removed and `Connection: close` sent upstream; the
/// answer is relayed with a Content-Length and the client connection is
/// kept alive.
///
/// ```
/// use hawser_testkit::ProxyServer;
/// let p = ProxyServer::start(Some(("u", "p"))).unwrap();
/// assert!(p.url_with_credentials().starts_with("http://u:p@127.0.0.1:"));
/// ```
pub struct ProxyServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ProxyServer {
    /// Starts a proxy; with `credentials`, requests without matching
    /// `Proxy-Authorization: Basic ..` get 407 and `Proxy-Authenticate`.
    pub fn start(credentials: Option<(&str, &str)>) -> Result<ProxyServer, StartError> {
        ProxyServer::start_with(credentials, false, None)
    }

    /// Starts a proxy (no proxy auth) that refuses every CONNECT with
    /// `status` (e.g. 403, as a proxy answers a tunnel to a forbidden
    /// target), a short body and the connection kept alive; the CONNECT is
    /// recorded. Absolute-form requests are forwarded as usual.
    ///
    /// ```
    /// use hawser_testkit::{read_response, ProxyServer};
    /// use std::io::Write;
    /// let p = ProxyServer::start_refusing_connect(403).unwrap();
    /// let mut s = std::net::TcpStream::connect(p.addr()).unwrap();
    /// s.write_all(b"CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n").unwrap();
    /// assert_eq!(read_response(&mut s).unwrap().0, 403);
    /// assert_eq!(p.records()[0].method, "CONNECT");
    /// ```
    pub fn start_refusing_connect(status: u16) -> Result<ProxyServer, StartError> {
        ProxyServer::start_with(None, false, Some(status))
    }

    /// Starts a proxy that wants Digest (RFC 7616, MD5, `qop=auth`)
    /// credentials: requests without a valid `Proxy-Authorization: Digest ..`
    /// (Basic included) get 407 with a fresh-nonce `Proxy-Authenticate:
    /// Digest` challenge. The response, the signed request target and an
    /// increasing `nc` are checked.
    ///
    /// ```
    /// use hawser_testkit::ProxyServer;
    /// let p = ProxyServer::start_digest("u", "p").unwrap();
    /// assert!(p.url_with_credentials().starts_with("http://u:p@127.0.0.1:"));
    /// ```
    pub fn start_digest(user: &str, pass: &str) -> Result<ProxyServer, StartError> {
        ProxyServer::start_with(Some((user, pass)), true, None)
    }

    fn start_with(
        credentials: Option<(&str, &str)>,
        digest: bool,
        refuse_connect: Option<u16>,
    ) -> Result<ProxyServer, StartError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
            digest: digest.then(|| Mutex::new(DigestState::default())),
            refuse_connect,
            records: Mutex::new(Vec::new()),
            accepted: AtomicUsize::new(0),
            next_conn: AtomicU64::new(1),
            next_upstream: AtomicU64::new(1 << 48),
            stop: Arc::new(AtomicBool::new(false)),
            open: Mutex::new(Vec::new()),
            workers: Mutex::new(Vec::new()),
        });
        let sh = shared.clone();
        let acceptor = std::thread::spawn(move || accept_loop(listener, sh));
        Ok(ProxyServer {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://USER:PASS@127.0.0.1:PORT` (plain `url()` without credentials).
    pub fn url_with_credentials(&self) -> String {
        match &self.shared.credentials {
            Some((u, p)) => format!("http://{u}:{p}@{}", self.addr),
            None => self.url(),
        }
    }

    /// Everything the proxy received, in order.
    pub fn records(&self) -> Vec<ProxyRecord> {
        lock(&self.shared.records).clone()
    }

    /// Client connections accepted.
    pub fn connections_accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for (_, s) in lock(&self.shared.open).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        let workers: Vec<_> = lock(&self.shared.workers).drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
    }
}

/// Keeps a clone so Drop can shut the socket down; `untrack` must run
/// before the connection ends (the socket closes with its last descriptor).
fn track(shared: &Shared, id: u64, s: &TcpStream) {
    if let Ok(c) = s.try_clone() {
        lock(&shared.open).push((id, c));
    }
}

fn untrack(shared: &Shared, id: u64) {
    lock(&shared.open).retain(|(i, _)| *i != id);
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
                track(&shared, id, &stream);
                let sh = shared.clone();
                let h = std::thread::spawn(move || {
                    serve(stream, id, &sh);
                    untrack(&sh, id);
                });
                let mut w = lock(&shared.workers);
                w.retain(|h| !h.is_finished());
                w.push(h);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn respond(conn: &mut Conn, status: u16, extra: &[(&str, &str)], body: &[u8]) -> io::Result<()> {
    let mut h: Vec<(String, String)> = extra
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    h.push(("Content-Length".into(), body.len().to_string()));
    let mut out = head_bytes(status, &h);
    out.extend_from_slice(body);
    conn.send(&out)
}

/// Resolves `host:port` to loopback addresses only.
fn loopback_addrs(authority: &str) -> Vec<SocketAddr> {
    authority
        .to_socket_addrs()
        .map(|it| it.filter(|a| a.ip().is_loopback()).collect())
        .unwrap_or_default()
}

fn connect_upstream(authority: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "not a loopback target");
    for a in loopback_addrs(authority) {
        match TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn serve(tcp: TcpStream, id: u64, shared: &Shared) {
    let mut conn = Conn::new(Stream::Plain(tcp), shared.stop.clone());
    loop {
        let head = match conn.read_head(Duration::from_secs(5)) {
            Ok(HeadRead::Head(h)) => h,
            Ok(HeadRead::Bad(_)) => {
                let _ = respond(&mut conn, 400, &[("Connection", "close")], b"bad request");
                conn.close();
                return;
            }
            _ => {
                conn.drop_now();
                return;
            }
        };
        if conn.consume(head.len).is_err() {
            return;
        }
        let authorized = match (&shared.credentials, &shared.digest) {
            (None, _) => true,
            (Some((u, p)), None) => basic_ok(head.header("proxy-authorization"), u, p),
            (Some((u, p)), Some(st)) => matches!(
                lock(st).verify(
                    head.header("proxy-authorization"),
                    &head.method,
                    &head.target,
                    u,
                    p,
                    REALM,
                    DigestAlgorithm::Md5,
                    false,
                ),
                DigestVerdict::Ok
            ),
        };
        lock(&shared.records).push(ProxyRecord {
            method: head.method.clone(),
            target: head.target.clone(),
            headers: head.headers.clone(),
            connection: id,
            authorized,
        });
        let body = if head.method.eq_ignore_ascii_case("CONNECT") {
            Vec::new()
        } else {
            match conn.read_body(&head, Duration::from_secs(5)) {
                Ok(b) => b,
                Err(_) => {
                    conn.drop_now();
                    return;
                }
            }
        };
        if !authorized {
            let challenge = match &shared.digest {
                Some(st) => {
                    let nonce = lock(st).new_nonce();
                    format!(
                        "Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{nonce}\""
                    )
                }
                None => format!("Basic realm=\"{REALM}\""),
            };
            let ok = respond(
                &mut conn,
                407,
                &[("Proxy-Authenticate", challenge.as_str())],
                b"proxy auth required",
            );
            if ok.is_err() {
                return;
            }
            continue;
        }
        if head.method.eq_ignore_ascii_case("CONNECT") {
            if let Some(status) = shared.refuse_connect {
                if respond(&mut conn, status, &[], b"CONNECT refused by the proxy").is_err() {
                    return;
                }
                continue;
            }
            tunnel(conn, id, &head, shared);
            return;
        }
        // The upstream socket gets its own tracking id so Drop can cut a
        // forward that waits on a stalled origin.
        let up_id = shared.next_upstream.fetch_add(1, Ordering::SeqCst);
        let sent = forward(&mut conn, &head, body, |up| track(shared, up_id, up));
        untrack(shared, up_id);
        if sent.is_err() || head.wants_close() {
            conn.close();
            return;
        }
    }
}

fn tunnel(mut conn: Conn, id: u64, head: &Head, shared: &Shared) {
    let upstream = match connect_upstream(&head.target) {
        Ok(u) => u,
        Err(_) => {
            let _ = respond(
                &mut conn,
                502,
                &[("Connection", "close")],
                b"cannot connect",
            );
            conn.close();
            return;
        }
    };
    if conn
        .send(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let Some(client) = conn.into_plain() else {
        return;
    };
    track(shared, id, &upstream);
    let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let _ = client.set_read_timeout(None);
    let _ = upstream.set_read_timeout(None);
    // Two copies; each ends at EOF or error and passes the FIN on. The
    // proxy's Drop shuts every tracked socket down, which ends both.
    let a = std::thread::spawn(move || copy_then_shutdown(client, u2));
    copy_then_shutdown(upstream, c2);
    let _ = a.join();
}

fn copy_then_shutdown(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

fn forward(
    conn: &mut Conn,
    head: &Head,
    body: Vec<u8>,
    track_upstream: impl FnOnce(&TcpStream),
) -> io::Result<()> {
    let Some(rest) = head.target.strip_prefix("http://") else {
        return respond(conn, 400, &[], b"absolute-form http:// target required");
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut up = match connect_upstream(&authority_port) {
        Ok(u) => u,
        Err(_) => return respond(conn, 502, &[], b"cannot connect upstream"),
    };
    track_upstream(&up);
    up.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut out = format!("{} {} HTTP/1.1\r\n", head.method, path).into_bytes();
    for (n, v) in &head.headers {
        let l = n.to_ascii_lowercase();
        if matches!(
            l.as_str(),
            "proxy-authorization"
                | "proxy-connection"
                | "connection"
                | "transfer-encoding"
                | "content-length"
                | "keep-alive"
        ) {
            continue;
        }
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() || head.header("content-length").is_some() || head.is_chunked() {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&body);
    up.write_all(&out)?;
    let no_body = head.method.eq_ignore_ascii_case("HEAD");
    let (status, headers, rbody) = match read_response_framed(&mut up, no_body) {
        Ok(r) => r,
        Err(_) => return respond(conn, 502, &[], b"bad upstream response"),
    };
    let mut h: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(n, _)| {
            !matches!(
                n.to_ascii_lowercase().as_str(),
                "connection" | "transfer-encoding" | "keep-alive"
            ) && (no_body || !n.eq_ignore_ascii_case("content-length"))
        })
        .collect();
    if !no_body {
        h.push(("Content-Length".into(), rbody.len().to_string()));
    }
    let mut resp = head_bytes(status, &h);
    if !no_body {
        resp.extend_from_slice(&rbody);
    }
    conn.send(&resp)
}
