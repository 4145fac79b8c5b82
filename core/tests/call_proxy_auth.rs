//! Proxy authentication in the call (issue 4, items 3 and 5): the proxy
//! URL's credentials go preemptively as Basic, a `407` with a Digest
//! challenge is answered once per hop (forward requests and `CONNECT`),
//! and proxy credentials never reach the origin or the inside of a tunnel.
//! Driven through the scripted peer (tests/call_support); the scripted
//! proxy checks Digest responses with md-5 the way a real proxy would.

mod call_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use call_support::*;
use hawser_core::ErrorKind;
use hawser_core::auth::Challenge;
use hawser_core::call::{CallOptions, Config};
use hawser_core::proxy::{Proxy, ProxyConfig};
use hawser_core::request::{Body, Request};
use hawser_core::retry::Retry;
use hawser_core::tls::TlsConfig;

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const DIGEST_407: &str = "Proxy-Authenticate: Digest realm=\"proxy@test\", qop=\"auth\", nonce=\"pn0nce\", opaque=\"po\"\r\n";

fn proxied(proxy: &str) -> Config {
    let mut cfg = config_with_retry(Retry::new(0));
    cfg.proxies = ProxyConfig::new().with_all(Proxy::parse(proxy).unwrap());
    cfg
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a proxy does with a `Proxy-Authorization: Digest ...` field:
/// recompute the response for `method` and `password`, and compare.
fn assert_digest_verifies(field: Option<&str>, method: &str, password: &str, uri: &str) {
    let field = field.expect("a Proxy-Authorization field");
    let parsed = Challenge::parse_all(field.as_bytes());
    let c = parsed.first().expect("a parsable field");
    assert!(c.scheme_is("digest"), "not Digest: {field}");
    let p = |n: &str| {
        c.param(n)
            .unwrap_or_else(|| panic!("no {n} in {field}"))
            .to_string()
    };
    assert_eq!(p("username"), "pu");
    assert_eq!(p("realm"), "proxy@test");
    assert_eq!(p("uri"), uri, "Digest signs the request target as sent");
    assert_eq!(p("opaque"), "po");
    let ha1 = md5_hex(&format!("pu:{}:{password}", p("realm")));
    let ha2 = md5_hex(&format!("{method}:{}", p("uri")));
    let expected = md5_hex(&format!(
        "{ha1}:{}:{}:{}:{}:{ha2}",
        p("nonce"),
        p("nc"),
        p("cnonce"),
        p("qop")
    ));
    assert_eq!(p("response"), expected, "the proxy verifies the hash");
}

// ----- forward proxy (http:// targets, absolute-form requests) ---------------

#[test]
fn forward_proxy_gets_basic_preemptively_and_the_origin_never_sees_it() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::reply(OK));
    let out = s.run(get("http://origin.test/a?b=1"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.received.len(), 1, "no challenge round trip");
    let r = &s.server.received[0];
    assert_eq!(r.target, "http://origin.test/a?b=1");
    assert_eq!(r.header("proxy-authorization"), Some("Basic cHU6cHA="));
    assert_eq!(
        r.header("authorization"),
        None,
        "proxy credentials are not origin credentials"
    );
}

#[test]
fn forward_proxy_digest_407_is_answered_with_a_correct_digest_on_the_same_connection() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::status(407, DIGEST_407, "proxy auth required"))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://origin.test/dir/x?y=2"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(out.body, b"ok");
    assert_eq!(s.server.received.len(), 2);
    assert_eq!(
        s.server.received[0].header("proxy-authorization"),
        Some("Basic cHU6cHA="),
        "Basic first, preemptively"
    );
    let second = &s.server.received[1];
    assert_eq!(second.target, "http://origin.test/dir/x?y=2");
    assert_digest_verifies(
        second.header("proxy-authorization"),
        "GET",
        "pp",
        "http://origin.test/dir/x?y=2",
    );
    assert_eq!(second.header("authorization"), None);
    assert_eq!(
        s.server.connections(),
        1,
        "the 407 body was drained, the connection kept"
    );
    assert_eq!(out.report.attempts.len(), 2);
    assert_eq!(out.report.attempts[0].next, "answer proxy auth challenge");
}

