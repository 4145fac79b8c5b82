//! The run loop: performs the core's [`Output`]s on a [`Runtime`] and
//! answers with [`Input`]s. It decides nothing: the pool, reuse, every timer
//! and every retry are the core's; this file only does the I/O.

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use futures_lite::{AsyncReadExt, future};

use hawser_core::call::{Call, ConnectId, Head, Input, Output};
use hawser_core::{Error, ErrorKind, Result};

use crate::BodySource;
use crate::conn::Conn;
use crate::runtime::Runtime;

/// The most body bytes one read appends to a caller's `Vec`.
const FILL_ROOM: usize = 64 * 1024;

/// What one run of the loop stopped at.
pub(crate) enum Pumped {
    Head(Box<Head>),
    Body(usize),
    Done,
}

type Connecting<S> = Pin<Box<dyn Future<Output = io::Result<S>> + Send>>;

/// Run `op` until `until`: `None` when the time ran out first. The timer
/// is only started when the operation is not ready at once. (Waits on a
/// connection use [`Conn::bounded`], whose timer outlives the wait.)
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

/// A call's driver: its streamed body and the connection attempts under way.
pub(crate) struct Driver<R: Runtime> {
    body: Option<BodySource>,
    scratch: Vec<u8>,
    racing: Vec<(ConnectId, Connecting<R::Stream>)>,
}

impl<R: Runtime> Driver<R> {
    pub(crate) fn new(body: Option<BodySource>) -> Self {
        let (scratch, racing) = (Vec::new(), Vec::new());
        Driver {
            body,
            scratch,
            racing,
        }
    }

    /// Run `call` until a head, body bytes (appended to `out`), or the end.
    pub(crate) async fn pump(
        &mut self,
        call: &mut Call<Conn<R>>,
        mut out: Option<&mut Vec<u8>>,
    ) -> Result<Pumped> {
        // Plain body bytes are read straight into `out` (AsyncRead reads
        // into the caller's buffer itself, see `Response::poll_direct`).
        call.offer_body_room(out.as_ref().map_or(0, |_| FILL_ROOM));
        // Head and in-memory body leave in one vectored write.
        call.accept_vectored(true);
        // The instant an input was handed in is still "now" for the poll
        // that follows at once (one clock read per I/O, not two).
        let mut answered: Option<Instant> = None;
        loop {
            let output = call.poll_output(answered.take().unwrap_or_else(Instant::now))?;
            if !matches!(output, Output::Connect { .. } | Output::AwaitConnect { .. }) {
                self.racing.clear(); // the race is over: the losers are closed
            }
            let input = match output {
                Output::Resolve { host, port, until } => {
                    match bounded::<R, _>(until, R::resolve(host.to_owned(), port)).await {
                        None => Input::Timeout,
                        Some(Ok(addrs)) => Input::Resolved(addrs),
                        Some(Err(e)) => Input::Failed(e),
                    }
                }
                Output::Connect { id, addr, .. } => {
                    self.racing.push((id, Box::pin(R::connect(addr))));
                    continue;
                }
                Output::AwaitConnect { until } => {
                    let racing = &mut self.racing;
                    let first = poll_fn(|cx| {
                        for (i, (id, attempt)) in racing.iter_mut().enumerate() {
                            if let Poll::Ready(r) = attempt.as_mut().poll(cx) {
                                return Poll::Ready((i, *id, r));
                            }
                        }
                        Poll::Pending
                    });
                    let Some((i, id, r)) = bounded::<R, _>(until, first).await else {
                        continue;
                    };
                    drop(self.racing.swap_remove(i));
                    match r {
                        Ok(conn) => Input::Connected {
                            id,
                            conn: Conn::new(conn),
                        },
                        Err(error) => Input::ConnectFailed { id, error },
                    }
                }
                Output::Check { conn } => Input::from_peek(R::peek(&conn.stream)),
                Output::Transmit { conn, data, until } => conn
                    .bounded(until, |s, cx| R::poll_write(s, cx, data))
                    .await
                    .map_or(Input::Timeout, Input::from_write),
                Output::TransmitVectored { conn, bufs, until } => {
                    let slices = [IoSlice::new(bufs[0]), IoSlice::new(bufs[1])];
                    conn.bounded(until, |s, cx| R::poll_write_vectored(s, cx, &slices))
                        .await
                        .map_or(Input::Timeout, Input::from_write)
                }
                Output::Receive { conn, buf, until } => conn
                    .bounded(until, |s, cx| R::poll_read(s, cx, buf))
                    .await
                    .map_or(Input::Timeout, Input::from_read),
                Output::ReceiveBody { conn, max, until } => {
                    let Some(buf) = out.as_deref_mut() else {
                        return Err(Error::new(ErrorKind::Usage, "a body read with no buffer"));
                    };
                    let start = buf.len();
                    buf.resize(start + max.min(FILL_ROOM), 0);
                    let input = conn
                        .bounded(until, |s, cx| R::poll_read(s, cx, &mut buf[start..]))
                        .await
                        .map_or(Input::Timeout, Input::from_read);
                    let got = if let Input::Read(n) = input { n } else { 0 };
                    buf.truncate(start + got);
                    call.handle_input(input, Instant::now())?;
                    if got > 0 {
                        return Ok(Pumped::Body(got));
                    }
                    continue;
                }
                Output::SendBody { max, until } => {
                    self.scratch.resize(max, 0);
                    let (scratch, body) = (&mut self.scratch, &mut self.body);
                    let read = async {
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
                    };
                    match bounded::<R, _>(until, read).await {
                        None => Input::Timeout,
                        Some(Ok(0)) => Input::BodyEnd,
                        Some(Ok(n)) => Input::BodyData(self.scratch.get(..n).unwrap_or(&[])),
                        Some(Err(e)) => Input::Failed(e),
                    }
                }
                Output::Sleep { until } => {
                    R::sleep_until(until).await;
                    continue;
                }
                Output::AwaitSlot { until, slot } => {
                    bounded::<R, _>(until, slot).await;
                    continue;
                }
                Output::Close(conn) => {
                    drop(conn);
                    continue;
                }
                Output::Head(head) => return Ok(Pumped::Head(Box::new(head))),
                Output::Body(bytes) => {
                    let Some(buf) = out.as_deref_mut() else {
                        return Ok(Pumped::Body(0));
                    };
                    buf.extend_from_slice(bytes);
                    let n = bytes.len();
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
}
