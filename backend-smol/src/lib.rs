//! # hawser-smol: the smol hawser backend (placeholder)
//!
//! This crate will provide an async `Session` that drives [`hawser_core`]
//! over smol (async-io) sockets. Until it lands, it only re-exports the core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use hawser_core as core;
