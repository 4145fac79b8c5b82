//! Deadline accounting on a fake clock: a base `Instant` plus `Duration`s.

use std::time::{Duration, Instant};

use crate::deadline::{InvalidTimeoutReason, MAX_TIMEOUT, Phase, TimeoutField, Timeouts, Tracker};
use crate::{ErrorKind, TimeoutPhase};
use proptest::prelude::*;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// connect 3 s, read 5 s, write 7 s, pool wait 2 s, deadline 60 s.
fn timeouts() -> Timeouts {
    Timeouts::from_pair_secs_f64(3.0, 5.0)
        .and_then(|t| t.with_write(s(7)))
        .and_then(|t| t.with_pool_wait(s(2)))
        .and_then(|t| t.with_deadline(s(60)))
        .expect("valid timeouts")
}

fn expires(phase: Phase, after: Duration, expected: TimeoutPhase, message: &str) {
    let t0 = Instant::now();
    let mut call = Tracker::start(&timeouts(), t0);
    call.begin(phase, t0 + s(1));
    let next = call.poll_timeout();
    assert_eq!(next.at, t0 + s(1) + after, "{phase:?}");
    assert_eq!(next.phase, expected);
    assert!(call.check(next.at - ms(1)).is_ok());
    let err = call.check(next.at).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.timeout_phase(), Some(expected));
    assert_eq!(err.to_string(), message);
}

#[test]
fn pool_wait_expiry_names_pool_wait() {
    expires(
        Phase::PoolWait,
        s(2),
        TimeoutPhase::PoolWait,
        "timed out waiting for a pooled connection (pool wait timeout 2s)",
    );
}

#[test]
fn connect_expiry_names_connect() {
    expires(
        Phase::Connect,
        s(3),
        TimeoutPhase::Connect,
        "timed out connecting (connect timeout 3s)",
    );
}

#[test]
fn tls_handshake_is_bounded_by_connect_timeout() {
    expires(
        Phase::TlsHandshake,
        s(3),
        TimeoutPhase::TlsHandshake,
        "timed out doing the TLS handshake (connect timeout 3s)",
    );
}

#[test]
fn send_expiry_names_send() {
    expires(
        Phase::Send,
        s(7),
        TimeoutPhase::Send,
        "timed out sending the request (write timeout 7s)",
    );
}

#[test]
fn response_head_expiry_names_response_head() {
    expires(
        Phase::ResponseHead,
        s(5),
        TimeoutPhase::ResponseHead,
        "timed out waiting for the response head (read timeout 5s)",
    );
}

#[test]
fn body_expiry_names_body() {
    expires(
        Phase::Body,
        s(5),
        TimeoutPhase::Body,
        "timed out reading the response body (read timeout 5s)",
    );
}

#[test]
fn backoff_is_bounded_only_by_the_deadline() {
    expires(
        Phase::Backoff,
        s(59),
        TimeoutPhase::Deadline,
        "deadline of 60s exceeded while waiting to retry",
    );
}

#[test]
fn pool_wait_without_own_bound_uses_the_deadline() {
    let t0 = Instant::now();
    let t = Timeouts::default().with_deadline(s(20)).unwrap();
    let mut call = Tracker::start(&t, t0);
    call.begin(Phase::PoolWait, t0);
    assert_eq!(call.poll_timeout().at, t0 + s(20));
    let err = call.check(t0 + s(20)).unwrap_err();
    assert_eq!(err.timeout_phase(), Some(TimeoutPhase::Deadline));
    assert_eq!(
        err.to_string(),
        "deadline of 20s exceeded while waiting for a pooled connection"
    );
}

#[test]
fn slow_drip_within_read_never_times_out_but_the_deadline_cuts_it() {
    let t0 = Instant::now();
    let mut call = Tracker::start(&timeouts(), t0);
    call.begin(Phase::Body, t0);
    let mut now = t0;
    // A byte every 4.9 s: always within the 5 s read timeout.
    loop {
        now += ms(4900);
        if let Err(err) = call.check(now) {
            assert_eq!(err.timeout_phase(), Some(TimeoutPhase::Deadline));
            assert_eq!(
                err.to_string(),
                "deadline of 60s exceeded while reading the response body"
            );
            assert!(now >= t0 + s(60));
            assert!(now < t0 + s(60) + ms(4900));
            break;
        }
        call.progress(now);
    }
}

