//! Deterministic scenarios for the call orchestrator: a scripted server, a
//! fake clock and the driver loop a backend writes (tests/call_support).
//! Each test names the docs/RETRY.md / issue 4 behaviour it checks.

mod call_support;

use std::io::Write;
use std::time::Duration;

use call_support::*;
use hawser_core::call::{AttemptOutcome, CallOptions, Config};
use hawser_core::deadline::Timeouts;
use hawser_core::request::{Body, Request};
use hawser_core::retry::Retry;
use hawser_core::{ErrorKind, TimeoutPhase};

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn retry(n: u32) -> Config {
    config_with_retry(Retry::new(n))
}

fn opts_timeouts(t: Timeouts) -> CallOptions {
    CallOptions {
        timeouts: Some(t),
        seed: 1,
        ..Default::default()
    }
}

// ----- keep-alive and stale connections ------------------------------------

#[test]
fn keep_alive_connection_is_reused_by_the_next_call_on_the_agent() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK)).answer(Answer::reply(OK));
    let a = s.run(get("http://h.test/a"));
    assert_eq!((a.status(), a.body.as_slice()), (200, &b"ok"[..]));
    assert_eq!(a.releases, vec![true]);
    assert_eq!(s.pooled(), 1);
    let b = s.run(get("http://h.test/b"));
    assert_eq!(b.status(), 200);
    assert_eq!(
        s.server.connections(),
        1,
        "the second call must reuse the connection"
    );
    assert_eq!(s.server.received[1].conn, 0);
    assert_eq!(s.server.received[1].target, "/b");
    assert_eq!(b.report.connections_opened, 0);
    assert_eq!(b.report.connections_reused, 1);
    assert!(b.report.attempts[0].reused_connection);
    assert!(!a.report.attempts[0].reused_connection);
}

#[test]
fn connection_close_response_is_not_pooled() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(200, "Connection: close\r\n", "ok"));
    let a = s.run(get("http://h.test/"));
    assert_eq!(a.status(), 200);
    assert_eq!(a.releases, vec![false]);
    assert_eq!(s.pooled(), 0);
}

#[test]
fn stale_pooled_connection_is_resent_on_a_fresh_one_without_spending_retries() {
    // Retry::new(0): no retry budget at all, yet the stale re-send happens.
    let mut s = Scenario::new(retry(0));
    s.prepooled("http://h.test/warm")
        .answer(Answer::fault(End::Eof))
        .answer(Answer::reply(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh",
        ));
    let out = s.run(get("http://h.test/again"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.body, b"fresh");
    assert_eq!(s.server.connections(), 2);
    assert_eq!(s.server.received[1].conn, 0);
    assert_eq!(s.server.received[2].conn, 1);
    let at = &out.report.attempts;
    assert_eq!(at.len(), 2);
    assert!(at[0].reused_connection && !at[1].reused_connection);
    assert!(at[0].next.contains("stale"), "{:?}", at[0].next);
    assert!(out.waits.is_empty(), "a stale re-send does not sleep");
}

#[test]
fn stale_pooled_connection_reset_is_also_resent_silently() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK))
        .answer(Answer::fault(End::Reset))
        .answer(Answer::reply(OK));
    s.run(get("http://h.test/warm"));
    let out = s.run(get("http://h.test/again"));
    assert_eq!(out.status(), 200);
    assert_eq!(s.server.received.len(), 3);
}

#[test]
fn eof_on_a_fresh_connection_spends_a_retry() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::fault(End::Eof));
    let out = s.run(get("http://h.test/"));
    let e = out.err();
    assert_eq!(e.kind(), ErrorKind::RetriesExhausted, "{e:?}");
    assert_eq!(e.root_cause().kind(), ErrorKind::Protocol, "{e:?}");
    assert_eq!(s.server.received.len(), 1, "no retry budget: sent once");
    assert!(!out.report.attempts[0].next.contains("stale"));
}

// ----- statuses, Retry-After and backoff ------------------------------------

#[test]
fn retry_after_503_sleeps_exactly_the_header() {
    let mut s = Scenario::new(retry(3));
    s.answer(Answer::status(503, "Retry-After: 7\r\n", ""))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.waits, vec![Duration::from_secs(7)]);
    assert_eq!(out.report.slept, Duration::from_secs(7));
    assert_eq!(out.report.attempts[0].sleep, Duration::from_secs(7));
    assert_eq!(
        out.report.attempts[0].outcome,
        AttemptOutcome::Status(http::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(out.elapsed, Duration::from_secs(7));
    // The 503 body was drained and the connection kept.
    assert_eq!(s.server.connections(), 1);
}

#[test]
fn connect_refused_is_retried_with_exponential_backoff() {
    let mut s = Scenario::new(config_with_retry(
        Retry::new(5).backoff_factor(Duration::from_millis(500)),
    ));
    s.connect(ConnectResult::Refused)
        .connect(ConnectResult::Refused)
        .connect(ConnectResult::Refused);
    s.answer(Answer::reply(OK));
    let out = s.run(Request::post("http://h.test/p").body("x").build().unwrap());
    assert_eq!(
        out.status(),
        200,
        "connect errors are retried for every method"
    );
    // No sleep on the first retry, then factor * 2^(n-1).
    assert_eq!(
        out.waits,
        vec![Duration::from_secs(1), Duration::from_secs(2)]
    );
    let sleeps: Vec<_> = out.report.attempts.iter().map(|a| a.sleep).collect();
    assert_eq!(
        sleeps,
        vec![
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::ZERO
        ]
    );
    assert_eq!(s.server.connect_targets.len(), 4);
    assert_eq!(s.server.received.len(), 1);
}

#[test]
fn connect_refused_exhausting_retries_reports_the_last_cause() {
    let mut s = Scenario::new(retry(1));
    s.connect(ConnectResult::Refused)
        .connect(ConnectResult::Refused);
    let out = s.run(get("http://h.test/"));
    let e = out.err();
    assert_eq!(e.kind(), ErrorKind::RetriesExhausted, "{e}");
    assert_eq!(e.root_cause().kind(), ErrorKind::Connect, "{e:?}");
}

#[test]
fn reset_after_sending_a_get_is_retried() {
    let mut s = Scenario::new(retry(2));
    s.answer(Answer::fault(End::Reset))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(s.server.received.len(), 2);
    assert_eq!(s.server.connections(), 2);
}

#[test]
fn reset_after_sending_a_post_is_not_retried() {
    let mut s = Scenario::new(retry(2));
    s.answer(Answer::fault(End::Reset))
        .answer(Answer::reply(OK));
    let out = s.run(
        Request::post("http://h.test/p")
            .body("data")
            .build()
            .unwrap(),
    );
    let e = out.err();
    assert!(
        matches!(e.kind(), ErrorKind::Io | ErrorKind::RetriesExhausted),
        "{e:?}"
    );
    let posts = s
        .server
        .received
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "the server saw exactly one POST");
    assert_eq!(out.report.attempts.len(), 1, "{:#?}", out.report);
    assert_eq!(out.report.attempts[0].next, "fail");
}

