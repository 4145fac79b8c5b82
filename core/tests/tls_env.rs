//! Nothing in hawser's TLS reads the environment: with SSL_CERT_FILE (and
//! friends) pointing at garbage, configs build and handshakes succeed
//! exactly as without them. This file holds a single test so setting the
//! variables cannot race with other threads of the test binary.
#![cfg(feature = "rustls")]

mod tls_support;

use hawser_core::tls::{TlsConfig, TlsSession};
use tls_support::*;

#[test]
fn garbage_ssl_environment_changes_nothing() {
    let before_default = TlsConfig::new().build().unwrap().id();

    std::env::set_var("SSL_CERT_FILE", "/nonexistent/garbage.pem");
    std::env::set_var("SSL_CERT_DIR", "/nonexistent");
    std::env::set_var("SSLKEYLOGFILE", "/nonexistent/keylog.txt");

    let default = TlsConfig::new().build().unwrap();
    assert_eq!(default.id(), before_default);

    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost"]);
    let mut client = TlsSession::new(&connector_trusting(&ca), "localhost").unwrap();
    let mut server = server_for(&leaf);
    let pumped = pump(&mut client, &mut server);
    assert!(pumped.client.is_ok(), "{:?}", pumped.client);
    assert!(!client.is_handshaking());
}