#[test]
fn progress_does_not_extend_connect() {
    let t0 = Instant::now();
    let mut call = Tracker::start(&timeouts(), t0);
    call.begin(Phase::TlsHandshake, t0);
    call.progress(t0 + s(2));
    assert_eq!(call.poll_timeout().at, t0 + s(3));
}

#[test]
fn deadline_spans_attempts() {
    let t0 = Instant::now();
    let t = timeouts().with_deadline(s(10)).unwrap();
    let mut call = Tracker::start(&t, t0);
    call.begin(Phase::Connect, t0);
    call.begin(Phase::ResponseHead, t0 + s(1));
    call.begin(Phase::Backoff, t0 + s(6));
    // Second attempt: the connect timer restarts, the deadline does not.
    call.begin(Phase::Connect, t0 + s(8));
    let next = call.poll_timeout();
    assert_eq!(next.at, t0 + s(10));
    assert_eq!(next.phase, TimeoutPhase::Deadline);
    let err = call.check(t0 + s(10)).unwrap_err();
    assert_eq!(err.to_string(), "deadline of 10s exceeded while connecting");
    assert_eq!(call.remaining(t0 + s(9)), s(1));
}

#[test]
fn tie_reports_the_phase() {
    let t0 = Instant::now();
    let t = timeouts().with_deadline(s(8)).unwrap();
    let mut call = Tracker::start(&t, t0);
    call.begin(Phase::ResponseHead, t0 + s(3));
    let next = call.poll_timeout();
    assert_eq!(next.at, t0 + s(8));
    assert_eq!(next.phase, TimeoutPhase::ResponseHead);
}

#[test]
fn sleep_past_the_deadline_is_refused() {
    let t0 = Instant::now();
    let t = timeouts().with_deadline(s(10)).unwrap();
    let call = Tracker::start(&t, t0);
    assert!(call.check_sleep(t0 + s(5), ms(4999)).is_ok());
    let err = call.check_sleep(t0 + s(5), s(5)).unwrap_err();
    assert_eq!(err.timeout_phase(), Some(TimeoutPhase::Deadline));
    assert_eq!(
        err.to_string(),
        "deadline of 10s would be exceeded by a backoff sleep of 5s (5s left)"
    );
    assert!(call.check_sleep(t0 + s(11), ms(1)).is_err());
}

#[test]
fn end_phase_leaves_only_the_deadline() {
    let t0 = Instant::now();
    let mut call = Tracker::start(&timeouts(), t0);
    call.begin(Phase::Body, t0);
    call.end_phase(t0 + s(1));
    assert_eq!(call.phase(), None);
    assert_eq!(call.poll_timeout().phase, TimeoutPhase::Deadline);
    assert_eq!(
        call.check(t0 + s(60)).unwrap_err().to_string(),
        "deadline of 60s exceeded"
    );
}

#[test]
fn phase_times_accumulate_over_attempts() {
    let t0 = Instant::now();
    let mut call = Tracker::start(&timeouts(), t0);
    call.begin(Phase::Connect, t0);
    call.begin(Phase::ResponseHead, t0 + ms(100));
    call.begin(Phase::Backoff, t0 + ms(400));
    call.begin(Phase::Connect, t0 + ms(900));
    call.end_phase(t0 + ms(950));
    let times = call.phase_times(t0 + s(5));
    assert_eq!(times.get(Phase::Connect), ms(150));
    assert_eq!(times.get(Phase::ResponseHead), ms(300));
    assert_eq!(times.get(Phase::Backoff), ms(500));
    assert_eq!(times.get(Phase::Body), Duration::ZERO);
    assert_eq!(times.total(), ms(950));
}

#[test]
fn defaults_are_finite_and_documented() {
    let t = Timeouts::default();
    assert_eq!(t.connect(), s(10));
    assert_eq!(t.read(), s(30));
    assert_eq!(t.write(), s(30));
    assert_eq!(t.deadline(), s(300));
    assert_eq!(t.pool_wait(), None);
}

#[test]
fn float_seconds_set_connect_and_read() {
    let t = Timeouts::from_secs_f64(5.0).unwrap();
    assert_eq!((t.connect(), t.read()), (s(5), s(5)));
    let t = Timeouts::from_pair_secs_f64(3.0, 10.5).unwrap();
    assert_eq!((t.connect(), t.read()), (s(3), ms(10_500)));
}

