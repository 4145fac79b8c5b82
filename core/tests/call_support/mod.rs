//! A scripted peer for driving [`Call`]s deterministically: a fake clock
//! (sleeping is jumping), a scripted server that answers each request it
//! receives with bytes or faults, a fake pool, and the driver loop exactly
//! as a backend writes it. Every request the "server" received is parsed
//! with httparse and recorded, so tests assert what was sent.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use hawser_core::Error;
use hawser_core::call::{
    Agent, Call, CallOptions, CallReport, Config, ConnectId, Head, Input, Output,
};
use hawser_core::request::Request;

/// Upper bound on driver steps per call: a loop that runs longer is a hang.
const MAX_STEPS: usize = 100_000;
/// The buffer the driver offers for body bytes (small, so a body takes
/// several direct reads).
const BODY_ROOM: usize = 700;

/// What happens on the connection once an answer's bytes are all delivered
/// (or, with no bytes, at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Keep the connection open for the next request.
    Stay,
    /// Close: the client reads EOF.
    Eof,
    /// The client's next read fails with `ConnectionReset`.
    Reset,
    /// Say nothing more: the client's read runs to its `until`.
    Stall,
}

/// The server's answer to one request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Bytes to send.
    pub bytes: Vec<u8>,
    /// Deliver at most this many bytes per read...
    pub drip: Option<(usize, Duration)>,
    /// ...then this.
    pub end: End,
    /// Answer as soon as the head arrived (do not wait for the body).
    pub on_head: bool,
    /// Send `100 Continue` once the head arrived, then wait for the body.
    pub send_continue: bool,
    /// After answering this (a CONNECT), speak TLS on the connection.
    pub start_tls: bool,
}

