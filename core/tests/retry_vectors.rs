//! urllib3 2.8.0 / requests 2.34.2 reference vectors T1–T53 and RQ1–RQ18
//! (shared/reference/urllib3-requests-semantics.md), one test each,
//! replayed through `retry::simulate_with_rng` with an RNG whose `random()`
//! is 0.5, like the reference harness. Where docs/RETRY.md says hawser differs,
//! the test asserts hawser's behaviour and says why.

use std::time::{Duration, SystemTime};

use hawser_core::retry::*;
use http::Method;
use rand::RngCore;

/// `random::<f64>()` is exactly 0.5 (rand takes the top 53 bits).
struct Half;

impl RngCore for Half {
    fn next_u32(&mut self) -> u32 {
        1 << 31
    }
    fn next_u64(&mut self) -> u64 {
        1 << 63
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        dst.fill(0x80);
    }
}

const WALL: u64 = 1_700_000_000;

fn opts(method: Method) -> SimOptions {
    SimOptions::default()
        .method(method)
        .wall_start(SystemTime::UNIX_EPOCH + Duration::from_secs(WALL))
}

fn run(policy: &Retry, method: Method, script: &[Outcome]) -> Simulation {
    simulate_with_rng(policy, script, &opts(method), &mut Half)
}

fn decisions(policy: &Retry, method: Method, script: &[Outcome]) -> Vec<Decision> {
    run(policy, method, script).decisions()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn backoff(s: f64) -> Decision {
    Decision::Retry {
        after: secs(s),
        reason: RetryReason::Backoff,
    }
}

fn ra(s: f64) -> Decision {
    Decision::Retry {
        after: secs(s),
        reason: RetryReason::RetryAfter,
    }
}

const RET: Decision = Decision::Return;
const FOLLOW: Decision = Decision::FollowRedirect;

fn fail(reason: FailReason, cause: Cause) -> Decision {
    Decision::Fail(Fail { reason, cause })
}

/// urllib3's `MaxRetryError(<error>)`.
fn max_retry(k: FailureKind) -> Decision {
    fail(FailReason::Exhausted, Cause::Error(k))
}

/// urllib3's `MaxRetryError(ResponseError('too many <code> error responses'))`.
fn too_many_status(code: u16) -> Decision {
    fail(FailReason::Exhausted, Cause::Status(code))
}

/// urllib3's `MaxRetryError(ResponseError('too many redirects'))`.
fn too_many_redirects(code: u16) -> Decision {
    fail(FailReason::Exhausted, Cause::Redirect(code))
}

/// urllib3's unwrapped re-raise of the original error.
fn unwrapped(k: FailureKind) -> Decision {
    fail(FailReason::Unwrapped, Cause::Error(k))
}

// Event codes of the reference.
fn ce() -> Outcome {
    Outcome::error(FailureKind::Refused)
}
fn ct() -> Outcome {
    Outcome::error(FailureKind::ConnectTimeout)
}
fn rt() -> Outcome {
    Outcome::error_after_send(FailureKind::ReadTimeout)
}
fn pe() -> Outcome {
    Outcome::error_after_send(FailureKind::Eof)
}
/// urllib3's `SSLError` raised before anything was sent, which urllib3
/// counts as "other". (In hawser a handshake failure is `TlsHandshake`,
/// connect-class, and a certificate rejection is final: see
/// retry_hawser.rs.) `Other` keeps urllib3's accounting for these vectors.
fn oe() -> Outcome {
    Outcome::error(FailureKind::Other)
}
fn st(code: u16) -> Outcome {
    Outcome::status(code)
}
fn st_ra(code: u16, ra: &str) -> Outcome {
    ResponseOutcome::new(code).retry_after(ra).into()
}
fn redir(code: u16, loc: &str) -> Outcome {
    ResponseOutcome::new(code).location(loc).into()
}

use FailureKind::*;

#[test]
fn t01_default_total_10_retries_connect_errors() {
    assert_eq!(
        decisions(&Retry::default(), Method::GET, &[ce(), ce(), st(200)]),
        [backoff(0.0), backoff(0.0), RET]
    );
}

#[test]
fn t02_backoff_factor_one_sleeps_0_2_4_then_max_retry() {
    let p = Retry::new(3).backoff_factor(secs(1.0));
    assert_eq!(
        decisions(&p, Method::GET, &[ce(), ce(), ce(), ce()]),
        [backoff(0.0), backoff(2.0), backoff(4.0), max_retry(Refused)]
    );
}

#[test]
fn t03_connect_budget_one() {
    let p = Retry::new(3).connect(1);
    assert_eq!(
        decisions(&p, Method::GET, &[ce(), ce()]),
        [backoff(0.0), max_retry(Refused)]
    );
}

#[test]
fn t04_total_bounds_a_larger_connect_budget() {
    let p = Retry::new(3).connect(5);
    assert_eq!(
        decisions(&p, Method::GET, &[ce(), ce(), ce(), ce()]),
        [backoff(0.0), backoff(0.0), backoff(0.0), max_retry(Refused)]
    );
}

#[test]
fn t05_total_zero_fails_first_error() {
    assert_eq!(
        decisions(&Retry::new(0), Method::GET, &[ce()]),
        [max_retry(Refused)]
    );
}

#[test]
fn t06_total_disabled_returns_error_unwrapped() {
    assert_eq!(
        decisions(&Retry::disabled(), Method::GET, &[ce()]),
        [unwrapped(Refused)]
    );
}

#[test]
fn t07_connect_disabled_returns_connect_timeout_unwrapped() {
    let p = Retry::new(3).connect(Counter::Disabled);
    assert_eq!(
        decisions(&p, Method::GET, &[ct()]),
        [unwrapped(ConnectTimeout)]
    );
}

#[test]
fn t08_post_connect_error_is_retried() {
    assert_eq!(
        decisions(&Retry::new(3), Method::POST, &[ce(), st(200)]),
        [backoff(0.0), RET]
    );
}

#[test]
fn t09_post_read_timeout_is_not_retried() {
    assert_eq!(
        decisions(&Retry::new(3), Method::POST, &[rt()]),
        [unwrapped(ReadTimeout)]
    );
}

#[test]
fn t10_post_protocol_error_is_not_retried() {
    assert_eq!(
        decisions(&Retry::new(3), Method::POST, &[pe()]),
        [unwrapped(Eof)]
    );
}

#[test]
fn t11_get_read_errors_are_retried() {
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &[rt(), pe(), st(200)]),
        [backoff(0.0), backoff(0.0), RET]
    );
}

