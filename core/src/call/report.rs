//! The per-call report: what happened, attempt by attempt.
//!
//! It is what `-v` output and logs are made from. It never holds
//! credentials: URLs are stored without userinfo and no header values are kept.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

use crate::deadline::{Phase, PhaseTimes};

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A response head arrived with this status.
    Status(StatusCode),
    /// The attempt failed with this error (its message).
    Error(String),
}

/// One attempt of a logical request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptReport {
    /// The method sent.
    pub method: Method,
    /// The URL requested (no credentials).
    pub url: String,
    /// Whether the attempt used a pooled connection.
    pub reused_connection: bool,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// What hawser did next, in words ("retry after 2s (Retry-After)",
    /// "follow redirect", "answer auth challenge", "return", "fail").
    pub next: String,
    /// The sleep taken before the next attempt.
    pub sleep: Duration,
}

/// The report of one logical request.
///
/// ```
/// use hawser_core::call::CallReport;
/// let r = CallReport::default();
/// assert_eq!(r.attempts.len(), 0);
/// assert_eq!(r.to_string(), "");
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallReport {
    /// Every attempt, in order.
    pub attempts: Vec<AttemptReport>,
    /// Redirects followed: (status, target URL).
    pub redirects: Vec<(StatusCode, String)>,
    /// Connections opened for this call.
    pub connections_opened: u32,
    /// Pooled connections reused by this call.
    pub connections_reused: u32,
    /// Time spent per phase, summed over attempts.
    pub phases: PhaseTimes,
    /// Total sleep before retries.
    pub slept: Duration,
}

impl fmt::Display for CallReport {
    /// A human multi-line summary (empty when nothing happened yet).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.attempts.iter().enumerate() {
            let outcome = match &a.outcome {
                AttemptOutcome::Status(s) => s.to_string(),
                AttemptOutcome::Error(e) => format!("error: {e}"),
            };
            writeln!(
                f,
                "* attempt {} {} {} ({} connection): {} -> {}",
                i + 1,
                a.method,
                a.url,
                if a.reused_connection { "reused" } else { "new" },
                outcome,
                a.next
            )?;
        }
        if self.attempts.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "* connections: {} opened, {} reused; slept {:?}",
            self.connections_opened, self.connections_reused, self.slept
        )?;
        write!(f, "* time:")?;
        for p in Phase::ALL {
            let d = self.phases.get(p);
            if !d.is_zero() {
                write!(f, " {p:?} {d:?};")?;
            }
        }
        writeln!(f, " total {:?}", self.phases.total())
    }
}