// ----- timeouts and the deadline ---------------------------------------------

#[test]
fn read_timeout_names_the_response_head() {
    let t = Timeouts::default()
        .with_read(Duration::from_secs(2))
        .unwrap();
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::fault(End::Stall));
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    let e = out.err();
    let cause = e.root_cause();
    assert_eq!(
        cause.timeout_phase(),
        Some(TimeoutPhase::ResponseHead),
        "{e:?}"
    );
    assert_eq!(out.elapsed, Duration::from_secs(2));
}

#[test]
fn connect_timeout_names_connect() {
    let t = Timeouts::default()
        .with_connect(Duration::from_secs(3))
        .unwrap();
    let mut s = Scenario::new(retry(0));
    s.connect(ConnectResult::Hang);
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    let e = out.err();
    assert_eq!(
        e.root_cause().timeout_phase(),
        Some(TimeoutPhase::Connect),
        "{e:?}"
    );
    assert_eq!(out.elapsed, Duration::from_secs(3));
}

#[test]
fn slow_drip_within_the_read_timeout_is_not_a_timeout() {
    let t = Timeouts::default()
        .with_read(Duration::from_secs(2))
        .unwrap();
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK).drip(3, Duration::from_secs(1)));
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    assert_eq!(out.status(), 200);
    assert_eq!(out.body, b"ok");
    assert!(
        out.elapsed > Duration::from_secs(10),
        "the drip took {:?}",
        out.elapsed
    );
}

#[test]
fn deadline_expiring_mid_body_is_a_timeout_naming_the_deadline_or_body() {
    let t = Timeouts::default()
        .with_read(Duration::from_secs(5))
        .unwrap()
        .with_deadline(Duration::from_secs(10))
        .unwrap();
    let mut s = Scenario::new(retry(3));
    let body = "x".repeat(100);
    s.answer(
        Answer::reply(format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{body}"
        ))
        .drip(20, Duration::from_secs(3)),
    );
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    assert_eq!(out.status(), 200, "the head arrived");
    let e = out.err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert!(
        matches!(
            e.timeout_phase(),
            Some(TimeoutPhase::Deadline | TimeoutPhase::Body)
        ),
        "{e:?}"
    );
    assert!(out.elapsed <= Duration::from_secs(10));
    assert!(out.body.len() < 100);
    assert_eq!(
        s.server.received.len(),
        1,
        "a body error after the head is final"
    );
}

#[test]
fn retry_after_longer_than_the_deadline_fails_at_once_with_the_last_cause() {
    let t = Timeouts::default()
        .with_deadline(Duration::from_secs(30))
        .unwrap();
    let mut s = Scenario::new(retry(3));
    s.answer(Answer::status(503, "Retry-After: 60\r\n", ""));
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    assert!(
        out.waits.is_empty(),
        "no sleep past the deadline: {:?}",
        out.waits
    );
    assert!(out.elapsed < Duration::from_secs(1));
    let e = out.err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert_eq!(e.timeout_phase(), Some(TimeoutPhase::Deadline), "{e:?}");
    let text = format!("{e:?}");
    assert!(text.contains("503"), "the last cause is carried: {text}");
}

#[test]
fn truncated_body_is_a_body_error() {
    let mut s = Scenario::new(retry(3));
    s.answer(Answer::reply("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").then(End::Eof));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.body, b"abc");
    assert_eq!(out.err().kind(), ErrorKind::Body, "{:?}", out.error);
    assert_eq!(s.server.received.len(), 1);
    assert_eq!(out.releases, vec![false]);
}

// ----- decoding ---------------------------------------------------------------

#[test]
fn gzip_body_is_decoded_and_content_encoding_removed() {
    let plain = b"hello, compressed world! ".repeat(50);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&plain).unwrap();
    let z = e.finish().unwrap();
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    resp.extend_from_slice(&z);
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(resp).drip(7, Duration::ZERO));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.body, plain);
    let h = out.head.as_ref().unwrap();
    assert!(h.headers.get("content-encoding").is_none());
    assert!(h.headers.get("content-length").is_none());
    assert_eq!(
        s.server.received[0].header("accept-encoding"),
        Some("gzip, deflate")
    );
    assert_eq!(out.releases, vec![true]);
}

// ----- redirects -----------------------------------------------------------