#[test]
fn t12_read_zero_fails_first_read_error() {
    let p = Retry::new(3).read(0);
    assert_eq!(
        decisions(&p, Method::GET, &[rt()]),
        [max_retry(ReadTimeout)]
    );
}

#[test]
fn t13_read_disabled_returns_read_timeout_unwrapped() {
    let p = Retry::new(3).read(Counter::Disabled);
    assert_eq!(
        decisions(&p, Method::GET, &[rt()]),
        [unwrapped(ReadTimeout)]
    );
}

#[test]
fn t14_any_method_retries_post_read_error() {
    let p = Retry::new(3).any_method();
    assert_eq!(
        decisions(&p, Method::POST, &[rt(), st(200)]),
        [backoff(0.0), RET]
    );
}

#[test]
fn t15_other_error_ignores_method() {
    assert_eq!(
        decisions(&Retry::new(3), Method::POST, &[oe(), st(200)]),
        [backoff(0.0), RET]
    );
}

#[test]
fn t16_other_zero_fails_first_other_error() {
    let p = Retry::new(3).other(0);
    assert_eq!(decisions(&p, Method::GET, &[oe()]), [max_retry(Other)]);
}

#[test]
fn t17_503_retry_after_is_honoured() {
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &[st_ra(503, "2"), st(200)]),
        [ra(2.0), RET]
    );
}

