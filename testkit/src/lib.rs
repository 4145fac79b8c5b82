//! # hawser-testkit (placeholder)
//!
//! An in-process loopback HTTP/1.1 server with scripted faults, written
//! independently of hawser-core, and the conformance suite every backend runs.
#![forbid(unsafe_code)]
