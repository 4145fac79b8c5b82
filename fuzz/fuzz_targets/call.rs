//! Fuzz target `call`: one whole logical request driven by an op script
//! (server bytes, partial writes, EOFs, resets, timer firings); see
//! `hawser_core::call::fuzzing::call` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hawser_core::call::fuzzing::call(data, std::time::Instant::now());
});