#[test]
fn t18_implicit_retry_after_returns_last_response_when_total_runs_out() {
    let s = vec![st_ra(429, "1"); 4];
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &s),
        [ra(1.0), ra(1.0), ra(1.0), RET]
    );
}

#[test]
fn t19_503_without_retry_after_is_returned() {
    assert_eq!(decisions(&Retry::new(3), Method::GET, &[st(503)]), [RET]);
}

#[test]
fn t20_500_with_retry_after_is_not_implicitly_retried() {
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &[st_ra(500, "2")]),
        [RET]
    );
}

#[test]
fn t21_post_503_retry_after_is_returned() {
    assert_eq!(
        decisions(&Retry::new(3), Method::POST, &[st_ra(503, "2")]),
        [RET]
    );
}

#[test]
fn t22_total_zero_disables_implicit_retry_after() {
    assert_eq!(
        decisions(&Retry::new(0), Method::GET, &[st_ra(503, "2")]),
        [RET]
    );
}

#[test]
fn t23_forcelist_with_total_zero_fails() {
    let p = Retry::new(0).status_forcelist([503]);
    assert_eq!(
        decisions(&p, Method::GET, &[st(503)]),
        [too_many_status(503)]
    );
}

#[test]
fn t24_total_unlimited_disables_implicit_retry_after() {
    let p = Retry::new(Counter::Unlimited).status(2);
    assert_eq!(decisions(&p, Method::GET, &[st_ra(503, "1")]), [RET]);
}

#[test]
fn t25_status_budget_two_with_forcelist() {
    let p = Retry::new(Counter::Unlimited)
        .status(2)
        .status_forcelist([503]);
    assert_eq!(
        decisions(&p, Method::GET, &[st(503), st(503), st(503)]),
        [backoff(0.0), backoff(0.0), too_many_status(503)]
    );
}

#[test]
fn t26_raise_on_status_false_returns_last_response() {
    let p = Retry::new(3).status_forcelist([503]).raise_on_status(false);
    assert_eq!(
        decisions(&p, Method::GET, &vec![st(503); 4]),
        [backoff(0.0), backoff(0.0), backoff(0.0), RET]
    );
}

#[test]
fn t27_status_zero_fails_first_status() {
    let p = Retry::new(3).status(0).status_forcelist([503]);
    assert_eq!(
        decisions(&p, Method::GET, &[st(503)]),
        [too_many_status(503)]
    );
}

#[test]
fn t28_retry_after_honoured_for_forcelisted_500_then_backoff() {
    let p = Retry::new(3)
        .status_forcelist([500])
        .backoff_factor(secs(1.0));
    assert_eq!(
        decisions(
            &p,
            Method::GET,
            &[st_ra(500, "10"), st(500), st(500), st(200)]
        ),
        [ra(10.0), backoff(2.0), backoff(4.0), RET]
    );
}

#[test]
fn t29_ignoring_retry_after_disables_implicit_retry() {
    let p = Retry::new(3).respect_retry_after_header(false);
    assert_eq!(decisions(&p, Method::GET, &[st_ra(503, "2")]), [RET]);
}

#[test]
fn t30_ignoring_retry_after_uses_backoff() {
    let p = Retry::new(3)
        .respect_retry_after_header(false)
        .status_forcelist([503])
        .backoff_factor(secs(0.5));
    assert_eq!(
        decisions(&p, Method::GET, &[st_ra(503, "100"), st(503), st(200)]),
        [backoff(0.0), backoff(1.0), RET]
    );
}

#[test]
fn t31_retry_after_zero_falls_back_to_backoff() {
    let p = Retry::new(3)
        .status_forcelist([503])
        .backoff_factor(secs(1.0));
    let sim = run(
        &p,
        Method::GET,
        &[st_ra(503, "0"), st_ra(503, "0"), st(200)],
    );
    assert_eq!(sim.decisions(), [backoff(0.0), backoff(2.0), RET]);
    assert!(
        sim.state
            .history()
            .all(|h| h.retry_after == RetryAfterUse::Zero)
    );
}

