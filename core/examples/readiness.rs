//! One thread, one `mio` readiness loop, a thousand concurrent calls: the
//! core driven from its public API alone, by a runtime hawser has no
//! backend for. Every call shares one agent (so one pool, capped per host,
//! with calls queued for a slot and woken one by one); the loop only does
//! non-blocking I/O and keeps timers. Offline:
//! `cargo run --release -p hawser-core --example readiness`
//! (it starts a local testkit server). `core/tests/readiness_loop.rs` runs
//! it as a test.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant, SystemTime};

use hawser_core::call::{Agent, Call, CallOptions, Config, ConnectId, Input, Output};
use hawser_core::pool::PoolStats;
use hawser_core::request::Request;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};

/// The transport: a non-blocking mio socket and its token.
pub struct Sock {
    stream: TcpStream,
    token: Token,
}

/// Wakes a call queued for a pool slot: puts it on the ready list (the
/// pool calls it on this same thread, from another call's step).
struct Woken {
    ready: Arc<Mutex<Vec<usize>>>,
    idx: usize,
}

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        let mut ready = self.ready.lock().unwrap_or_else(PoisonError::into_inner);
        ready.push(self.idx);
    }
}

struct Task {
    call: Option<Call<Sock>>,
    racing: Vec<(ConnectId, Sock)>,
    waker: Waker,
    status: u16,
    body: usize,
    error: Option<hawser_core::Error>,
}

/// The loop's shared state: the registry, who waits on which socket, timers.
struct Reactor {
    registry: Registry,
    owner: HashMap<Token, usize>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    next_token: usize,
}

/// What the run did.
#[derive(Debug)]
pub struct Outcome {
    /// Calls that ended with a 200 and the whole body.
    pub ok: usize,
    /// Calls that failed, with the first error.
    pub failed: Vec<String>,
    /// The agent's pool counters after every call ended.
    pub stats: PoolStats,
    /// How long the whole run took.
    pub elapsed: Duration,
}

/// Run one GET per URL, all at once, on this thread.
pub fn run(urls: &[String], config: Config) -> io::Result<Outcome> {
    let started = Instant::now();
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let agent: Agent<Sock> = Agent::new(config).map_err(io::Error::other)?;
    let ready = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::with_capacity(urls.len());
    for (idx, url) in urls.iter().enumerate() {
        let req = Request::get(url).build().map_err(io::Error::other)?;
        let opts = CallOptions {
            seed: agent.next_seed(),
            ..Default::default()
        };
        let call = agent.start(req, opts, Instant::now(), SystemTime::now());
        let waker = Waker::from(Arc::new(Woken {
            ready: ready.clone(),
            idx,
        }));
        let (status, body) = (0, 0);
        let call = Some(call.map_err(io::Error::other)?);
        let (racing, error) = (Vec::new(), None);
        tasks.push(Task {
            call,
            racing,
            waker,
            status,
            body,
            error,
        });
    }
    let mut reactor = Reactor {
        registry: poll.registry().try_clone()?,
        owner: HashMap::new(),
        timers: BinaryHeap::new(),
        next_token: 0,
    };
    let mut runnable: Vec<usize> = (0..tasks.len()).collect();
    let mut left = tasks.len();
    while left > 0 {
        for idx in runnable.drain(..) {
            if reactor.step(&mut tasks[idx], idx)? {
                left -= 1;
            }
        }
        runnable.extend(
            ready
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain(..),
        );
        if !runnable.is_empty() || left == 0 {
            continue;
        }
        let now = Instant::now();
        let timeout = reactor
            .timers
            .peek()
            .map(|Reverse((t, _))| t.saturating_duration_since(now));
        poll.poll(&mut events, timeout)?;
        runnable.extend(
            events
                .iter()
                .filter_map(|e| reactor.owner.get(&e.token()).copied()),
        );
        let now = Instant::now();
        while let Some(&Reverse((at, idx))) = reactor.timers.peek() {
            if at > now {
                break;
            }
            reactor.timers.pop();
            runnable.push(idx);
        }
        runnable.sort_unstable();
        runnable.dedup();
    }
    let ok = tasks
        .iter()
        .filter(|t| t.status == 200 && t.error.is_none())
        .count();
    let failed = tasks
        .iter()
        .filter_map(|t| t.error.as_ref().map(|e| e.to_string()))
        .collect();
    drop(tasks);
    let stats = agent.pool_stats();
    Ok(Outcome {
        ok,
        failed,
        stats,
        elapsed: started.elapsed(),
    })
}

impl Reactor {
    /// Wake `idx` when `token` is ready or at `until`.
    fn wait(&mut self, idx: usize, token: Option<Token>, until: Instant) {
        if let Some(token) = token {
            self.owner.insert(token, idx);
        }
        self.timers.push(Reverse((until, idx)));
    }

