//! The driver contract: what a [`Call`](super::Call) asks of its driver
//! ([`Output`]) and how the driver answers ([`Input`]).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::Head;
use super::config::Shared;
use crate::pool::WaiterTicket;

/// Names one connection attempt of a Happy Eyeballs race, so a driver that
/// runs several at once can say which one finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectId(pub(crate) u32);

/// What the driver must do next. See the [module docs](super) for the run
/// loop and the table of answers.
#[non_exhaustive]
pub enum Output<'a, T> {
    /// Resolve `host` (a DNS name; IP literals never get here) to socket
    /// addresses with `port`, by `until`. Answer [`Input::Resolved`], or
    /// [`Input::Failed`] / [`Input::Timeout`].
    Resolve {
        /// The host name.
        host: &'a str,
        /// The port to put in each address.
        port: u16,
        /// Give up at this instant.
        until: Instant,
    },
    /// Start a TCP connection attempt to `addr` and keep it running; no
    /// answer now. Report its end later, while the core says
    /// [`Output::AwaitConnect`], with [`Input::Connected`] or
    /// [`Input::ConnectFailed`] naming `id`. Several attempts may be under
    /// way at once (Happy Eyeballs, RFC 8305); the race ends with the first
    /// `Connected` you report, or when the core asks for anything other than
    /// `Connect`/`AwaitConnect`: drop the attempts still running then.
    Connect {
        /// Which attempt this is.
        id: ConnectId,
        /// Where to connect.
        addr: SocketAddr,
        /// No attempt needs to run past this instant.
        until: Instant,
    },
    /// Connection attempts are under way: wait until one of them ends and
    /// report it, or until `until` (then poll again, no answer: the core
    /// starts the next attempt or times out).
    AwaitConnect {
        /// Poll again by this instant.
        until: Instant,
    },
    /// Is this idle pooled connection still quiet? Do a non-blocking
    /// peek (one `recv(MSG_PEEK | MSG_DONTWAIT)` or a zero-timeout
    /// readiness poll) and answer with [`Input::from_peek`]: data or EOF
    /// means the connection is discarded and another one used.
    Check {
        /// The idle connection.
        conn: &'a mut T,
    },
    /// Write these bytes (all or some) to `conn` by `until`; answer with
    /// [`Input::from_write`].
    Transmit {
        /// The connection.
        conn: &'a mut T,
        /// Bytes to write.
        data: &'a [u8],
        /// Give up at this instant.
        until: Instant,
    },
    /// Write `bufs[0]` then `bufs[1]` (all or some) to `conn` in one
    /// vectored write (`writev`) by `until`; answer with
    /// [`Input::from_write`], the count running across both in order. Only
    /// asked after [`Call::accept_vectored`](super::Call::accept_vectored),
    /// when a request head and its in-memory body can leave together: one
    /// syscall and one packet instead of two for a small POST.
    TransmitVectored {
        /// The connection.
        conn: &'a mut T,
        /// The head's bytes, then the body's.
        bufs: [&'a [u8]; 2],
        /// Give up at this instant.
        until: Instant,
    },
    /// Read from `conn` into `buf` by `until`; answer with
    /// [`Input::from_read`].
    Receive {
        /// The connection.
        conn: &'a mut T,
        /// Where to put what arrives.
        buf: &'a mut [u8],
        /// Give up at this instant.
        until: Instant,
    },
    /// Read at most `max` bytes from `conn` straight into the buffer you
    /// offered with [`Call::offer_body_room`](super::Call::offer_body_room),
    /// by `until`; answer with [`Input::from_read`]. Only asked while a
    /// plain (not TLS, not decoded, not chunked) body streams in and the
    /// core holds none of it, so what arrives is body, already framed:
    /// after answering `Read(n)` with `n > 0`, the first `n` bytes of your
    /// buffer are the next body bytes (no [`Call::consume`](super::Call::consume)).
    /// Saves the copy through the core's buffer, and reads as large as the
    /// caller's buffer.
    ReceiveBody {
        /// The connection.
        conn: &'a mut T,
        /// Most bytes to read (never past the body's end).
        max: usize,
        /// Give up at this instant.
        until: Instant,
    },
    /// The core is done with this connection: close it (drop it). No answer.
    Close(T),
    /// Sleep until `until` (a backoff before the next attempt), then poll
    /// again. No answer.
    Sleep {
        /// Wake at this instant.
        until: Instant,
    },
    /// The pool is at its limit for this host and the call is queued for a
    /// slot: wait until `slot` is ready (it is a future; a blocking driver
    /// polls it with a waker that unparks its thread) or until `until`,
    /// then poll again. No answer. Exactly the waiter that gets a freed
    /// slot is woken.
    AwaitSlot {
        /// Poll again by this instant at the latest.
        until: Instant,
        /// Ready once the pool granted this call a slot.
        slot: SlotWait<'a, T>,
    },
    /// The request body is a stream: supply up to `max` bytes with
    /// [`Input::BodyData`], or [`Input::BodyEnd`] when it is exhausted.
    SendBody {
        /// Most bytes wanted now.
        max: usize,
        /// Give up at this instant.
        until: Instant,
    },
    /// The final response head. The body follows as [`Output::Body`].
    Head(Head),
    /// Response body bytes. Report how many were used with
    /// [`Call::consume`](super::Call::consume); unconsumed bytes are offered
    /// again.
    Body(&'a [u8]),
    /// The call finished; its connection is back in the pool or closed.
    Done,
}

impl<T> fmt::Debug for Output<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Resolve { host, port, until } => f
                .debug_struct("Resolve")
                .field("host", host)
                .field("port", port)
                .field("until", until)
                .finish(),
            Output::Connect { id, addr, until } => f
                .debug_struct("Connect")
                .field("id", id)
                .field("addr", addr)
                .field("until", until)
                .finish(),
            Output::AwaitConnect { until } => f
                .debug_struct("AwaitConnect")
                .field("until", until)
                .finish(),
            Output::Check { .. } => f.write_str("Check"),
            Output::Transmit { data, until, .. } => f
                .debug_struct("Transmit")
                .field("len", &data.len())
                .field("until", until)
                .finish(),
            Output::TransmitVectored { bufs, until, .. } => f
                .debug_struct("TransmitVectored")
                .field("lens", &[bufs[0].len(), bufs[1].len()])
                .field("until", until)
                .finish(),
            Output::Receive { buf, until, .. } => f
                .debug_struct("Receive")
                .field("room", &buf.len())
                .field("until", until)
                .finish(),
            Output::ReceiveBody { max, until, .. } => f
                .debug_struct("ReceiveBody")
                .field("max", max)
                .field("until", until)
                .finish(),
            Output::Close(_) => f.write_str("Close"),
            Output::Sleep { until } => f.debug_struct("Sleep").field("until", until).finish(),
            Output::AwaitSlot { until, .. } => {
                f.debug_struct("AwaitSlot").field("until", until).finish()
            }
            Output::SendBody { max, until } => f
                .debug_struct("SendBody")
                .field("max", max)
                .field("until", until)
                .finish(),
            Output::Head(h) => f.debug_tuple("Head").field(&h.status).finish(),
            Output::Body(b) => f.debug_tuple("Body").field(&b.len()).finish(),
            Output::Done => f.write_str("Done"),
        }
    }
}