#[test]
fn t32_retry_after_http_date_five_seconds_ahead() {
    let date = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(WALL + 5));
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &[st_ra(503, &date), st(200)]),
        [ra(5.0), RET]
    );
}

#[test]
fn t33_past_http_date_falls_back_to_backoff() {
    let date = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(WALL - 60));
    let p = Retry::new(3).backoff_factor(secs(1.0));
    assert_eq!(
        decisions(&p, Method::GET, &[ce(), st_ra(503, &date), st(200)]),
        [backoff(0.0), backoff(2.0), RET]
    );
}

#[test]
fn t34_malformed_retry_after_is_ignored() {
    // hawser differs (docs/RETRY.md point 5): urllib3 raises InvalidHeader after
    // a retry was already spent; hawser falls back to backoff, records the
    // malformed header, and the next attempt's 200 is returned.
    let sim = run(&Retry::new(3), Method::GET, &[st_ra(503, "soon"), st(200)]);
    assert_eq!(sim.decisions(), [backoff(0.0), RET]);
    let h: Vec<_> = sim.state.history().collect();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].retry_after, RetryAfterUse::Malformed);
}

#[test]
fn t35_fractional_retry_after_is_ignored() {
    // hawser differs (docs/RETRY.md point 5): "1.5" is malformed, so backoff.
    let sim = run(&Retry::new(3), Method::GET, &[st_ra(503, "1.5"), st(200)]);
    assert_eq!(sim.decisions(), [backoff(0.0), RET]);
    assert_eq!(
        sim.state.history().next().map(|h| h.retry_after),
        Some(RetryAfterUse::Malformed)
    );
}

#[test]
fn t36_retry_after_clamped_to_six_hours() {
    assert_eq!(
        decisions(
            &Retry::new(3),
            Method::GET,
            &[st_ra(503, "999999"), st(200)]
        ),
        [ra(21600.0), RET]
    );
}

#[test]
fn t37_backoff_max_clamps_after_jitter() {
    let p = Retry::new(10)
        .backoff_factor(secs(10.0))
        .backoff_max(secs(15.0))
        .backoff_jitter(secs(1.0));
    assert_eq!(
        decisions(&p, Method::GET, &[ce(), ce(), ce(), ce(), st(200)]),
        [
            backoff(0.0),
            backoff(15.0),
            backoff(15.0),
            backoff(15.0),
            RET
        ]
    );
}

#[test]
fn t38_additive_jitter() {
    let p = Retry::new(5)
        .backoff_factor(secs(1.0))
        .backoff_jitter(secs(3.0));
    assert_eq!(
        decisions(&p, Method::GET, &[ce(), ce(), st(200)]),
        [backoff(0.0), backoff(3.5), RET]
    );
}

#[test]
fn t39_redirect_resets_the_backoff_run() {
    let p = Retry::new(10)
        .backoff_factor(secs(1.0))
        .status_forcelist([503]);
    let s = [
        st(503),
        st(503),
        redir(302, "/x"),
        st(503),
        st(503),
        st(200),
    ];
    // urllib3 reports the redirect as retry(0s); hawser's decision names it.
    assert_eq!(
        decisions(&p, Method::GET, &s),
        [
            backoff(0.0),
            backoff(2.0),
            FOLLOW,
            backoff(0.0),
            backoff(2.0),
            RET
        ]
    );
}

#[test]
fn t40_redirect_counter_two() {
    // Same outcome as urllib3: the `redirect` counter alone decides it.
    let p = Retry::new(3).redirect(2);
    let s = [redir(302, "/a"), redir(302, "/b"), redir(302, "/c")];
    assert_eq!(
        decisions(&p, Method::GET, &s),
        [FOLLOW, FOLLOW, too_many_redirects(302)]
    );
}

#[test]
fn t41_raise_on_redirect_false_returns_the_3xx() {
    let p = Retry::new(3).redirect(2).raise_on_redirect(false);
    let s = [redir(302, "/a"), redir(302, "/b"), redir(302, "/c")];
    assert_eq!(decisions(&p, Method::GET, &s), [FOLLOW, FOLLOW, RET]);
}

