//! # hawser-async-std: the async-std hawser backend (placeholder)
//!
//! This crate will provide an async `Session` that drives [`hawser_core`]
//! over async-std sockets, the same run loop as `hawser-smol` with `.await`.
//! Until it lands, it only re-exports the core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use hawser_core as core;
