//! The run loop: performs the core's [`Output`]s with blocking std sockets
//! (the socket work itself is in `net`) and answers with [`Input`]s. It decides nothing: the pool, reuse, every
//! timer and every retry are the core's; this file only does the I/O.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

use hawser_core::call::{Call, ConnectId, Head, Input, Output};
use hawser_core::{Error, ErrorKind, Result};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::net::{Connection, connected, resolve, start_connect};

/// What one run of the loop stopped at.
pub(crate) enum Pumped {
    Head(Box<Head>),
    Body(usize),
    Done,
}

/// Wakes this thread when the pool grants it a slot.
struct Unpark(Thread);
impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A call's driver: its streamed body and the connection attempts under way.
pub(crate) struct Driver {
    body: Option<Box<dyn Read + Send>>,
    scratch: Vec<u8>,
    racing: Vec<(ConnectId, OwnedFd)>,
}

impl Driver {
    pub(crate) fn new(body: Option<Box<dyn Read + Send>>) -> Driver {
        let (scratch, racing) = (Vec::new(), Vec::new());
        Driver {
            body,
            scratch,
            racing,
        }
    }

    /// Run `call` until a head, body bytes (copied into `out`), or the end.
    pub(crate) fn pump(
        &mut self,
        call: &mut Call<Connection>,
        mut out: Option<&mut [u8]>,
    ) -> Result<Pumped> {
        // Body bytes may be read straight into the caller's buffer.
        call.offer_body_room(out.as_deref().map_or(0, <[u8]>::len));
        // The instant an input was handed in is still "now" for the poll
        // that follows at once (one clock read per I/O, not two).
        let mut answered: Option<Instant> = None;
        loop {
            let now = answered.take().unwrap_or_else(Instant::now);
            let output = call.poll_output(now)?;
            if !matches!(output, Output::Connect { .. } | Output::AwaitConnect { .. }) {
                self.racing.clear(); // the race is over: the losers are closed
            }
            let input = match output {
                Output::Resolve { host, port, until } => resolve(host, port, until),
                Output::Connect { id, addr, .. } => {
                    match start_connect(addr) {
                        Ok(fd) => self.racing.push((id, fd)),
                        Err(error) => {
                            call.handle_input(Input::ConnectFailed { id, error }, Instant::now())?
                        }
                    }
                    continue;
                }
                Output::AwaitConnect { until } => match self.await_connect(until) {
                    Some(input) => input,
                    None => continue,
                },
                Output::Check { conn } => Input::from_peek(conn.peek()),
                Output::Transmit { conn, data, until } => {
                    Input::from_write(conn.write(data, until, now))
                }
                Output::TransmitVectored { conn, bufs, until } => {
                    Input::from_write(conn.write_vectored(bufs, until, now))
                }
                Output::Receive { conn, buf, until } => {
                    Input::from_read(conn.read(buf, until, now))
                }
                Output::ReceiveBody { conn, max, until } => {
                    let Some(buf) = out.as_deref_mut() else {
                        return Err(Error::new(ErrorKind::Usage, "a body read with no buffer"));
                    };
                    let room = max.min(buf.len());
                    let input = Input::from_read(conn.read(&mut buf[..room], until, now));
                    let got = if let Input::Read(n) = input { n } else { 0 };
                    let after = Instant::now();
                    call.handle_input(input, after)?;
                    if got > 0 {
                        return Ok(Pumped::Body(got));
                    }
                    answered = Some(after);
                    continue;
                }
                Output::SendBody { max, .. } => {
                    self.scratch.resize(max, 0);
                    match self
                        .body
                        .as_mut()
                        .map_or(Ok(0), |r| r.read(&mut self.scratch))
                    {
                        Ok(0) => Input::BodyEnd,
                        Ok(n) => Input::BodyData(&self.scratch[..n]),
                        Err(e) => Input::Failed(e),
                    }
                }
                Output::Sleep { until } => {
                    thread::sleep(until.saturating_duration_since(Instant::now()));
                    continue;
                }
                Output::AwaitSlot { until, slot } => {
                    let waker = Waker::from(Arc::new(Unpark(thread::current())));
                    if slot
                        .poll_ready(&mut Context::from_waker(&waker))
                        .is_pending()
                    {
                        thread::park_timeout(until.saturating_duration_since(Instant::now()));
                    }
                    continue;
                }
                Output::Close(_conn) => continue, // dropped here: closed
                Output::Head(head) => return Ok(Pumped::Head(Box::new(head))),
                Output::Body(bytes) => {
                    let Some(buf) = out.as_deref_mut() else {
                        return Ok(Pumped::Body(0));
                    };
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    call.consume(n);
                    return Ok(Pumped::Body(n));
                }
                Output::Done => return Ok(Pumped::Done),
                _ => return Err(Error::new(ErrorKind::Usage, "unknown output from the core")),
            };
            let now = Instant::now();
            call.handle_input(input, now)?;
            answered = Some(now);
        }
    }

    /// Wait for the first attempt under way to end, at most until `until`.
    fn await_connect(&mut self, until: Instant) -> Option<Input<'static, Connection>> {
        let left = Timespec::try_from(until.saturating_duration_since(Instant::now())).ok()?;
        let mut fds: Vec<_> = self
            .racing
            .iter()
            .map(|(_, fd)| PollFd::new(fd, PollFlags::OUT))
            .collect();
        let ready = match poll(&mut fds, Some(&left)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => return None,
            Ok(_) => fds.iter().position(|p| !p.revents().is_empty())?,
            Err(e) => return Some(Input::Failed(e.into())),
        };
        drop(fds);
        let (id, fd) = self.racing.swap_remove(ready);
        Some(match connected(fd) {
            Ok(conn) => Input::Connected { id, conn },
            Err(error) => Input::ConnectFailed { id, error },
        })
    }
}
