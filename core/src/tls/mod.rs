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