impl Answer {
    /// A response, connection kept open.
    pub fn reply(bytes: impl AsRef<[u8]>) -> Answer {
        Answer {
            bytes: bytes.as_ref().to_vec(),
            drip: None,
            end: End::Stay,
            on_head: false,
            send_continue: false,
            start_tls: false,
        }
    }
    /// A response with a `Content-Length` body and extra head lines.
    pub fn status(code: u16, head: &str, body: &str) -> Answer {
        Answer::reply(format!(
            "HTTP/1.1 {code} X\r\n{head}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    }
    /// No bytes, then `end`.
    pub fn fault(end: End) -> Answer {
        Answer::reply(b"").then(end)
    }
    /// After the bytes, `end`.
    pub fn then(mut self, end: End) -> Answer {
        self.end = end;
        self
    }
    /// Deliver `n` bytes per read, `every` apart.
    pub fn drip(mut self, n: usize, every: Duration) -> Answer {
        self.drip = Some((n.max(1), every));
        self
    }
    /// Answer when the head arrives.
    pub fn on_head(mut self) -> Answer {
        self.on_head = true;
        self
    }
    /// `100 Continue` first.
    pub fn with_continue(mut self) -> Answer {
        self.send_continue = true;
        self
    }
    /// TLS after this answer (CONNECT).
    pub fn start_tls(mut self) -> Answer {
        self.start_tls = true;
        self
    }
}

/// How an attempt to open a connection goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectResult {
    /// Connected.
    Ok,
    /// `ConnectionRefused`.
    Refused,
    /// Never answers: the driver reports a timeout at `until`.
    Hang,
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Which connection (0-based, in order of opening).
    pub conn: usize,
    /// Method.
    pub method: String,
    /// Request target as written.
    pub target: String,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One server-side connection.
struct ServerConn {
    /// Plaintext bytes from the client not yet parsed.
    inbuf: Vec<u8>,
    /// Bytes queued for the client (ciphertext when TLS).
    out: VecDeque<u8>,
    /// The answer being delivered (drip and end).
    drip: Option<(usize, Duration)>,
    end: End,
    /// The head of the request being received was answered already (on_head / 100).
    head_handled: bool,
    head_answered: bool,
    tls: Option<rustls::ServerConnection>,
    /// Raw bytes received after a tunnel opened without a TLS server.
    raw_after_tunnel: Option<Vec<u8>>,
}

/// The scripted server: answers requests in order, across connections.
pub struct Server {
    answers: VecDeque<Answer>,
    connects: VecDeque<ConnectResult>,
    conns: Vec<ServerConn>,
    /// Every complete request received, in order.
    pub received: Vec<Received>,
    /// Every `Output::Connect` target, in order.
    pub connect_targets: Vec<(String, u16)>,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Speak TLS from the first byte of every connection (an https origin).
    tls_on_open: bool,
}

impl Server {
    fn new() -> Server {
        Server {
            answers: VecDeque::new(),
            connects: VecDeque::new(),
            conns: Vec::new(),
            received: Vec::new(),
            connect_targets: Vec::new(),
            tls: None,
            tls_on_open: false,
        }
    }

    /// Queue answers for the next requests.
    pub fn answer(&mut self, a: Answer) {
        self.answers.push_back(a);
    }

    /// Raw bytes sent into a tunnel that had no TLS server (connection `i`).
    pub fn tunnel_bytes(&self, i: usize) -> Option<&[u8]> {
        self.conns.get(i)?.raw_after_tunnel.as_deref()
    }

    /// Unsolicited bytes from the server on connection `i` (it may be idle).
    pub fn inject(&mut self, i: usize, bytes: &[u8]) {
        let a = Answer::reply(bytes);
        self.queue(i, &a, bytes);
    }

    /// The server closes connection `i` (FIN): the client reads EOF.
    pub fn close(&mut self, i: usize) {
        self.conns[i].end = End::Eof;
    }

    /// How many connections were opened.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    fn open(&mut self) -> usize {
        self.conns.push(ServerConn {
            inbuf: Vec::new(),
            out: VecDeque::new(),
            drip: None,
            end: End::Stay,
            head_handled: false,
            head_answered: false,
            tls: None,
            raw_after_tunnel: None,
        });
        let i = self.conns.len() - 1;
        if self.tls_on_open
            && let Some(cfg) = &self.tls
        {
            self.conns[i].tls = Some(server_tls(cfg));
        }
        i
    }

    fn queue(&mut self, i: usize, a: &Answer, bytes: &[u8]) {
        let c = &mut self.conns[i];
        match &mut c.tls {
            Some(tls) => {
                tls.writer().write_all(bytes).expect("tls write");
                if a.end == End::Eof {
                    tls.send_close_notify();
                }
                let mut v = Vec::new();
                while tls.wants_write() {
                    tls.write_tls(&mut v).expect("write_tls");
                }
                c.out.extend(v);
            }
            None => c.out.extend(bytes),
        }
        c.drip = a.drip;
        c.end = a.end;
    }

    /// The client wrote `data` on connection `i`.
    fn client_wrote(&mut self, i: usize, data: &[u8]) {
        if let Some(raw) = &mut self.conns[i].raw_after_tunnel {
            raw.extend_from_slice(data);
            return;
        }
        if self.conns[i].tls.is_some() {
            let c = &mut self.conns[i];
            let tls = c.tls.as_mut().expect("tls");
            let mut rd = data;
            let mut plain = Vec::new();
            let mut buf = [0u8; 4096];
            // Drain plaintext between records so rustls' buffer never fills.
            loop {
                if !rd.is_empty() {
                    tls.read_tls(&mut rd).expect("read_tls");
                    tls.process_new_packets().expect("server TLS failed");
                }
                loop {
                    match tls.reader().read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => plain.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("server TLS read: {e}"),
                    }
                }
                if rd.is_empty() {
                    break;
                }
            }
            let mut v = Vec::new();
            while tls.wants_write() {
                tls.write_tls(&mut v).expect("write_tls");
            }
            c.out.extend(v);
            c.inbuf.extend_from_slice(&plain);
        } else {
            self.conns[i].inbuf.extend_from_slice(data);
        }
        while self.parse_one(i) {}
    }

    /// Parse one request from connection `i`'s buffer; true if one was taken.
    fn parse_one(&mut self, i: usize) -> bool {
        let buf = self.conns[i].inbuf.clone();
        let mut hdrs = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut hdrs);
        let head_len = match req.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return false,
            Err(e) => panic!(
                "the client sent a malformed request: {e}: {:?}",
                String::from_utf8_lossy(&buf)
            ),
        };
        let method = req.method.unwrap_or_default().to_string();
        let target = req.path.unwrap_or_default().to_string();
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let expect = get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if !self.conns[i].head_handled {
            self.conns[i].head_handled = true;
            let next = self.answers.front().cloned();
            if let Some(a) = next {
                if a.on_head {
                    self.answers.pop_front();
                    self.conns[i].head_answered = true;
                    self.received.push(Received {
                        conn: i,
                        method: method.clone(),
                        target: target.clone(),
                        headers: headers.clone(),
                        body: Vec::new(),
                    });
                    self.queue(i, &a, &a.bytes);
                    if a.end != End::Stay {
                        return false;
                    }
                } else if a.send_continue && expect {
                    self.queue(i, &Answer::reply(""), b"HTTP/1.1 100 Continue\r\n\r\n");
                }
            }
        }
        let rest = &buf[head_len..];
        let body_and_len = if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            dechunk(rest)
        } else {
            let n: usize = get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            (rest.len() >= n).then(|| (rest[..n].to_vec(), n))
        };
        let Some((body, used)) = body_and_len else {
            return false;
        };
        self.conns[i].inbuf.drain(..head_len + used);
        self.conns[i].head_handled = false;
        if std::mem::take(&mut self.conns[i].head_answered) {
            if let Some(r) = self.received.last_mut() {
                r.body = body;
            }
            return true;
        }
        let a = self
            .answers
            .pop_front()
            .unwrap_or_else(|| panic!("unscripted request: {method} {target}"));
        let is_connect = method == "CONNECT";
        self.received.push(Received {
            conn: i,
            method,
            target,
            headers,
            body,
        });
        self.queue(i, &a, &a.bytes);
        if is_connect && a.start_tls {
            match &self.tls {
                Some(cfg) => {
                    self.conns[i].tls = Some(server_tls(cfg));
                }
                None => {
                    let left = std::mem::take(&mut self.conns[i].inbuf);
                    self.conns[i].raw_after_tunnel = Some(left);
                    return false;
                }
            }
        }
        true
    }
}

