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