#[test]
fn t42_total_disabled_still_follows_redirects() {
    // hawser differs (docs/RETRY.md, Redirects): `Retry(total=False)` disables
    // retries, not redirects. urllib3 returns the 302 here.
    assert_eq!(
        decisions(
            &Retry::disabled(),
            Method::GET,
            &[redir(302, "/a"), st(200)]
        ),
        [FOLLOW, RET]
    );
}

#[test]
fn t43_redirect_never_sleeps_for_retry_after() {
    // hawser differs: urllib3's connection pool sleeps Retry-After (3 s) on a
    // redirect even with respect_retry_after_header=False; its PoolManager
    // does not (T44). hawser follows the PoolManager: a redirect is not a
    // failure and never sleeps.
    let p = Retry::new(3).respect_retry_after_header(false);
    let r: Outcome = ResponseOutcome::new(302)
        .location("/a")
        .retry_after("3")
        .into();
    let sim = run(&p, Method::GET, &[r, st(200)]);
    assert_eq!(sim.decisions(), [FOLLOW, RET]);
    assert_eq!(sim.state.total_sleep(), Duration::ZERO);
}

#[test]
fn t44_pool_manager_redirect_does_not_sleep() {
    let r: Outcome = ResponseOutcome::new(302)
        .location("/a")
        .retry_after("3")
        .into();
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &[r, st(200)]),
        [FOLLOW, RET]
    );
}

#[test]
fn t45_redirects_do_not_spend_total() {
    // hawser differs (docs/RETRY.md, Redirects): urllib3 counts redirects against
    // total, so Retry(3) fails on the 4th 302. In hawser only the redirect
    // module's max_redirects bounds them; here it says the limit is reached
    // on the 4th hop (as with max_redirects = 3).
    let limit: Outcome = ResponseOutcome::new(302)
        .location("/d")
        .redirect(RedirectPermission::LimitReached)
        .into();
    let s = [redir(302, "/a"), redir(302, "/b"), redir(302, "/c"), limit];
    let sim = run(&Retry::new(3), Method::GET, &s);
    assert_eq!(
        sim.decisions(),
        [FOLLOW, FOLLOW, FOLLOW, too_many_redirects(302)]
    );
    assert_eq!(sim.state.remaining().total, Counter::Count(3));
}

#[test]
fn t46_302_without_location_is_returned() {
    assert_eq!(decisions(&Retry::new(3), Method::GET, &[st(302)]), [RET]);
}

#[test]
fn t47_total_disabled_with_forcelist_fails_on_status() {
    let p = Retry::disabled().status_forcelist([503]);
    assert_eq!(
        decisions(&p, Method::GET, &[st(503)]),
        [too_many_status(503)]
    );
}

#[test]
fn t48_status_budget_applies_to_implicit_retry_after() {
    let p = Retry::new(5).status(1);
    assert_eq!(
        decisions(&p, Method::GET, &[st_ra(429, "1"), st_ra(429, "1")]),
        [ra(1.0), too_many_status(429)]
    );
}

#[test]
fn t49_reason_is_the_current_event() {
    let p = Retry::new(5).connect(2).read(2);
    assert_eq!(
        decisions(&p, Method::GET, &[ce(), rt(), ce(), rt(), ce()]),
        [
            backoff(0.0),
            backoff(0.0),
            backoff(0.0),
            backoff(0.0),
            max_retry(Refused)
        ]
    );
}

#[test]
fn t50_total_zero_raise_on_status_false_returns() {
    let p = Retry::new(0).status_forcelist([503]).raise_on_status(false);
    assert_eq!(decisions(&p, Method::GET, &[st(503)]), [RET]);
}

#[test]
fn t51_requests_default_returns_protocol_error_unwrapped() {
    let p = Retry::new(0).read(Counter::Disabled);
    assert_eq!(p, Retry::requests_compat());
    assert_eq!(decisions(&p, Method::GET, &[pe()]), [unwrapped(Eof)]);
}

