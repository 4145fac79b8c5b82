//! Where hawser is deliberately better than urllib3 (docs/RETRY.md, "Where
//! hawser is deliberately better"), plus the decision-to-error helper and
//! driving `Retry::decide` with real instants.

use std::error::Error as _;
use std::time::{Duration, Instant, SystemTime};

use hawser_core::retry::*;
use hawser_core::{Error, ErrorKind, TimeoutPhase};
use http::Method;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn sim(policy: &Retry, method: Method, script: &[Outcome]) -> Simulation {
    simulate(policy, script, &SimOptions::default().method(method))
}

fn fail_of(d: Option<Decision>) -> Fail {
    match d {
        Some(Decision::Fail(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn tls_handshake_timeout_is_connect_class_so_post_is_retried() {
    // urllib3 reports it as a read timeout and would not retry a POST.
    let s = sim(
        &Retry::new(3),
        Method::POST,
        &[
            Outcome::error(FailureKind::TlsHandshakeTimeout),
            Outcome::status(200),
        ],
    );
    assert_eq!(
        s.decisions(),
        [
            Decision::Retry {
                after: Duration::ZERO,
                reason: RetryReason::Backoff
            },
            Decision::Return
        ]
    );
    assert_eq!(s.state.remaining().connect, Counter::Unlimited);
    assert_eq!(s.state.remaining().total, Counter::Count(2));
}

#[test]
fn reset_before_any_byte_written_spends_connect_not_read() {
    let p = Retry::new(3).connect(1).read(0);
    let s = sim(
        &p,
        Method::POST,
        &[Outcome::error(FailureKind::Reset), Outcome::status(200)],
    );
    assert_eq!(s.decisions()[1], Decision::Return);
    assert_eq!(s.state.remaining().connect, Counter::Count(0));
    assert_eq!(s.state.remaining().read, Counter::Count(0));
}

#[test]
fn other_error_after_bytes_were_sent_is_read_class() {
    // urllib3 retries "other" errors for any method; once request bytes
    // went out hawser treats it as read-class, so a POST is not re-sent.
    let s = sim(
        &Retry::new(3),
        Method::POST,
        &[Outcome::error_after_send(FailureKind::Other)],
    );
    let f = fail_of(s.final_decision());
    assert_eq!(f.reason, FailReason::Unwrapped);
}

#[test]
fn stale_pooled_connection_is_resent_once_for_free() {
    let stale: Outcome = ErrorOutcome::new(FailureKind::Eof)
        .sent(true)
        .reused(true)
        .into();
    // Even with no retries at all (requests' default), the stale re-send
    // happens, and spends nothing.
    let s = sim(
        &Retry::requests_compat(),
        Method::GET,
        &[stale.clone(), Outcome::status(200)],
    );
    assert_eq!(
        s.decisions(),
        [
            Decision::Retry {
                after: Duration::ZERO,
                reason: RetryReason::StaleConnection
            },
            Decision::Return
        ]
    );
    assert_eq!(s.state.remaining().total, Counter::Count(0));
    assert!(s.state.history().next().is_some_and(|h| h.stale_resend));
    // Only once: a second stale failure goes through the normal rules.
    let s = sim(
        &Retry::requests_compat(),
        Method::GET,
        &[stale.clone(), stale],
    );
    assert_eq!(fail_of(s.final_decision()).reason, FailReason::Unwrapped);
}

#[test]
fn stale_resend_of_post_only_when_nothing_was_written() {
    let written: Outcome = ErrorOutcome::new(FailureKind::Reset)
        .sent(true)
        .reused(true)
        .into();
    let s = sim(&Retry::new(3), Method::POST, &[written]);
    assert_eq!(fail_of(s.final_decision()).reason, FailReason::Unwrapped);

    let not_written: Outcome = ErrorOutcome::new(FailureKind::Reset).reused(true).into();
    let s = sim(
        &Retry::new(0),
        Method::POST,
        &[not_written, Outcome::status(201)],
    );
    assert_eq!(s.decisions()[0].sleep(), Duration::ZERO);
    assert!(matches!(
        s.decisions()[0],
        Decision::Retry {
            reason: RetryReason::StaleConnection,
            ..
        }
    ));
}

#[test]
fn stale_resend_needs_no_response_byte_and_a_replayable_body() {
    let started: Outcome = ErrorOutcome::new(FailureKind::Eof)
        .sent(true)
        .reused(true)
        .response_started(true)
        .into();
    let s = sim(&Retry::new(0), Method::GET, &[started]);
    assert_eq!(fail_of(s.final_decision()).reason, FailReason::Exhausted);

    let consumed: Outcome = ErrorOutcome::new(FailureKind::Eof)
        .sent(true)
        .reused(true)
        .body(BodyReplay::Consumed)
        .into();
    let s = sim(&Retry::new(3), Method::PUT, &[consumed]);
    assert_eq!(
        fail_of(s.final_decision()).reason,
        FailReason::BodyNotReplayable
    );
}

#[test]
fn deterministic_failures_are_final() {
    for kind in [
        FailureKind::Certificate,
        FailureKind::InvalidRequest,
        FailureKind::TooManyRedirects,
    ] {
        let s = sim(
            &Retry::new(10),
            Method::GET,
            &[Outcome::error(kind), Outcome::status(200)],
        );
        assert_eq!(
            s.decisions(),
            [Decision::Fail(Fail {
                reason: FailReason::Deterministic,
                cause: Cause::Error(kind)
            })],
            "{kind:?}"
        );
    }
}

#[test]
fn partly_sent_one_shot_body_is_never_resent() {
    let consumed: Outcome = ErrorOutcome::new(FailureKind::ReadTimeout)
        .sent(true)
        .body(BodyReplay::Consumed)
        .into();
    let s = sim(&Retry::new(3), Method::PUT, &[consumed]);
    assert_eq!(
        fail_of(s.final_decision()).reason,
        FailReason::BodyNotReplayable
    );
    // A one-shot body not yet read can still go.
    let fresh: Outcome = ErrorOutcome::new(FailureKind::Refused)
        .body(BodyReplay::NotStarted)
        .into();
    let s = sim(&Retry::new(3), Method::POST, &[fresh, Outcome::status(200)]);
    assert_eq!(s.final_decision(), Some(Decision::Return));
    // Nor by a 307 redirect.
    let r307: Outcome = ResponseOutcome::new(307)
        .location("/x")
        .body(BodyReplay::Consumed)
        .into();
    let s = sim(&Retry::new(3), Method::POST, &[r307]);
    assert_eq!(
        fail_of(s.final_decision()).reason,
        FailReason::BodyNotReplayable
    );
    // A 303 drops the body, so it follows.
    let r303: Outcome = ResponseOutcome::new(303)
        .location("/x")
        .body(BodyReplay::Consumed)
        .into();
    let s = sim(&Retry::new(3), Method::POST, &[r303]);
    assert_eq!(s.decisions(), [Decision::FollowRedirect]);
}

#[test]
fn a_sleep_past_the_deadline_is_not_taken() {
    let p = Retry::new(10).backoff_factor(Duration::from_secs(1));
    let script = vec![Outcome::error(FailureKind::Refused); 10];
    // Sleeps would be 0, 2, 4, 8: 0+2+4 = 6 fits in 10 s, 8 more does not.
    let s = simulate(
        &p,
        &script,
        &SimOptions::default().deadline(Duration::from_secs(10)),
    );
    assert_eq!(s.sleeps(), [0, 2, 4].map(Duration::from_secs));
    let f = fail_of(s.final_decision());
    assert_eq!(
        f,
        Fail {
            reason: FailReason::Deadline,
            cause: Cause::Error(FailureKind::Refused)
        }
    );
    let e = f.into_error(Some(Error::new(ErrorKind::Connect, "refused")));
    assert_eq!(e.timeout_phase(), Some(TimeoutPhase::Deadline));
    assert_eq!(
        e.source().map(|s| s.to_string()).as_deref(),
        Some("refused")
    );
}

#[test]
fn deadline_counts_attempt_time_and_retry_after() {
    let p = Retry::new(5);
    let script = [
        ResponseOutcome::new(503).retry_after("3").into(),
        ResponseOutcome::new(503).retry_after("3").into(),
        Outcome::status(200),
    ];
    // 1 s per attempt: decide at 1 s, sleep to 4 s, decide at 5 s; 3 s more
    // would end at 8 s = the deadline, which leaves no time to try.
    let o = SimOptions::default()
        .deadline(Duration::from_secs(8))
        .attempt_time(Duration::from_secs(1));
    let s = simulate(&p, &script, &o);
    assert_eq!(s.sleeps(), [Duration::from_secs(3)]);
    assert_eq!(fail_of(s.final_decision()).reason, FailReason::Deadline);
    assert_eq!(s.steps[1].at, Duration::from_secs(5));
}

#[test]
fn full_jitter_stays_within_zero_and_backoff() {
    let p = Retry::new(100)
        .backoff_factor(Duration::from_secs(1))
        .backoff_max(Duration::from_secs(30))
        .jitter(Jitter::Full);
    let mut rng = StdRng::seed_from_u64(9);
    let mut distinct = std::collections::BTreeSet::new();
    for n in 2..20u32 {
        let cap = Duration::from_secs(1 << (n - 1).min(10)).min(Duration::from_secs(30));
        let b = p.backoff(n, &mut rng);
        assert!(b <= cap, "n={n}: {b:?} > {cap:?}");
        distinct.insert(b);
    }
    // Uniform draws, not the fixed exponential values.
    assert!(distinct.len() > 10);
    assert_eq!(p.backoff(1, &mut rng), Duration::ZERO);
}

#[test]
fn retry_budget_ends_a_retry_storm() {
    let p = Retry::new(10);
    let script = vec![Outcome::error(FailureKind::Refused); 10];
    // One request deposits 0.2; 2 tokens banked, no floor: two retries.
    let mut budget = RetryBudget::new(0.2, 0.0, 100.0);
    budget.deposit();
    for _ in 0..9 {
        budget.deposit();
    }
    let s = simulate(&p, &script, &SimOptions::default().budget(budget));
    assert_eq!(s.sleeps().len(), 2);
    assert_eq!(
        fail_of(s.final_decision()),
        Fail {
            reason: FailReason::BudgetExhausted,
            cause: Cause::Error(FailureKind::Refused)
        }
    );
    let b = s.budget.as_ref().map(|b| (b.withdrawn(), b.refused()));
    assert_eq!(b, Some((2, 1)));
    let e = fail_of(s.final_decision()).into_error(None);
    assert_eq!(e.kind(), ErrorKind::RetryBudgetExhausted);
    assert_eq!(e.root_cause().kind(), ErrorKind::Connect);
}

#[test]
fn retry_budget_is_not_spent_on_stale_resends_or_redirects() {
    let stale: Outcome = ErrorOutcome::new(FailureKind::Reset)
        .sent(true)
        .reused(true)
        .into();
    let redirect: Outcome = ResponseOutcome::new(302).location("/b").into();
    let s = simulate(
        &Retry::new(3),
        &[stale, redirect, Outcome::status(200)],
        &SimOptions::default().budget(RetryBudget::new(0.0, 0.0, 0.0)),
    );
    assert_eq!(s.final_decision(), Some(Decision::Return));
    assert_eq!(s.budget.map(|b| b.refused()), Some(0));
}

#[test]
fn retry_budget_refills_with_time_and_caps() {
    let mut b = RetryBudget::new(0.0, 10.0, 5.0);
    b.advance(Duration::from_secs(60));
    assert_eq!(b.balance(), 5.0);
    let start = Instant::now();
    let mut b = RetryBudget::new(0.0, 1.0, 10.0);
    b.advance_to(start);
    b.advance_to(start + Duration::from_secs(3));
    assert_eq!(b.balance(), 3.0);
    // Time going backwards is ignored.
    b.advance_to(start);
    assert_eq!(b.balance(), 3.0);
    // Nonsense settings do not panic and give no tokens.
    let mut bad = RetryBudget::new(f64::NAN, -1.0, f64::INFINITY);
    bad.deposit();
    bad.advance(Duration::from_secs(10));
    assert!(!bad.try_withdraw());
}

#[test]
fn decide_with_real_instants_and_budget() {
    let start = Instant::now();
    let policy = Retry::new(3).backoff_factor(Duration::from_secs(1));
    let mut st = RetryState::new(&policy, Method::GET, "http://a.test/");
    let mut rng = StdRng::seed_from_u64(1);
    let mut budget = RetryBudget::new(0.0, 1.0, 10.0);
    let deadline = Some(start + Duration::from_secs(30));
    let clock = |s: u64| Clock {
        now: start + Duration::from_secs(s),
        wall: SystemTime::UNIX_EPOCH,
        deadline,
    };
    let e = Outcome::error(FailureKind::ConnectTimeout);
    // The first call only records the instant: the bucket is empty.
    let d = policy.decide(&mut st, &e, &clock(0), &mut rng, Some(&mut budget));
    assert_eq!(fail_of(Some(d)).reason, FailReason::BudgetExhausted);
    let mut st = RetryState::new(&policy, Method::GET, "http://a.test/");
    let d = policy.decide(&mut st, &e, &clock(2), &mut rng, Some(&mut budget));
    assert_eq!(
        d,
        Decision::Retry {
            after: Duration::ZERO,
            reason: RetryReason::Backoff
        }
    );
    let d = policy.decide(&mut st, &e, &clock(3), &mut rng, Some(&mut budget));
    assert_eq!(d.sleep(), Duration::from_secs(2));
    // Past the deadline nothing more is tried.
    let d = policy.decide(&mut st, &e, &clock(31), &mut rng, Some(&mut budget));
    assert_eq!(fail_of(Some(d)).reason, FailReason::Deadline);
}

#[test]
fn into_error_keeps_unwrapped_and_wrapped_apart() {
    let last = || Error::timeout(TimeoutPhase::ResponseHead, "read timed out");
    let unwrapped = Fail {
        reason: FailReason::Unwrapped,
        cause: Cause::Error(FailureKind::ReadTimeout),
    };
    let e = unwrapped.into_error(Some(last()));
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.message(), "read timed out");
    assert!(e.source().is_none());

    let wrapped = Fail {
        reason: FailReason::Exhausted,
        cause: Cause::Error(FailureKind::ReadTimeout),
    };
    let e = wrapped.into_error(Some(last()));
    assert_eq!(e.kind(), ErrorKind::RetriesExhausted);
    assert_eq!(
        e.root_cause().timeout_phase(),
        Some(TimeoutPhase::ResponseHead)
    );

    let status = Fail {
        reason: FailReason::Exhausted,
        cause: Cause::Status(503),
    };
    let e = status.into_error(None);
    assert_eq!(e.kind(), ErrorKind::RetriesExhausted);
    assert!(e.to_string().contains("too many 503 error responses"));
    assert_eq!(e.root_cause().kind(), ErrorKind::Status);

    let redirects = Fail {
        reason: FailReason::Exhausted,
        cause: Cause::Redirect(302),
    };
    assert_eq!(
        redirects.into_error(None).kind(),
        ErrorKind::TooManyRedirects
    );

    let body = Fail {
        reason: FailReason::BodyNotReplayable,
        cause: Cause::Error(FailureKind::Reset),
    };
    assert_eq!(body.into_error(None).kind(), ErrorKind::BodyNotReplayable);

    let cert = Fail {
        reason: FailReason::Deterministic,
        cause: Cause::Error(FailureKind::Certificate),
    };
    assert_eq!(cert.into_error(None).kind(), ErrorKind::Certificate);
}

#[test]
fn history_is_bounded_for_unlimited_policies() {
    let p = Retry::new(Counter::Unlimited);
    let script = vec![Outcome::error(FailureKind::Refused); 200];
    let s = sim(&p, Method::GET, &script);
    assert_eq!(s.attempts(), 200);
    assert_eq!(s.state.history().len(), MAX_HISTORY);
    assert_eq!(s.state.history_dropped(), (200 - MAX_HISTORY) as u64);
}

#[test]
fn huge_backoff_exponents_clamp_to_backoff_max() {
    let p = Retry::new(Counter::Unlimited)
        .backoff_factor(Duration::from_secs(1))
        .backoff_jitter(Duration::from_secs(5));
    let mut rng = StdRng::seed_from_u64(3);
    assert_eq!(p.backoff(u32::MAX, &mut rng), DEFAULT_BACKOFF_MAX);
    let full = p.clone().jitter(Jitter::Full);
    assert!(full.backoff(u32::MAX, &mut rng) <= DEFAULT_BACKOFF_MAX);
}

#[test]
fn retry_after_parsing_edge_cases() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(parse_retry_after("\t7 ", now), Ok(Duration::from_secs(7)));
    assert_eq!(
        parse_retry_after("99999999999999999999999", now),
        Ok(Duration::from_secs(u64::MAX))
    );
    // RFC 850 and asctime forms; 06 Nov 1994 08:49:37 is 784111777.
    assert_eq!(
        parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
        Ok(Duration::from_secs(10))
    );
    assert_eq!(
        parse_retry_after("Sun Nov  6 08:49:57 1994", now),
        Ok(Duration::from_secs(20))
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
        Ok(Duration::ZERO)
    );
    for bad in ["+2", "-5", "1.5", "2, 3", "", "soon", "٣"] {
        assert_eq!(
            parse_retry_after(bad, now),
            Err(InvalidRetryAfter),
            "{bad:?}"
        );
    }
}

#[test]
fn session_default_and_requests_compat_are_documented_values() {
    let d = Retry::session_default();
    let mut rng = StdRng::seed_from_u64(0);
    assert_eq!(d.total_counter(), Counter::Count(3));
    let b = d.backoff(2, &mut rng);
    assert!(
        b >= Duration::from_secs(1) && b < Duration::from_millis(1250),
        "{b:?}"
    );
    assert!(!Retry::requests_compat().is_retry(&Method::GET, 503, true));
    assert_eq!(Retry::default().total_counter(), Counter::Count(10));
    // An empty allowed_methods means every method, as in urllib3.
    assert!(
        Retry::new(3)
            .allowed_methods([])
            .is_method_allowed(&Method::POST)
    );
}
