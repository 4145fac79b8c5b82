//! Replays the committed cargo-fuzz seed corpus (and any regression inputs
//! saved beside it) through the same entry points the fuzz targets call, so
//! CI checks them on stable without libFuzzer.

use std::path::PathBuf;

mod fuzz_support;

use fuzz_support::cookies::cookies;
use fuzz_support::h1 as fuzzing;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
        count += 1;
    }
    assert!(count >= 12, "{target}: only {count} corpus files");
}

#[test]
fn response_head_corpus() {
    replay("response_head", fuzzing::response_head);
}

#[test]
fn chunked_corpus() {
    replay("chunked", fuzzing::chunked);
}

#[test]
fn exchange_corpus() {
    replay("exchange", fuzzing::exchange);
}

#[test]
fn cookies_corpus() {
    replay("cookies", cookies);
}
