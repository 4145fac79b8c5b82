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
//! ## What is here
//!
//! | item | for |
//! |---|---|
//! | [`TestServer`] (+ [`TestServerBuilder`]) | routes (exact or prefix) to a [`Behaviour`]; records every request ([`RecordedRequest`]: method, target, headers, body, connection id); `hits`, `requests`, `connections_accepted`, `open_connections`, `bytes_written` (per route, by the streaming behaviours); `url`, `url_localhost` (another origin, same port), `url_v6` |
//! | [`Behaviour`] | echo, fixed replies, closures, truncations, drips, stalls, resets (SO_LINGER 0), stale keep-alive, huge heads, malformed lines, CL + TE, redirects, chains, loops, scripted sequences, Basic and Digest auth, cookies, 100-continue, gzip, large streams, raw keep-alive answers (a body after HEAD/204/304), unsolicited bytes on an idle connection, hostile bodies (an endless chunked body, a gzip bomb generated on the fly) |
//! | [`TestCa`], [`TlsVariant`] | a CA made at run time; good, wrong-host, expired and unknown-issuer server certificates; `TestServerBuilder::tls` serves the same routes over https |
//! | [`ProxyServer`] | forward proxy: absolute-form and CONNECT, optional Basic or Digest proxy auth, or refusing every CONNECT with a status (`start_refusing_connect`), records what it saw ([`ProxyRecord`]) |
//! | [`BlackHole`] | a loopback address whose connects time out |
//! | [`conformance`] | the scenarios every backend runs, against the [`conformance::ConformanceClient`] trait |
//!
//! ## Driving it
//!
//! Start a server with the routes a test needs, point the client at
//! `srv.url(..)`, then assert on the server's evidence. Nothing needs
//! stopping: dropping the server ends its threads (within about 25 ms for
//! idle connections; stalls and drips wake early).
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