#[test]
fn forward_proxy_resend_replays_a_replayable_body() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::status(407, DIGEST_407, ""))
        .answer(Answer::reply(OK));
    let req = Request::post("http://origin.test/upload")
        .body(Body::from("payload"))
        .build()
        .unwrap();
    let out = s.run(req);
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.received.len(), 2);
    assert_eq!(s.server.received[0].body, b"payload");
    assert_eq!(s.server.received[1].body, b"payload", "the body went again");
    assert_digest_verifies(
        s.server.received[1].header("proxy-authorization"),
        "POST",
        "pp",
        "http://origin.test/upload",
    );
}

#[test]
fn forward_proxy_407_after_a_streamed_body_is_returned_not_resent() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::status(407, DIGEST_407, ""));
    let req = Request::post("http://origin.test/upload")
        .body(Body::stream(Some(4)))
        .build()
        .unwrap();
    let stream = Stream {
        pieces: vec![b"data".to_vec()].into(),
    };
    let opts = CallOptions {
        seed: 1,
        ..Default::default()
    };
    let out = s.run_with(req, opts, stream);
    assert_eq!(out.status(), 407, "a consumed stream cannot be re-sent");
    assert_eq!(s.server.received.len(), 1);
}

#[test]
fn forward_proxy_wrong_password_gets_one_answer_then_the_407_is_returned() {
    let mut s = Scenario::new(proxied("http://pu:wrong@proxy.test:3128"));
    s.answer(Answer::status(407, DIGEST_407, "nope"))
        .answer(Answer::status(407, DIGEST_407, "still nope"));
    let out = s.run(get("http://origin.test/"));
    assert_eq!(out.status(), 407, "{:?}", out.error);
    assert_eq!(out.body, b"still nope");
    assert_eq!(
        s.server.received.len(),
        2,
        "a 407 re-send is at most once per hop"
    );
    assert_digest_verifies(
        s.server.received[1].header("proxy-authorization"),
        "GET",
        "wrong",
        "http://origin.test/",
    );
}

#[test]
fn forward_proxy_basic_only_407_after_preemptive_basic_is_final() {
    let mut s = Scenario::new(proxied("http://pu:wrong@proxy.test:3128"));
    s.answer(Answer::status(
        407,
        "Proxy-Authenticate: Basic realm=\"p\"\r\n",
        "",
    ));
    let out = s.run(get("http://origin.test/"));
    assert_eq!(out.status(), 407);
    assert_eq!(
        s.server.received.len(),
        1,
        "the same Basic credentials are not sent twice"
    );
}

#[test]
fn forward_proxy_without_credentials_returns_the_407_unchanged() {
    let mut s = Scenario::new(proxied("http://proxy.test:3128"));
    s.answer(Answer::status(407, DIGEST_407, "who are you"));
    let out = s.run(get("http://origin.test/"));
    assert_eq!(out.status(), 407);
    assert_eq!(out.body, b"who are you");
    assert_eq!(s.server.received.len(), 1);
    assert_eq!(s.server.received[0].header("proxy-authorization"), None);
}

#[test]
fn forward_proxy_digest_is_reused_preemptively_on_the_next_redirect_hop() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::status(407, DIGEST_407, ""))
        .answer(Answer::status(
            302,
            "Location: http://origin.test/next\r\n",
            "",
        ))
        .answer(Answer::reply(OK));
    let out = s.run(get("http://origin.test/first"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.received.len(), 3, "no second 407 round trip");
    let third = &s.server.received[2];
    assert_eq!(third.target, "http://origin.test/next");
    assert_digest_verifies(
        third.header("proxy-authorization"),
        "GET",
        "pp",
        "http://origin.test/next",
    );
    let field = third.header("proxy-authorization").unwrap();
    let c = &Challenge::parse_all(field.as_bytes())[0];
    assert_eq!(c.param("nc"), Some("00000002"), "the nonce's second use");
}

// ----- CONNECT tunnels (https:// targets) --------------------------------------

struct Pki {
    server: Arc<rustls::ServerConfig>,
    ca_pem: String,
}

/// A CA and a leaf for `origin.test`, and a server config presenting it.
fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "proxy auth test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let ca = ca_cert;
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["origin.test".to_string()])
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

