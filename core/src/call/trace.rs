//! The call's `tracing` spans (feature `tracing`): one span per call and
//! one per attempt inside it, entered while the driver polls the call, so
//! the core's events carry them whichever driver runs it. Without the
//! feature this is an empty type and every event compiles away.

#[cfg(feature = "tracing")]
use tracing::field::Empty;

/// A debug-level event inside the current call's spans (nothing without
/// the `tracing` feature). URLs must go through [`redacted`].
macro_rules! event {
    ($($t:tt)*) => {
        #[cfg(feature = "tracing")]
        {
            tracing::debug!($($t)*);
        }
    };
}

/// `url` without its userinfo, for spans and events.
#[cfg(feature = "tracing")]
pub(crate) fn redacted(url: &url::Url) -> String {
    crate::redact::url_text(url.as_str())
}

pub(super) struct Trace {
    #[cfg(feature = "tracing")]
    call: tracing::Span,
    #[cfg(feature = "tracing")]
    attempt: tracing::Span,
}

impl Trace {
    /// The span of a call to `url` with `method`.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(super) fn new(method: &http::Method, url: &url::Url) -> Trace {
        #[cfg(feature = "tracing")]
        {
            let call = tracing::debug_span!(
                "hawser.call",
                method = %method,
                host = %url.host_str().unwrap_or_default(),
                url = %redacted(url),
                status = Empty,
                error = Empty,
            );
            Trace {
                attempt: call.clone(),
                call,
            }
        }
        #[cfg(not(feature = "tracing"))]
        Trace {}
    }

    /// A new attempt (number `n`, to `url`) begins: its span, inside the call's.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(super) fn attempt(&mut self, n: u32, url: &url::Url) {
        #[cfg(feature = "tracing")]
        {
            self.attempt = tracing::debug_span!(
                parent: &self.call,
                "hawser.attempt",
                attempt = n,
                url = %redacted(url),
                reused = Empty,
                outcome = Empty,
            );
        }
    }

    /// The span to enter while the call runs (the attempt's).
    #[cfg(feature = "tracing")]
    pub(super) fn current(&self) -> tracing::Span {
        self.attempt.clone()
    }

    /// Record the attempt's connection reuse and its outcome.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(super) fn attempt_ended(&self, reused: bool, outcome: &dyn std::fmt::Debug) {
        #[cfg(feature = "tracing")]
        {
            self.attempt.record("reused", reused);
            self.attempt
                .record("outcome", tracing::field::debug(outcome));
        }
    }

    /// Record how the call ended.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(super) fn call_ended(&self, status: Option<u16>, error: Option<&crate::Error>) {
        #[cfg(feature = "tracing")]
        {
            if let Some(s) = status {
                self.call.record("status", s);
            }
            if let Some(e) = error {
                self.call.record("error", tracing::field::display(e));
            }
        }
    }
}
