//! Fuzz target `response_head`: see `response_head` in `core/tests/fuzz_support/h1.rs` for what it checks.
#![no_main]

#[allow(dead_code)] // each target calls one entry point
#[path = "../../core/tests/fuzz_support/h1.rs"]
mod h1;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    h1::response_head(data);
});