/// `(body, bytes used)` of a complete chunked body, or None if incomplete.
fn dechunk(mut rest: &[u8]) -> Option<(Vec<u8>, usize)> {
    let total = rest.len();
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            // Trailers end with an empty line.
            let end = if rest.starts_with(b"\r\n") {
                2
            } else {
                rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4
            };
            return Some((body, total - rest.len() + end));
        }
        if rest.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// How a driven call ended.
#[derive(Debug)]
pub struct Outcome {
    /// The final head, if one was delivered.
    pub head: Option<Head>,
    /// Body bytes delivered.
    pub body: Vec<u8>,
    /// The error the call ended with.
    pub error: Option<Error>,
    /// The call's report.
    pub report: CallReport,
    /// Every `Output::Sleep` duration the driver slept.
    pub waits: Vec<Duration>,
    /// For every connection the call used, in order of first use: whether
    /// it was left in the pool (true) or closed (false) when the call ended.
    pub releases: Vec<bool>,
    /// How many `Output::Close` the call emitted.
    pub closes: usize,
    /// How many `Output::Check` the call emitted.
    pub checks: usize,
    /// Every `Output::Connect` address, in order.
    pub attempts: Vec<SocketAddr>,
    /// When the call ended, relative to when it started.
    pub elapsed: Duration,
}

impl Outcome {
    /// The status of the final head.
    pub fn status(&self) -> u16 {
        match &self.head {
            Some(h) => h.status.as_u16(),
            None => panic!("no response: {:?}", self.error),
        }
    }
    /// The error (panics when the call succeeded).
    pub fn err(&self) -> &Error {
        self.error
            .as_ref()
            .unwrap_or_else(|| panic!("the call succeeded: {:?}", self.head))
    }
}

/// What the driver streams for a non-replayable body.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// Pieces handed out in order, then `BodyEnd`.
    pub pieces: VecDeque<Vec<u8>>,
}

