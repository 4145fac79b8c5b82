//! Fuzz target `call`: one whole logical request driven by an op script
//! (server bytes, partial writes, EOFs, resets, timer firings, connection
//! races, liveness checks); see `core/tests/fuzz_support/call.rs` for what
//! it checks.
#![no_main]

#[path = "../../core/tests/fuzz_support/call.rs"]
mod call;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = call::call(data, std::time::Instant::now());
});
