//! The run loop: performs the core's [`Output`]s over `std::net` and reports
//! [`Input`]s. It decides nothing; every policy answer comes from the core.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use hawser_core::call::{Agent, Call, Connection, Input, Output, Response as Head};
use hawser_core::pool::{Checkout, Lease, Pool, PoolKey};
use hawser_core::{Error, ErrorKind, Result};

/// A pooled connection: the socket and the core's state for it.
pub(crate) struct Pooled {
    sock: TcpStream,
    conn: Connection,
}

pub(crate) struct Inner {
    pub(crate) agent: Agent,
    pool: Mutex<Pool<Pooled>>,
    freed: Condvar,
}

impl Inner {
    pub(crate) fn new(agent: Agent) -> Result<Inner> {
        let pool = Pool::new(agent.config().pool.clone())?;
        Ok(Inner {
            agent,
            pool: Mutex::new(pool),
            freed: Condvar::new(),
        })
    }

    pub(crate) fn pool(&self) -> MutexGuard<'_, Pool<Pooled>> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What one run of the loop stopped at.
pub(crate) enum Pumped {
    Head(Box<Head>),
    Body(usize),
    Done,
}

/// The socket and pool lease of the connection a call is using.
pub(crate) struct Driver {
    pub(crate) inner: Arc<Inner>,
    sock: Option<TcpStream>,
    lease: Option<Lease>,
    body: Option<Box<dyn Read + Send>>,
    scratch: Vec<u8>,
}

impl Driver {
    pub(crate) fn new(inner: Arc<Inner>, body: Option<Box<dyn Read + Send>>) -> Driver {
        Driver {
            inner,
            sock: None,
            lease: None,
            body,
            scratch: Vec::new(),
        }
    }

    /// Run `call` until a head, body bytes (copied into `out`), or the end.
    pub(crate) fn pump(&mut self, call: &mut Call, mut out: Option<&mut [u8]>) -> Result<Pumped> {
        loop {
            let now = Instant::now();
            let output = match call.poll_output(now) {
                Ok(o) => o,
                Err(e) => {
                    self.close();
                    return Err(e);
                }
            };
            let input = match output {
                Output::Acquire { key, until } => self.acquire(key.clone(), until)?,
                Output::Connect { host, port, until } => self.connect(host, port, until),
                Output::Transmit { data, until } => self.io(until, |s| s.write(data), true),
                Output::Receive { until } => {
                    let buf = call.read_buffer();
                    match self.io(until, |s| s.read(buf), false) {
                        Input::Read(0) => Input::Eof,
                        other => other,
                    }
                }
                Output::SendBody { max, .. } => {
                    self.scratch.resize(max, 0);
                    let read = match &mut self.body {
                        Some(r) => r.read(&mut self.scratch),
                        None => Ok(0),
                    };
                    match read {
                        Ok(0) => Input::BodyEnd,
                        Ok(n) => Input::BodyData(&self.scratch[..n]),
                        Err(e) => {
                            self.close();
                            return Err(Error::new(
                                ErrorKind::InvalidRequest,
                                "reading the request body failed",
                            )
                            .with_source(e));
                        }
                    }
                }
                Output::Wait { until } => {
                    std::thread::sleep(until.saturating_duration_since(now));
                    continue;
                }
                Output::Release { conn, reuse } => {
                    self.release(conn, reuse);
                    continue;
                }
                Output::Head(head) => return Ok(Pumped::Head(Box::new(head))),
                Output::Body(bytes) => match out.as_deref_mut() {
                    Some(buf) => {
                        let n = bytes.len().min(buf.len());
                        buf[..n].copy_from_slice(&bytes[..n]);
                        call.consume(n);
                        return Ok(Pumped::Body(n));
                    }
                    None => return Ok(Pumped::Body(0)),
                },
                Output::Done => return Ok(Pumped::Done),
                _ => return Err(Error::new(ErrorKind::Usage, "unknown output from the core")),
            };
            call.handle_input(input, Instant::now())?;
        }
    }

