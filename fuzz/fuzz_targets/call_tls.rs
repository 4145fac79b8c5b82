//! Fuzz target `call_tls`: a whole call over real TLS (an rcgen certificate,
//! a rustls server) driven by an op script; see
//! `core/tests/fuzz_support/call_tls.rs` for what it checks.
#![no_main]

#[path = "../../core/tests/fuzz_support/call_tls.rs"]
mod call_tls;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = call_tls::call_tls(data, std::time::Instant::now());
});
