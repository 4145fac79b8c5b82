//! Properties of the redirect policy: no Location panics, resolved URLs are
//! always http(s) with a host, and 307/308 never change the method.

use hawser_core::redirect::{RedirectPolicy, next_hop, should_strip_auth};
use http::{Method, StatusCode};
use proptest::prelude::*;
use url::Url;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::HEAD),
        Just(Method::PATCH),
    ]
}

fn status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![Just(301u16), Just(302), Just(303), Just(307), Just(308)]
        .prop_map(|s| StatusCode::from_u16(s).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_location_bytes_never_panic(loc in proptest::collection::vec(any::<u8>(), 0..120), m in method(), st in status(), replayable in any::<bool>()) {
        let cur = Url::parse("https://a.example/dir/page?q#f").unwrap();
        if let Ok(Some(hop)) = RedirectPolicy::default().next_hop(0, &cur, &m, st, Some(&loc), replayable) {
            prop_assert!(matches!(hop.url().scheme(), "http" | "https"));
            prop_assert!(hop.url().host_str().is_some_and(|h| !h.is_empty()));
        }
    }

    #[test]
    fn temporary_redirects_keep_method_and_body(m in method(), path in "/[a-z]{0,8}") {
        let cur = Url::parse("http://a.example/").unwrap();
        for st in [StatusCode::TEMPORARY_REDIRECT, StatusCode::PERMANENT_REDIRECT] {
            let hop = next_hop(&cur, &m, st, path.as_bytes(), true).unwrap();
            prop_assert_eq!(hop.method(), &m);
            prop_assert!(!hop.drops_body());
        }
    }

    #[test]
    fn other_hosts_always_strip(a in "[a-z]{1,8}\\.example", b in "[a-z]{1,8}\\.example", sa in prop_oneof![Just("http"), Just("https")], sb in prop_oneof![Just("http"), Just("https")]) {
        let old = Url::parse(&format!("{sa}://{a}/")).unwrap();
        let new = Url::parse(&format!("{sb}://{b}/")).unwrap();
        if a != b {
            prop_assert!(should_strip_auth(&old, &new));
        }
        // Downgrades always strip.
        if sa == "https" && sb == "http" {
            prop_assert!(should_strip_auth(&old, &new));
        }
    }
}
