//! Handshake outcomes against an in-process rustls server: the good path,
//! each kind of certificate rejection, client certificates, and disabled
//! verification.
#![cfg(feature = "rustls")]

mod tls_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hawser_core::ErrorKind;
use hawser_core::tls::{FixedTime, TlsConfig, TlsSession};
use tls_support::*;

/// 2025-06-01T00:00:00Z, a fixed "now" for deterministic validity checks.
const JUNE_2025: u64 = 1_748_736_000;

fn handshake_error(
    connector: &hawser_core::tls::TlsConnector,
    leaf: &Leaf,
    host: &str,
) -> hawser_core::Error {
    let mut client = TlsSession::new(connector, host).expect("session");
    let mut server = server_for(leaf);
    match pump(&mut client, &mut server).client {
        Ok(()) => panic!("handshake with {host} should have failed"),
        Err(e) => e,
    }
}

#[test]
fn good_certificate_for_localhost_and_ip_completes_the_handshake() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost", "127.0.0.1"]);
    let connector = connector_trusting(&ca);
    for host in ["localhost", "127.0.0.1"] {
        let mut client = TlsSession::new(&connector, host).expect("session");
        let mut server = server_for(&leaf);
        let pumped = pump(&mut client, &mut server);
        assert!(pumped.client.is_ok(), "{host}: {:?}", pumped.client);
        assert!(pumped.server.is_ok(), "{host}: {:?}", pumped.server);
        assert!(!client.is_handshaking(), "{host}");
        assert_eq!(client.alpn_protocol(), Some(&b"http/1.1"[..]), "{host}");
    }
}

#[test]
fn ipv6_literal_in_brackets_is_checked_against_the_ip_san() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["::1"]);
    let mut client = TlsSession::new(&connector_trusting(&ca), "[::1]").expect("session");
    let mut server = server_for(&leaf);
    let pumped = pump(&mut client, &mut server);
    assert!(pumped.client.is_ok(), "{:?}", pumped.client);
    assert!(!client.is_handshaking());
}

#[test]
fn wrong_host_name_is_a_certificate_error_naming_both_names() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["127.0.0.1"]);
    let err = handshake_error(&connector_trusting(&ca), &leaf, "localhost");
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert_eq!(
        err.to_string(),
        "certificate for 127.0.0.1 is not valid for localhost"
    );
}

#[test]
fn expired_certificate_is_a_certificate_error_with_dates() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue_valid(&["localhost"], 2020, 2021);
    let connector = TlsConfig::new()
        .add_root_certificate_pem(&ca.pem())
        .unwrap()
        .only_custom_roots()
        .fixed_time(SystemTime::UNIX_EPOCH + Duration::from_secs(JUNE_2025))
        .build()
        .unwrap();
    let err = handshake_error(&connector, &leaf, "localhost");
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert_eq!(
        err.to_string(),
        "certificate for localhost expired at Fri, 01 Jan 2021 00:00:00 GMT (checked at Sun, 01 Jun 2025 00:00:00 GMT)"
    );
}

#[test]
fn expired_certificate_is_rejected_with_the_default_clock_too() {
    // not_after in 2001: expired under any plausible system clock.
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue_valid(&["localhost"], 2000, 2001);
    let err = handshake_error(&connector_trusting(&ca), &leaf, "localhost");
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert!(
        err.to_string()
            .starts_with("certificate for localhost expired at"),
        "{err}"
    );
}

#[test]
fn certificate_not_valid_yet_is_a_certificate_error() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue_valid(&["localhost"], 2030, 2040);
    let connector = TlsConfig::new()
        .add_root_certificate_pem(&ca.pem())
        .unwrap()
        .only_custom_roots()
        .time_provider(Arc::new(FixedTime::from_unix_secs(JUNE_2025)))
        .build()
        .unwrap();
    let err = handshake_error(&connector, &leaf, "localhost");
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert_eq!(
        err.to_string(),
        "certificate for localhost is not valid until Tue, 01 Jan 2030 00:00:00 GMT (checked at Sun, 01 Jun 2025 00:00:00 GMT)"
    );
}

#[test]
fn leaf_from_another_ca_is_an_unknown_issuer() {
    let trusted = Ca::new("hawser test CA");
    let other = Ca::new("some other CA");
    let leaf = other.issue(&["localhost"]);
    let err = handshake_error(&connector_trusting(&trusted), &leaf, "localhost");
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert_eq!(
        err.to_string(),
        "certificate for localhost was not issued by a trusted certificate authority (unknown issuer)"
    );
}

#[test]
fn test_ca_is_unknown_to_the_default_webpki_roots() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost"]);
    let err = handshake_error(&TlsConfig::new().build().unwrap(), &leaf, "localhost");
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert!(err.to_string().contains("unknown issuer"), "{err}");
}

#[test]
fn tampered_certificate_signature_is_a_bad_signature() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost"]);
    // The signature value is the last field of the DER; flipping its last
    // byte keeps the certificate parseable but breaks the CA's signature.
    let mut der = leaf.cert.der().to_vec();
    if let Some(last) = der.last_mut() {
        *last ^= 0x01;
    }
    let chain = vec![rustls::pki_types::CertificateDer::from(der)];
    let mut server =
        rustls::ServerConnection::new(server_config(chain, leaf.private_key())).unwrap();
    let mut client = TlsSession::new(&connector_trusting(&ca), "localhost").unwrap();
    let err = pump(&mut client, &mut server).client.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert_eq!(
        err.to_string(),
        "certificate for localhost has an invalid signature"
    );
}