    /// Run task `idx` until it must wait; true when its call ended.
    fn step(&mut self, t: &mut Task, idx: usize) -> io::Result<bool> {
        let Some(call) = t.call.as_mut() else {
            return Ok(false); // already ended: a stale wake-up
        };
        loop {
            let out = match call.poll_output(Instant::now()) {
                Ok(out) => out,
                Err(e) => return Ok(t.end(Some(e))),
            };
            if !matches!(out, Output::Connect { .. } | Output::AwaitConnect { .. }) {
                for (_, mut s) in t.racing.drain(..) {
                    let _ = self.registry.deregister(&mut s.stream); // the race is over
                }
            }
            let input = match out {
                Output::Resolve { host, port, .. } => {
                    let addrs = std::net::ToSocketAddrs::to_socket_addrs(&(host, port));
                    addrs.map_or_else(Input::Failed, |a| Input::Resolved(a.collect()))
                }
                Output::Connect { id, addr, .. } => {
                    match TcpStream::connect(addr) {
                        Ok(mut stream) => {
                            let token = Token(self.next_token);
                            self.next_token += 1;
                            let both = Interest::READABLE | Interest::WRITABLE;
                            self.registry.register(&mut stream, token, both)?;
                            self.owner.insert(token, idx);
                            t.racing.push((id, Sock { stream, token }));
                        }
                        Err(error) => {
                            let input = Input::ConnectFailed { id, error };
                            if let Err(e) = call.handle_input(input, Instant::now()) {
                                return Ok(t.end(Some(e)));
                            }
                        }
                    }
                    continue;
                }
                Output::AwaitConnect { until } => match finished_attempt(&mut t.racing) {
                    Some(input) => input,
                    None => {
                        self.wait(idx, None, until);
                        return Ok(false);
                    }
                },
                Output::Check { conn } => Input::from_peek(conn.stream.peek(&mut [0u8; 1])),
                Output::Transmit { conn, data, until } => match conn.stream.write(data) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.wait(idx, Some(conn.token), until);
                        return Ok(false);
                    }
                    r => Input::from_write(r),
                },
                Output::Receive { conn, buf, until } => match conn.stream.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.wait(idx, Some(conn.token), until);
                        return Ok(false);
                    }
                    r => Input::from_read(r),
                },
                Output::SendBody { .. } => Input::BodyEnd,
                Output::Sleep { until } => {
                    self.wait(idx, None, until);
                    return Ok(false);
                }
                Output::AwaitSlot { until, slot } => {
                    if slot
                        .poll_ready(&mut Context::from_waker(&t.waker))
                        .is_pending()
                    {
                        self.wait(idx, None, until);
                        return Ok(false);
                    }
                    continue;
                }
                Output::Close(mut s) => {
                    let _ = self.registry.deregister(&mut s.stream);
                    self.owner.remove(&s.token);
                    continue;
                }
                Output::Head(head) => {
                    t.status = head.status.as_u16();
                    continue;
                }
                Output::Body(bytes) => {
                    let n = bytes.len();
                    t.body += n;
                    call.consume(n);
                    continue;
                }
                Output::Done => return Ok(t.end(None)),
                other => return Err(io::Error::other(format!("unknown output {other:?}"))),
            };
            if let Err(e) = call.handle_input(input, Instant::now()) {
                return Ok(t.end(Some(e)));
            }
        }
    }
}

impl Task {
    fn end(&mut self, error: Option<hawser_core::Error>) -> bool {
        self.error = error;
        self.call = None; // gives back whatever it still held
        true
    }
}

/// The first attempt that ended (mio: it became writable; then it has
/// an error, or a peer).
fn finished_attempt(racing: &mut Vec<(ConnectId, Sock)>) -> Option<Input<'static, Sock>> {
    for i in 0..racing.len() {
        let s = &racing[i].1.stream;
        let ended = match s.take_error() {
            Ok(None) if s.peer_addr().is_ok() => Ok(()),
            Ok(None) => continue, // still connecting
            Ok(Some(e)) | Err(e) => Err(e),
        };
        let (id, conn) = racing.swap_remove(i);
        return Some(match ended {
            Ok(()) => Input::Connected { id, conn },
            Err(error) => Input::ConnectFailed { id, error },
        });
    }
    None
}

#[allow(dead_code)] // the test includes this file for `run`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use hawser_testkit::{Behaviour, Reply, TestServer};
    let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hello")))])?;
    let urls: Vec<String> = (0..1000).map(|i| srv.url(&format!("/?n={i}"))).collect();
    let mut config = Config::default();
    config.pool.max_active_per_host = 32;
    config.pool.when_full = hawser_core::pool::WhenFull::Wait;
    let out = run(&urls, config)?;
    println!(
        "{} calls ok, {} failed, in {:?}; pool: {} opened, {} reused, {} waited, {} active now",
        out.ok,
        out.failed.len(),
        out.elapsed,
        out.stats.opened,
        out.stats.reused,
        out.stats.waited,
        out.stats.active
    );
    Ok(())
}
