//! What a requests user reaches for, on smol (shared with async-std and
//! tokio through hawser-async): status errors with their facts, the cookie
//! jar, the six one-off helpers.

use std::time::SystemTime;

use hawser_smol::{Session, StatusCode, Url};
use hawser_testkit::{Behaviour, Reply, TestServer};

#[test]
fn a_status_error_keeps_status_url_and_head() {
    let srv = TestServer::start(vec![(
        "/missing",
        Behaviour::Reply(Reply::new(503).header("X-Why", "busy")),
    )])
    .unwrap();
    smol::block_on(async {
        let resp = Session::new()
            .get(srv.url("/missing"))
            .send()
            .await
            .unwrap();
        let e = resp.error_for_status().unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(e.url().map(Url::as_str), Some(srv.url("/missing").as_str()));
        assert_eq!(e.response_head().unwrap().header("x-why"), Some("busy"));
    });
}

#[test]
fn the_cookie_jar_can_be_seeded_and_read() {
    let srv = TestServer::start(vec![("/see", Behaviour::Cookies(Vec::new()))]).unwrap();
    let s = Session::new();
    let url = Url::parse(&srv.url("/")).unwrap();
    s.cookies()
        .try_store(&url, "seeded=yes", SystemTime::now())
        .unwrap();
    let body = smol::block_on(async { s.get(srv.url("/see")).send().await?.text().await });
    assert_eq!(body.unwrap(), "seeded=yes");
}

#[test]
fn every_one_off_helper_exists_and_sends_its_method() {
    let srv = TestServer::start(vec![("/e", Behaviour::Echo)]).unwrap();
    let url = srv.url("/e");
    smol::block_on(async {
        assert_eq!(hawser_smol::get(&url).await.unwrap().status(), 200);
        assert_eq!(hawser_smol::head(&url).await.unwrap().status(), 200);
        assert_eq!(hawser_smol::delete(&url).await.unwrap().status(), 200);
        assert_eq!(hawser_smol::post(&url, "a").await.unwrap().status(), 200);
        assert_eq!(hawser_smol::put(&url, "b").await.unwrap().status(), 200);
        assert_eq!(hawser_smol::patch(&url, "c").await.unwrap().status(), 200);
    });
    let methods: Vec<_> = srv.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "HEAD", "DELETE", "POST", "PUT", "PATCH"]);
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
    ])
    .unwrap();
    smol::block_on(async {
        let s = Session::new();
        let resp = s.get(srv.url("/bad")).send().await.unwrap();
        let e = resp.error_for_status_with_body().await.unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(e.body_prefix(), Some(&br#"{"error":"bad id"}"#[..]));
        let resp = s.get(srv.url("/big")).send().await.unwrap();
        let e = resp.error_for_status_with_body().await.unwrap_err();
        assert_eq!(
            e.body_prefix().map(<[u8]>::len),
            Some(hawser_smol::Error::BODY_PREFIX_LIMIT)
        );
    });
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
    smol::block_on(async {
        let first = Session::new();
        first
            .get(srv.url("/login"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let mut file = Vec::new();
        first
            .cookies()
            .save_json(&mut file, SystemTime::now())
            .unwrap();
        let second = Session::new();
        *second.cookies() = hawser_smol::CookieJar::load_json(&file[..]).unwrap();
        let seen = second
            .get(srv.url("/see"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(seen, "sid=abc123");
    });
}