#[test]
fn t52_empty_retry_after_is_ignored() {
    // hawser differs (docs/RETRY.md point 5): an empty Retry-After on a
    // forcelisted 503 is malformed; urllib3 raises InvalidHeader, hawser
    // backs off and records it.
    let p = Retry::new(3).status_forcelist([503]);
    let sim = run(&p, Method::GET, &[st_ra(503, "")]);
    assert_eq!(sim.decisions(), [backoff(0.0)]);
    assert_eq!(
        sim.state.history().next().map(|h| h.retry_after),
        Some(RetryAfterUse::Malformed)
    );
}

#[test]
fn t53_not_followed_redirect_in_forcelist_is_a_status_retry() {
    // hawser differs: urllib3 spends the redirect counter for a 3xx even
    // when urlopen does not follow redirects, and fails "too many
    // redirects". In hawser a 3xx that is not being followed is a plain
    // response, and 301 is in the forcelist, so it is a status retry.
    let p = Retry::new(3).status_forcelist([301]).redirect(0);
    let r: Outcome = ResponseOutcome::new(301)
        .location("/x")
        .redirect(RedirectPermission::NotFollowing)
        .into();
    assert_eq!(decisions(&p, Method::GET, &[r]), [backoff(0.0)]);
    // When the redirect would be followed, redirect=0 ends it as urllib3 does.
    assert_eq!(
        decisions(&p, Method::GET, &[redir(301, "/x")]),
        [too_many_redirects(301)]
    );
}

// requests vectors: `HTTPAdapter` default is `Retry(total=0, read=False)`.

fn adapter_default() -> Retry {
    Retry::requests_compat()
}

#[test]
fn rq01_default_connect_error_fails_after_one_attempt() {
    // requests: ConnectionError (MaxRetryError(NewConnectionError)).
    assert_eq!(
        decisions(&adapter_default(), Method::GET, &[ce()]),
        [max_retry(Refused)]
    );
}

#[test]
fn rq02_default_connect_timeout() {
    // requests: ConnectTimeout (MaxRetryError(ConnectTimeoutError)).
    let sim = run(&adapter_default(), Method::GET, &[ct()]);
    assert_eq!(sim.decisions(), [max_retry(ConnectTimeout)]);
    let f = match sim.final_decision() {
        Some(Decision::Fail(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    };
    let e = f.into_error(None);
    assert_eq!(e.kind(), hawser_core::ErrorKind::RetriesExhausted);
    assert_eq!(
        e.root_cause().timeout_phase(),
        Some(hawser_core::TimeoutPhase::Connect)
    );
}

#[test]
fn rq03_default_read_timeout_unwrapped() {
    assert_eq!(
        decisions(&adapter_default(), Method::GET, &[rt()]),
        [unwrapped(ReadTimeout)]
    );
}

#[test]
fn rq04_default_protocol_error_unwrapped() {
    assert_eq!(
        decisions(&adapter_default(), Method::GET, &[pe()]),
        [unwrapped(Eof)]
    );
}

#[test]
fn rq05_default_ssl_error_exhausts() {
    assert_eq!(
        decisions(&adapter_default(), Method::GET, &[oe()]),
        [max_retry(Other)]
    );
}

#[test]
fn rq06_default_503_retry_after_returned_without_sleep() {
    let sim = run(&adapter_default(), Method::GET, &[st_ra(503, "2")]);
    assert_eq!(sim.decisions(), [RET]);
    assert_eq!(sim.state.total_sleep(), Duration::ZERO);
}

#[test]
fn rq07_default_malformed_retry_after_never_parsed() {
    let sim = run(&adapter_default(), Method::GET, &[st_ra(503, "soon")]);
    assert_eq!(sim.decisions(), [RET]);
    assert_eq!(sim.state.history().len(), 0);
}

#[test]
fn rq08_three_read_timeouts_then_fail() {
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &vec![rt(); 4]),
        [
            backoff(0.0),
            backoff(0.0),
            backoff(0.0),
            max_retry(ReadTimeout)
        ]
    );
}

