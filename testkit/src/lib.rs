//! # hawser-testkit
//!
//! An in-process loopback HTTP/1.1 server with scripted faults, a forward
//! proxy, a never-accepting listener, a run-time test CA, and the
//! conformance suite every hawser backend runs.
//!
//! It is written independently of `hawser-core` (requests are parsed with
//! `httparse`, responses written by hand) so that the server and the client
//! cannot share a bug.
//!
//! Everything binds loopback only (127.0.0.1, and `[::1]` on the same port when
//! available) on ephemeral ports. Every thread ends: dropping a
//! [`TestServer`], [`ProxyServer`] or [`BlackHole`] stops it, and socket
//! timeouts bound every read and write.
//!
//! ```
//! use hawser_testkit::{Behaviour, Reply, TestServer};
//! use std::io::{Read, Write};
//!
//! let srv = TestServer::builder()
//!     .route("/flaky", Behaviour::Sequence(vec![
//!         Behaviour::Reply(Reply::new(503).header("Retry-After", "1")),
//!         Behaviour::Reply(Reply::text("ok")),
//!     ]))
//!     .start()
//!     .unwrap();
//! for expected in ["503", "200"] {
//!     let mut s = std::net::TcpStream::connect(srv.addr()).unwrap();
//!     s.write_all(b"GET /flaky HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
//!     let (status, _, _) = hawser_testkit::read_response(&mut s).unwrap();
//!     assert_eq!(status.to_string(), expected);
//! }
//! assert_eq!(srv.hits("/flaky"), 2);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod blackhole;
pub mod conformance;
mod proxy;
mod server;
mod tls;
mod wire;

pub use auth::{digest_authorization, DigestAlgorithm};
pub use blackhole::BlackHole;
pub use proxy::{ProxyRecord, ProxyServer};
pub use server::{
    pattern, pattern_byte, read_response, Behaviour, Handler, RawResponse, RecordedRequest, Reply,
    StartError, TestServer, TestServerBuilder,
};
pub use tls::{TestCa, TlsSetupError, TlsVariant};
pub use wire::reason;