fn redirect_case(status: u16, method: &str) -> (String, Vec<u8>, Option<String>) {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(status, "Location: /next\r\n", ""))
        .answer(Answer::reply(OK));
    let req = Request::builder(method.parse().unwrap(), "http://h.test/start")
        .header("content-type", "text/plain")
        .body("payload")
        .build()
        .unwrap();
    let out = s.run(req);
    assert_eq!(out.status(), 200, "{status} {method}");
    let r = &s.server.received[1];
    assert_eq!(r.target, "/next");
    let h = out.head.unwrap();
    assert_eq!(h.url.as_str(), "http://h.test/next");
    assert_eq!(h.history.len(), 1);
    assert_eq!(h.history[0].status.as_u16(), status);
    (
        r.method.clone(),
        r.body.clone(),
        r.header("content-type").map(str::to_owned),
    )
}

#[test]
fn redirect_301_302_303_rewrite_post_to_get_without_body() {
    for status in [301, 302, 303] {
        let (m, body, ct) = redirect_case(status, "POST");
        assert_eq!(m, "GET", "{status}");
        assert!(body.is_empty(), "{status}");
        assert_eq!(ct, None, "{status}: Content-* headers go with the body");
    }
}

#[test]
fn redirect_307_308_keep_method_and_body() {
    for status in [307, 308] {
        let (m, body, ct) = redirect_case(status, "POST");
        assert_eq!(m, "POST", "{status}");
        assert_eq!(body, b"payload", "{status}");
        assert_eq!(ct.as_deref(), Some("text/plain"));
    }
}

#[test]
fn redirect_303_turns_put_into_get_and_301_keeps_put() {
    assert_eq!(redirect_case(303, "PUT").0, "GET");
    assert_eq!(redirect_case(301, "PUT").0, "PUT");
}

#[test]
fn redirect_loop_ends_in_too_many_redirects() {
    let mut cfg = retry(0);
    cfg.redirect = hawser_core::redirect::RedirectPolicy::limited(3);
    let mut s = Scenario::new(cfg);
    for _ in 0..4 {
        s.answer(Answer::status(302, "Location: /loop\r\n", ""));
    }
    let out = s.run(get("http://h.test/loop"));
    assert_eq!(
        out.err().kind(),
        ErrorKind::TooManyRedirects,
        "{:?}",
        out.error
    );
    assert_eq!(s.server.received.len(), 4);
    assert_eq!(out.report.redirects.len(), 3);
}

#[test]
fn cross_origin_redirect_strips_authorization_and_user_cookie() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(302, "Location: http://other.test/x\r\n", ""))
        .answer(Answer::reply(OK));
    let req = Request::get("http://h.test/")
        .header("authorization", "Bearer secret-token")
        .header("cookie", "session=user-set")
        .header("proxy-authorization", "Basic cHJveHk=")
        .build()
        .unwrap();
    let out = s.run(req);
    assert_eq!(out.status(), 200);
    let first = &s.server.received[0];
    assert_eq!(first.header("authorization"), Some("Bearer secret-token"));
    assert_eq!(first.header("cookie"), Some("session=user-set"));
    let second = &s.server.received[1];
    assert_eq!(second.header("host"), Some("other.test"));
    assert_eq!(second.header("authorization"), None);
    assert_eq!(second.header("cookie"), None);
    assert_eq!(second.header("proxy-authorization"), None);
    assert_eq!(
        s.server.connections(),
        2,
        "another origin, another connection"
    );
}

#[test]
fn cross_origin_redirect_does_not_send_configured_basic_auth() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(302, "Location: http://other.test/x\r\n", ""))
        .answer(Answer::reply(OK));
    let opts = CallOptions {
        auth: Some(hawser_core::auth::Auth::basic("u", "p")),
        seed: 1,
        ..Default::default()
    };
    let out = s.run_with(get("http://h.test/"), opts, Stream::default());
    assert_eq!(out.status(), 200);
    assert!(s.server.received[0].header("authorization").is_some());
    assert_eq!(s.server.received[1].header("authorization"), None);
}

#[test]
fn cookies_set_on_a_redirect_are_sent_on_the_next_hop() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(
        302,
        "Set-Cookie: sid=abc; Path=/\r\nLocation: /in\r\n",
        "",
    ))
    .answer(Answer::reply(OK))
    .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/login"));
    assert_eq!(out.status(), 200);
    assert_eq!(s.server.received[0].header("cookie"), None);
    assert_eq!(s.server.received[1].header("cookie"), Some("sid=abc"));
    // And the jar keeps it for the next call on the agent.
    s.run(get("http://h.test/later"));
    assert_eq!(s.server.received[2].header("cookie"), Some("sid=abc"));
}

#[test]
fn relative_location_and_fragment_resolve_against_the_current_url() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(301, "Location: ../b?q=1\r\n", ""))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/dir/sub/a#frag"));
    assert_eq!(s.server.received[1].target, "/dir/b?q=1");
    assert_eq!(
        out.head.unwrap().url.as_str(),
        "http://h.test/dir/b?q=1#frag"
    );
}

// ----- auth ---------------------------------------------------------------------

#[test]
fn basic_auth_is_sent_preemptively() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK));
    let opts = CallOptions {
        auth: Some(hawser_core::auth::Auth::basic("Aladdin", "open sesame")),
        seed: 1,
        ..Default::default()
    };
    let out = s.run_with(get("http://h.test/"), opts, Stream::default());
    assert_eq!(out.status(), 200);
    assert_eq!(
        s.server.received[0].header("authorization"),
        Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    );
}

