//! Shared fixtures for hawser's criterion benchmarks (see `benches/`).
#![forbid(unsafe_code)]
