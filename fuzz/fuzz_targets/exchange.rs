//! Fuzz target `exchange`: see `exchange` in `core/tests/fuzz_support/h1.rs` for what it checks.
#![no_main]

#[allow(dead_code)] // each target calls one entry point
#[path = "../../core/tests/fuzz_support/h1.rs"]
mod h1;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    h1::exchange(data);
});
