//! Properties of the retry policy (docs/RETRY.md, "Where hawser is deliberately
//! better" and the reference's invariants), over generated policies and
//! outcome scripts.

use std::time::{Duration, SystemTime};

use hawser_core::retry::*;
use http::Method;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn counter() -> impl Strategy<Value = Counter> {
    prop_oneof![
        2 => Just(Counter::Unlimited),
        1 => Just(Counter::Disabled),
        4 => (0u32..=4).prop_map(Counter::Count),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::PUT),
        Just(Method::POST),
        Just(Method::PATCH)
    ]
}

fn kind() -> impl Strategy<Value = FailureKind> {
    use FailureKind::*;
    prop_oneof![
        Just(Dns),
        Just(Refused),
        Just(ConnectTimeout),
        Just(TlsHandshake),
        Just(TlsHandshakeTimeout),
        Just(SendTimeout),
        Just(ReadTimeout),
        Just(Reset),
        Just(Eof),
        Just(Other),
        Just(Certificate),
    ]
}

fn body() -> impl Strategy<Value = BodyReplay> {
    prop_oneof![
        4 => Just(BodyReplay::Replayable),
        1 => Just(BodyReplay::NotStarted),
        1 => Just(BodyReplay::Consumed),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    let err = (kind(), any::<bool>(), any::<bool>(), any::<bool>(), body()).prop_map(
        |(k, sent, started, reused, b)| {
            Outcome::from(
                ErrorOutcome::new(k)
                    .sent(sent)
                    .response_started(started)
                    .reused(reused)
                    .body(b),
            )
        },
    );
    let ra = prop_oneof![
        Just(None),
        (0u64..=40).prop_map(|n| Some(n.to_string())),
        Just(Some("99999999".to_owned())),
        Just(Some("soon".to_owned())),
    ];
    let perm = prop_oneof![
        3 => Just(RedirectPermission::Follow),
        1 => Just(RedirectPermission::NotFollowing),
        1 => Just(RedirectPermission::LimitReached),
    ];
    let status = prop_oneof![
        Just(200u16),
        Just(429),
        Just(500),
        Just(503),
        Just(413),
        Just(302),
        Just(307)
    ];
    let resp = (status, ra, any::<bool>(), perm, body()).prop_map(|(s, ra, loc, p, b)| {
        let mut r = ResponseOutcome::new(s).redirect(p).body(b);
        r.retry_after = ra;
        if loc {
            r = r.location("/next");
        }
        Outcome::from(r)
    });
    prop_oneof![err, resp]
}

fn policy() -> impl Strategy<Value = Retry> {
    (
        (
            counter(),
            counter(),
            counter(),
            counter(),
            counter(),
            counter(),
        ),
        (0u64..=3000, 1u64..=20_000, 0u64..=2000, any::<bool>()),
        (
            any::<bool>(),
            1u64..=600,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        proptest::sample::subsequence(vec![429u16, 500, 503, 302], 0..=3),
    )
        .prop_map(
            |((t, c, r, rd, s, o), (f, max, j, full), (respect, ram, ros, ror, anym), force)| {
                let p = Retry::new(t)
                    .connect(c)
                    .read(r)
                    .redirect(rd)
                    .status(s)
                    .other(o)
                    .backoff_factor(Duration::from_millis(f))
                    .backoff_max(Duration::from_millis(max))
                    .backoff_jitter(Duration::from_millis(j))
                    .jitter(if full { Jitter::Full } else { Jitter::Additive })
                    .respect_retry_after_header(respect)
                    .retry_after_max(Duration::from_secs(ram))
                    .raise_on_status(ros)
                    .raise_on_redirect(ror)
                    .status_forcelist(force);
                if anym { p.any_method() } else { p }
            },
        )
}

fn budget_of(c: Counter) -> Option<u32> {
    match c {
        Counter::Count(n) => Some(n),
        Counter::Disabled => Some(0),
        Counter::Unlimited => None,
    }
}

/// Counter `after` is not larger than `before`.
fn not_increased(before: Counter, after: Counter) -> bool {
    match (before, after) {
        (Counter::Count(a), Counter::Count(b)) => b <= a,
        (a, b) => a == b,
    }
}

fn counters_not_increased(a: Counters, b: Counters) -> bool {
    not_increased(a.total, b.total)
        && not_increased(a.connect, b.connect)
        && not_increased(a.read, b.read)
        && not_increased(a.redirect, b.redirect)
        && not_increased(a.status, b.status)
        && not_increased(a.other, b.other)
}

fn cfg() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(cfg())]

    /// Attempts never exceed total + 1, nor any per-kind budget + 1 (free
    /// stale re-sends and followed redirects spend neither).
    #[test]
    fn attempts_bounded_by_counters(p in policy(), m in method(),
                                    script in proptest::collection::vec(outcome(), 0..16),
                                    seed in any::<u64>()) {
        let sim = simulate(&p, &script, &SimOptions::default().method(m).seed(seed));
        let (mut paid, mut stale, mut follows) = (0u32, 0u32, 0u32);
        let (mut connect, mut read, mut other, mut status) = (0u32, 0u32, 0u32, 0u32);
        for step in &sim.steps {
            match step.decision {
                Decision::Retry { reason: RetryReason::StaleConnection, .. } => stale += 1,
                Decision::Retry { .. } => {
                    paid += 1;
                    match &script[step.index] {
                        Outcome::Error(e) => match e.class() {
                            ErrorClass::Connect => connect += 1,
                            ErrorClass::Read => read += 1,
                            ErrorClass::Other => other += 1,
                            ErrorClass::Deterministic => prop_assert!(false, "deterministic retried"),
                        },
                        Outcome::Response(_) => status += 1,
                    }
                }
                Decision::FollowRedirect => follows += 1,
                _ => {}
            }
        }
        prop_assert!(stale <= 1);
        if let Some(t) = budget_of(p.total_counter()) {
            prop_assert!(paid <= t, "paid {} > total {}", paid, t);
            prop_assert!(sim.attempts() as u32 <= t + 1 + stale + follows);
        }
        let c = RetryState::new(&p, Method::GET, "x").remaining();
        for (used, limit) in [(connect, c.connect), (read, c.read), (other, c.other), (status, c.status), (follows, c.redirect)] {
            if let Some(b) = budget_of(limit) {
                prop_assert!(used <= b, "{} retries of a kind with budget {}", used, b);
            }
        }
    }

    /// A request whose bytes were sent is never retried with a method the
    /// policy does not allow, and a consumed one-shot body is never re-sent.
    #[test]
    fn unsafe_resends_never_happen(p in policy(), m in method(),
                                   script in proptest::collection::vec(outcome(), 0..16)) {
        let sim = simulate(&p, &script, &SimOptions::default().method(m.clone()));
        for step in &sim.steps {
            let o = &script[step.index];
            let retried = matches!(step.decision, Decision::Retry { .. });
            let followed = matches!(step.decision, Decision::FollowRedirect);
            match o {
                Outcome::Error(e) => {
                    if e.request_sent && !p.is_method_allowed(&m) && !m.is_idempotent() {
                        prop_assert!(!retried, "{:?} re-sent after {:?}", m, e);
                    }
                    if e.body == BodyReplay::Consumed {
                        prop_assert!(!retried);
                    }
                }
                Outcome::Response(r) => {
                    if !p.is_method_allowed(&m) {
                        prop_assert!(!retried, "{:?} retried on status {}", m, r.status);
                    }
                    if r.body == BodyReplay::Consumed {
                        prop_assert!(!retried);
                        if matches!(r.status, 307 | 308) {
                            prop_assert!(!followed);
                        }
                    }
                }
            }
        }
    }

    /// The attempts plus the sleeps never reach the deadline.
    #[test]
    fn sleeps_never_pass_the_deadline(p in policy(), m in method(),
                                      script in proptest::collection::vec(outcome(), 0..16),
                                      deadline_ms in 0u64..=60_000, attempt_ms in 0u64..=2000) {
        let deadline = Duration::from_millis(deadline_ms);
        let o = SimOptions::default()
            .method(m)
            .deadline(deadline)
            .attempt_time(Duration::from_millis(attempt_ms));
        let sim = simulate(&p, &script, &o);
        for step in &sim.steps {
            if let Decision::Retry { after, .. } = step.decision {
                prop_assert!(step.at + after < deadline,
                    "a sleep of {:?} at {:?} passes the deadline {:?}", after, step.at, deadline);
            }
        }
        prop_assert!(sim.state.total_sleep() <= deadline);
    }

    /// The same seed gives the same decisions (and history).
    #[test]
    fn same_seed_same_decisions(p in policy(), m in method(),
                                script in proptest::collection::vec(outcome(), 0..16),
                                seed in any::<u64>()) {
        let o = SimOptions::default().method(m).seed(seed);
        let a = simulate(&p, &script, &o);
        let b = simulate(&p, &script, &o);
        prop_assert_eq!(a, b);
    }

    /// Sleeps are only 0, a backoff within [0, backoff_max], or a
    /// Retry-After within (0, retry_after_max].
    #[test]
    fn sleeps_are_backoff_or_retry_after(p in policy(), m in method(),
                                         script in proptest::collection::vec(outcome(), 0..16),
                                         seed in any::<u64>()) {
        let sim = simulate(&p, &script, &SimOptions::default().method(m).seed(seed));
        for step in &sim.steps {
            if let Decision::Retry { after, reason } = step.decision {
                match reason {
                    RetryReason::StaleConnection => prop_assert_eq!(after, Duration::ZERO),
                    RetryReason::Backoff => prop_assert!(after <= p.backoff_max_value()),
                    RetryReason::RetryAfter => prop_assert!(
                        after > Duration::ZERO && after <= p.retry_after_max_value()
                    ),
                }
            }
        }
    }

    /// Counters only decrease, step by step.
    #[test]
    fn counters_only_decrease(p in policy(), m in method(),
                              script in proptest::collection::vec(outcome(), 0..16),
                              seed in any::<u64>()) {
        let mut st = RetryState::new(&p, m, "http://a.test/");
        let mut rng = StdRng::seed_from_u64(seed);
        for o in &script {
            let before = st.remaining();
            let d = p.decide_in(&mut st, o, None, SystemTime::UNIX_EPOCH, &mut rng, None);
            prop_assert!(counters_not_increased(before, st.remaining()),
                "{:?} -> {:?} after {:?}", before, st.remaining(), o);
            if d.is_final() {
                break;
            }
        }
    }

    /// With a homogeneous stream of one retryable kind, attempts are exactly
    /// 1 + min(total, budget) (the reference's invariant).
    #[test]
    fn homogeneous_connect_errors_use_exactly_the_budget(t in 0u32..6, c in 0u32..6) {
        let p = Retry::new(t).connect(c);
        let script = vec![Outcome::error(FailureKind::Refused); 20];
        let sim = simulate(&p, &script, &SimOptions::default());
        prop_assert_eq!(sim.attempts() as u32, 1 + t.min(c));
        let exhausted = matches!(
            sim.final_decision(),
            Some(Decision::Fail(Fail { reason: FailReason::Exhausted, .. }))
        );
        prop_assert!(exhausted);
    }
}

