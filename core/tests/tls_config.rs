//! TlsConfig / TlsConnector: input validation, connector identity for pool
//! keys, and Debug output that never shows key material.
#![cfg(feature = "rustls")]

mod tls_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hawser_core::ErrorKind;
use hawser_core::tls::{FixedTime, TimeProvider, TlsConfig, TlsSession};
use tls_support::*;

#[test]
fn equal_settings_share_an_identity_and_clones_keep_it() {
    let ca = Ca::new("hawser test CA");
    let a = TlsConfig::new()
        .add_root_certificate_pem(&ca.pem())
        .unwrap()
        .build()
        .unwrap();
    let b = TlsConfig::new()
        .add_root_certificate_der(&ca.der())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        a.id(),
        b.id(),
        "the same CA as PEM or DER is the same setting"
    );
    assert_eq!(a.clone().id(), a.id());
    assert_eq!(
        TlsConfig::default().build().unwrap().id(),
        TlsConfig::new().build().unwrap().id()
    );
}

#[test]
fn every_setting_changes_the_identity() {
    let ca = Ca::new("hawser test CA");
    let other_ca = Ca::new("other CA");
    let client = Ca::new("client CA").issue(&["client.test"]);
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let with_ca = || {
        TlsConfig::new()
            .add_root_certificate_pem(&ca.pem())
            .unwrap()
    };
    let ids = [
        TlsConfig::new().build().unwrap().id(),
        TlsConfig::new()
            .dangerous_disable_certificate_verification()
            .build()
            .unwrap()
            .id(),
        with_ca().build().unwrap().id(),
        with_ca().only_custom_roots().build().unwrap().id(),
        TlsConfig::new()
            .add_root_certificate_pem(&other_ca.pem())
            .unwrap()
            .build()
            .unwrap()
            .id(),
        with_ca()
            .client_certificate_pem(&client.cert_pem(), &client.key_pem())
            .unwrap()
            .build()
            .unwrap()
            .id(),
        TlsConfig::new().fixed_time(t).build().unwrap().id(),
        TlsConfig::new()
            .fixed_time(t + Duration::from_secs(1))
            .build()
            .unwrap()
            .id(),
        TlsConfig::new()
            .time_provider(Arc::new(FixedTime::new(t)))
            .build()
            .unwrap()
            .id(),
        TlsConfig::new()
            .time_provider(Arc::new(FixedTime::new(t)))
            .build()
            .unwrap()
            .id(),
    ];
    for (i, a) in ids.iter().enumerate() {
        for (j, b) in ids.iter().enumerate().skip(i + 1) {
            assert_ne!(
                a, b,
                "settings #{i} and #{j} must not share pooled connections"
            );
        }
    }
}

#[test]
fn identity_prints_as_short_hex() {
    let id = TlsConfig::new().build().unwrap().id();
    let shown = id.to_string();
    assert_eq!(shown.len(), 16);
    assert!(shown.chars().all(|c| c.is_ascii_hexdigit()), "{shown}");
    assert_eq!(format!("{id:?}"), format!("ConnectorId({shown})"));
    assert_eq!(id.as_bytes().len(), 32);
}

#[test]
fn debug_output_never_contains_key_material() {
    let ca = Ca::new("hawser test CA");
    let client = Ca::new("client CA").issue(&["client.test"]);
    let key_pem = String::from_utf8(client.key_pem()).unwrap();
    let key_body: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let config = TlsConfig::new()
        .add_root_certificate_pem(&ca.pem())
        .unwrap()
        .client_certificate_pem(&client.cert_pem(), &key_pem.clone().into_bytes())
        .unwrap();
    let connector = config.build().unwrap();
    for shown in [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{connector:?}"),
    ] {
        for line in &key_body {
            assert!(!shown.contains(line), "Debug leaked key material: {shown}");
        }
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    }
    assert!(format!("{config:?}").contains("private key <redacted>"));
    let session = TlsSession::new(&connector, "localhost").unwrap();
    assert!(!format!("{session:?}").contains(key_body[0]));
}

