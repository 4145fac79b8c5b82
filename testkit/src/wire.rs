//! One server-side connection: plain TCP or TLS, request heads read without
//! consuming them (so a reset can still leave unread data behind), request
//! bodies, and the small helpers every behaviour uses to write responses.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};

/// Largest request head the server accepts; bigger heads get a 431.
pub(crate) const MAX_REQUEST_HEAD: usize = 64 * 1024;
/// Largest request body the server buffers (bounded memory).
pub(crate) const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;
/// Granularity at which blocking reads and sleeps look at the stop flag.
pub(crate) const POLL: Duration = Duration::from_millis(25);

/// A request head as the server parsed it.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub method: String,
    pub target: String,
    pub version: u8,
    pub headers: Vec<(String, String)>,
    /// Bytes of the head including the final CRLFCRLF.
    pub len: usize,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        path_of(&self.target)
    }

    pub fn wants_close(&self) -> bool {
        let conn = self.header("connection").map(str::to_ascii_lowercase);
        match conn.as_deref() {
            Some(v) if v.split(',').any(|t| t.trim() == "close") => true,
            Some(v) if v.split(',').any(|t| t.trim() == "keep-alive") => false,
            _ => self.version == 0,
        }
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    pub fn content_length(&self) -> Result<usize, ()> {
        match self.header("content-length") {
            None => Ok(0),
            Some(v) => v.trim().parse::<usize>().map_err(|_| ()),
        }
    }

    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
    }
}