#[test]
fn custom_ca_added_as_der_is_trusted() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost"]);
    let connector = TlsConfig::new()
        .add_root_certificate_der(&ca.der())
        .unwrap()
        .only_custom_roots()
        .build()
        .unwrap();
    let mut client = TlsSession::new(&connector, "localhost").unwrap();
    let mut server = server_for(&leaf);
    let pumped = pump(&mut client, &mut server);
    assert!(pumped.client.is_ok(), "{:?}", pumped.client);
    assert!(!client.is_handshaking());
}

#[test]
fn custom_ca_works_alongside_the_webpki_roots() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost"]);
    let connector = TlsConfig::new()
        .add_root_certificate_pem(&ca.pem())
        .unwrap()
        .build()
        .unwrap();
    let mut client = TlsSession::new(&connector, "localhost").unwrap();
    let mut server = server_for(&leaf);
    assert!(pump(&mut client, &mut server).client.is_ok());
    assert!(!client.is_handshaking());
}

#[test]
fn client_certificate_required_by_the_server_and_supplied() {
    let server_ca = Ca::new("hawser server CA");
    let client_ca = Ca::new("hawser client CA");
    let server_leaf = server_ca.issue(&["localhost"]);
    let client_leaf = client_ca.issue(&["client.test"]);
    let connector = TlsConfig::new()
        .add_root_certificate_pem(&server_ca.pem())
        .unwrap()
        .only_custom_roots()
        .client_certificate_pem(&client_leaf.cert_pem(), &client_leaf.key_pem())
        .unwrap()
        .build()
        .unwrap();
    let mut client = TlsSession::new(&connector, "localhost").unwrap();
    let mut server = rustls::ServerConnection::new(server_config_requiring_client_cert(
        &server_leaf,
        &client_ca,
    ))
    .unwrap();
    let pumped = pump(&mut client, &mut server);
    assert!(pumped.client.is_ok(), "{:?}", pumped.client);
    assert!(pumped.server.is_ok(), "{:?}", pumped.server);
    assert!(!server.is_handshaking());
    let presented = server
        .peer_certificates()
        .expect("server saw a client certificate");
    assert_eq!(
        presented.first().map(|c| c.to_vec()),
        Some(client_leaf.cert.der().to_vec())
    );
}

#[test]
fn missing_client_certificate_fails_with_a_tls_error() {
    let server_ca = Ca::new("hawser server CA");
    let client_ca = Ca::new("hawser client CA");
    let server_leaf = server_ca.issue(&["localhost"]);
    let mut client = TlsSession::new(&connector_trusting(&server_ca), "localhost").unwrap();
    let mut server = rustls::ServerConnection::new(server_config_requiring_client_cert(
        &server_leaf,
        &client_ca,
    ))
    .unwrap();
    let pumped = pump(&mut client, &mut server);
    assert!(
        pumped.server.is_err(),
        "the server must refuse a client without a certificate"
    );
    let err = pumped
        .client
        .expect_err("the server's alert reaches the client");
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert_eq!(
        err.to_string(),
        "TLS with localhost failed: the server sent the alert CertificateRequired (the server requires a client certificate)"
    );
}

#[test]
fn client_certificate_from_an_untrusted_ca_is_rejected_by_the_server() {
    let server_ca = Ca::new("hawser server CA");
    let client_ca = Ca::new("hawser client CA");
    let rogue_ca = Ca::new("rogue client CA");
    let server_leaf = server_ca.issue(&["localhost"]);
    let rogue_leaf = rogue_ca.issue(&["client.test"]);
    let connector = TlsConfig::new()
        .add_root_certificate_pem(&server_ca.pem())
        .unwrap()
        .only_custom_roots()
        .client_certificate_pem(&rogue_leaf.cert_pem(), &rogue_leaf.key_pem())
        .unwrap()
        .build()
        .unwrap();
    let mut client = TlsSession::new(&connector, "localhost").unwrap();
    let mut server = rustls::ServerConnection::new(server_config_requiring_client_cert(
        &server_leaf,
        &client_ca,
    ))
    .unwrap();
    let pumped = pump(&mut client, &mut server);
    assert!(pumped.server.is_err());
    let err = pumped
        .client
        .expect_err("the server's alert reaches the client");
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert!(
        err.to_string()
            .ends_with("(the server rejected the client certificate)"),
        "{err}"
    );
}

#[test]
fn tls12_only_server_completes_the_handshake() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost"]);
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(leaf.chain(), leaf.private_key())
    .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut server = rustls::ServerConnection::new(Arc::new(config)).unwrap();
    let mut client = TlsSession::new(&connector_trusting(&ca), "localhost").unwrap();
    let pumped = pump(&mut client, &mut server);
    assert!(pumped.client.is_ok(), "{:?}", pumped.client);
    assert!(!client.is_handshaking());
    assert_eq!(
        server.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
}

#[test]
fn disabled_verification_accepts_an_untrusted_expired_misnamed_certificate() {
    let stranger = Ca::new("unknown CA");
    let leaf = stranger.issue_valid(&["somewhere.else"], 2000, 2001);
    let connector = TlsConfig::new()
        .dangerous_disable_certificate_verification()
        .build()
        .unwrap();
    assert!(!connector.verifies_certificates());
    let mut client = TlsSession::new(&connector, "localhost").unwrap();
    let mut server = server_for(&leaf);
    let pumped = pump(&mut client, &mut server);
    assert!(pumped.client.is_ok(), "{:?}", pumped.client);
    assert!(!client.is_handshaking());

    // And the same certificate is refused with verification on.
    let err = handshake_error(
        &connector_trusting(&Ca::new("hawser test CA")),
        &leaf,
        "localhost",
    );
    assert_eq!(err.kind(), ErrorKind::Certificate);
}