#[test]
fn url_credentials_become_basic_auth() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK));
    let out = s.run(get("http://user:pw@h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(
        s.server.received[0].header("authorization"),
        Some("Basic dXNlcjpwdw==")
    );
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn digest_params(v: &str) -> std::collections::HashMap<String, String> {
    let v = v.strip_prefix("Digest ").expect("a Digest header");
    let mut out = std::collections::HashMap::new();
    for part in v.split(", ") {
        if let Some((k, val)) = part.split_once('=') {
            out.insert(k.trim().to_string(), val.trim_matches('"').to_string());
        }
    }
    out
}

#[test]
fn digest_flow_answers_the_challenge_with_a_correct_response_hash() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(
        401,
        "WWW-Authenticate: Digest realm=\"test@h\", qop=\"auth\", nonce=\"n0nc3\", opaque=\"op\"\r\n",
        "denied",
    ))
    .answer(Answer::reply(OK));
    let opts = CallOptions {
        auth: Some(hawser_core::auth::Auth::digest("Mufasa", "Circle of Life")),
        seed: 9,
        ..Default::default()
    };
    let out = s.run_with(
        get("http://h.test/dir/index.html?x=1"),
        opts,
        Stream::default(),
    );
    assert_eq!(out.status(), 200);
    assert_eq!(s.server.received.len(), 2);
    assert_eq!(
        s.server.received[0].header("authorization"),
        None,
        "no challenge known yet"
    );
    let r = &s.server.received[1];
    let p = digest_params(r.header("authorization").expect("authorized re-send"));
    assert_eq!(p["username"], "Mufasa");
    assert_eq!(p["uri"], "/dir/index.html?x=1");
    assert_eq!(p["opaque"], "op");
    let ha1 = md5_hex(&format!("Mufasa:{}:Circle of Life", p["realm"]));
    let ha2 = md5_hex(&format!("GET:{}", p["uri"]));
    let expected = md5_hex(&format!(
        "{ha1}:{}:{}:{}:{}:{ha2}",
        p["nonce"], p["nc"], p["cnonce"], p["qop"]
    ));
    assert_eq!(p["response"], expected, "the server verifies the hash");
    assert_eq!(out.report.attempts[0].next, "answer auth challenge");
    assert_eq!(
        s.server.connections(),
        1,
        "the 401 body was drained, the connection kept"
    );
}

#[test]
fn digest_wrong_password_answers_once_then_returns_the_401() {
    let mut s = Scenario::new(retry(0));
    let chal = "WWW-Authenticate: Digest realm=\"r\", qop=\"auth\", nonce=\"a\"\r\n";
    s.answer(Answer::status(401, chal, ""))
        .answer(Answer::status(401, chal, ""));
    let opts = CallOptions {
        auth: Some(hawser_core::auth::Auth::digest("u", "wrong")),
        seed: 9,
        ..Default::default()
    };
    let out = s.run_with(get("http://h.test/"), opts, Stream::default());
    assert_eq!(out.status(), 401, "a 401 re-send is at most once per hop");
    assert_eq!(s.server.received.len(), 2);
}

// ----- proxies ---------------------------------------------------------------

fn proxied(proxy: &str) -> Config {
    let mut cfg = retry(0);
    cfg.proxies = hawser_core::proxy::ProxyConfig::new()
        .with_all(hawser_core::proxy::Proxy::parse(proxy).unwrap());
    cfg
}

#[test]
fn http_proxy_gets_absolute_form_and_proxy_authorization() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::reply(OK));
    let out = s.run(get("http://origin.test/path?q=1"));
    assert_eq!(out.status(), 200);
    assert_eq!(
        s.server.connect_targets,
        vec![("proxy.test".to_string(), 3128)]
    );
    let r = &s.server.received[0];
    assert_eq!(r.target, "http://origin.test/path?q=1");
    assert_eq!(r.header("proxy-authorization"), Some("Basic cHU6cHA="));
    assert_eq!(r.header("host"), Some("origin.test"));
}

#[test]
fn https_via_connect_carries_proxy_authorization_and_then_starts_tls() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::reply("HTTP/1.1 200 Connection established\r\n\r\n").start_tls());
    let t = Timeouts::default()
        .with_read(Duration::from_secs(1))
        .unwrap();
    let out = s.run_with(
        get("https://origin.test/secret"),
        opts_timeouts(t),
        Stream::default(),
    );
    let c = &s.server.received[0];
    assert_eq!(c.method, "CONNECT");
    assert_eq!(c.target, "origin.test:443");
    assert_eq!(c.header("proxy-authorization"), Some("Basic cHU6cHA="));
    // What went into the tunnel is a TLS ClientHello, not plaintext HTTP.
    let raw = s.server.tunnel_bytes(0).expect("bytes into the tunnel");
    assert_eq!(raw.first(), Some(&0x16), "a TLS handshake record");
    assert_eq!(raw.get(5), Some(&0x01), "a ClientHello");
    assert!(!raw.windows(19).any(|w| w == b"Proxy-Authorization"));
    assert!(!raw.windows(4).any(|w| w == b"GET "));
    // Our test server said nothing more: the handshake times out.
    assert_eq!(
        out.err().root_cause().timeout_phase(),
        Some(TimeoutPhase::TlsHandshake),
        "{:?}",
        out.error
    );
}

#[test]
fn proxy_refusing_connect_is_a_proxy_error() {
    let mut s = Scenario::new(proxied("http://proxy.test:3128"));
    s.answer(Answer::status(
        407,
        "Proxy-Authenticate: Basic realm=\"p\"\r\n",
        "",
    ));
    let out = s.run(get("https://origin.test/"));
    let e = out.err();
    assert_eq!(e.root_cause().kind(), ErrorKind::Proxy, "{e:?}");
}

// ----- Expect: 100-continue -------------------------------------------------------

fn expect_config() -> Config {
    let mut cfg = retry(0);
    cfg.expect_continue_min = Some(4);
    cfg
}

fn big_put() -> Request {
    Request::put("http://h.test/upload")
        .body("0123456789")
        .build()
        .unwrap()
}