/// What the driver did for the last [`Output`]. Build I/O answers with
/// [`Input::from_read`], [`Input::from_write`] and [`Input::from_peek`], so
/// every driver maps `io::Result`s the same way.
#[non_exhaustive]
pub enum Input<'a, T> {
    /// Answer to [`Output::Resolve`]: the addresses, in the resolver's order.
    Resolved(Vec<SocketAddr>),
    /// A connection attempt started by [`Output::Connect`] succeeded.
    Connected {
        /// Which attempt.
        id: ConnectId,
        /// The connected transport (the core keeps it, lends it back in
        /// later outputs, pools it, and closes it with [`Output::Close`]).
        conn: T,
    },
    /// A connection attempt started by [`Output::Connect`] failed.
    ConnectFailed {
        /// Which attempt.
        id: ConnectId,
        /// Why.
        error: io::Error,
    },
    /// Answer to [`Output::Transmit`]: this many bytes were written.
    Written(usize),
    /// Answer to [`Output::Receive`]: this many bytes were read into the
    /// lent buffer; to [`Output::ReceiveBody`]: into yours; to
    /// [`Output::Check`]: data is waiting (unsolicited).
    Read(usize),
    /// The peer closed the connection.
    Eof,
    /// Answer to [`Output::Check`]: nothing to read, still open.
    Quiet,
    /// The operation was interrupted (`EINTR`) or moved nothing: no progress
    /// and no error; the core asks again.
    NoProgress,
    /// Answer to [`Output::SendBody`]: the next piece of the body.
    BodyData(&'a [u8]),
    /// Answer to [`Output::SendBody`]: the body is complete.
    BodyEnd,
    /// The `until` of the last output passed before it could be done. A
    /// timeout reported before anything expired is a no-op.
    Timeout,
    /// The I/O operation of the last output failed.
    Failed(io::Error),
}

