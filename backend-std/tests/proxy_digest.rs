//! End to end over real sockets: a proxy that wants Digest (testkit's
//! `ProxyServer::start_digest`) is answered after its 407, for plain http
//! through the proxy and for https through a CONNECT tunnel, and the origin
//! never sees proxy credentials.

use std::sync::Arc;

use hawser_std::{ErrorKind, Proxy, ProxyConfig, Retry, Session, TlsConfig};
use hawser_testkit::{Behaviour, ProxyServer, TestCa, TestServer, TlsVariant};

fn session(proxy_url: &str, ca_pem: Option<&str>) -> Session {
    let mut b = Session::builder()
        .retry(Retry::disabled())
        .proxies(ProxyConfig::new().with_all(Proxy::parse(proxy_url).expect("proxy URL")));
    if let Some(pem) = ca_pem {
        let tls = TlsConfig::new()
            .add_root_certificate_pem(pem.as_bytes())
            .expect("test CA");
        b = b.tls(tls);
    }
    b.build().expect("session")
}

#[test]
fn http_through_a_digest_proxy_answers_the_407_once() {
    let origin = TestServer::start(vec![("/e", Behaviour::Echo)]).expect("origin");
    let proxy = ProxyServer::start_digest("pu", "pp").expect("proxy");
    let s = session(&proxy.url_with_credentials(), None);
    let r = s
        .get(origin.url("/e"))
        .send()
        .expect("request through the proxy");
    assert_eq!(r.status().as_u16(), 200);
    let recs = proxy.records();
    assert_eq!(recs.len(), 2, "Basic first, then the Digest answer");
    assert!(!recs[0].authorized);
    assert!(
        recs[0]
            .header("proxy-authorization")
            .is_some_and(|v| v.starts_with("Basic "))
    );
    assert!(recs[1].authorized, "the proxy verified the Digest response");
    assert_eq!(recs[1].target, origin.url("/e"), "absolute-form target");
    assert_eq!(
        proxy.connections_accepted(),
        1,
        "the 407 was drained on a kept-alive connection"
    );
    assert_eq!(
        origin.requests_to("/e")[0].header("proxy-authorization"),
        None
    );
}

#[test]
fn https_through_a_digest_proxy_answers_the_407_to_connect() {
    let ca = Arc::new(TestCa::new().expect("CA"));
    let origin = TestServer::builder()
        .route("/e", Behaviour::Echo)
        .tls(ca.clone(), TlsVariant::Good)
        .start()
        .expect("origin");
    let proxy = ProxyServer::start_digest("pu", "pp").expect("proxy");
    let s = session(&proxy.url_with_credentials(), Some(&ca.ca_pem()));
    let r = s
        .get(origin.url_localhost("/e"))
        .send()
        .expect("request through the tunnel");
    assert_eq!(r.status().as_u16(), 200);
    let recs = proxy.records();
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.method == "CONNECT"));
    assert!(!recs[0].authorized);
    assert!(recs[1].authorized, "the proxy verified the CONNECT Digest");
    assert_eq!(
        recs[1].target,
        format!("localhost:{}", origin.addr().port())
    );
    assert_eq!(
        origin.requests_to("/e")[0].header("proxy-authorization"),
        None,
        "nothing of the proxy's goes into the tunnel"
    );
}

#[test]
fn a_wrong_proxy_password_ends_with_the_407_or_a_proxy_error() {
    let origin = TestServer::start(vec![("/e", Behaviour::Echo)]).expect("origin");
    let proxy = ProxyServer::start_digest("pu", "pp").expect("proxy");
    let bad = format!("http://pu:wrong@{}", proxy.addr());
    let s = session(&bad, None);
    let r = s.get(origin.url("/e")).send().expect("a response");
    assert_eq!(r.status().as_u16(), 407);
    assert_eq!(proxy.records().len(), 2, "one Digest answer, not more");

    let ca = Arc::new(TestCa::new().expect("CA"));
    let tls_origin = TestServer::builder()
        .route("/e", Behaviour::Echo)
        .tls(ca.clone(), TlsVariant::Good)
        .start()
        .expect("origin");
    let s = session(&bad, Some(&ca.ca_pem()));
    let e = s
        .get(tls_origin.url_localhost("/e"))
        .send()
        .expect_err("CONNECT refused");
    assert_eq!(e.root_cause().kind(), ErrorKind::Proxy, "{e:?}");
    assert_eq!(proxy.records().len(), 4);
    assert_eq!(origin.hits("/e") + tls_origin.hits("/e"), 0);
}

#[test]
fn later_requests_on_the_session_send_the_learnt_digest_preemptively() {
    let origin = TestServer::start(vec![("/e", Behaviour::Echo)]).expect("origin");
    let proxy = ProxyServer::start_digest("pu", "pp").expect("proxy");
    let s = session(&proxy.url_with_credentials(), None);
    for _ in 0..3 {
        let r = s.get(origin.url("/e")).send().expect("request");
        assert_eq!(r.status().as_u16(), 200);
    }
    let recs = proxy.records();
    assert_eq!(
        recs.len(),
        4,
        "one 407 for the session, not one per request"
    );
    assert!(recs[1..].iter().all(|r| r.authorized));
    assert!(recs[2..].iter().all(|r| {
        r.header("proxy-authorization")
            .is_some_and(|v| v.starts_with("Digest "))
    }));
}
