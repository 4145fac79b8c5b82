//! The fuzz targets' entry points, outside the library: the cargo-fuzz
//! targets in `fuzz/` include these files (`#[path]`), and the corpus
//! replays and property tests here call the same functions on stable. They
//! use only hawser-core's public API.
#![allow(dead_code)] // each test file uses a different part

pub mod call;
#[cfg(feature = "rustls")]
pub mod call_tls;
pub mod cookies;
pub mod h1;
