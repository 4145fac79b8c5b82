//! TLS for hawser: rustls' sans-IO client connection, between HTTP/1.1 and the wire.
//!
//! rustls does no network I/O, and neither does this module. A
//! [`TlsSession`] sits between the HTTP/1.1 layer ([`crate::h1`]) and the
//! bytes a backend moves, so backends only ever see ciphertext:
//!
//! ```text
//!   h1 encode ── plaintext ──▶ TlsSession::write_plaintext ─┐
//!                                                           │ rustls ClientConnection
//!   driver writes ◀── ciphertext ◀── TlsSession::transmit ◀─┘
//!
//!   driver reads ── ciphertext ──▶ TlsSession::received ─────┐
//!                                                           │ rustls ClientConnection
//!   h1 parse ◀── plaintext ◀── TlsSession::read_plaintext ◀──┘
//! ```
//!
//! The pieces:
//!
//! - [`TlsConfig`]: a builder for client settings: the webpki (Mozilla) root
//!   certificates by default, extra or only custom CA certificates (PEM or
//!   DER), a client certificate, ALPN `http/1.1`, an explicit time source for
//!   certificate validity, and a loudly named switch that disables
//!   certificate verification for tests. Every byte comes from the caller:
//!   nothing reads `SSL_CERT_FILE`, any other environment variable, or a file.
//! - [`TlsConnector`]: what [`TlsConfig::build`] returns. Cheap to clone (an
//!   `Arc` around the rustls `ClientConfig`), with a [`ConnectorId`] that a
//!   connection pool adds to its key so that connections made under
//!   different TLS settings are never shared.
//! - [`TlsSession`]: one connection's TLS state. Feed it the ciphertext the
//!   driver read, take the ciphertext it wants sent, and exchange plaintext
//!   with the HTTP layer through caller-owned buffers.
//!
//! Certificate problems (unknown issuer, wrong name, expired, not yet
//! valid, bad signature, ...) become [`ErrorKind::Certificate`] errors with
//! a message naming the host; every other TLS failure (alerts, handshake
//! failure, corrupt records, an unexpected EOF) becomes [`ErrorKind::Tls`].
//! Errors are sticky: once a session has failed it keeps failing.
//!
//! # The one wall clock
//!
//! rustls checks certificate validity periods against the current time. By
//! default that time comes from rustls' `DefaultTimeProvider`, which reads
//! the system clock inside rustls during the handshake. That is the single
//! place a dependency of hawser-core reads the wall clock; hawser-core itself
//! never does. Use [`TlsConfig::fixed_time`] or [`TlsConfig::time_provider`]
//! to supply the time explicitly (deterministic tests, reproducible runs).
//!
//! # Example
//!
//! ```
//! use hawser_core::tls::{TlsConfig, TlsSession, TlsRead};
//!
//! // webpki roots, ALPN http/1.1, system time for certificate validity.
//! let connector = TlsConfig::new().build()?;
//! let mut session = TlsSession::new(&connector, "example.com")?;
//!
//! // The ClientHello is ready to be sent before anything else happens.
//! assert!(session.is_handshaking());
//! let mut out = Vec::new();
//! let n = session.transmit(&mut out);
//! assert!(n > 0 && out.len() == n);
//!
//! // Nothing decrypted yet: the session needs the server's answer.
//! let mut buf = [0u8; 1024];
//! assert_eq!(session.read_plaintext(&mut buf)?, TlsRead::NeedInput);
//! # Ok::<(), hawser_core::Error>(())
//! ```
//!
//! # Driving a session
//!
//! A whole exchange against an in-memory rustls server (in a backend, the
//! two `Vec`s are the socket). The loop is the same for every driver: send
//! what the session wants sent, feed it what arrived, read plaintext.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::sync::Arc;
//! use hawser_core::tls::{TlsConfig, TlsRead, TlsSession};
//!
//! # let ca_key = rcgen::KeyPair::generate().unwrap();
//! # let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
//! # ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
//! # ca.distinguished_name.push(rcgen::DnType::CommonName, "example CA");
//! # let ca_cert = ca.self_signed(&ca_key).unwrap();
//! # let issuer = rcgen::Issuer::new(ca, ca_key);
//! # let ca = ca_cert;
//! # let key = rcgen::KeyPair::generate().unwrap();
//! # let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap()
//! #     .signed_by(&key, &issuer).unwrap();
//! # let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
//! # let server_config = rustls::ServerConfig::builder_with_provider(
//! #         Arc::new(rustls::crypto::ring::default_provider()))
//! #     .with_safe_default_protocol_versions().unwrap()
//! #     .with_no_client_auth()
//! #     .with_single_cert(vec![leaf.der().clone()], key_der).unwrap();
//! # let mut server = rustls::ServerConnection::new(Arc::new(server_config)).unwrap();
//! # let ca_pem = ca.pem();
//! let connector = TlsConfig::new()
//!     .add_root_certificate_pem(ca_pem.as_bytes())?
//!     .only_custom_roots()
//!     .build()?;
//! let mut tls = TlsSession::new(&connector, "localhost")?;
//! tls.write_plaintext(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")?; // queued until keys exist
//!
//! let mut to_server = Vec::new();
//! let mut response = Vec::new();
//! let mut buf = [0u8; 4096];
//! # let mut served = false;
//! loop {
//!     // 1. Send whatever the session produced (ClientHello, Finished, request).
//!     to_server.clear();
//!     tls.transmit(&mut to_server);
//!     # server.read_tls(&mut &to_server[..]).unwrap();
//!     # server.process_new_packets().unwrap();
//!     # let mut req = [0u8; 256];
//!     # if let Ok(n) = server.reader().read(&mut req) {
//!     #     if n > 0 && !served {
//!     #         served = true;
//!     #         server.writer().write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi").unwrap();
//!     #         server.send_close_notify();
//!     #     }
//!     # }
//!     // 2. Feed what arrived from the socket (here: what the server wrote).
//!     let mut from_server = Vec::new();
//!     # while server.wants_write() { server.write_tls(&mut from_server).unwrap(); }
//!     let mut fed = 0;
//!     while fed < from_server.len() {
//!         fed += tls.received(&from_server[fed..])?;
//!         // 3. Read plaintext; this also frees room if `received` pushed back.
//!         while let TlsRead::Data(n) = tls.read_plaintext(&mut buf)? {
//!             response.extend_from_slice(&buf[..n]);
//!         }
//!     }
//!     if tls.read_plaintext(&mut buf)? == TlsRead::Closed {
//!         break;
//!     }
//! }
//! assert!(response.starts_with(b"HTTP/1.1 200 OK"));
//! assert!(response.ends_with(b"hi"));
//! # Ok::<(), hawser_core::Error>(())
//! ```
//!
//! [`ErrorKind::Certificate`]: crate::ErrorKind::Certificate
//! [`ErrorKind::Tls`]: crate::ErrorKind::Tls

mod config;
mod errors;
mod session;
mod verify;

pub use config::{ConnectorId, FixedTime, TlsConfig, TlsConnector};
pub use rustls::time_provider::TimeProvider;
pub use rustls_pki_types::ServerName;
pub use session::{TlsRead, TlsSession};