#[test]
fn invalid_values_are_rejected_with_typed_errors() {
    let cases: [(f64, InvalidTimeoutReason); 5] = [
        (0.0, InvalidTimeoutReason::Zero),
        (-1.0, InvalidTimeoutReason::Negative(-1.0)),
        (1e-12, InvalidTimeoutReason::Zero),
        (
            f64::INFINITY,
            InvalidTimeoutReason::NotFinite(f64::INFINITY),
        ),
        (1e12, InvalidTimeoutReason::TooLarge),
    ];
    for (v, reason) in cases {
        let e = Timeouts::from_secs_f64(v).unwrap_err();
        assert_eq!((e.field, e.reason), (TimeoutField::Connect, reason), "{v}");
    }
    let e = Timeouts::from_pair_secs_f64(1.0, f64::NAN).unwrap_err();
    assert_eq!(e.field, TimeoutField::Read);
    assert!(matches!(e.reason, InvalidTimeoutReason::NotFinite(v) if v.is_nan()));
    let e = Timeouts::default().with_write(Duration::ZERO).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid write timeout: must be greater than zero"
    );
    let e = Timeouts::default()
        .with_deadline(MAX_TIMEOUT + s(1))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid deadline: longer than the maximum of 365 days"
    );
    let e = Timeouts::default()
        .with_deadline_secs_f64(-0.5)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid deadline: must be greater than zero (got -0.5 s)"
    );
    let err: crate::Error = Timeouts::default()
        .with_pool_wait(Duration::ZERO)
        .unwrap_err()
        .into();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        err.to_string(),
        "invalid pool wait timeout: must be greater than zero"
    );
}

#[derive(Debug, Clone)]
enum Step {
    Begin(usize),
    Progress,
    End,
}

fn step() -> impl Strategy<Value = (u64, Step)> {
    (
        0u64..8_000,
        prop_oneof![
            (0usize..7).prop_map(Step::Begin),
            Just(Step::Progress),
            Just(Step::End),
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The wait instant is never after the deadline, and never before `now`
    /// unless a bound has already passed.
    #[test]
    fn wait_instant_is_bounded(
        connect in 1u64..5_000, read in 1u64..5_000, write in 1u64..5_000,
        deadline in 1u64..20_000,
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let t = Timeouts::default()
            .with_connect(ms(connect)).unwrap()
            .with_read(ms(read)).unwrap()
            .with_write(ms(write)).unwrap()
            .with_deadline(ms(deadline)).unwrap();
        let t0 = Instant::now();
        let mut call = Tracker::start(&t, t0);
        let mut now = t0;
        // Independent model: the current phase's own expiry, if it has one.
        let own = |p: Phase| match p {
            Phase::Connect | Phase::TlsHandshake => Some(ms(connect)),
            Phase::Send => Some(ms(write)),
            Phase::ResponseHead | Phase::Body => Some(ms(read)),
            Phase::PoolWait | Phase::Backoff => None,
        };
        let mut model: Option<(Phase, Option<Instant>)> = None;
        for (dt, st) in steps {
            now += ms(dt);
            match st {
                Step::Begin(i) => {
                    let p = Phase::ALL[i];
                    call.begin(p, now);
                    model = Some((p, own(p).map(|d| now + d)));
                }
                Step::Progress => {
                    call.progress(now);
                    if let Some((p, exp)) = &mut model
                        && matches!(p, Phase::Send | Phase::ResponseHead | Phase::Body) {
                            *exp = own(*p).map(|d| now + d);
                        }
                }
                Step::End => {
                    call.end_phase(now);
                    model = None;
                }
            }
            let next = call.poll_timeout();
            // min(phase timer, deadline), the phase winning ties.
            let deadline_at = t0 + ms(deadline);
            let expected = match model {
                Some((p, Some(at))) if at <= deadline_at => (at, p.timeout_phase()),
                _ => (deadline_at, TimeoutPhase::Deadline),
            };
            prop_assert_eq!((next.at, next.phase), expected);
            prop_assert!(next.at <= call.deadline());
            prop_assert_eq!(call.deadline(), t0 + ms(deadline));
            match call.check(now) {
                Ok(()) => prop_assert!(next.at > now),
                Err(e) => {
                    prop_assert!(next.at <= now);
                    prop_assert_eq!(e.timeout_phase(), Some(next.phase));
                }
            }
            prop_assert!(call.phase_times(now).total() <= now - t0);
        }
    }
}