/// The shipped strategies (feature `proptest`) drive the same invariants.
#[cfg(feature = "proptest")]
mod shipped_strategies {
    use super::*;
    use hawser_core::retry::strategies;

    proptest! {
        #![proptest_config(cfg())]

        #[test]
        fn shipped_strategies_respect_total_and_sleep_bounds(
            p in strategies::policy(),
            m in strategies::method(),
            script in strategies::outcomes(12),
            seed in any::<u64>(),
        ) {
            let sim = simulate(&p, &script, &SimOptions::default().method(m).seed(seed));
            let paid = sim
                .steps
                .iter()
                .filter(|s| matches!(s.decision, Decision::Retry { reason, .. } if reason != RetryReason::StaleConnection))
                .count() as u32;
            if let Some(t) = budget_of(p.total_counter()) {
                prop_assert!(paid <= t);
            }
            for s in sim.sleeps() {
                prop_assert!(s <= p.backoff_max_value().max(p.retry_after_max_value()));
            }
        }
    }
}

/// The jitter stream for a seed is pinned: ChaCha8's output is fixed by its
/// specification, so these values must never change (a recorded seed replays
/// the same sleeps after any dependency upgrade).
#[test]
fn the_jitter_stream_for_a_seed_is_pinned() {
    use rand::{RngCore, SeedableRng};
    let mut rng = hawser_core::retry::JitterRng::seed_from_u64(1);
    let got: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
    let mut again = hawser_core::retry::JitterRng::seed_from_u64(1);
    assert_eq!(got, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
    assert_eq!(
        got,
        PINNED.to_vec(),
        "the ChaCha8 stream for seed 1 changed"
    );
}

const PINNED: [u64; 3] = [
    7424550030962593201,
    1482817706323250795,
    11004592982271133285,
];
