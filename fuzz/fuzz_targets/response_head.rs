//! Fuzz target `response_head`: see `hawser_core::h1::fuzzing::response_head` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hawser_core::h1::fuzzing::response_head(data);
});
