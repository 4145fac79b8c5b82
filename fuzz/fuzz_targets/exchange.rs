//! Fuzz target `exchange`: see `hawser_core::h1::fuzzing::exchange` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hawser_core::h1::fuzzing::exchange(data);
});
