//! Call scenarios over real TLS: an in-memory rustls server with an rcgen
//! certificate, driven through the scripted peer (tests/call_support).

mod call_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use call_support::*;
use hawser_core::ErrorKind;
use hawser_core::call::Config;
use hawser_core::proxy::{Proxy, ProxyConfig};
use hawser_core::retry::Retry;
use hawser_core::tls::TlsConfig;

struct Pki {
    server: Arc<rustls::ServerConfig>,
    ca_pem: String,
}

/// A CA and a leaf for `names`, and a server config presenting the leaf.
fn pki(names: &[&str]) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "call test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let ca = ca_cert;
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key_der)
    .unwrap();
    Pki {
        server: Arc::new(server),
        ca_pem: ca.pem(),
    }
}

fn config(p: &Pki, retry: Retry) -> Config {
    let mut cfg = config_with_retry(retry);
    cfg.tls = TlsConfig::new()
        .add_root_certificate_pem(p.ca_pem.as_bytes())
        .unwrap()
        .only_custom_roots()
        .fixed_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .build()
        .unwrap();
    cfg
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret";

#[test]
fn https_request_runs_tls_and_the_session_is_pooled_with_the_connection() {
    let p = pki(&["origin.test"]);
    let mut s = Scenario::new(config(&p, Retry::new(0))).with_tls_server(p.server.clone(), true);
    s.answer(Answer::reply(OK)).answer(Answer::reply(OK));
    let a = s.run(get("https://origin.test/one"));
    assert_eq!(a.status(), 200, "{:?}", a.error);
    assert_eq!(a.body, b"secret");
    assert_eq!(
        s.server.connect_targets,
        vec![("origin.test".to_string(), 443)]
    );
    assert_eq!(s.server.received[0].target, "/one");
    let b = s.run(get("https://origin.test/two"));
    assert_eq!(b.status(), 200, "{:?}", b.error);
    assert_eq!(s.server.connections(), 1, "the TLS connection was reused");
    assert!(b.report.attempts[0].reused_connection);
}

#[test]
fn https_through_a_connect_tunnel_keeps_proxy_credentials_out_of_the_tunnel() {
    let p = pki(&["origin.test"]);
    let mut cfg = config(&p, Retry::new(0));
    cfg.proxies =
        ProxyConfig::new().with_https(Proxy::parse("http://pu:pp@proxy.test:3128").unwrap());
    let mut s = Scenario::new(cfg).with_tls_server(p.server.clone(), false);
    s.answer(Answer::reply("HTTP/1.1 200 Connection established\r\n\r\n").start_tls())
        .answer(Answer::reply(OK));
    let out = s.run(get("https://origin.test/secret"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(out.body, b"secret");
    assert_eq!(
        s.server.connect_targets,
        vec![("proxy.test".to_string(), 3128)]
    );
    let connect = &s.server.received[0];
    assert_eq!(
        (connect.method.as_str(), connect.target.as_str()),
        ("CONNECT", "origin.test:443")
    );
    assert_eq!(
        connect.header("proxy-authorization"),
        Some("Basic cHU6cHA=")
    );
    let inner = &s.server.received[1];
    assert_eq!(inner.conn, 0, "the request went through the tunnel");
    assert_eq!(inner.target, "/secret", "origin-form inside the tunnel");
    assert_eq!(inner.header("host"), Some("origin.test"));
    assert_eq!(inner.header("proxy-authorization"), None);
}

#[test]
fn wrong_certificate_name_is_a_certificate_error_and_never_retried() {
    let p = pki(&["someone-else.test"]);
    let mut s = Scenario::new(config(&p, Retry::new(3))).with_tls_server(p.server.clone(), true);
    let out = s.run(get("https://origin.test/"));
    let e = out.err();
    assert_eq!(e.kind(), ErrorKind::Certificate, "{e:?}");
    assert_eq!(
        s.server.connect_targets.len(),
        1,
        "deterministic failures are final"
    );
    assert!(s.server.received.is_empty());
}

#[test]
fn tls_body_truncated_by_close_is_a_body_error() {
    let p = pki(&["origin.test"]);
    let mut s = Scenario::new(config(&p, Retry::new(3))).with_tls_server(p.server.clone(), true);
    s.answer(Answer::reply("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\npartial").then(End::Eof));
    let out = s.run(get("https://origin.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.body, b"partial");
    assert_eq!(out.err().kind(), ErrorKind::Body, "{:?}", out.error);
}

#[test]
fn stale_pooled_tls_connection_is_resent_after_a_fresh_handshake() {
    let p = pki(&["origin.test"]);
    let mut s = Scenario::new(config(&p, Retry::new(0))).with_tls_server(p.server.clone(), true);
    s.prepooled("https://origin.test/warm")
        .answer(Answer::fault(End::Eof))
        .answer(Answer::reply(OK));
    let out = s.run(get("https://origin.test/again"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(out.body, b"secret");
    assert_eq!(s.server.connections(), 2);
    assert_eq!(s.server.received[2].conn, 1);
    assert!(
        out.report.attempts[0].next.contains("stale"),
        "{:?}",
        out.report.attempts
    );
}

fn tls_scenario(retry: Retry) -> Scenario {
    let p = pki(&["origin.test"]);
    Scenario::new(config(&p, retry)).with_tls_server(p.server.clone(), true)
}

#[test]
fn tls_post_body_and_streamed_body_arrive_intact() {
    let mut s = tls_scenario(Retry::new(0));
    s.answer(Answer::reply(OK)).answer(Answer::reply(OK));
    let big = vec![b'z'; 150_000]; // more than one 64 KiB piece
    let req = hawser_core::request::Request::post("https://origin.test/up")
        .body(big.clone())
        .build()
        .unwrap();
    assert_eq!(s.run(req).status(), 200);
    assert_eq!(s.server.received[0].body, big);
    let req = hawser_core::request::Request::post("https://origin.test/s")
        .body(hawser_core::request::Body::stream(None))
        .build()
        .unwrap();
    let pieces = Stream {
        pieces: [b"ab".to_vec(), b"cde".to_vec()].into_iter().collect(),
    };
    let out = s.run_with(
        req,
        hawser_core::call::CallOptions {
            seed: 1,
            ..Default::default()
        },
        pieces,
    );
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.received[1].body, b"abcde");
    assert_eq!(s.server.connections(), 1);
}

#[test]
fn tls_expect_continue_then_body() {
    let p = pki(&["origin.test"]);
    let mut cfg = config(&p, Retry::new(0));
    cfg.expect_continue_min = Some(4);
    let mut s = Scenario::new(cfg).with_tls_server(p.server.clone(), true);
    s.answer(Answer::reply(OK).with_continue());
    let req = hawser_core::request::Request::put("https://origin.test/u")
        .body("0123456789")
        .build()
        .unwrap();
    let out = s.run(req);
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.received[0].body, b"0123456789");
    assert_eq!(out.elapsed, Duration::ZERO);
}

#[test]
fn tls_gzip_body_is_decoded() {
    use std::io::Write;
    let plain = b"tls and gzip ".repeat(100);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&plain).unwrap();
    let z = e.finish().unwrap();
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    resp.extend_from_slice(&z);
    let mut s = tls_scenario(Retry::new(0));
    s.answer(Answer::reply(resp));
    let out = s.run(get("https://origin.test/z"));
    assert_eq!(out.body, plain, "{:?}", out.error);
}

#[test]
fn pooled_tunnel_is_reused_without_a_second_connect() {
    let p = pki(&["origin.test"]);
    let mut cfg = config(&p, Retry::new(0));
    cfg.proxies = ProxyConfig::new().with_https(Proxy::parse("http://proxy.test:3128").unwrap());
    let mut s = Scenario::new(cfg).with_tls_server(p.server.clone(), false);
    s.answer(Answer::reply("HTTP/1.1 200 Connection established\r\n\r\n").start_tls())
        .answer(Answer::reply(OK))
        .answer(Answer::reply(OK));
    assert_eq!(s.run(get("https://origin.test/1")).status(), 200);
    let out = s.run(get("https://origin.test/2"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    let methods: Vec<_> = s
        .server
        .received
        .iter()
        .map(|r| r.method.as_str())
        .collect();
    assert_eq!(methods, vec!["CONNECT", "GET", "GET"]);
    assert_eq!(s.server.connections(), 1);
}

#[test]
fn same_origin_https_redirect_keeps_the_tls_connection() {
    let mut s = tls_scenario(Retry::new(0));
    s.answer(Answer::status(
        301,
        "Location: https://origin.test/moved\r\n",
        "",
    ))
    .answer(Answer::reply(OK));
    let out = s.run(get("https://origin.test/old"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.received[1].target, "/moved");
    assert_eq!(
        s.server.connections(),
        1,
        "same origin: the TLS connection is kept"
    );
}

#[test]
fn tls_large_download_arrives_intact() {
    let body: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    resp.extend_from_slice(&body);
    let mut s = tls_scenario(Retry::new(0));
    s.answer(Answer::reply(resp));
    let out = s.run(get("https://origin.test/big"));
    assert_eq!(out.status(), 200);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.body.len(), body.len());
    assert!(out.body == body);
}
