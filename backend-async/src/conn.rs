//! A connection as the async driver keeps it: the runtime's stream and the
//! timer that bounds waits on it.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::runtime::Runtime;

type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One connection of a [`Session`](crate::Session): the runtime's stream,
/// plus the timer that bounds a wait on it. The pool holds these; there is
/// nothing to do with one but let the session use it.
///
/// The timer stays with the connection from wait to wait and from request
/// to request. A wait whose deadline is at or after the armed one reuses it;
/// if it fires before the wait's own deadline, it is armed again for that
/// deadline. Keep-alive traffic, whose deadlines only move forward, so arms
/// a timer about once per timeout instead of once per read (each arming is
/// an insert and a removal in the runtime's timer queue).
///
/// ```
/// fn pooled<R: hawser_async::Runtime>(_: &hawser_async::Conn<R>) {}
/// ```
pub struct Conn<R: Runtime> {
    pub(crate) stream: R::Stream,
    /// The armed timer and when it fires.
    timer: Option<(Instant, Sleep)>,
}

impl<R: Runtime> fmt::Debug for Conn<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("timer_at", &self.timer.as_ref().map(|(at, _)| at))
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Conn<R> {
    pub(crate) fn new(stream: R::Stream) -> Self {
        Conn {
            stream,
            timer: None,
        }
    }

    /// Ready once `until` has passed; until then, registers `cx` to be
    /// woken by then (or earlier: a wake-up before `until` is harmless).
    pub(crate) fn poll_deadline(&mut self, cx: &mut Context<'_>, until: Instant) -> Poll<()> {
        loop {
            if Instant::now() >= until {
                return Poll::Ready(());
            }
            let sleep = match &mut self.timer {
                Some((at, t)) if *at <= until => t,
                slot => &mut slot.insert((until, Box::pin(R::sleep_until(until)))).1,
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // It fired (at or before `until`): the clock decides above.
            self.timer = None;
        }
    }

    /// Run `op` on the stream until it is ready or `until` passes (`None`).
    /// Once the time is up, `op` is not tried; before that it is tried
    /// first, and the timer is only polled when it is not ready.
    pub(crate) async fn bounded<T>(
        &mut self,
        until: Instant,
        mut op: impl FnMut(&mut R::Stream, &mut Context<'_>) -> Poll<T>,
    ) -> Option<T> {
        if Instant::now() >= until {
            return None;
        }
        poll_fn(|cx| {
            if let Poll::Ready(x) = op(&mut self.stream, cx) {
                return Poll::Ready(Some(x));
            }
            self.poll_deadline(cx, until).map(|()| None)
        })
        .await
    }
}
