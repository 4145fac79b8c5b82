//! # hawser-core: the sans-IO core of hawser
//!
//! hawser-core is a pure state machine for HTTP/1.1 client work. It builds
//! requests, encodes and parses the wire format, runs TLS (rustls' own
//! sans-IO connection), owns the connection pool, decides retries and
//! tracks every deadline. **It performs no I/O and reads no clock**: bytes
//! go in and come out through buffers it lends, and time enters only as an
//! `Instant` argument. Backends (`hawser-std`; `hawser-smol`,
//! `hawser-async-std` and `hawser-tokio` over `hawser-async`) only do the
//! I/O they are told to do, so they behave alike.
//!
//! ```text
//!   caller ──request──▶ ┌──────────────────── hawser-core ─────────────────────┐
//!                       │ Agent<T>: config · cookie jar · retry budget · pool  │
//!                       │ Call<T>:  request → h1 → tls ─▶ Output::Transmit ────┼──▶ driver writes
//!   caller ◀─response── │           h1 ◀── tls ◀── Output::Receive (lent buf) ◀┼─── driver reads
//!                       │ retry · deadline · redirect · auth · Happy Eyeballs  │
//!                       └──────────────────────────────────────────────────────┘
//! ```
//!
//! ## The driver contract, first
//!
//! An [`call::Agent`] is a session's core, generic over the driver's
//! transport `T` (a socket the core stores, lends back and drops, never
//! touches). [`call::Agent::start`] makes a [`call::Call`] for one logical
//! request; the driver loops on [`call::Call::poll_output`] and answers with
//! [`call::Call::handle_input`]. Every output is I/O or a wait:
//!
//! | output | the driver |
//! |---|---|
//! | `Resolve { host, port, until }` | resolves the name: `Resolved(addrs)` |
//! | `Connect { id, addr, until }` / `AwaitConnect { until }` | starts an attempt / reports the first to end: `Connected { id, conn }`, `ConnectFailed { id, error }` |
//! | `Check { conn }` | peeks without blocking: [`call::Input::from_peek`] |
//! | `Transmit { conn, data, until }` / `Receive { conn, buf, until }` | one write / read: [`call::Input::from_write`] / [`call::Input::from_read`] |
//! | `Close(conn)`, `Sleep { until }`, `AwaitSlot { until, slot }` | closes, sleeps, awaits the slot future; no answer |
//! | `SendBody`, `Head`, `Body`, `Done` | the user's side: body stream in, head and body out |
//!
//! The pool (per-host caps, the wait queue, eviction, the liveness check
//! before reuse, never reusing a connection with bytes left over), Happy
//! Eyeballs, every timer, retries, redirects and auth are the core's. A
//! `Call` dropped at any point gives back its slot, its place in the queue
//! and its connection, so no driver can leak one. The [`call`] module docs
//! have the full table, the rules (early timeouts are no-ops, errors are
//! sticky, zero bytes is no progress) and a state diagram, and drive a
//! whole request on a fake clock; `examples/embed.rs` drives one over
//! `std::net`, and `examples/readiness.rs` runs a thousand calls on one
//! thread with `mio`.
//!
//! ## One GET exchange, byte for byte
//!
//! The [`h1`] layer on its own: encode a request head into a buffer you
//! own, hand those bytes to the network, feed back whatever arrives (here a
//! scripted response, split in two pieces the way a socket might deliver
//! it), and read events until the response is done.
//!
//! ```
//! use hawser_core::h1::{self, Event, Limits, RequestFraming, ResponseReader, TargetForm};
//!
//! // 1. Encode. The caller owns (and can reuse) the output buffer.
//! let request = http::Request::get("http://example.com/greeting")
//!     .header("accept", "text/plain")
//!     .body(())?;
//! let mut wire_out = Vec::with_capacity(256);
//! let info = h1::encode_request(&request, TargetForm::Origin, RequestFraming::None, &mut wire_out)?;
//! assert_eq!(
//!     wire_out,
//!     b"GET /greeting HTTP/1.1\r\n\
//!       host: example.com\r\n\
//!       accept: text/plain\r\n\
//!       \r\n"
//! );
//! // ... a driver writes `wire_out` to the socket ...
//!
//! // 2. The server answers; the bytes arrive in two reads.
//! let first: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/pl";
//! let second: &[u8] = b"ain\r\n\r\nHello, world!";
//!
//! let mut reader = ResponseReader::new(info, Limits::default());
//! let mut buf: Vec<u8> = Vec::new(); // bytes received but not yet consumed
//!
//! buf.extend_from_slice(first);
//! let (used, event) = reader.read(&buf)?;
//! assert_eq!((used, event), (0, Event::NeedInput)); // head incomplete: not an error
//!
//! buf.extend_from_slice(second);
//! let (used, event) = reader.read(&buf)?;
//! let Event::Head(head) = event else { panic!("expected the head") };
//! assert_eq!(head.status, http::StatusCode::OK);
//! assert_eq!(head.headers["content-type"], "text/plain");
//! assert_eq!(head.framing, h1::BodyFraming::Length(13));
//! buf.drain(..used);
//!
//! // 3. The body comes out as a slice of `buf`: no copy.
//! let (used, event) = reader.read(&buf)?;
//! assert_eq!(event, Event::Body(b"Hello, world!"));
//! buf.drain(..used);
//! assert_eq!(reader.read(&buf)?, (0, Event::Done));
//!
//! // 4. May the connection go back to the pool? Yes: HTTP/1.1, fully read,
//! //    no `Connection: close`, Content-Length framed, nothing left over.
//! assert!(reader.reusable() && buf.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What this crate does not do
//!
//! No sockets, DNS, clocks, threads or sleeping (drivers do those); no
//! HTTP/2; no public-suffix list for cookies; no HTTPS proxies (TLS to the
//! proxy itself) or SOCKS. Certificate validity is checked by rustls against
//! its time provider, the one place a dependency reads the wall clock
//! (configurable, see [`tls`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod call;
pub mod client;
pub mod cookies;
pub mod deadline;
mod error;
pub mod h1;
#[cfg(feature = "json")]
mod json_check;
pub mod pool;
pub mod proxy;
pub mod redact;
pub mod redirect;
pub mod request;
pub mod retry;
#[cfg(feature = "rustls")]
pub mod tls;

pub use error::{Error, ErrorKind, TimeoutPhase};

// What a driver or an embedder needs, at the root: the session's core, one
// call, and the contract between them.
pub use call::{
    Agent, Call, CallOptions, CallReport, Config, ConnectId, Head, Hooks, Input, Mount, Output,
    SlotWait,
};

/// A `Result` whose error is hawser's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
