//! Replays the committed seed corpus of the `call` fuzz target (and any
//! regression inputs saved beside it) through `fuzz_support::call` (shared with the fuzz target),
//! so CI checks it on stable without libFuzzer; plus a bounded random sweep.

use std::path::PathBuf;

mod fuzz_support;

use fuzz_support::call::{self as fuzzing, Ending};
use hawser_core::ErrorKind;
use proptest::prelude::*;

#[test]
fn call_corpus_replays_without_findings() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/call");
    let mut count = 0;
    let mut endings = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        let outcome = std::panic::catch_unwind(|| fuzzing::call(&data, std::time::Instant::now()));
        let ending = outcome.unwrap_or_else(|_| panic!("{} fails", path.display()));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        endings.push((name, ending));
        count += 1;
    }
    assert!(count >= 12, "only {count} corpus files");
    let ending = |name: &str| {
        endings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| panic!("seed {name} missing"))
    };
    // The seeds reach the paths they were written for (not just any end).
    let ok = Ending::Done {
        status: Some(200),
        body: 5,
    };
    for seed in [
        "seed-get-200",
        "seed-get-chunked-trailer",
        "seed-get-503-retry-after",
        "seed-get-302-then-200",
        "seed-redirect-then-stale",
        "seed-put-stream-chunked",
        "seed-expect-100-continue",
        "seed-expect-no-answer",
        "seed-digest-401-then-200",
        "seed-basic-proxy-forward",
        "seed-refused-twice-then-ok",
        "seed-drip-one-byte",
        "seed-partial-writes-and-consumes",
        "seed-reuse-check-stale",
        "seed-happy-eyeballs-stagger",
        "seed-early-timeout-noop",
    ] {
        assert_eq!(ending(seed), ok, "{seed}");
    }
    assert_eq!(
        ending("seed-truncated-body"),
        Ending::Failed(ErrorKind::Body)
    );
    // A malformed answer is read-class (urllib3's ProtocolError): with
    // Retry::new(0) it ends as "retries exhausted" carrying the protocol error.
    assert_eq!(
        ending("seed-head-too-large"),
        Ending::Failed(ErrorKind::RetriesExhausted)
    );
    assert_eq!(
        ending("seed-expect-417"),
        Ending::Done {
            status: Some(417),
            body: 0
        }
    );
    assert!(matches!(
        ending("seed-read-timeout"),
        Ending::Failed(ErrorKind::Timeout | ErrorKind::RetriesExhausted)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary op scripts: never a panic, a hang or an unbounded buffer.
    #[test]
    fn arbitrary_scripts_end_cleanly(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        fuzzing::call(&data, std::time::Instant::now());
    }
}

/// Replays a whole working corpus from a fuzzing run, with this crate's
/// default features (TLS, gzip) rather than the fuzz build's: set
/// `HAWSER_CALL_CORPUS=/path/to/corpus`. Without it, nothing to do.
#[test]
fn external_working_corpus_replays_when_given() {
    let Some(dir) = std::env::var_os("HAWSER_CALL_CORPUS") else {
        return;
    };
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("HAWSER_CALL_CORPUS is a directory") {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        let outcome = std::panic::catch_unwind(|| fuzzing::call(&data, std::time::Instant::now()));
        assert!(outcome.is_ok(), "{} fails", path.display());
        count += 1;
    }
    eprintln!("replayed {count} inputs");
}

/// The `call_tls` target's seeds: whole calls over real TLS.
#[cfg(feature = "rustls")]
#[test]
fn call_tls_corpus_replays_without_findings() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/call_tls");
    let mut count = 0;
    let mut statuses = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        let outcome = std::panic::catch_unwind(|| {
            fuzz_support::call_tls::call_tls(&data, std::time::Instant::now())
        });
        let status = outcome.unwrap_or_else(|_| panic!("{} fails", path.display()));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        statuses.push((name.unwrap_or_default(), status));
        count += 1;
    }
    assert!(count >= 9, "only {count} corpus files");
    // The seeds reach HTTP inside TLS, not just the handshake.
    for seed in [
        "seed-get-200",
        "seed-byte-by-byte",
        "seed-chunked",
        "seed-503-then-200",
    ] {
        let got = statuses.iter().find(|(n, _)| n == seed).map(|(_, s)| *s);
        assert_eq!(got, Some(Some(200)), "{seed}");
    }
}