/// By default no body, however large, waits for `100 Continue`: requests,
/// reqwest, ureq and hyper never ask, and asking costs a round trip.
#[test]
fn no_expect_by_default_even_for_a_large_body() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK));
    let body = vec![b'u'; 4 << 20];
    let out = s.run(
        Request::put("http://h.test/upload")
            .body(body.clone())
            .build()
            .unwrap(),
    );
    assert_eq!(out.status(), 200);
    let r = &s.server.received[0];
    assert_eq!(r.header("expect"), None);
    assert_eq!(r.body, body);
    assert_eq!(out.elapsed, Duration::ZERO, "nothing waited for a 100");
}

#[test]
fn expect_100_then_body() {
    let mut s = Scenario::new(expect_config());
    s.answer(Answer::reply(OK).with_continue());
    let out = s.run(big_put());
    assert_eq!(out.status(), 200);
    let r = &s.server.received[0];
    assert_eq!(r.header("expect"), Some("100-continue"));
    assert_eq!(r.body, b"0123456789");
    assert_eq!(out.elapsed, Duration::ZERO, "no wait when 100 came");
}

#[test]
fn expect_final_417_means_the_body_is_not_sent() {
    let mut s = Scenario::new(expect_config());
    s.answer(Answer::status(417, "", "").on_head());
    let out = s.run(big_put());
    assert_eq!(out.status(), 417);
    assert!(
        s.server.received[0].body.is_empty(),
        "the body was not sent"
    );
    assert_eq!(
        out.releases,
        vec![false],
        "the connection cannot carry another request"
    );
}

#[test]
fn expect_without_an_answer_sends_the_body_after_the_wait() {
    let mut cfg = expect_config();
    cfg.expect_continue_wait = Duration::from_millis(1500);
    let mut s = Scenario::new(cfg);
    s.answer(Answer::reply(OK));
    let out = s.run(big_put());
    assert_eq!(out.status(), 200);
    assert_eq!(s.server.received[0].body, b"0123456789");
    assert_eq!(out.elapsed, Duration::from_millis(1500));
}

// ----- streamed (non-replayable) bodies ------------------------------------------

fn stream(pieces: &[&str]) -> Stream {
    Stream {
        pieces: pieces.iter().map(|p| p.as_bytes().to_vec()).collect(),
    }
}

#[test]
fn streamed_body_is_sent_chunked() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK));
    let req = Request::post("http://h.test/s")
        .body(Body::stream(None))
        .build()
        .unwrap();
    let out = s.run_with(
        req,
        CallOptions {
            seed: 1,
            ..Default::default()
        },
        stream(&["ab", "cde"]),
    );
    assert_eq!(out.status(), 200);
    let r = &s.server.received[0];
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body, b"abcde");
}

#[test]
fn streamed_body_hitting_307_is_not_resent() {
    let mut s = Scenario::new(retry(3));
    s.answer(Answer::status(307, "Location: /again\r\n", ""));
    let req = Request::put("http://h.test/s")
        .body(Body::stream(Some(3)))
        .build()
        .unwrap();
    let out = s.run_with(
        req,
        CallOptions {
            seed: 1,
            ..Default::default()
        },
        stream(&["abc"]),
    );
    assert_eq!(s.server.received.len(), 1, "never re-sent");
    // docs/RETRY.md 7: the call ends with an error saying why.
    assert_eq!(
        out.err().kind(),
        ErrorKind::BodyNotReplayable,
        "{:?}",
        out.error
    );
}

#[test]
fn streamed_body_reset_after_sending_is_not_resent() {
    let mut s = Scenario::new(retry(3));
    s.answer(Answer::fault(End::Reset));
    let req = Request::put("http://h.test/s")
        .body(Body::stream(Some(3)))
        .build()
        .unwrap();
    let out = s.run_with(
        req,
        CallOptions {
            seed: 1,
            ..Default::default()
        },
        stream(&["abc"]),
    );
    assert!(out.error.is_some());
    assert_eq!(s.server.received.len(), 1);
    assert_eq!(s.server.connect_targets.len(), 1);
}

// ----- the report and Debug ------------------------------------------------------

#[test]
fn report_matches_what_happened() {
    let mut s = Scenario::new(config_with_retry(
        Retry::new(3).backoff_factor(Duration::from_secs(1)),
    ));
    s.answer(Answer::reply(OK));
    s.run(get("http://h.test/warm"));
    s.answer(Answer::status(503, "Retry-After: 2\r\n", ""))
        .answer(Answer::status(302, "Location: /b\r\n", ""))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/a"));
    assert_eq!(out.status(), 200);
    let r = &out.report;
    assert_eq!(r.attempts.len(), 3);
    let reused: Vec<_> = r.attempts.iter().map(|a| a.reused_connection).collect();
    assert_eq!(reused, vec![true, true, true]);
    assert_eq!(r.attempts[0].sleep, Duration::from_secs(2));
    assert_eq!(r.attempts[1].url, "http://h.test/a");
    assert_eq!(r.attempts[2].url, "http://h.test/b");
    assert_eq!(r.attempts[2].next, "return");
    assert_eq!(r.redirects.len(), 1);
    assert_eq!(r.connections_opened, 0);
    assert_eq!(r.connections_reused, 3);
    assert_eq!(r.slept, Duration::from_secs(2));
    let text = r.to_string();
    assert!(text.contains("attempt 3"), "{text}");
}