    /// Ask the pool; wait (bounded by `until`) when it says so.
    fn acquire(&mut self, key: PoolKey, until: Instant) -> Result<Input<'static>> {
        let mut pool = self.inner.pool();
        let now = Instant::now();
        drop(pool.evict(now));
        let mut answer = pool.checkout(&key, now)?;
        loop {
            match answer {
                Checkout::Reuse(lease, pooled) => {
                    self.lease = Some(lease);
                    self.sock = Some(pooled.sock);
                    return Ok(Input::Pooled(pooled.conn));
                }
                Checkout::Open(lease) => {
                    self.lease = Some(lease);
                    return Ok(Input::NoPooled);
                }
                Checkout::Wait(ticket) => {
                    let now = Instant::now();
                    if now >= until {
                        let c = pool.cancel(ticket, now)?;
                        if c.wake.is_some() {
                            self.inner.freed.notify_all();
                        }
                        return Ok(Input::Timeout);
                    }
                    pool = self
                        .inner
                        .freed
                        .wait_timeout(pool, until - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    answer = pool.claim(ticket, Instant::now())?;
                }
            }
        }
    }

    fn connect(&mut self, host: &str, port: u16, until: Instant) -> Input<'static> {
        let addrs = match resolve(host, port, until) {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Input::Timeout,
            Err(e) => return Input::Failed(e),
        };
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no addresses found");
        for addr in addrs {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Input::Timeout;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    self.sock = Some(s);
                    return Input::Connected;
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return Input::Timeout,
                Err(e) => last = e,
            }
        }
        Input::Failed(last)
    }

    /// One read or write on the socket, bounded by `until`.
    fn io(
        &mut self,
        until: Instant,
        mut op: impl FnMut(&mut TcpStream) -> io::Result<usize>,
        write: bool,
    ) -> Input<'static> {
        let Some(sock) = self.sock.as_mut() else {
            return Input::Failed(io::Error::new(io::ErrorKind::NotConnected, "no connection"));
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Input::Timeout;
        }
        let set = if write {
            sock.set_write_timeout(Some(left))
        } else {
            sock.set_read_timeout(Some(left))
        };
        if let Err(e) = set {
            return Input::Failed(e);
        }
        loop {
            return match op(sock) {
                Ok(n) if write => Input::Written(n),
                Ok(n) => Input::Read(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    Input::Timeout
                }
                // A signal interrupted the call: simply try again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Input::Failed(e),
            };
        }
    }

    fn release(&mut self, conn: Connection, reuse: bool) {
        let sock = self.sock.take();
        let Some(lease) = self.lease.take() else {
            return;
        };
        let now = Instant::now();
        let mut pool = self.inner.pool();
        let result = match sock {
            Some(sock) if reuse => {
                let keep_alive = conn.keep_alive();
                pool.checkin(lease, Pooled { sock, conn }, true, keep_alive, now)
            }
            _ => pool.release(lease),
        };
        if let Ok(c) = result {
            if c.wake.is_some() {
                self.inner.freed.notify_all();
            }
            drop(c.close);
        }
    }

    /// Close the current socket (if any) and free its pool slot.
    pub(crate) fn close(&mut self) {
        self.sock = None;
        if let Some(lease) = self.lease.take() {
            let mut pool = self.inner.pool();
            if let Ok(c) = pool.release(lease) {
                if c.wake.is_some() {
                    self.inner.freed.notify_all();
                }
            }
        }
    }
}

/// Resolve `host`, waiting no later than `until`. The system resolver has
/// no timeout of its own, so a name is looked up on a short-lived thread
/// and abandoned if it is late; IP literals need no lookup at all.
fn resolve(host: &str, port: u16, until: Instant) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("hawser-dns".into())
        .spawn(move || {
            let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Vec::from_iter));
        })?;
    match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "name resolution did not finish in time",
        )),
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.close();
    }
}
