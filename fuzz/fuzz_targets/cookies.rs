//! Fuzz target `cookies`: `Set-Cookie` scripts through the session cookie
//! jar; see `core/tests/fuzz_support/cookies.rs` for what it checks.
#![no_main]

#[path = "../../core/tests/fuzz_support/cookies.rs"]
mod cookies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cookies::cookies(data);
});