/// The harness's transport: the index of a server connection. Dropping it
/// (by `Output::Close` or when the core lets go of it) records the close.
#[derive(Debug)]
pub struct Wire {
    /// Which server connection.
    pub id: usize,
    closed: Arc<Mutex<Vec<usize>>>,
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.closed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(self.id);
    }
}

/// A scenario: an agent, a fake clock, the scripted server.
pub struct Scenario {
    /// The session's core.
    pub agent: Agent<Wire>,
    base: Instant,
    offset: Duration,
    /// The scripted server.
    pub server: Server,
    connects_left: VecDeque<ConnectResult>,
    /// What names resolve to (default: 127.0.0.1 with the asked port).
    pub resolve: Option<Vec<SocketAddr>>,
    /// Connections the core closed (ids, in order).
    closed: Arc<Mutex<Vec<usize>>>,
    /// Writes never complete: every Transmit runs to its `until`.
    pub stall_writes: bool,
    /// A call started by [`Scenario::hold_slot`], kept alive.
    holder: Option<Call<Wire>>,
    /// The last `run_until_sleep` stopped at a sleep.
    sleep_seen: bool,
    /// Read bodies into memory (`Call::read_into_memory` after the head),
    /// as `bytes()` does.
    pub read_into_memory: bool,
}

impl Scenario {
    /// A scenario with `config`.
    pub fn new(config: Config) -> Scenario {
        Scenario {
            agent: Agent::new(config).expect("valid config"),
            base: Instant::now(),
            offset: Duration::ZERO,
            server: Server::new(),
            connects_left: VecDeque::new(),
            resolve: None,
            closed: Arc::new(Mutex::new(Vec::new())),
            stall_writes: false,
            holder: None,
            sleep_seen: false,
            read_into_memory: false,
        }
    }

    /// A server that speaks TLS inside CONNECT tunnels with this config.
    /// With `on_open`, every connection is TLS from its first byte (an
    /// https origin); otherwise only after a CONNECT answered `start_tls`.
    pub fn with_tls_server(mut self, cfg: Arc<rustls::ServerConfig>, on_open: bool) -> Scenario {
        self.server.tls = Some(cfg);
        self.server.tls_on_open = on_open;
        self
    }

    /// The fake clock.
    pub fn now(&self) -> Instant {
        self.base + self.offset
    }

    /// Queue an answer.
    pub fn answer(&mut self, a: Answer) -> &mut Scenario {
        self.server.answer(a);
        self
    }

    /// Queue a connect result (default when none is queued: `Ok`).
    pub fn connect(&mut self, r: ConnectResult) -> &mut Scenario {
        self.connects_left.push_back(r);
        self
    }

    /// Start the scenario with one idle keep-alive connection to `url`'s
    /// origin in the pool (a warm-up GET answered 200 on connection 0).
    pub fn prepooled(&mut self, url: &str) -> &mut Scenario {
        self.answer(Answer::reply(
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ));
        let out = self.run(get(url));
        assert_eq!(
            out.releases,
            vec![true],
            "warm-up connection not pooled: {:?}",
            out.error
        );
        self
    }

    /// Start a call to `url` and drive it until it holds a pool slot (it
    /// is connecting), then keep it alive: the slot stays taken.
    pub fn hold_slot(&mut self, url: &str) -> &mut Scenario {
        let now = self.now();
        let wall = SystemTime::UNIX_EPOCH;
        let mut call = self
            .agent
            .start(get(url), CallOptions::default(), now, wall)
            .expect("start");
        loop {
            match call.poll_output(now).expect("holder") {
                Output::Resolve { .. } | Output::AwaitConnect { .. } => break,
                Output::Connect { .. } | Output::Close(_) => continue,
                other => panic!("holder got {other:?}"),
            }
        }
        self.holder = Some(call);
        self
    }

    /// Let go of the call started by [`Scenario::hold_slot`].
    pub fn release_slot(&mut self) {
        self.holder = None;
    }

    /// Idle pooled connections.
    pub fn pooled(&self) -> usize {
        self.agent.pool_stats().idle
    }

    /// Run `req` with default options (seed 1).
    pub fn run(&mut self, req: Request) -> Outcome {
        self.run_with(
            req,
            CallOptions {
                seed: 1,
                ..Default::default()
            },
            Stream::default(),
        )
    }

