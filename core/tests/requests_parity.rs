//! Where requests' behaviour is a rule, the call follows it: header
//! merging and removal, auth precedence, the Content-Type a body helper may
//! set, URL re-quoting, the server's reason phrase, a proxy's refusal being
//! final, and the message of a redirect a streamed body cannot follow.
//! Each test checks what went on the wire (the scripted server parses it).

mod call_support;

use call_support::*;
use hawser_core::ErrorKind;
use hawser_core::auth::Auth;
use hawser_core::call::{CallOptions, Config};
use hawser_core::proxy::{Proxy, ProxyConfig};
use hawser_core::request::{Body, Request};
use hawser_core::retry::Retry;

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {token}")
}

fn opts() -> CallOptions {
    CallOptions {
        seed: 1,
        ..CallOptions::default()
    }
}

#[test]
fn session_auth_beats_url_credentials_and_request_auth_beats_both() {
    let mut cfg = Config::default();
    cfg.auth = Some(Auth::basic("session", "s"));
    let mut s = Scenario::new(cfg);
    s.answer(Answer::reply(OK))
        .answer(Answer::reply(OK))
        .answer(Answer::reply(OK));
    let url = "http://url:pw@h.test/";
    s.run(Request::get(url).build().unwrap());
    let mut o = opts();
    o.auth = Some(Auth::basic("request", "r"));
    s.run_with(Request::get(url).build().unwrap(), o, Stream::default());
    let got: Vec<_> = s
        .server
        .received
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(got[0].as_deref(), Some(basic("session", "s").as_str()));
    assert_eq!(got[1].as_deref(), Some(basic("request", "r").as_str()));
    // URL credentials alone are still used.
    let mut alone = Scenario::new(Config::default());
    alone.answer(Answer::reply(OK));
    alone.run(Request::get(url).build().unwrap());
    let h = alone.server.received[0].header("authorization");
    assert_eq!(h, Some(basic("url", "pw").as_str()));
}

#[test]
fn a_session_header_can_be_removed_for_one_request() {
    let mut cfg = Config::default();
    cfg.headers.insert("x-default", "1".parse().unwrap());
    let mut s = Scenario::new(cfg);
    s.answer(Answer::reply(OK)).answer(Answer::reply(OK));
    let mut o = opts();
    o.remove_headers = vec![
        "x-default".parse().unwrap(),
        "user-agent".parse().unwrap(),
        "accept-encoding".parse().unwrap(),
    ];
    s.run_with(get("http://h.test/"), o, Stream::default());
    s.run(get("http://h.test/"));
    let (first, second) = (&s.server.received[0], &s.server.received[1]);
    assert_eq!(first.header("x-default"), None);
    assert_eq!(first.header("user-agent"), None);
    assert_eq!(first.header("accept-encoding"), None, "not added back");
    assert_eq!(second.header("x-default"), Some("1"));
    assert!(second.header("user-agent").is_some());
}

fn content_types(s: &Scenario, i: usize) -> Vec<String> {
    s.server.received[i]
        .headers
        .iter()
        .filter(|(n, _)| n == "content-type")
        .map(|(_, v)| v.clone())
        .collect()
}

#[test]
fn the_callers_content_type_is_sent_once_and_a_session_default_beats_a_helper() {
    let mut s = Scenario::new(Config::default());
    for _ in 0..3 {
        s.answer(Answer::reply(OK));
    }
    let before = Request::post("http://h.test/")
        .header("content-type", "application/vnd.api+json")
        .form(&[("a", "1")])
        .build()
        .unwrap();
    let after = Request::post("http://h.test/")
        .form(&[("a", "1")])
        .header("Content-Type", "text/x-after")
        .build()
        .unwrap();
    let plain = Request::post("http://h.test/")
        .form(&[("a", "1 2")])
        .build()
        .unwrap();
    for r in [before, after, plain] {
        s.run(r);
    }
    assert_eq!(content_types(&s, 0), ["application/vnd.api+json"]);
    assert_eq!(content_types(&s, 1), ["text/x-after"]);
    assert_eq!(content_types(&s, 2), ["application/x-www-form-urlencoded"]);
    assert_eq!(s.server.received[2].body, b"a=1+2");

    let mut cfg = Config::default();
    cfg.headers
        .insert("content-type", "text/x-session".parse().unwrap());
    let mut session = Scenario::new(cfg);
    session.answer(Answer::reply(OK));
    session.run(
        Request::post("http://h.test/")
            .form(&[("a", "1")])
            .build()
            .unwrap(),
    );
    assert_eq!(content_types(&session, 0), ["text/x-session"]);
}

#[test]
fn targets_are_requoted_like_requests() {
    let mut s = Scenario::new(Config::default());
    let cases = [
        ("http://h.test/q?a=|^{}\\", "/q?a=%7C%5E%7B%7D%5C"),
        ("http://h.test/q?b=%zz", "/q?b=%25zz"),
        ("http://h.test/q?c=%41%2F", "/q?c=A%2F"),
        ("http://h.test/p|q", "/p%7Cq"),
        ("http://h.test/ok?x=1&y=a+b", "/ok?x=1&y=a+b"),
    ];
    for _ in cases {
        s.answer(Answer::reply(OK));
    }
    for (url, _) in cases {
        s.run(get(url));
    }
    let targets: Vec<_> = s.server.received.iter().map(|r| r.target.clone()).collect();
    let want: Vec<_> = cases.iter().map(|(_, t)| t.to_string()).collect();
    assert_eq!(targets, want);
}

