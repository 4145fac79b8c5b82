//! The run loop: performs the core's [`Output`]s on a [`Runtime`] and reports
//! [`Input`]s. It decides nothing; every policy answer comes from the core.

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use event_listener::Event;
use futures_lite::{future, AsyncReadExt, AsyncWriteExt};

use hawser_core::call::{Agent, Call, Connection, Input, Output, Response as Head};
use hawser_core::pool::{Checkin, Checkout, Lease, Pool, PoolKey};
use hawser_core::{Error, ErrorKind, Result};

use crate::runtime::Runtime;
use crate::BodySource;

/// A pooled connection: the socket and the core's state for it.
pub(crate) struct Pooled<S> {
    sock: S,
    conn: Connection,
}

/// What a session's clones share: the agent, the pool, and the event that
/// wakes tasks waiting for a pool slot.
pub(crate) struct Inner<R: Runtime> {
    pub(crate) agent: Agent,
    pool: Mutex<Pool<Pooled<R::Stream>>>,
    freed: Event,
}

impl<R: Runtime> Inner<R> {
    pub(crate) fn new(agent: Agent) -> Result<Inner<R>> {
        let pool = Pool::new(agent.config().pool.clone())?;
        Ok(Inner {
            agent,
            pool: Mutex::new(pool),
            freed: Event::new(),
        })
    }

    /// The pool, locked. Never held across an `.await`.
    pub(crate) fn pool(&self) -> MutexGuard<'_, Pool<Pooled<R::Stream>>> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wake waiting tasks when the pool granted one a slot. Every waiter
    /// re-claims its own ticket, so waking all of them is correct.
    fn wake<C>(&self, c: &Checkin<C>) {
        if c.wake.is_some() {
            self.freed.notify(usize::MAX);
        }
    }
}

/// What one run of the loop stopped at.
pub(crate) enum Pumped {
    Head(Box<Head>),
    Body(usize),
    Done,
}

/// Run `op` until `until`: `None` when the time ran out first.
async fn bounded<R: Runtime, T>(until: Instant, op: impl Future<Output = T>) -> Option<T> {
    if Instant::now() >= until {
        return None;
    }
    future::or(async { Some(op.await) }, async {
        R::sleep_until(until).await;
        None
    })
    .await
}

/// Run a socket operation (`None`: there is no socket) bounded by `until`,
/// and give the core's answer.
async fn io_input<R: Runtime>(
    until: Instant,
    op: Option<impl Future<Output = io::Result<usize>>>,
    write: bool,
) -> Input<'static> {
    let Some(op) = op else {
        return Input::Failed(io::Error::new(io::ErrorKind::NotConnected, "no connection"));
    };
    match bounded::<R, _>(until, op).await {
        None => Input::Timeout,
        Some(Err(e)) if e.kind() == io::ErrorKind::TimedOut => Input::Timeout,
        // No progress; the core asks again (async-io sockets hardly ever say this).
        Some(Err(e)) if e.kind() == io::ErrorKind::Interrupted && write => Input::Written(0),
        Some(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Input::Read(0),
        Some(Err(e)) => Input::Failed(e),
        Some(Ok(n)) if write => Input::Written(n),
        Some(Ok(0)) => Input::Eof,
        Some(Ok(n)) => Input::Read(n),
    }
}

/// The socket and pool lease of the connection a call is using.
pub(crate) struct Driver<R: Runtime> {
    pub(crate) inner: Arc<Inner<R>>,
    sock: Option<R::Stream>,
    lease: Option<Lease>,
    body: Option<BodySource>,
    scratch: Vec<u8>,
}

impl<R: Runtime> Driver<R> {
    pub(crate) fn new(inner: Arc<Inner<R>>, body: Option<BodySource>) -> Driver<R> {
        Driver {
            inner,
            sock: None,
            lease: None,
            body,
            scratch: Vec::new(),
        }
    }