#[test]
fn debug_of_call_agent_and_config_never_prints_credentials() {
    let mut cfg = Config::default();
    cfg.auth = Some(hawser_core::auth::Auth::basic("alice", "hunter2-pass"));
    cfg.headers.insert(
        "authorization",
        http::HeaderValue::from_static("Bearer tok-SECRET"),
    );
    cfg.proxies = hawser_core::proxy::ProxyConfig::new()
        .with_all(hawser_core::proxy::Proxy::parse("http://pu:proxy-SECRET@p.test:1").unwrap());
    let agent: hawser_core::call::Agent<()> = hawser_core::call::Agent::new(cfg).unwrap();
    let req = Request::get("http://bob:url-SECRET@h.test/")
        .build()
        .unwrap();
    let call = agent
        .start(
            req,
            CallOptions {
                auth: Some(hawser_core::auth::Auth::bearer("opt-SECRET")),
                ..Default::default()
            },
            std::time::Instant::now(),
            std::time::SystemTime::UNIX_EPOCH,
        )
        .unwrap();
    let text = format!(
        "{call:?} {agent:?} {:?} {:#?}",
        agent.config(),
        agent.config()
    );
    for secret in [
        "hunter2-pass",
        "tok-SECRET",
        "proxy-SECRET",
        "url-SECRET",
        "opt-SECRET",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

// ----- more edges ---------------------------------------------------------------

#[test]
fn stale_pooled_connection_does_not_resend_a_post_that_was_fully_sent() {
    // docs/RETRY.md 3: the free re-send needs an idempotent method or nothing accepted.
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(OK)).answer(Answer::fault(End::Eof));
    s.run(get("http://h.test/warm"));
    let out = s.run(
        Request::post("http://h.test/p")
            .body("data")
            .build()
            .unwrap(),
    );
    assert!(out.error.is_some(), "{:?}", out.head);
    assert_eq!(
        s.server
            .received
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );
    assert_eq!(
        s.server.connections(),
        1,
        "no fresh connection for a re-send"
    );
}

#[test]
fn report_phase_times_follow_the_fake_clock() {
    use hawser_core::deadline::Phase;
    let mut s = Scenario::new(retry(3));
    s.answer(Answer::status(503, "Retry-After: 4\r\n", ""))
        .answer(Answer::reply(OK).drip(1, Duration::from_millis(100)));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    let p = &out.report.phases;
    assert_eq!(p.get(Phase::Backoff), Duration::from_secs(4));
    assert!(
        p.get(Phase::ResponseHead) >= Duration::from_millis(100 * 30),
        "{p:?}"
    );
    assert_eq!(p.total(), out.elapsed, "{p:?}");
}

#[test]
fn digest_next_nonce_from_authentication_info_is_used_by_the_next_call() {
    // auth's contract: on_response sees every head, so a 200 carrying
    // `Authentication-Info: nextnonce` moves the known challenge on.
    let mut cfg = retry(0);
    cfg.auth = Some(hawser_core::auth::Auth::digest("u", "p"));
    let mut s = Scenario::new(cfg);
    s.answer(Answer::status(
        401,
        "WWW-Authenticate: Digest realm=\"r\", qop=\"auth\", nonce=\"first\"\r\n",
        "",
    ))
    .answer(Answer::status(
        200,
        "Authentication-Info: nextnonce=\"second\"\r\n",
        "ok",
    ))
    .answer(Answer::reply(OK));
    assert_eq!(s.run(get("http://h.test/a")).status(), 200);
    assert_eq!(s.run(get("http://h.test/b")).status(), 200);
    let third = digest_params(
        s.server.received[2]
            .header("authorization")
            .expect("preemptive digest"),
    );
    assert_eq!(third["nonce"], "second");
}

#[test]
fn backoff_that_would_pass_the_deadline_is_not_taken() {
    let t = Timeouts::default()
        .with_deadline(Duration::from_secs(15))
        .unwrap();
    let mut s = Scenario::new(config_with_retry(
        Retry::new(5).backoff_factor(Duration::from_secs(10)),
    ));
    for _ in 0..3 {
        s.connect(ConnectResult::Refused);
    }
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    // Retry 1 sleeps 0; retry 2 would sleep 20 s, past the 15 s deadline.
    assert!(out.waits.is_empty(), "{:?}", out.waits);
    assert_eq!(s.server.connect_targets.len(), 2);
    let e = out.err();
    assert_eq!(e.timeout_phase(), Some(TimeoutPhase::Deadline), "{e:?}");
    let cause = std::error::Error::source(e).and_then(|c| c.downcast_ref::<hawser_core::Error>());
    assert_eq!(
        cause.map(|c| c.kind()),
        Some(ErrorKind::Connect),
        "the last cause is carried: {e:?}"
    );
}

#[test]
fn streamed_body_hitting_308_is_not_resent() {
    let mut s = Scenario::new(retry(3));
    s.answer(Answer::status(308, "Location: /again\r\n", ""));
    let req = Request::post("http://h.test/s")
        .body(Body::stream(None))
        .build()
        .unwrap();
    let out = s.run_with(
        req,
        CallOptions {
            seed: 1,
            ..Default::default()
        },
        stream(&["a", "b"]),
    );
    assert_eq!(
        out.err().kind(),
        ErrorKind::BodyNotReplayable,
        "{:?}",
        out.error
    );
    assert_eq!(s.server.received.len(), 1);
}

#[test]
fn head_response_has_no_body_and_keeps_the_connection() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
    ))
    .answer(Answer::reply(OK));
    let out = s.run(Request::head("http://h.test/").build().unwrap());
    assert_eq!(out.status(), 200);
    assert!(out.body.is_empty());
    assert_eq!(out.releases, vec![true]);
    assert_eq!(s.run(get("http://h.test/next")).body, b"ok");
    assert_eq!(s.server.connections(), 1);
}

#[test]
fn informational_103_before_the_final_response_is_skipped() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(format!(
        "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n{OK}"
    )));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.body, b"ok");
}

#[test]
fn retry_after_503_with_no_retries_left_returns_the_response() {
    // docs/RETRY.md: the implicit Retry-After retry returns the last response,
    // never an error, when `total` runs out.
    let mut s = Scenario::new(retry(1));
    s.answer(Answer::status(503, "Retry-After: 1\r\n", "busy"))
        .answer(Answer::status(503, "Retry-After: 1\r\n", "still busy"));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 503, "{:?}", out.error);
    assert_eq!(out.body, b"still busy");
    assert_eq!(s.server.received.len(), 2);
}