    fn closed_ids(&self) -> Vec<usize> {
        self.closed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Run `req` to its end, driving it as a backend does.
    pub fn run_with(&mut self, req: Request, opts: CallOptions, mut stream: Stream) -> Outcome {
        let start = self.now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + self.offset;
        let mut call = self.agent.start(req, opts, start, wall).expect("start");
        let mut out = Outcome {
            head: None,
            body: Vec::new(),
            error: None,
            report: CallReport::default(),
            waits: Vec::new(),
            releases: Vec::new(),
            closes: 0,
            checks: 0,
            attempts: Vec::new(),
            elapsed: Duration::ZERO,
        };
        let closed_before = self.closed_ids().len();
        // Connections used, in order of first use.
        let mut used: Vec<usize> = Vec::new();
        // Attempts started and not yet reported.
        let mut racing: VecDeque<ConnectId> = VecDeque::new();
        let mut resolved = false;
        let mut steps = 0;
        // The streamed body piece lent to the call for one input.
        let mut piece: Vec<u8>;
        // Our own buffer for body bytes read straight from the connection,
        // and how many the last `ReceiveBody` put there.
        let (mut direct, mut direct_read) = (Vec::new(), 0);
        let mut vectored_writes = 0;
        loop {
            steps += 1;
            assert!(steps < MAX_STEPS, "the driver loop did not end");
            let now = self.now();
            // Once the head is in, offer a buffer on every other poll, so
            // every scenario reads bodies both ways: straight into the
            // driver's buffer (`ReceiveBody`) and through the core's.
            call.offer_body_room(if out.head.is_some() && steps % 2 == 0 {
                BODY_ROOM
            } else {
                0
            });
            // Likewise head and body as one vectored write on some polls;
            // every other vectored write is taken only in part.
            call.accept_vectored(steps % 3 != 0);
            let output = match call.poll_output(now) {
                Ok(o) => o,
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            };
            let input: Input<'_, Wire> = match output {
                Output::Resolve { host, port, .. } => {
                    resolved = true;
                    self.server.connect_targets.push((host.to_string(), port));
                    let addrs = self
                        .resolve
                        .clone()
                        .unwrap_or_else(|| vec![SocketAddr::from(([127, 0, 0, 1], port))]);
                    Input::Resolved(addrs)
                }
                Output::Connect { id, addr, .. } => {
                    // One target per connect phase: from Resolve, or here
                    // for an IP literal (which skips Resolve).
                    if !std::mem::take(&mut resolved) && racing.is_empty() {
                        self.server
                            .connect_targets
                            .push((addr.ip().to_string(), addr.port()));
                    }
                    out.attempts.push(addr);
                    racing.push_back(id);
                    continue;
                }
                Output::AwaitConnect { until } => {
                    let id = racing.pop_front().expect("AwaitConnect with no attempt");
                    match self.connects_left.pop_front().unwrap_or(ConnectResult::Ok) {
                        ConnectResult::Ok => {
                            racing.clear();
                            let wire = Wire {
                                id: self.server.open(),
                                closed: Arc::clone(&self.closed),
                            };
                            Input::Connected { id, conn: wire }
                        }
                        ConnectResult::Refused => Input::ConnectFailed {
                            id,
                            error: io::Error::from(io::ErrorKind::ConnectionRefused),
                        },
                        ConnectResult::Hang => {
                            // This attempt never finishes: the core moves on
                            // at `until` (the stagger, or the connect timeout).
                            self.jump_to(until);
                            continue;
                        }
                    }
                }
                Output::AwaitSlot { until, .. } => {
                    // Nobody else runs here: the slot never frees.
                    self.jump_to(until);
                    continue;
                }
                Output::Check { conn } => {
                    out.checks += 1;
                    let c = &self.server.conns[conn.id];
                    if !c.out.is_empty() {
                        Input::Read(c.out.len())
                    } else {
                        match c.end {
                            End::Eof => Input::Eof,
                            End::Reset => {
                                Input::Failed(io::Error::from(io::ErrorKind::ConnectionReset))
                            }
                            End::Stay | End::Stall => Input::Quiet,
                        }
                    }
                }
                Output::Close(w) => {
                    out.closes += 1;
                    drop(w);
                    continue;
                }
                Output::Transmit { until, conn, .. }
                | Output::TransmitVectored { until, conn, .. }
                    if self.stall_writes =>
                {
                    if !used.contains(&conn.id) {
                        used.push(conn.id);
                    }
                    self.jump_to(until);
                    Input::Timeout
                }
                Output::Transmit { conn, data, .. } => {
                    let id = conn.id;
                    if !used.contains(&id) {
                        used.push(id);
                    }
                    let n = data.len();
                    self.server.client_wrote(id, data);
                    Input::Written(n)
                }
                Output::TransmitVectored { conn, bufs, .. } => {
                    let id = conn.id;
                    if !used.contains(&id) {
                        used.push(id);
                    }
                    let total = bufs[0].len() + bufs[1].len();
                    vectored_writes += 1;
                    let n = if vectored_writes % 2 == 1 {
                        total / 2
                    } else {
                        total
                    };
                    let of_head = n.min(bufs[0].len());
                    self.server.client_wrote(id, &bufs[0][..of_head]);
                    self.server.client_wrote(id, &bufs[1][..n - of_head]);
                    Input::Written(n)
                }
                Output::Receive { conn, buf, until } => self.serve_read(conn.id, buf, now, until),
                Output::ReceiveBody { conn, max, until } => {
                    direct.resize(max, 0);
                    let input = self.serve_read(conn.id, &mut direct, now, until);
                    if let Input::Read(n) = input {
                        direct_read = n;
                    }
                    input
                }
                Output::SendBody { max, .. } => match stream.pieces.pop_front() {
                    Some(mut p) => {
                        p.truncate(max);
                        piece = p;
                        Input::BodyData(&piece)
                    }
                    None => Input::BodyEnd,
                },
                Output::Sleep { until } => {
                    out.waits.push(until.saturating_duration_since(now));
                    self.jump_to(until);
                    continue;
                }
                Output::Head(h) => {
                    out.head = Some(h);
                    if self.read_into_memory
                        && let Err(e) = call.read_into_memory()
                    {
                        out.error = Some(e);
                        break;
                    }
                    continue;
                }
                Output::Body(b) => {
                    out.body.extend_from_slice(b);
                    let n = b.len();
                    call.consume(n);
                    continue;
                }
                Output::Done => break,
                other => panic!("unknown output {other:?}"),
            };
            let now = self.now();
            if let Err(e) = call.handle_input(input, now) {
                out.error = Some(e);
                break;
            }
            out.body
                .extend_from_slice(&direct[..std::mem::take(&mut direct_read)]);
        }
        out.report = call.report();
        drop(call);
        let closed = self.closed_ids();
        let closed = &closed[closed_before.min(closed.len())..];
        out.releases = used.iter().map(|id| !closed.contains(id)).collect();
        out.elapsed = self.now().saturating_duration_since(start);
        out
    }