    /// Run `call` until a head, body bytes (appended to `out`), or the end.
    pub(crate) async fn pump(
        &mut self,
        call: &mut Call,
        mut out: Option<&mut Vec<u8>>,
    ) -> Result<Pumped> {
        loop {
            let output = match call.poll_output(Instant::now()) {
                Ok(o) => o,
                Err(e) => {
                    self.close();
                    return Err(e);
                }
            };
            let input = match output {
                Output::Acquire { key, until } => self.acquire(key.clone(), until).await?,
                Output::Connect { host, port, until } => {
                    self.connect(host.to_owned(), port, until).await
                }
                Output::Transmit { data, until } => {
                    let op = self.sock.as_mut().map(|s| s.write(data));
                    io_input::<R>(until, op, true).await
                }
                Output::Receive { until } => {
                    let buf = call.read_buffer();
                    let op = self.sock.as_mut().map(|s| s.read(buf));
                    io_input::<R>(until, op, false).await
                }
                Output::SendBody { max, until } => {
                    self.scratch.resize(max, 0);
                    let (scratch, body) = (&mut self.scratch, &mut self.body);
                    let read = bounded::<R, _>(until, async {
                        match body {
                            // Retry EINTR: an empty piece would end a chunked body.
                            Some(r) => loop {
                                match r.read(scratch).await {
                                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                                    x => break x,
                                }
                            },
                            None => Ok(0),
                        }
                    })
                    .await;
                    match read {
                        None => Input::Timeout,
                        Some(Ok(0)) => Input::BodyEnd,
                        Some(Ok(n)) => Input::BodyData(self.scratch.get(..n).unwrap_or(&[])),
                        Some(Err(e)) => {
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
                    R::sleep_until(until).await;
                    continue;
                }
                Output::Release { conn, reuse } => {
                    self.release(conn, reuse);
                    continue;
                }
                Output::Head(head) => return Ok(Pumped::Head(Box::new(head))),
                Output::Body(bytes) => {
                    let n = bytes.len();
                    match out.as_deref_mut() {
                        Some(buf) => {
                            buf.extend_from_slice(bytes);
                            call.consume(n);
                            return Ok(Pumped::Body(n));
                        }
                        None => return Ok(Pumped::Body(0)),
                    }
                }
                Output::Done => return Ok(Pumped::Done),
                _ => return Err(Error::new(ErrorKind::Usage, "unknown output from the core")),
            };
            call.handle_input(input, Instant::now())?;
        }
    }

    /// Ask the pool; wait (bounded by `until`) when it says so.
    async fn acquire(&mut self, key: PoolKey, until: Instant) -> Result<Input<'static>> {
        let mut answer = {
            let mut pool = self.inner.pool();
            let now = Instant::now();
            drop(pool.evict(now));
            pool.checkout(&key, now)?
        };
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
                    let listener = {
                        let mut pool = self.inner.pool();
                        // Claim under the same lock the listener is made
                        // under, so a wake-up between the two is not lost.
                        match pool.claim(ticket, Instant::now())? {
                            Checkout::Wait(ticket) if Instant::now() >= until => {
                                let c = pool.cancel(ticket, Instant::now())?;
                                self.inner.wake(&c);
                                return Ok(Input::Timeout);
                            }
                            Checkout::Wait(ticket) => {
                                answer = Checkout::Wait(ticket);
                                self.inner.freed.listen()
                            }
                            granted => {
                                answer = granted;
                                continue;
                            }
                        }
                    };
                    bounded::<R, _>(until, listener).await;
                }
            }
        }
    }

    async fn connect(&mut self, host: String, port: u16, until: Instant) -> Input<'static> {
        let addrs = match bounded::<R, _>(until, R::resolve(host, port)).await {
            None => return Input::Timeout,
            Some(Ok(a)) => a,
            Some(Err(e)) => return Input::Failed(e),
        };
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no addresses found");
        for addr in addrs {
            match bounded::<R, _>(until, R::connect(addr)).await {
                None => return Input::Timeout,
                Some(Ok(s)) => {
                    self.sock = Some(s);
                    return Input::Connected;
                }
                Some(Err(e)) if e.kind() == io::ErrorKind::TimedOut => return Input::Timeout,
                Some(Err(e)) => last = e,
            }
        }
        Input::Failed(last)
    }

    fn release(&mut self, conn: Connection, reuse: bool) {
        let sock = self.sock.take();
        let Some(lease) = self.lease.take() else {
            return;
        };
        let mut pool = self.inner.pool();
        let result = match sock {
            Some(sock) if reuse => {
                let keep_alive = conn.keep_alive();
                pool.checkin(
                    lease,
                    Pooled { sock, conn },
                    true,
                    keep_alive,
                    Instant::now(),
                )
            }
            _ => pool.release(lease),
        };
        if let Ok(c) = result {
            self.inner.wake(&c);
            drop(c.close);
        }
    }

    /// Close the current socket (if any) and free its pool slot.
    pub(crate) fn close(&mut self) {
        self.sock = None;
        if let Some(lease) = self.lease.take() {
            if let Ok(c) = self.inner.pool().release(lease) {
                self.inner.wake(&c);
            }
        }
    }
}

impl<R: Runtime> Drop for Driver<R> {
    fn drop(&mut self) {
        self.close();
    }
}
