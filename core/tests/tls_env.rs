//! Nothing in hawser's TLS reads the environment: with SSL_CERT_FILE (and
//! friends) pointing at garbage, configs build and handshakes succeed
//! exactly as without them. The test re-runs this test binary with the
//! variables set (setting them in-process would race other threads and
//! needs `unsafe` since Rust 2024, which the workspace forbids).
#![cfg(feature = "rustls")]

mod tls_support;

use hawser_core::tls::{TlsConfig, TlsSession};
use tls_support::*;

/// Marks the child run: it checks, the parent only spawns it.
const CHILD: &str = "HAWSER_TLS_ENV_CHILD";

#[test]
fn garbage_ssl_environment_changes_nothing() {
    if let Ok(expected) = std::env::var(CHILD) {
        // The child, with the garbage environment.
        assert_eq!(
            std::env::var("SSL_CERT_FILE").as_deref(),
            Ok("/nonexistent/garbage.pem")
        );
        let default = TlsConfig::new().build().unwrap();
        assert_eq!(format!("{:?}", default.id()), expected);
        let ca = Ca::new("hawser test CA");
        let leaf = ca.issue(&["localhost"]);
        let mut client = TlsSession::new(&connector_trusting(&ca), "localhost").unwrap();
        let mut server = server_for(&leaf);
        let pumped = pump(&mut client, &mut server);
        assert!(pumped.client.is_ok(), "{:?}", pumped.client);
        assert!(!client.is_handshaking());
        return;
    }
    let before_default = TlsConfig::new().build().unwrap().id();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "garbage_ssl_environment_changes_nothing",
            "--nocapture",
        ])
        .env(CHILD, format!("{before_default:?}"))
        .env("SSL_CERT_FILE", "/nonexistent/garbage.pem")
        .env("SSL_CERT_DIR", "/nonexistent")
        .env("SSLKEYLOGFILE", "/nonexistent/keylog.txt")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the child run failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
