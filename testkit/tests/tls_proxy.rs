//! Self-tests of TLS, the forward proxy and the never-accepting listener.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hawser_testkit::{
    read_response, Behaviour, BlackHole, ProxyServer, TestCa, TestServer, TlsVariant,
};
use rustls::pki_types::ServerName;

fn tls_server(ca: &Arc<TestCa>, v: TlsVariant) -> TestServer {
    TestServer::builder()
        .route("/e", Behaviour::Echo)
        .tls(ca.clone(), v)
        .start()
        .expect("tls server")
}

fn tls_get(ca: &TestCa, srv: &TestServer, host: &str) -> Result<u16, String> {
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(ca.client_config().map_err(|e| e.to_string())?, name)
        .map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(srv.addr()).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /e HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .map_err(describe)?;
    read_response(&mut tls).map(|r| r.0).map_err(describe)
}

/// The rustls error inside an io::Error, as Debug (which names the variant).
fn describe(e: std::io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(t) => format!("{t:?}"),
        None => e.to_string(),
    }
}

#[test]
fn good_certificate_verifies_for_localhost_and_ip() {
    let ca = Arc::new(TestCa::new().expect("ca"));
    let srv = tls_server(&ca, TlsVariant::Good);
    assert!(srv.url("/e").starts_with("https://127.0.0.1:"));
    assert_eq!(srv.ca_pem(), Some(ca.ca_pem().as_str()));
    assert_eq!(tls_get(&ca, &srv, "localhost"), Ok(200));
    assert_eq!(tls_get(&ca, &srv, "127.0.0.1"), Ok(200));
    assert_eq!(srv.hits("/e"), 2);
    assert_eq!(srv.tls_failures(), 0);
}

#[test]
fn bad_certificates_fail_verification_for_the_right_reason() {
    let ca = Arc::new(TestCa::new().expect("ca"));
    for (variant, needle) in [
        (TlsVariant::WrongHost, "NotValidForName"),
        (TlsVariant::Expired, "Expired"),
        (TlsVariant::UnknownIssuer, "UnknownIssuer"),
    ] {
        let srv = tls_server(&ca, variant);
        let err = tls_get(&ca, &srv, "localhost").expect_err("must fail");
        assert!(err.contains(needle), "{variant:?}: {err}");
        assert_eq!(srv.hits("/e"), 0);
        let start = Instant::now();
        while srv.tls_failures() == 0 && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(srv.tls_failures(), 1, "{variant:?}");
    }
}

#[test]
fn proxy_forwards_absolute_form_without_proxy_credentials() {
    let origin = TestServer::start(vec![("/e", Behaviour::Echo)]).expect("origin");
    let proxy = ProxyServer::start(Some(("pu", "pp"))).expect("proxy");
    let mut s = TcpStream::connect(proxy.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    let target = origin.url("/e?x=1");
    // Without credentials: 407, and nothing reaches the origin.
    s.write_all(format!("GET {target} HTTP/1.1\r\nHost: o\r\n\r\n").as_bytes())
        .expect("w");
    let r = read_response(&mut s).expect("407");
    assert_eq!(r.0, 407);
    assert!(r
        .1
        .iter()
        .any(|(n, v)| n == "Proxy-Authenticate" && v.starts_with("Basic")));
    assert_eq!(origin.hits("/e"), 0);
    // With credentials (pu:pp), on the same kept-alive connection.
    s.write_all(
        format!("POST {target} HTTP/1.1\r\nHost: o\r\nProxy-Authorization: Basic cHU6cHA=\r\nContent-Length: 2\r\n\r\nhi")
            .as_bytes(),
    )
    .expect("w");
    let r = read_response(&mut s).expect("200");
    assert_eq!(r.0, 200);
    let seen = &origin.requests_to("/e")[0];
    assert_eq!(seen.target, "/e?x=1");
    assert_eq!(seen.body, b"hi");
    assert_eq!(seen.header("proxy-authorization"), None);
    let recs = proxy.records();
    assert_eq!(recs.len(), 2);
    assert!(!recs[0].authorized && recs[1].authorized);
    assert_eq!(
        recs[1].header("proxy-authorization"),
        Some("Basic cHU6cHA=")
    );
    assert_eq!(proxy.connections_accepted(), 1);
}

#[test]
fn proxy_refuses_non_loopback_targets() {
    let proxy = ProxyServer::start(None).expect("proxy");
    let mut s = TcpStream::connect(proxy.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    s.write_all(b"GET http://192.0.2.1:80/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("w");
    assert_eq!(read_response(&mut s).expect("502").0, 502);
}

#[test]
fn connect_tunnel_carries_tls_to_the_origin() {
    let ca = Arc::new(TestCa::new().expect("ca"));
    let origin = tls_server(&ca, TlsVariant::Good);
    let proxy = ProxyServer::start(None).expect("proxy");
    let mut tcp = TcpStream::connect(proxy.addr()).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("t");
    let authority = format!("localhost:{}", origin.addr().port());
    tcp.write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
        .expect("w");
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut b).expect("read"), 1);
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"));
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(ca.client_config().expect("cfg"), name).expect("c");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /e HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("w");
    assert_eq!(read_response(&mut tls).expect("resp").0, 200);
    assert_eq!(origin.hits("/e"), 1);
    assert_eq!(proxy.records()[0].method, "CONNECT");
    assert_eq!(proxy.records()[0].target, authority);
}

#[test]
fn black_hole_makes_connect_time_out() {
    let hole = BlackHole::start().expect("black hole");
    let start = Instant::now();
    let err =
        TcpStream::connect_timeout(&hole.addr(), Duration::from_millis(200)).expect_err("hangs");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(190));
    assert!(hole.connect_times_out(Duration::from_millis(100)));
}

#[test]
fn dropping_the_proxy_cuts_a_forward_to_a_stalled_origin() {
    let origin = TestServer::start(vec![(
        "/s",
        Behaviour::StallBeforeHead(Duration::from_secs(30)),
    )])
    .expect("origin");
    let proxy = ProxyServer::start(None).expect("proxy");
    let mut s = TcpStream::connect(proxy.addr()).expect("connect");
    s.write_all(format!("GET {} HTTP/1.1\r\nHost: o\r\n\r\n", origin.url("/s")).as_bytes())
        .expect("w");
    while origin.hits("/s") == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    drop(proxy);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}