impl<T> Input<'_, T> {
    /// The answer to a read: `Ok(0)` is EOF, `Interrupted` is no progress,
    /// `WouldBlock` and `TimedOut` are a timeout, other errors a failure.
    ///
    /// ```
    /// use std::io;
    /// use hawser_core::call::Input;
    /// assert!(matches!(Input::<()>::from_read(Ok(0)), Input::Eof));
    /// assert!(matches!(Input::<()>::from_read(Ok(7)), Input::Read(7)));
    /// assert!(matches!(Input::<()>::from_read(Err(io::ErrorKind::Interrupted.into())), Input::NoProgress));
    /// assert!(matches!(Input::<()>::from_read(Err(io::ErrorKind::WouldBlock.into())), Input::Timeout));
    /// ```
    pub fn from_read(r: io::Result<usize>) -> Self {
        match r {
            Ok(0) => Input::Eof,
            Ok(n) => Input::Read(n),
            Err(e) => Self::from_error(e),
        }
    }

    /// The answer to a write: `Ok(0)` is no progress (the core asks again,
    /// and its write timeout bounds a peer that never drains).
    ///
    /// ```
    /// use hawser_core::call::Input;
    /// assert!(matches!(Input::<()>::from_write(Ok(3)), Input::Written(3)));
    /// assert!(matches!(Input::<()>::from_write(Ok(0)), Input::NoProgress));
    /// ```
    pub fn from_write(r: io::Result<usize>) -> Self {
        match r {
            Ok(0) => Input::NoProgress,
            Ok(n) => Input::Written(n),
            Err(e) => Self::from_error(e),
        }
    }

    /// The answer to [`Output::Check`], from a non-blocking peek:
    /// `WouldBlock` is quiet (reusable), `Ok(0)` EOF, `Ok(n)` unsolicited
    /// data, any other error a dead connection.
    ///
    /// ```
    /// use std::io;
    /// use hawser_core::call::Input;
    /// assert!(matches!(Input::<()>::from_peek(Err(io::ErrorKind::WouldBlock.into())), Input::Quiet));
    /// assert!(matches!(Input::<()>::from_peek(Ok(0)), Input::Eof));
    /// ```
    pub fn from_peek(r: io::Result<usize>) -> Self {
        match r {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Input::Quiet,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Input::NoProgress,
            Ok(0) => Input::Eof,
            Ok(n) => Input::Read(n),
            Err(e) => Input::Failed(e),
        }
    }

    fn from_error(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::Interrupted => Input::NoProgress,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Input::Timeout,
            _ => Input::Failed(e),
        }
    }
}

impl<T> fmt::Debug for Input<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Resolved(a) => f.debug_tuple("Resolved").field(a).finish(),
            Input::Connected { id, .. } => f.debug_struct("Connected").field("id", id).finish(),
            Input::ConnectFailed { id, error } => f
                .debug_struct("ConnectFailed")
                .field("id", id)
                .field("error", error)
                .finish(),
            Input::Written(n) => f.debug_tuple("Written").field(n).finish(),
            Input::Read(n) => f.debug_tuple("Read").field(n).finish(),
            Input::Eof => f.write_str("Eof"),
            Input::Quiet => f.write_str("Quiet"),
            Input::NoProgress => f.write_str("NoProgress"),
            Input::BodyData(d) => f.debug_tuple("BodyData").field(&d.len()).finish(),
            Input::BodyEnd => f.write_str("BodyEnd"),
            Input::Timeout => f.write_str("Timeout"),
            Input::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

/// The place of a call in the pool's wait queue, as lent by
/// [`Output::AwaitSlot`]: a future that is ready once the pool granted the
/// call a slot. Polling registers the waker; the pool wakes exactly the
/// waiter it hands a freed slot to. Dropping it gives nothing up: the place
/// belongs to the [`Call`](super::Call) and is given back when the call is
/// dropped.
pub struct SlotWait<'a, T> {
    pub(crate) shared: &'a Shared<T>,
    pub(crate) ticket: &'a WaiterTicket,
}

impl<T> SlotWait<'_, T> {
    /// `Ready` once the slot is granted; otherwise remembers `cx`'s waker
    /// (replacing an earlier one) and answers `Pending`.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut slots = self.shared.slots();
        if slots.pool.is_granted(self.ticket) {
            return Poll::Ready(());
        }
        let id = self.ticket.id();
        match slots.wakers.get_mut(&id) {
            Some(w) if w.will_wake(cx.waker()) => {}
            Some(w) => w.clone_from(cx.waker()),
            None => {
                slots.wakers.insert(id, cx.waker().clone());
            }
        }
        Poll::Pending
    }

    /// Whether the slot is granted (without registering a waker).
    pub fn is_ready(&self) -> bool {
        self.shared.slots().pool.is_granted(self.ticket)
    }
}

impl<T> Future for SlotWait<'_, T> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_ready(cx)
    }
}

impl<T> fmt::Debug for SlotWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlotWait")
            .field("waiter", &self.ticket.id())
            .finish()
    }
}