/// A scenario whose server speaks TLS inside tunnels, via `proxy`.
fn tunnel_scenario(proxy: &str) -> Scenario {
    let p = pki();
    let mut cfg = proxied(proxy);
    cfg.tls = TlsConfig::new()
        .add_root_certificate_pem(p.ca_pem.as_bytes())
        .unwrap()
        .only_custom_roots()
        .fixed_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .build()
        .unwrap();
    Scenario::new(cfg).with_tls_server(p.server, false)
}

const ESTABLISHED: &str = "HTTP/1.1 200 Connection established\r\n\r\n";
const SECRET: &str = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret";

#[test]
fn connect_digest_407_is_answered_then_tls_runs_inside_without_proxy_credentials() {
    let mut s = tunnel_scenario("http://pu:pp@proxy.test:3128");
    s.answer(Answer::status(407, DIGEST_407, "proxy auth required"))
        .answer(Answer::reply(ESTABLISHED).start_tls())
        .answer(Answer::reply(SECRET));
    let req = Request::get("https://origin.test/secret")
        // A caller-set field must not be forwarded into the tunnel either.
        .header("proxy-authorization", "Basic Y2FsbGVyOnNldA==")
        .build()
        .unwrap();
    let out = s.run(req);
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(out.body, b"secret");
    let methods: Vec<_> = s
        .server
        .received
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str(), r.conn))
        .collect();
    assert_eq!(
        methods,
        vec![
            ("CONNECT", "origin.test:443", 0),
            ("CONNECT", "origin.test:443", 0),
            ("GET", "/secret", 0),
        ],
        "CONNECT again on the same connection, then the request in the tunnel"
    );
    assert_eq!(
        s.server.received[0].header("proxy-authorization"),
        Some("Basic cHU6cHA=")
    );
    assert_eq!(s.server.received[1].header("host"), Some("origin.test:443"));
    assert_digest_verifies(
        s.server.received[1].header("proxy-authorization"),
        "CONNECT",
        "pp",
        "origin.test:443",
    );
    let inner = &s.server.received[2];
    assert_eq!(inner.header("proxy-authorization"), None);
    assert_eq!(inner.header("authorization"), None);
    assert_eq!(s.server.connections(), 1);
    assert_eq!(
        out.report.attempts[0].next,
        "answer proxy auth challenge (CONNECT)"
    );
}