#[test]
fn a_redirect_location_is_requoted_too() {
    let mut s = Scenario::new(Config::default());
    s.answer(Answer::status(302, "Location: /next?v=a|b\r\n", ""))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/start"));
    assert_eq!(out.status(), 200);
    assert_eq!(s.server.received[1].target, "/next?v=a%7Cb");
}

#[test]
fn error_for_status_uses_the_servers_reason_phrase() {
    let mut s = Scenario::new(Config::default());
    s.answer(Answer::reply(
        "HTTP/1.1 404 NOT FOUND\r\nContent-Length: 0\r\n\r\n",
    ))
    .answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/missing"));
    let head = out.head.expect("a head");
    assert_eq!(head.reason(), "NOT FOUND");
    let e = head.status_error().expect("a 404 is an error");
    assert_eq!(
        e.to_string(),
        "404 Client Error: NOT FOUND for url: http://h.test/missing"
    );
    assert!(e.is_status());
    // The canonical phrase costs nothing: not stored.
    let ok = s.run(get("http://h.test/")).head.expect("a head");
    assert_eq!((ok.reason(), ok.reason_phrase.as_deref()), ("OK", None));
}

#[test]
fn a_proxy_refusal_is_final_even_with_retries() {
    let mut cfg =
        config_with_retry(Retry::new(3).backoff_factor(std::time::Duration::from_millis(100)));
    cfg.proxies = ProxyConfig::new().with_all(Proxy::parse("http://proxy.test:3128").unwrap());
    for status in ["407 Proxy Authentication Required", "403 Forbidden"] {
        let mut s = Scenario::new(cfg.clone());
        s.answer(Answer::reply(format!(
            "HTTP/1.1 {status}\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n"
        )));
        let out = s.run(get("https://origin.test/"));
        let e = out.err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{status}: {e:?}");
        assert!(e.is_proxy() && !e.is_connect());
        let msg = e.to_string();
        assert!(msg.contains("proxy.test:3128"), "{msg}");
        assert!(msg.contains(&status[..3]), "{msg}");
        assert_eq!(
            s.server.received.len(),
            1,
            "{status}: one CONNECT, no retry"
        );
        assert!(out.waits.is_empty(), "no backoff sleep");
    }
}

#[test]
fn a_streamed_body_cannot_follow_a_307_and_the_message_says_so() {
    for status in [307, 308] {
        let mut s = Scenario::new(Config::default());
        s.answer(Answer::status(status, "Location: /again\r\n", ""));
        let req = Request::put("http://h.test/up")
            .body(Body::stream(Some(4)))
            .build()
            .unwrap();
        let stream = Stream {
            pieces: vec![b"once".to_vec()].into(),
        };
        let out = s.run_with(req, opts(), stream);
        let e = out.err();
        assert_eq!(e.kind(), ErrorKind::BodyNotReplayable, "{e:?}");
        let msg = e.to_string();
        assert!(!msg.contains("too many redirects"), "{msg}");
        assert!(msg.contains(&status.to_string()), "{msg}");
        assert_eq!(s.server.received.len(), 1);
    }
}

#[cfg(feature = "json")]
#[test]
fn json_with_nan_or_infinity_is_refused() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = Request::post("http://h.test/")
            .json(&serde_json_like(v))
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert!(e.to_string().contains("JSON"), "{e}");
    }
}

/// A nested value with the float deep inside.
#[cfg(feature = "json")]
fn serde_json_like(v: f64) -> std::collections::BTreeMap<&'static str, Vec<Option<f64>>> {
    let mut m = std::collections::BTreeMap::new();
    m.insert("values", vec![Some(1.0), None, Some(v)]);
    m
}

#[test]
fn content_length_per_body_kind_and_method_follows_requests() {
    // (method, body, Content-Length, Transfer-Encoding) as requests sends them.
    type Case = (
        &'static str,
        Option<Body>,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        ("GET", None, None, None),
        ("HEAD", None, None, None),
        ("DELETE", None, Some("0"), None),
        ("OPTIONS", None, Some("0"), None),
        ("POST", None, Some("0"), None),
        ("PUT", None, Some("0"), None),
        ("PATCH", None, Some("0"), None),
        ("POST", Some(Body::from("abc")), Some("3"), None),
        ("GET", Some(Body::from("abc")), Some("3"), None),
        ("PUT", Some(Body::stream(Some(4))), Some("4"), None),
        ("PUT", Some(Body::stream(None)), None, Some("chunked")),
    ];
    let mut s = Scenario::new(Config::default());
    for (i, (method, body, _, _)) in cases.iter().enumerate() {
        s.answer(Answer::reply(OK));
        let mut b = Request::builder(method.parse().unwrap(), "http://h.test/");
        let mut stream = Stream::default();
        if let Some(body) = body {
            if body.is_stream() {
                stream.pieces = vec![b"data".to_vec()].into();
            }
            b = b.body(body.clone());
        }
        let out = s.run_with(b.build().unwrap(), opts(), stream);
        assert!(out.error.is_none(), "case {i}: {:?}", out.error);
    }
    for (i, (method, _, len, te)) in cases.iter().enumerate() {
        let r = &s.server.received[i];
        assert_eq!(&r.method, method);
        assert_eq!(r.header("content-length"), *len, "{method} case {i}");
        assert_eq!(r.header("transfer-encoding"), *te, "{method} case {i}");
    }
}
