//! # hawser-std: the blocking hawser backend (placeholder)
//!
//! This crate will provide the blocking `Session` that drives
//! [`hawser_core`] over `std::net::TcpStream`: it resolves and connects,
//! moves bytes, sleeps when the core says wait, and keeps pooled connections
//! behind a lock. Every decision (retries, redirects, timeouts, reuse) comes
//! from the core. Until the Session lands, it only re-exports the core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use hawser_core as core;