#[test]
fn status_forcelist_retries_with_backoff_then_raises() {
    let mut s = Scenario::new(config_with_retry(
        Retry::new(2)
            .status_forcelist([502])
            .backoff_factor(Duration::from_secs(1)),
    ));
    for _ in 0..3 {
        s.answer(Answer::status(502, "", "bad gateway"));
    }
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.waits, vec![Duration::from_secs(2)]);
    assert_eq!(
        out.err().kind(),
        ErrorKind::RetriesExhausted,
        "{:?}",
        out.error
    );
    assert_eq!(s.server.received.len(), 3);
    assert_eq!(
        s.server.connections(),
        1,
        "small bodies are drained and the connection kept"
    );
}

#[test]
fn chunked_response_with_trailers_is_delivered_and_reusable() {
    let mut s = Scenario::new(retry(0));
    s.answer(
        Answer::reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n")
            .drip(5, Duration::ZERO),
    );
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.body, b"abcde");
    assert_eq!(out.releases, vec![true]);
}

// ----- driver misuse: typed errors, never a hang ------------------------------------

fn started() -> (hawser_core::call::Call<u8>, std::time::Instant) {
    let agent = hawser_core::call::Agent::new(retry(0)).unwrap();
    let now = std::time::Instant::now();
    let call = agent
        .start(
            Request::post("http://h.test/").body("abc").build().unwrap(),
            CallOptions::default(),
            now,
            std::time::SystemTime::UNIX_EPOCH,
        )
        .unwrap();
    (call, now)
}

/// Resolve, start one attempt, report it connected.
fn connect(call: &mut hawser_core::call::Call<u8>, now: std::time::Instant) {
    use hawser_core::call::{Input, Output};
    assert!(matches!(
        call.poll_output(now).unwrap(),
        Output::Resolve { .. }
    ));
    call.handle_input(Input::Resolved(vec![([127, 0, 0, 1], 80).into()]), now)
        .unwrap();
    let Output::Connect { id, .. } = call.poll_output(now).unwrap() else {
        panic!("no Connect");
    };
    assert!(matches!(
        call.poll_output(now).unwrap(),
        Output::AwaitConnect { .. }
    ));
    call.handle_input(Input::Connected { id, conn: 7 }, now)
        .unwrap();
}

fn drive_to_transmit(call: &mut hawser_core::call::Call<u8>, now: std::time::Instant) -> usize {
    use hawser_core::call::Output;
    connect(call, now);
    match call.poll_output(now).unwrap() {
        Output::Transmit { data, conn, .. } => {
            assert_eq!(*conn, 7, "the transport the driver connected");
            data.len()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn misuse_answers_are_usage_errors_and_the_call_can_go_on() {
    use hawser_core::call::{Input, Output};
    let (mut call, now) = started();
    assert!(matches!(
        call.poll_output(now).unwrap(),
        Output::Resolve { .. }
    ));
    // An answer to another output.
    let e = call.handle_input(Input::Read(3), now).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    // The same output is asked again: nothing was lost.
    let len = drive_to_transmit(&mut call, now);
    // More written than was handed out.
    let e = call.handle_input(Input::Written(len + 1), now).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    match call.poll_output(now).unwrap() {
        Output::Transmit { data, .. } => assert_eq!(data.len(), len),
        other => panic!("{other:?}"),
    }
}

#[test]
fn written_more_than_a_body_piece_is_a_usage_error() {
    use hawser_core::call::{Input, Output};
    let (mut call, now) = started();
    let head = drive_to_transmit(&mut call, now);
    call.handle_input(Input::Written(head), now).unwrap();
    match call.poll_output(now).unwrap() {
        Output::Transmit { data, .. } => assert_eq!(data, b"abc"),
        other => panic!("{other:?}"),
    }
    let e = call.handle_input(Input::Written(4), now).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
}

#[test]
fn read_more_than_the_lent_buffer_is_a_usage_error() {
    use hawser_core::call::{Input, Output};
    let (mut call, now) = started();
    let head = drive_to_transmit(&mut call, now);
    call.handle_input(Input::Written(head), now).unwrap();
    call.poll_output(now).unwrap();
    call.handle_input(Input::Written(3), now).unwrap();
    let lent = match call.poll_output(now).unwrap() {
        Output::Receive { buf, .. } => buf.len(),
        other => panic!("{other:?}"),
    };
    let e = call.handle_input(Input::Read(lent + 1), now).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
}

#[test]
fn write_stall_names_the_send_phase() {
    let t = Timeouts::default()
        .with_write(Duration::from_secs(4))
        .unwrap();
    let mut s = Scenario::new(retry(0));
    s.stall_writes = true;
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    let e = out.err();
    assert_eq!(
        e.root_cause().timeout_phase(),
        Some(TimeoutPhase::Send),
        "{e:?}"
    );
    assert_eq!(out.elapsed, Duration::from_secs(4));
    assert_eq!(
        out.releases,
        vec![false],
        "a half-written connection is closed"
    );
}

#[test]
fn pool_wait_timeout_names_the_pool_wait() {
    let t = Timeouts::default()
        .with_pool_wait(Duration::from_secs(2))
        .unwrap();
    let mut cfg = retry(3);
    cfg.pool.max_active_per_host = 1;
    cfg.pool.when_full = hawser_core::pool::WhenFull::Wait;
    let mut s = Scenario::new(cfg);
    s.hold_slot("http://h.test/");
    s.server.connect_targets.clear();
    let out = s.run_with(get("http://h.test/"), opts_timeouts(t), Stream::default());
    let e = out.err();
    assert_eq!(e.timeout_phase(), Some(TimeoutPhase::PoolWait), "{e:?}");
    assert_eq!(out.elapsed, Duration::from_secs(2));
    assert!(s.server.connect_targets.is_empty());
}

#[test]
fn retry_after_as_an_http_date_uses_the_wall_clock_passed_in() {
    // The harness starts calls at wall time 1_700_000_000 s.
    let at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 5);
    let mut s = Scenario::new(retry(2));
    s.answer(Answer::status(
        429,
        &format!("Retry-After: {}\r\n", httpdate::fmt_http_date(at)),
        "",
    ))
    .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.waits, vec![Duration::from_secs(5)]);
}

#[test]
fn cookie_set_on_a_retried_503_is_sent_on_the_retry() {
    let mut s = Scenario::new(retry(2));
    s.answer(Answer::status(
        503,
        "Retry-After: 1\r\nSet-Cookie: lb=node2\r\n",
        "",
    ))
    .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(s.server.received[1].header("cookie"), Some("lb=node2"));
}

#[test]
fn digest_stale_nonce_is_answered_once_with_the_new_nonce() {
    let mut cfg = retry(0);
    cfg.auth = Some(hawser_core::auth::Auth::digest("u", "p"));
    let mut s = Scenario::new(cfg);
    s.answer(Answer::status(
        401,
        "WWW-Authenticate: Digest realm=\"r\", qop=\"auth\", nonce=\"one\"\r\n",
        "",
    ))
    .answer(Answer::reply(OK))
    .answer(Answer::status(
        401,
        "WWW-Authenticate: Digest realm=\"r\", qop=\"auth\", nonce=\"two\", stale=true\r\n",
        "",
    ))
    .answer(Answer::reply(OK));
    assert_eq!(s.run(get("http://h.test/a")).status(), 200);
    let out = s.run(get("http://h.test/b"));
    assert_eq!(out.status(), 200);
    let nonces: Vec<_> = s.server.received[1..]
        .iter()
        .map(|r| {
            digest_params(r.header("authorization").expect("digest"))
                .remove("nonce")
                .unwrap()
        })
        .collect();
    assert_eq!(nonces, vec!["one", "one", "two"]);
}

#[test]
fn streamed_post_redirected_by_303_follows_as_get() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(303, "Location: /result\r\n", ""))
        .answer(Answer::reply(OK));
    let req = Request::post("http://h.test/form")
        .body(Body::stream(None))
        .build()
        .unwrap();
    let out = s.run_with(
        req,
        CallOptions {
            seed: 1,
            ..Default::default()
        },
        stream(&["data"]),
    );
    assert_eq!(out.status(), 200, "{:?}", out.error);
    let r = &s.server.received[1];
    assert_eq!((r.method.as_str(), r.target.as_str()), ("GET", "/result"));
    assert!(r.body.is_empty());
    assert_eq!(r.header("transfer-encoding"), None);
}