#[test]
fn malformed_or_empty_ca_pem_is_an_invalid_request() {
    let leaf = Ca::new("hawser test CA").issue(&["localhost"]);
    let truncated = {
        let pem = String::from_utf8(Ca::new("x").pem()).unwrap();
        pem.lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    };
    for (what, pem) in [
        ("text", b"hello".to_vec()),
        ("empty", Vec::new()),
        ("only a key", leaf.key_pem()),
        ("truncated", truncated),
    ] {
        let err = TlsConfig::new().add_root_certificate_pem(&pem).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{what}");
        assert!(
            err.to_string().starts_with("invalid CA certificate PEM"),
            "{what}: {err}"
        );
    }
}

#[test]
fn garbage_ca_der_is_an_invalid_request() {
    for der in [&b""[..], b"\x30\x82\xff\xff", b"not der at all"] {
        let err = TlsConfig::new().add_root_certificate_der(der).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("trust anchor"), "{err}");
    }
}

#[test]
fn pem_bundle_with_two_cas_trusts_both() {
    let first = Ca::new("first CA");
    let second = Ca::new("second CA");
    let mut bundle = first.pem();
    bundle.extend_from_slice(&second.pem());
    let connector = TlsConfig::new()
        .add_root_certificate_pem(&bundle)
        .unwrap()
        .only_custom_roots()
        .build()
        .unwrap();
    for ca in [&first, &second] {
        let leaf = ca.issue(&["localhost"]);
        let mut client = TlsSession::new(&connector, "localhost").unwrap();
        let mut server = server_for(&leaf);
        assert!(pump(&mut client, &mut server).client.is_ok());
        assert!(!client.is_handshaking());
    }
}

#[test]
fn client_key_that_does_not_match_the_certificate_is_refused() {
    let ca = Ca::new("client CA");
    let one = ca.issue(&["one.test"]);
    let two = ca.issue(&["two.test"]);
    let err = TlsConfig::new()
        .client_certificate_pem(&one.cert_pem(), &two.key_pem())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .starts_with("client certificate or key rejected"),
        "{err}"
    );
}

#[test]
fn malformed_client_key_or_chain_is_refused_without_echoing_it() {
    let leaf = Ca::new("client CA").issue(&["one.test"]);
    let bad_key = b"-----BEGIN PRIVATE KEY-----\nsecret!!\n-----END PRIVATE KEY-----\n";
    let err = TlsConfig::new()
        .client_certificate_pem(&leaf.cert_pem(), bad_key)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!format!("{err:?}").contains("secret"), "{err:?}");

    let err = TlsConfig::new()
        .client_certificate_pem(b"no chain", &leaf.key_pem())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .starts_with("invalid client certificate PEM"),
        "{err}"
    );
}

#[test]
fn no_roots_at_all_is_refused_unless_verification_is_off() {
    let err = TlsConfig::new().only_custom_roots().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().starts_with("no root certificates"), "{err}");
    let connector = TlsConfig::new()
        .only_custom_roots()
        .dangerous_disable_certificate_verification()
        .build()
        .unwrap();
    assert!(!connector.verifies_certificates());
}

#[test]
fn connector_offers_only_http11_over_alpn() {
    let connector = TlsConfig::new().build().unwrap();
    assert_eq!(
        connector.client_config().alpn_protocols,
        vec![b"http/1.1".to_vec()]
    );
}

#[test]
fn fixed_time_before_the_epoch_is_clamped_to_the_epoch() {
    let before = SystemTime::UNIX_EPOCH - Duration::from_secs(10);
    assert_eq!(
        FixedTime::new(before).current_time().map(|t| t.as_secs()),
        Some(0)
    );
    assert_eq!(
        FixedTime::from_unix_secs(42)
            .current_time()
            .map(|t| t.as_secs()),
        Some(42)
    );
}
