//! Properties of the cookie jar: no input panics, bounds always hold, and
//! the date parser agrees with `httpdate` on every IMF-fixdate.

use std::time::{Duration, SystemTime};

use hawser_core::cookies::{CookieJar, CookieLimits, parse_cookie_date};
use proptest::prelude::*;
use url::Url;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_set_cookie_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut jar = CookieJar::new();
        let url = Url::parse("https://a.example/x/y").unwrap();
        let _ = jar.try_store(&url, &raw, SystemTime::UNIX_EPOCH);
        // Whatever was stored is well-formed and within bounds.
        for c in jar.iter() {
            prop_assert!(!c.name().is_empty());
            prop_assert!(c.name().len() + c.value().len() <= 4096);
            prop_assert!(!c.name().chars().chain(c.value().chars()).any(|ch| ch.is_control() && ch != '\t'));
            prop_assert!(c.path().starts_with('/'));
        }
    }

    #[test]
    fn structured_set_cookies_never_panic(
        name in "[a-zA-Z0-9_]{0,8}",
        value in "[ -~]{0,16}",
        attrs in proptest::collection::vec(
            prop_oneof![
                Just("Secure".to_owned()), Just("HttpOnly".to_owned()),
                "Domain=[a-z.]{0,12}", "Path=[a-z/]{0,8}", "Max-Age=-?[0-9]{0,25}",
                "Expires=[ -~]{0,30}", "SameSite=[a-zA-Z]{0,6}",
            ],
            0..6,
        ),
    ) {
        let mut jar = CookieJar::new();
        let header = std::iter::once(format!("{name}={value}")).chain(attrs).collect::<Vec<_>>().join("; ");
        let url = Url::parse("https://www.a.example/p/q").unwrap();
        let _ = jar.try_store(&url, header.as_bytes(), SystemTime::UNIX_EPOCH);
        let _ = jar.cookie_header(&url, SystemTime::UNIX_EPOCH);
    }

    #[test]
    fn limits_always_hold(
        ops in proptest::collection::vec((0u8..6, 0u8..20, 0u64..100), 1..200),
        per_domain in 1usize..6,
        total in 1usize..12,
    ) {
        let mut jar = CookieJar::with_limits(CookieLimits { per_domain, total });
        for (host, name, t) in ops {
            let url = Url::parse(&format!("http://h{host}.example/")).unwrap();
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(t);
            let _ = jar.try_store(&url, format!("c{name}=v; Max-Age=50"), now);
            prop_assert!(jar.len() <= total);
            for c in jar.iter() {
                prop_assert!(jar.iter().filter(|o| o.domain() == c.domain()).count() <= per_domain);
            }
        }
    }

    #[test]
    fn cookie_date_parser_agrees_with_httpdate(secs in 0u64..253_402_300_799) {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let text = httpdate::fmt_http_date(t);
        prop_assert_eq!(parse_cookie_date(&text), Some(t), "{}", text);
    }

    #[test]
    fn cookie_date_parser_never_panics(s in "\\PC{0,60}") {
        let _ = parse_cookie_date(&s);
    }
}
