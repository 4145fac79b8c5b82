//! What a requests user reaches for: status errors that keep their facts,
//! the cookie jar, the one-off helpers, `io::Error` that keeps the error.

use std::io::Read;
use std::time::SystemTime;

use hawser_std::{ErrorKind, Session, StatusCode, Url};
use hawser_testkit::{Behaviour, Reply, TestServer};

#[test]
fn a_status_error_keeps_status_url_and_head() {
    let srv = TestServer::start(vec![(
        "/missing",
        Behaviour::Reply(Reply::new(404).header("X-Why", "gone").body("nope")),
    )])
    .unwrap();
    let e = Session::new()
        .get(srv.url("/missing"))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap_err();
    assert!(e.is_status());
    assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(e.url().map(Url::as_str), Some(srv.url("/missing").as_str()));
    assert_eq!(e.response_head().unwrap().header("x-why"), Some("gone"));
}

#[test]
fn the_cookie_jar_can_be_seeded_read_and_cleared() {
    let srv = TestServer::start(vec![("/see", Behaviour::Cookies(vec!["back=1".into()]))]).unwrap();
    let s = Session::new();
    let url = Url::parse(&srv.url("/")).unwrap();
    s.cookies()
        .try_store(&url, "seeded=yes", SystemTime::now())
        .unwrap();
    let body = s.get(srv.url("/see")).send().unwrap().text().unwrap();
    assert_eq!(body, "seeded=yes");
    let names: Vec<String> = s.cookies().iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["seeded", "back"]);
    s.cookies().clear();
    assert_eq!(s.get(srv.url("/see")).send().unwrap().text().unwrap(), "");
}

#[test]
fn every_one_off_helper_exists_and_sends_its_method() {
    let srv = TestServer::start(vec![("/e", Behaviour::Echo)]).unwrap();
    let url = srv.url("/e");
    assert_eq!(hawser_std::get(&url).unwrap().status(), 200);
    assert_eq!(hawser_std::head(&url).unwrap().status(), 200);
    assert_eq!(hawser_std::delete(&url).unwrap().status(), 200);
    assert_eq!(hawser_std::post(&url, "a").unwrap().status(), 200);
    assert_eq!(hawser_std::put(&url, "b").unwrap().status(), 200);
    assert_eq!(hawser_std::patch(&url, "c").unwrap().status(), 200);
    let methods: Vec<_> = srv.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "HEAD", "DELETE", "POST", "PUT", "PATCH"]);
}

#[test]
fn a_body_error_through_read_keeps_the_hawser_error() {
    let srv = TestServer::start(vec![(
        "/cut",
        Behaviour::ShortBody {
            declared: 100,
            sent: 10,
        },
    )])
    .unwrap();
    let mut resp = Session::new().get(srv.url("/cut")).send().unwrap();
    let mut out = Vec::new();
    let e = resp.read_to_end(&mut out).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    let inner = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<hawser_std::Error>())
        .unwrap();
    assert_eq!(inner.kind(), ErrorKind::Body);
}

#[test]
fn a_status_error_can_keep_the_start_of_the_body() {
    let srv = TestServer::start(vec![
        (
            "/bad",
            Behaviour::Reply(Reply::new(400).body(r#"{"error":"bad id"}"#)),
        ),
        (
            "/big",
            Behaviour::Reply(Reply::new(500).body("x".repeat(10_000))),
        ),
        ("/ok", Behaviour::Reply(Reply::new(200).body("fine"))),
    ])
    .unwrap();
    let s = Session::new();
    let e = s
        .get(srv.url("/bad"))
        .send()
        .unwrap()
        .error_for_status_with_body()
        .unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(e.body_prefix(), Some(&br#"{"error":"bad id"}"#[..]));
    let e = s
        .get(srv.url("/big"))
        .send()
        .unwrap()
        .error_for_status_with_body()
        .unwrap_err();
    assert_eq!(
        e.body_prefix().map(<[u8]>::len),
        Some(hawser_std::Error::BODY_PREFIX_LIMIT)
    );
    // The plain form reads nothing; a success keeps its body.
    let e = s
        .get(srv.url("/bad"))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap_err();
    assert_eq!(e.body_prefix(), None);
    let ok = s
        .get(srv.url("/ok"))
        .send()
        .unwrap()
        .error_for_status_with_body()
        .unwrap();
    assert_eq!(ok.text().unwrap(), "fine");
}

#[test]
fn the_cookie_jar_can_be_saved_and_loaded() {
    let srv = TestServer::start(vec![
        (
            "/login",
            Behaviour::Reply(Reply::new(200).header("Set-Cookie", "sid=abc123; Max-Age=3600")),
        ),
        ("/see", Behaviour::Cookies(Vec::new())),
    ])
    .unwrap();
    let first = Session::new();
    first
        .get(srv.url("/login"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let mut file = Vec::new();
    first
        .cookies()
        .save_json(&mut file, SystemTime::now())
        .unwrap();

    let second = Session::new();
    *second.cookies() = hawser_std::CookieJar::load_json(&file[..]).unwrap();
    let seen = second.get(srv.url("/see")).send().unwrap().text().unwrap();
    assert_eq!(seen, "sid=abc123");
}
