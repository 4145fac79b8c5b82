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