/// The path part of a request target (origin-form or absolute-form).
pub(crate) fn path_of(target: &str) -> &str {
    let rest = match target.find("://") {
        Some(i) => {
            let after = &target[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "/",
            }
        }
        None => target,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// What `wait_for_data` found.
pub(crate) enum Waited {
    /// Bytes arrived (they are left unread).
    Data,
    /// Nothing arrived within the time.
    Quiet,
    /// The peer closed, or the server is stopping.
    Gone,
}

/// What `read_head` found.
pub(crate) enum HeadRead {
    Head(Head),
    /// The peer closed, went idle past the limit, or the server is stopping.
    Gone,
    /// The head was not valid HTTP/1.x or exceeded the limit.
    Bad(&'static str),
}

pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

/// A server-side connection.
pub(crate) struct Conn {
    stream: Stream,
    /// TLS only: decrypted bytes not yet consumed. Plain TCP keeps unconsumed
    /// bytes in the kernel (we `peek`), so that dropping the socket with
    /// unread data makes Linux answer with RST.
    pending: Vec<u8>,
    stop: Arc<AtomicBool>,
    /// The request being answered is HEAD: responses carry no body.
    pub head_request: bool,
}

impl Conn {
    pub fn new(stream: Stream, stop: Arc<AtomicBool>) -> Conn {
        Conn {
            stream,
            pending: Vec::new(),
            stop,
            head_request: false,
        }
    }

    pub fn tcp(&self) -> &TcpStream {
        match &self.stream {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps `d`, waking early (returning false) if the server stops.
    pub fn sleep(&self, d: Duration) -> bool {
        sleep_unless(&self.stop, d)
    }

    /// Looks at the bytes available without consuming them, waiting for more
    /// than `have` bytes until `deadline`. Returns an empty vector on EOF.
    fn peek_more(&mut self, have: usize, deadline: Instant) -> io::Result<Option<Vec<u8>>> {
        loop {
            if self.stopping() || Instant::now() >= deadline {
                return Ok(None);
            }
            match &mut self.stream {
                Stream::Plain(s) => {
                    let mut buf = vec![0u8; MAX_REQUEST_BODY.min(have + 64 * 1024 + 1)];
                    s.set_read_timeout(Some(POLL))?;
                    match s.peek(&mut buf) {
                        Ok(0) => return Ok(Some(Vec::new())),
                        Ok(n) if n > have => {
                            buf.truncate(n);
                            return Ok(Some(buf));
                        }
                        // Nothing new yet: peek returns at once while old
                        // bytes sit in the buffer, so pace the loop.
                        Ok(_) => std::thread::sleep(Duration::from_millis(2)),
                        Err(e) if is_timeout(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
                Stream::Tls(s) => {
                    if self.pending.len() > have {
                        return Ok(Some(self.pending.clone()));
                    }
                    s.sock.set_read_timeout(Some(POLL))?;
                    let mut buf = [0u8; 16 * 1024];
                    match s.read(&mut buf) {
                        Ok(0) => return Ok(Some(Vec::new())),
                        Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                        Err(e) if is_timeout(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    /// Waits up to `d` for the peer to send anything, without consuming it.
    pub fn wait_for_data(&mut self, d: Duration) -> io::Result<Waited> {
        match self.peek_more(0, Instant::now() + d)? {
            Some(bytes) if bytes.is_empty() => Ok(Waited::Gone),
            Some(_) => Ok(Waited::Data),
            None if self.stopping() => Ok(Waited::Gone),
            None => Ok(Waited::Quiet),
        }
    }

    /// Reads (without consuming) one request head, waiting up to `idle`.
    pub fn read_head(&mut self, idle: Duration) -> io::Result<HeadRead> {
        let deadline = Instant::now() + idle;
        let mut have = 0;
        loop {
            let Some(bytes) = self.peek_more(have, deadline)? else {
                return Ok(HeadRead::Gone);
            };
            if bytes.is_empty() {
                return Ok(HeadRead::Gone);
            }
            have = bytes.len();
            let mut headers = vec![httparse::EMPTY_HEADER; 256];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&bytes) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = Head {
                        method: req.method.unwrap_or("").to_string(),
                        target: req.path.unwrap_or("").to_string(),
                        version: req.version.unwrap_or(1),
                        headers: req
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_string(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect(),
                        len,
                    };
                    return Ok(HeadRead::Head(head));
                }
                Ok(httparse::Status::Partial) if have > MAX_REQUEST_HEAD => {
                    return Ok(HeadRead::Bad("request head too large"));
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => {
                    return Ok(HeadRead::Bad("too many request headers"))
                }
                Err(_) => return Ok(HeadRead::Bad("malformed request head")),
            }
        }
    }

    /// Consumes `n` bytes that `read_head`/`peek_at_least` already saw.
    pub fn consume(&mut self, n: usize) -> io::Result<()> {
        match &mut self.stream {
            Stream::Plain(s) => {
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                let mut sink = vec![0u8; n];
                s.read_exact(&mut sink)
            }
            Stream::Tls(_) => {
                let n = n.min(self.pending.len());
                self.pending.drain(..n);
                Ok(())
            }
        }
    }

    /// Reads the request body framed by `head` (Content-Length or chunked),
    /// with a read timeout of `timeout` per read.
    pub fn read_body(&mut self, head: &Head, timeout: Duration) -> io::Result<Vec<u8>> {
        self.set_read_timeout(timeout)?;
        if head.is_chunked() {
            return self.read_chunked();
        }
        let len = head
            .content_length()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
        if len > MAX_REQUEST_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        let mut body = vec![0u8; len];
        self.read_exact(&mut body)?;
        Ok(body)
    }

    fn read_line(&mut self, limit: usize) -> io::Result<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            self.read_exact(&mut byte)?;
            if byte[0] == b'\n' {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            line.push(byte[0]);
            if line.len() > limit {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
        }
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(1024)?;
            let size_hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line(8 * 1024)?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > MAX_REQUEST_BODY {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.read_exact(&mut body[start..])?;
            if !self.read_line(2)?.is_empty() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad chunk end"));
            }
        }
    }

    pub fn set_read_timeout(&self, d: Duration) -> io::Result<()> {
        self.tcp().set_read_timeout(Some(d))
    }

    /// Writes everything and flushes.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.tcp()
            .set_write_timeout(Some(Duration::from_secs(10)))?;
        self.write_all(bytes)?;
        self.flush()
    }

    /// Ends the connection with a RST: SO_LINGER with a zero timeout makes
    /// close() abort the connection. (On plain TCP unread data would do the
    /// same on Linux; the linger option makes it independent of that.)
    pub fn reset(self) {
        let tcp = match self.stream {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.sock,
        };
        let sock = socket2::SockRef::from(&tcp);
        let _ = sock.set_linger(Some(Duration::ZERO));
        drop(tcp);
    }

    /// Closes politely: TLS close_notify, FIN, then drains what the peer
    /// still sends for a moment so that unread request bytes do not turn
    /// our close into a RST that could destroy the response in flight.
    pub fn close(mut self) {
        if let Stream::Tls(s) = &mut self.stream {
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
        }
        let tcp = self.tcp();
        let _ = tcp.shutdown(Shutdown::Write);
        let _ = tcp.set_read_timeout(Some(POLL));
        let deadline = Instant::now() + Duration::from_millis(500);
        let mut buf = [0u8; 8192];
        let mut tcp_ref = tcp;
        while Instant::now() < deadline && !self.stopping() {
            match tcp_ref.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(_) => break,
            }
        }
    }

    /// The plain TCP stream (for CONNECT tunnels), if this is not TLS.
    pub fn into_plain(self) -> Option<TcpStream> {
        match self.stream {
            Stream::Plain(s) if self.pending.is_empty() => Some(s),
            _ => None,
        }
    }

    /// Closes abruptly with a FIN but without TLS close_notify or draining.
    pub fn drop_now(self) {
        let _ = self.tcp().shutdown(Shutdown::Both);
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        match &mut self.stream {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.stream {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.stream {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Sleeps `d` in small steps; false if `stop` was raised meanwhile.
pub(crate) fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(POLL));
    }
}

/// The reason phrase for common status codes.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Serialises a response head (status line, headers, blank line).
pub(crate) fn head_bytes(status: u16, headers: &[(String, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", status, reason(status)).into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}
