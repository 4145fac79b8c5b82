//! A simulator: run a policy over a scripted sequence of outcomes.

use std::time::{Duration, SystemTime};

use crate::retry::JitterRng;
use http::Method;
use rand::{Rng, SeedableRng};

use super::budget::RetryBudget;
use super::decide::{Decision, RetryState};
use super::outcome::Outcome;
use super::policy::Retry;

/// Settings of a simulation run (virtual time; nothing sleeps).
///
/// ```
/// use std::time::Duration;
/// use hawser_core::retry::SimOptions;
/// let o = SimOptions::default().deadline(Duration::from_secs(10)).seed(42);
/// assert_eq!(o.deadline, Some(Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// The overall deadline, measured from the start (`None`: no deadline).
    pub deadline: Option<Duration>,
    /// How long each attempt takes before its outcome is known.
    pub attempt_time: Duration,
    /// The wall-clock time at the start (for HTTP-date `Retry-After`).
    pub wall_start: SystemTime,
    /// Seed of the jitter RNG ([`simulate`] only).
    pub seed: u64,
    /// A retry budget to run with (its state after the run is returned).
    pub budget: Option<RetryBudget>,
    /// The request's method.
    pub method: Method,
    /// The request's URL.
    pub url: String,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            deadline: None,
            attempt_time: Duration::ZERO,
            wall_start: SystemTime::UNIX_EPOCH,
            seed: 0,
            budget: None,
            method: Method::GET,
            url: "http://sim.invalid/".to_owned(),
        }
    }
}

impl SimOptions {
    /// Set the deadline.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Some(d);
        self
    }

    /// Set the time each attempt takes.
    pub fn attempt_time(mut self, d: Duration) -> Self {
        self.attempt_time = d;
        self
    }

    /// Set the RNG seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Set the method.
    pub fn method(mut self, m: Method) -> Self {
        self.method = m;
        self
    }

    /// Run with a retry budget.
    pub fn budget(mut self, b: RetryBudget) -> Self {
        self.budget = Some(b);
        self
    }

    /// Set the wall-clock start.
    pub fn wall_start(mut self, t: SystemTime) -> Self {
        self.wall_start = t;
        self
    }
}

/// One decided attempt of a simulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStep {
    /// Index of the outcome in the script.
    pub index: usize,
    /// Virtual time since the start when the outcome was decided.
    pub at: Duration,
    /// The decision.
    pub decision: Decision,
}

/// The result of [`simulate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Every decision, in order.
    pub steps: Vec<SimStep>,
    /// The request state at the end (counters, history).
    pub state: RetryState,
    /// The budget at the end, if one was given.
    pub budget: Option<RetryBudget>,
}

impl Simulation {
    /// The decisions alone.
    pub fn decisions(&self) -> Vec<Decision> {
        self.steps.iter().map(|s| s.decision).collect()
    }

    /// The sleeps of the retries, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.steps
            .iter()
            .filter(|s| matches!(s.decision, Decision::Retry { .. }))
            .map(|s| s.decision.sleep())
            .collect()
    }

    /// The final decision, if the script reached one.
    pub fn final_decision(&self) -> Option<Decision> {
        self.steps
            .last()
            .map(|s| s.decision)
            .filter(Decision::is_final)
    }

    /// Attempts made (outcomes consumed).
    pub fn attempts(&self) -> usize {
        self.steps.len()
    }
}

/// Run `policy` over `script` with a [`JitterRng`] seeded from
/// `options.seed`: the same inputs always give the same decisions. Stops at
/// the first final decision ([`Decision::Return`] or [`Decision::Fail`]) or
/// when the script runs out. Time is virtual: each attempt takes
/// `options.attempt_time`, each retry sleeps its decided duration. A
/// [`Decision::FollowRedirect`] keeps the method and moves to the raw
/// `Location`. A budget in `options` gets one deposit at the start (one
/// logical request) and refills with the virtual time.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::retry::*;
/// let policy = Retry::new(3).backoff_factor(Duration::from_secs(1));
/// let script = [
///     Outcome::error(FailureKind::Refused),
///     Outcome::error(FailureKind::Refused),
///     Outcome::status(200),
/// ];
/// let sim = simulate(&policy, &script, &SimOptions::default());
/// assert_eq!(sim.sleeps(), [Duration::ZERO, Duration::from_secs(2)]);
/// assert_eq!(sim.final_decision(), Some(Decision::Return));
/// ```
pub fn simulate(policy: &Retry, script: &[Outcome], options: &SimOptions) -> Simulation {
    let mut rng = JitterRng::seed_from_u64(options.seed);
    simulate_with_rng(policy, script, options, &mut rng)
}

/// [`simulate`] with a caller-supplied RNG (e.g. one that always returns
/// the same value, to replay urllib3's vectors).
pub fn simulate_with_rng<R: Rng + ?Sized>(
    policy: &Retry,
    script: &[Outcome],
    options: &SimOptions,
    rng: &mut R,
) -> Simulation {
    let mut state = RetryState::new(policy, options.method.clone(), options.url.as_str());
    let mut budget = options.budget.clone();
    // This run is one logical request: it pays its deposit once.
    if let Some(b) = budget.as_mut() {
        b.deposit();
    }
    let mut now = Duration::ZERO;
    let mut steps = Vec::with_capacity(script.len());
    for (index, outcome) in script.iter().enumerate() {
        now = now.saturating_add(options.attempt_time);
        if let Some(b) = budget.as_mut() {
            b.advance(options.attempt_time);
        }
        let remaining = options.deadline.map(|d| d.saturating_sub(now));
        let wall = options
            .wall_start
            .checked_add(now)
            .unwrap_or(options.wall_start);
        let decision = policy.decide_in(&mut state, outcome, remaining, wall, rng, budget.as_mut());
        steps.push(SimStep {
            index,
            at: now,
            decision,
        });
        match decision {
            Decision::Retry { after, .. } => {
                now = now.saturating_add(after);
                if let Some(b) = budget.as_mut() {
                    b.advance(after);
                }
            }
            Decision::FollowRedirect => {
                if let Outcome::Response(r) = outcome
                    && let Some(loc) = &r.location
                {
                    let m = state.method().clone();
                    state.redirected(m, loc.clone());
                }
            }
            Decision::Return | Decision::Fail(_) => break,
        }
    }
    Simulation {
        steps,
        state,
        budget,
    }
}
