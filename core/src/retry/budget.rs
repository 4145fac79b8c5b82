//! The opt-in retry budget: a token bucket shared by a session.

use std::time::{Duration, Instant};

/// A token bucket that bounds retries across a whole session, so a failing
/// upstream is not hammered by a retry storm (docs/RETRY.md, point 6).
///
/// Every logical request deposits `ratio` tokens ([`RetryBudget::deposit`]);
/// the bucket also refills by `floor_per_sec` tokens per second of elapsed
/// time; every retry withdraws one whole token. With the defaults, retries
/// add at most 20 % to the request rate plus 10 per second. The balance is
/// capped, so a quiet period does not bank an unbounded burst.
///
/// It is a plain struct: a backend keeps it behind its session lock and
/// passes `&mut` to [`Retry::decide`](super::Retry::decide). Time is an
/// argument: [`RetryBudget::advance_to`] with an `Instant`, or
/// [`RetryBudget::advance`] with an elapsed `Duration` (simulations).
///
/// ```
/// use std::time::Duration;
/// use hawser_core::retry::RetryBudget;
/// let mut b = RetryBudget::new(0.5, 0.0, 10.0);
/// assert_eq!(b.balance(), 0.0);
/// b.deposit();
/// b.deposit();
/// assert!(b.try_withdraw());   // two requests paid for one retry
/// assert!(!b.try_withdraw());
/// let mut b = RetryBudget::new(0.0, 2.0, 10.0);
/// b.advance(Duration::from_secs(1)); // the floor refills 2 tokens per second
/// assert!(b.try_withdraw() && b.try_withdraw() && !b.try_withdraw());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryBudget {
    ratio: f64,
    floor_per_sec: f64,
    capacity: f64,
    balance: f64,
    last: Option<Instant>,
    withdrawn: u64,
    refused: u64,
}

impl Default for RetryBudget {
    /// 20 % of the request rate plus 10 retries per second, at most 100
    /// tokens banked; starts with one second of floor (10 tokens).
    fn default() -> Self {
        let mut b = RetryBudget::new(0.2, 10.0, 100.0);
        b.balance = 10.0;
        b
    }
}

fn sane(v: f64) -> f64 {
    // Negative, NaN or infinite settings would break the arithmetic; treat
    // them as zero (no tokens) rather than panic.
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

impl RetryBudget {
    /// A budget: `ratio` tokens per request, `floor_per_sec` tokens per
    /// second, at most `capacity` tokens. Starts empty. Invalid numbers
    /// (negative, NaN, infinite) count as zero.
    pub fn new(ratio: f64, floor_per_sec: f64, capacity: f64) -> Self {
        RetryBudget {
            ratio: sane(ratio),
            floor_per_sec: sane(floor_per_sec),
            capacity: sane(capacity),
            balance: 0.0,
            last: None,
            withdrawn: 0,
            refused: 0,
        }
    }

    /// Refill for `elapsed` time.
    pub fn advance(&mut self, elapsed: Duration) {
        let add = self.floor_per_sec * elapsed.as_secs_f64();
        self.balance = (self.balance + add).min(self.capacity);
    }

    /// Refill up to `now` (the first call only records the instant).
    /// Instants earlier than the last one are ignored.
    pub fn advance_to(&mut self, now: Instant) {
        if let Some(last) = self.last {
            if now > last {
                self.advance(now - last);
                self.last = Some(now);
            }
        } else {
            self.last = Some(now);
        }
    }

    /// A logical request started: deposit `ratio` tokens.
    pub fn deposit(&mut self) {
        self.balance = (self.balance + self.ratio).min(self.capacity);
    }

    /// Take one token for a retry; false (and nothing taken) when empty.
    pub fn try_withdraw(&mut self) -> bool {
        if self.balance >= 1.0 {
            self.balance -= 1.0;
            self.withdrawn += 1;
            true
        } else {
            self.refused += 1;
            false
        }
    }

    /// Tokens available now.
    pub fn balance(&self) -> f64 {
        self.balance
    }

    /// Retries paid for so far.
    pub fn withdrawn(&self) -> u64 {
        self.withdrawn
    }

    /// Retries refused so far for lack of tokens.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}
