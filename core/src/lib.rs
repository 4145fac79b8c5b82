//! # hawser-core: the sans-IO core of hawser
//!
//! hawser-core is a pure state machine for HTTP/1.1 client work. It builds
//! requests, encodes and parses the wire format, runs TLS (rustls' own
//! sans-IO connection), keeps pool bookkeeping, decides retries and tracks
//! deadlines. **It performs no I/O and reads no clock**: bytes go in and come
//! out through caller-owned buffers, and time enters only as an `Instant`
//! argument. Backends (`hawser-std`, `hawser-async-std`, `hawser-smol`) move
//! the bytes and sleep; every decision is made here, so they behave alike.
//!
//! ```text
//!   caller ──request──▶ ┌──────────────── hawser-core ────────────────┐
//!                       │ request → h1 encode → tls → ciphertext out ─┼──▶ driver writes
//!   caller ◀─response── │ h1 parse ◀── tls ◀── ciphertext in ◀────────┼─── driver reads
//!                       │ retry · deadline · pool · redirect · auth   │
//!                       └──────────────────────────────────────────────┘
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod cookies;
pub mod deadline;
pub mod error;
pub mod h1;
pub mod pool;
pub mod proxy;
pub mod redact;
pub mod redirect;
pub mod request;
pub mod retry;
#[cfg(feature = "rustls")]
pub mod tls;

pub use error::{Error, ErrorKind, TimeoutPhase};

/// A `Result` whose error is hawser's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