#[test]
fn connect_407_that_closes_is_answered_on_a_new_connection() {
    let mut s = tunnel_scenario("http://pu:pp@proxy.test:3128");
    // No Content-Length: the body runs to the close, so the connection is
    // spent and the CONNECT goes again on a fresh one.
    s.answer(
        Answer::reply(format!(
            "HTTP/1.1 407 Proxy Authentication Required\r\n{DIGEST_407}\r\nclose-delimited body"
        ))
        .then(End::Eof),
    )
    .answer(Answer::reply(ESTABLISHED).start_tls())
    .answer(Answer::reply(SECRET));
    let out = s.run(get("https://origin.test/secret"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.connections(), 2);
    assert_eq!(
        s.server.connect_targets,
        vec![
            ("proxy.test".to_string(), 3128),
            ("proxy.test".to_string(), 3128)
        ]
    );
    let second = &s.server.received[1];
    assert_eq!((second.method.as_str(), second.conn), ("CONNECT", 1));
    assert_digest_verifies(
        second.header("proxy-authorization"),
        "CONNECT",
        "pp",
        "origin.test:443",
    );
    assert_eq!(s.server.received[2].conn, 1);
    assert_eq!(s.server.received[2].header("proxy-authorization"), None);
    assert_eq!(
        out.releases.first(),
        Some(&false),
        "a proxy connection without a tunnel is never pooled"
    );
}

#[test]
fn connect_wrong_password_second_407_is_a_proxy_error() {
    let mut s = tunnel_scenario("http://pu:wrong@proxy.test:3128");
    s.answer(Answer::status(407, DIGEST_407, ""))
        .answer(Answer::status(407, DIGEST_407, ""));
    let out = s.run(get("https://origin.test/"));
    let e = out.err();
    assert_eq!(e.root_cause().kind(), ErrorKind::Proxy, "{e:?}");
    assert!(
        e.root_cause()
            .to_string()
            .contains("rejected the credentials"),
        "names why: {e}"
    );
    assert!(!format!("{e:?}").contains("wrong"), "no password in errors");
    assert_eq!(s.server.received.len(), 2, "one answer per hop");
    assert!(s.server.received.iter().all(|r| r.method == "CONNECT"));
}

#[test]
fn connect_without_credentials_keeps_the_407_proxy_error() {
    let mut s = tunnel_scenario("http://proxy.test:3128");
    s.answer(Answer::status(407, DIGEST_407, ""));
    let out = s.run(get("https://origin.test/"));
    let e = out.err();
    // Final and unwrapped (requests' ProxyError), naming the proxy and 407.
    assert_eq!(e.kind(), ErrorKind::Proxy, "{e:?}");
    assert!(e.is_proxy());
    assert!(
        e.to_string()
            .contains("the proxy proxy.test:3128 requires authentication (407"),
        "{e}"
    );
    assert_eq!(s.server.received.len(), 1);
    assert_eq!(s.server.received[0].header("proxy-authorization"), None);
}

#[test]
fn connect_basic_only_407_after_preemptive_basic_is_a_proxy_error_without_resend() {
    let mut s = tunnel_scenario("http://pu:wrong@proxy.test:3128");
    s.answer(Answer::status(
        407,
        "Proxy-Authenticate: Basic realm=\"p\"\r\n",
        "",
    ));
    let out = s.run(get("https://origin.test/"));
    assert_eq!(out.err().root_cause().kind(), ErrorKind::Proxy);
    assert_eq!(s.server.received.len(), 1);
}

// ----- across calls of one session ---------------------------------------------

fn nc_of(field: Option<&str>) -> String {
    let field = field.expect("a Proxy-Authorization field");
    Challenge::parse_all(field.as_bytes())[0]
        .param("nc")
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_next_call_on_the_agent_answers_the_proxy_digest_preemptively() {
    let mut s = Scenario::new(proxied("http://pu:pp@proxy.test:3128"));
    s.answer(Answer::status(407, DIGEST_407, ""))
        .answer(Answer::reply(OK))
        .answer(Answer::reply(OK));
    assert_eq!(s.run(get("http://origin.test/1")).status(), 200);
    let out = s.run(get("http://origin.test/2"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.received.len(), 3, "no second 407 round trip");
    let third = &s.server.received[2];
    assert_digest_verifies(
        third.header("proxy-authorization"),
        "GET",
        "pp",
        "http://origin.test/2",
    );
    assert_eq!(nc_of(third.header("proxy-authorization")), "00000002");
}

#[test]
fn the_next_tunnel_on_the_agent_sends_the_learnt_digest_on_connect() {
    let mut s = tunnel_scenario("http://pu:pp@proxy.test:3128");
    // `Connection: close` on the inner answer: the tunnel is not pooled, so
    // the second call opens (and authenticates) a new one.
    let closing = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nsecret";
    s.answer(Answer::status(407, DIGEST_407, ""))
        .answer(Answer::reply(ESTABLISHED).start_tls())
        .answer(Answer::reply(closing))
        .answer(Answer::reply(ESTABLISHED).start_tls())
        .answer(Answer::reply(SECRET));
    assert_eq!(s.run(get("https://origin.test/1")).status(), 200);
    let out = s.run(get("https://origin.test/2"));
    assert_eq!(out.status(), 200, "{:?}", out.error);
    assert_eq!(s.server.connections(), 2);
    let connect = &s.server.received[3];
    assert_eq!((connect.method.as_str(), connect.conn), ("CONNECT", 1));
    assert_digest_verifies(
        connect.header("proxy-authorization"),
        "CONNECT",
        "pp",
        "origin.test:443",
    );
    assert_eq!(nc_of(connect.header("proxy-authorization")), "00000002");
    assert_eq!(s.server.received[4].header("proxy-authorization"), None);
}

#[test]
fn proxy_user_with_a_colon_is_a_typed_error_not_ambiguous_basic() {
    let mut s = Scenario::new(proxied("http://a%3Ab:pp@proxy.test:3128"));
    let out = s.run(get("http://origin.test/"));
    let e = out.err();
    assert_eq!(e.root_cause().kind(), ErrorKind::InvalidRequest, "{e:?}");
    assert!(s.server.received.is_empty(), "nothing was sent");
}
