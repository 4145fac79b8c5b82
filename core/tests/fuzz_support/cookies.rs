//! The cookie-jar fuzz entry point, shared by the cargo-fuzz target
//! `fuzz/fuzz_targets/cookies.rs` and the stable corpus replay
//! (`core/tests/fuzz_corpus.rs`). Not a stable API.
//!
//! The input is a little script: each line is a `Set-Cookie` value stored
//! from one of a few request URLs (picked by the line's first byte), and
//! after every line the jar is asked for the `Cookie` header of every URL.
//! It panics (a finding) when the jar panics, exceeds its limits, produces
//! a `Cookie` header a server could split (CR, LF, NUL), sends a `Secure`
//! cookie over http, or lets a cookie cross to a host it does not
//! domain-match.

use std::time::{Duration, SystemTime};

use hawser_core::cookies::{CookieJar, CookieLimits};
use url::Url;

const URLS: [&str; 6] = [
    "http://a.example/dir/page",
    "https://a.example/",
    "https://sub.a.example/x/y",
    "http://b.co.uk/",
    "https://me.github.io/",
    "http://127.0.0.1:8080/",
];

/// Run one script; panics on a finding.
pub fn cookies(data: &[u8]) {
    let urls: Vec<Url> = URLS.iter().map(|u| Url::parse(u).expect("url")).collect();
    let limits = CookieLimits {
        per_domain: 4,
        total: 12,
    };
    let mut jar = CookieJar::with_limits(limits);
    let mut now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for line in data.split(|&b| b == b'\n') {
        let Some((&pick, value)) = line.split_first() else {
            continue;
        };
        let url = &urls[usize::from(pick) % urls.len()];
        let _ = jar.try_store(url, value, now);
        now += Duration::from_secs(u64::from(pick % 16));
        assert!(jar.len() <= limits.total, "jar over its total limit");
        for target in &urls {
            let Some(header) = jar.cookie_header(target, now) else {
                continue;
            };
            let bytes = header.as_bytes();
            assert!(
                !bytes.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0),
                "a Cookie header with a line break: {bytes:?}"
            );
            for c in jar.matching(target, now) {
                if c.secure() {
                    assert_eq!(target.scheme(), "https", "a Secure cookie over http");
                }
                let host = target.host_str().unwrap_or_default();
                let ok = host == c.domain()
                    || (!c.host_only() && host.ends_with(&format!(".{}", c.domain())));
                assert!(ok, "cookie for {} sent to {host}", c.domain());
            }
        }
    }
}