#[test]
fn rq09_three_connect_timeouts_then_fail() {
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &vec![ct(); 4]),
        [
            backoff(0.0),
            backoff(0.0),
            backoff(0.0),
            max_retry(ConnectTimeout)
        ]
    );
}

#[test]
fn rq10_post_read_timeout_one_attempt() {
    assert_eq!(
        decisions(&Retry::new(3), Method::POST, &[rt()]),
        [unwrapped(ReadTimeout)]
    );
}

#[test]
fn rq11_post_connect_error_retried() {
    assert_eq!(
        decisions(&Retry::new(3), Method::POST, &[ce(), st(200)]),
        [backoff(0.0), RET]
    );
}

#[test]
fn rq12_forcelist_503_four_times_fails() {
    let p = Retry::new(3).status_forcelist([503]);
    assert_eq!(
        decisions(&p, Method::GET, &vec![st(503); 4]),
        [
            backoff(0.0),
            backoff(0.0),
            backoff(0.0),
            too_many_status(503)
        ]
    );
}

#[test]
fn rq13_forcelist_raise_on_status_false_returns_503() {
    let p = Retry::new(3).status_forcelist([503]).raise_on_status(false);
    assert_eq!(
        decisions(&p, Method::GET, &vec![st(503); 4]),
        [backoff(0.0), backoff(0.0), backoff(0.0), RET]
    );
}

#[test]
fn rq14_malformed_retry_after_with_forcelist_is_ignored() {
    // hawser differs (docs/RETRY.md point 5): requests raises InvalidHeader.
    let p = Retry::new(3).status_forcelist([503]);
    let sim = run(&p, Method::GET, &[st_ra(503, "soon"), st(200)]);
    assert_eq!(sim.decisions(), [backoff(0.0), RET]);
    assert_eq!(
        sim.state.history().next().map(|h| h.retry_after),
        Some(RetryAfterUse::Malformed)
    );
}

#[test]
fn rq15_redirect_counter_zero_is_honoured() {
    // hawser differs: requests switches urllib3's redirects off, so its
    // `redirect=0` is inert and the 302 is followed. hawser follows
    // redirects itself and honours the counter the user set (docs/RETRY.md:
    // "spends one from `redirect` when the user set that counter").
    let p = Retry::new(3).redirect(0);
    assert_eq!(
        decisions(&p, Method::GET, &[redir(302, "/b"), st(200)]),
        [too_many_redirects(302)]
    );
    // Without that counter, the redirect is followed as in requests.
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &[redir(302, "/b"), st(200)]),
        [FOLLOW, RET]
    );
}

#[test]
fn rq16_one_budget_across_redirect_hops() {
    // hawser differs (docs/RETRY.md, Redirects): requests gives each hop a fresh
    // Retry(1), so this returns 200 there. hawser keeps one budget per
    // logical request: the second connect error exhausts it.
    let sim = run(
        &Retry::new(1),
        Method::GET,
        &[ce(), redir(302, "/b"), ce(), st(200)],
    );
    assert_eq!(sim.decisions(), [backoff(0.0), FOLLOW, max_retry(Refused)]);
    // The history lists every attempt, including the redirect followed.
    let h: Vec<_> = sim.state.history().collect();
    assert_eq!(h.len(), 3);
    assert_eq!(h[1].redirect_location.as_deref(), Some("/b"));
    assert_eq!(&*h[2].url, "/b");
}

#[test]
fn rq17_retry_after_two_then_200() {
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &[st_ra(503, "2"), st(200)]),
        [ra(2.0), RET]
    );
}

#[test]
fn rq18_429_retry_after_seven_three_times_then_returned() {
    assert_eq!(
        decisions(&Retry::new(3), Method::GET, &vec![st_ra(429, "7"); 4]),
        [ra(7.0), ra(7.0), ra(7.0), RET]
    );
}