#[test]
fn redirect_chain_history_lists_every_hop_in_order() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(301, "Location: /two\r\n", ""))
        .answer(Answer::status(
            302,
            "Location: http://other.test/three\r\n",
            "",
        ))
        .answer(Answer::status(307, "Location: /four\r\n", ""))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/one"));
    assert_eq!(out.status(), 200);
    let h = out.head.as_ref().unwrap();
    assert_eq!(h.url.as_str(), "http://other.test/four");
    let hist: Vec<_> = h
        .history
        .iter()
        .map(|i| (i.status.as_u16(), i.url.as_str()))
        .collect();
    assert_eq!(
        hist,
        vec![
            (301, "http://h.test/one"),
            (302, "http://h.test/two"),
            (307, "http://other.test/three")
        ]
    );
    let targets: Vec<_> = s
        .server
        .received
        .iter()
        .map(|r| (r.conn, r.target.as_str()))
        .collect();
    assert_eq!(
        targets,
        vec![(0, "/one"), (0, "/two"), (1, "/three"), (1, "/four")]
    );
    assert_eq!(out.report.redirects.len(), 3);
}

#[test]
fn large_redirect_body_is_not_drained_the_connection_is_closed() {
    let big = "b".repeat(100 * 1024); // over the 64 KiB max_drain
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(302, "Location: /next\r\n", &big))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.releases, vec![false, true]);
    assert_eq!(s.server.received[1].conn, 1);
}

#[test]
fn http10_response_without_keep_alive_is_not_reused() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply(
        "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.body, b"ok");
    assert_eq!(out.releases, vec![false]);
}

#[test]
fn keep_alive_hint_is_handed_to_the_pool_with_the_connection() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::status(
        200,
        "Keep-Alive: timeout=5, max=100\r\n",
        "ok",
    ));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.releases, vec![true]);
    // Within the hint (5 s less the 1 s margin) the connection is reused...
    s.advance(Duration::from_millis(3_500));
    s.answer(Answer::status(200, "Keep-Alive: timeout=5\r\n", "ok"));
    let again = s.run(get("http://h.test/"));
    assert_eq!(again.report.connections_reused, 1);
    assert_eq!(s.server.connections(), 1);
    // ...past it, the pool retires it and a new one is opened.
    s.advance(Duration::from_millis(4_500));
    s.answer(Answer::reply(OK));
    let late = s.run(get("http://h.test/"));
    assert_eq!(late.report.connections_reused, 0);
    assert_eq!(s.server.connections(), 2);
    assert_eq!(s.agent.pool_stats().evicted_keep_alive, 1);
}

#[test]
fn close_delimited_body_is_read_to_eof_and_not_reused() {
    let mut s = Scenario::new(retry(0));
    s.answer(Answer::reply("HTTP/1.1 200 OK\r\n\r\nuntil the end").then(End::Eof));
    let out = s.run(get("http://h.test/"));
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.body, b"until the end");
    assert_eq!(out.releases, vec![false]);
}