    /// Run `req` until the driver would wait on a read that never ends
    /// (the server stalls), then drop the call. Returns how many transports
    /// were closed by then.
    pub fn run_until_stall(&mut self, req: Request) -> usize {
        self.run_and_drop(req, |o| matches!(o, Output::Receive { .. }), true)
    }

    /// Run `req` until it asks to sleep (a backoff), then drop the call.
    /// True if it got there.
    pub fn run_until_sleep(&mut self, req: Request) -> bool {
        self.run_and_drop(req, |o| matches!(o, Output::Sleep { .. }), false);
        self.sleep_seen
    }

    /// The shared part: drive like `run_with`, but stop (dropping the call)
    /// at the first output `stop` matches; with `stall_only`, only a
    /// `Receive` with nothing to deliver counts.
    fn run_and_drop(
        &mut self,
        req: Request,
        stop: impl Fn(&Output<'_, Wire>) -> bool,
        stall_only: bool,
    ) -> usize {
        let now = self.now();
        let closed_before = self.closed_ids().len();
        self.sleep_seen = false;
        let mut call = self
            .agent
            .start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)
            .expect("start");
        let mut racing = None;
        for _ in 0..MAX_STEPS {
            let now = self.now();
            let output = call
                .poll_output(now)
                .expect("the call failed before its stop");
            let stalled = match &output {
                Output::Receive { conn, .. } => self.server.conns[conn.id].out.is_empty(),
                _ => false,
            };
            if stop(&output) && (!stall_only || stalled) {
                self.sleep_seen = matches!(output, Output::Sleep { .. });
                break;
            }
            let input: Input<'_, Wire> = match output {
                Output::Resolve { port, .. } => {
                    Input::Resolved(vec![SocketAddr::from(([127, 0, 0, 1], port))])
                }
                Output::Connect { id, .. } => {
                    racing = Some(id);
                    continue;
                }
                Output::AwaitConnect { .. } => Input::Connected {
                    id: racing.take().expect("an attempt"),
                    conn: Wire {
                        id: self.server.open(),
                        closed: Arc::clone(&self.closed),
                    },
                },
                Output::Check { .. } => Input::Quiet,
                Output::Close(_) => continue,
                Output::Transmit { conn, data, .. } => {
                    let n = data.len();
                    self.server.client_wrote(conn.id, data);
                    Input::Written(n)
                }
                Output::Receive { conn, buf, .. } => {
                    let c = &mut self.server.conns[conn.id];
                    let n = c.out.len().min(buf.len());
                    for (dst, src) in buf.iter_mut().zip(c.out.drain(..n)) {
                        *dst = src;
                    }
                    Input::Read(n)
                }
                Output::Head(_) => continue,
                Output::Body(b) => {
                    let n = b.len();
                    call.consume(n);
                    continue;
                }
                other => panic!("unexpected {other:?} before the stop"),
            };
            let now = self.now();
            call.handle_input(input, now).expect("input");
        }
        drop(call);
        self.closed_ids().len() - closed_before
    }

    /// Sleep (jump the clock) until `t`.
    /// The scripted server's answer to a read of up to `buf.len()` bytes
    /// on connection `id`: its next bytes (dripped when it drips), or its
    /// ending (EOF, reset, or a wait that runs into `until`).
    fn serve_read(
        &mut self,
        id: usize,
        buf: &mut [u8],
        now: Instant,
        until: Instant,
    ) -> Input<'static, Wire> {
        let c = &mut self.server.conns[id];
        if c.out.is_empty() {
            return match c.end {
                End::Eof => Input::Eof,
                End::Reset => Input::Failed(io::Error::from(io::ErrorKind::ConnectionReset)),
                End::Stay | End::Stall => {
                    self.jump_to(until);
                    Input::Timeout
                }
            };
        }
        let mut n = c.out.len();
        let mut delay = Duration::ZERO;
        if let Some((k, every)) = c.drip {
            n = n.min(k);
            delay = every;
        }
        if now + delay >= until && !delay.is_zero() {
            self.jump_to(until);
            return Input::Timeout;
        }
        self.offset += delay;
        let n = n.min(buf.len());
        let c = &mut self.server.conns[id];
        for (dst, src) in buf.iter_mut().zip(c.out.drain(..n)) {
            *dst = src;
        }
        Input::Read(n)
    }

    pub fn jump_to(&mut self, t: Instant) {
        if t > self.now() {
            self.offset = t - self.base;
        }
    }

    /// Advance the clock.
    pub fn advance(&mut self, d: Duration) {
        self.offset += d;
    }
}

/// A GET request.
pub fn get(url: &str) -> Request {
    Request::get(url).build().expect("request")
}

/// A config with the retry policy `retry` and otherwise defaults.
pub fn config_with_retry(retry: hawser_core::retry::Retry) -> Config {
    let mut c = Config::default();
    c.retry = retry;
    c
}

/// A server TLS connection that buffers whole scripted answers.
fn server_tls(cfg: &Arc<rustls::ServerConfig>) -> rustls::ServerConnection {
    let mut c = rustls::ServerConnection::new(cfg.clone()).expect("server conn");
    c.set_buffer_limit(None);
    c
}
