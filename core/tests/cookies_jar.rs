//! Cookie jar: one test per RFC 6265 rule, plus the cookie behaviours of
//! requests' redirect handling that belong to the jar.

use std::time::{Duration, SystemTime};

use hawser_core::ErrorKind;
use hawser_core::cookies::{
    CookieError, CookieJar, CookieLimits, SameSite, Stored, parse_cookie_date,
};
use url::Url;

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// A fixed "now": 2023-11-14T22:13:20Z.
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn header(jar: &CookieJar, url: &str, now: SystemTime) -> Option<String> {
    jar.cookie_header(&u(url), now)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn jar_with(url: &str, set: &[&str]) -> CookieJar {
    let mut jar = CookieJar::new();
    for s in set {
        jar.try_store(&u(url), s, t0()).unwrap();
    }
    jar
}

// ---- parsing ----

#[test]
fn name_value_are_trimmed_and_value_may_contain_equals() {
    let jar = jar_with("http://a.example/", &["  tok = a=b=c ; Path=/"]);
    assert_eq!(
        header(&jar, "http://a.example/", t0()).unwrap(),
        "tok=a=b=c"
    );
}

#[test]
fn empty_value_is_allowed() {
    let jar = jar_with("http://a.example/", &["flag="]);
    assert_eq!(header(&jar, "http://a.example/", t0()).unwrap(), "flag=");
}

#[test]
fn missing_equals_or_empty_name_is_malformed() {
    let mut jar = CookieJar::new();
    let url = u("http://a.example/");
    assert_eq!(
        jar.try_store(&url, "justaname", t0()),
        Err(CookieError::Malformed)
    );
    assert_eq!(
        jar.try_store(&url, "=value", t0()),
        Err(CookieError::Malformed)
    );
    assert_eq!(jar.try_store(&url, "", t0()), Err(CookieError::Malformed));
    assert!(jar.is_empty());
}

#[test]
fn control_characters_reject_the_cookie() {
    let mut jar = CookieJar::new();
    let url = u("http://a.example/");
    assert_eq!(
        jar.try_store(&url, b"a=b\x00c".as_slice(), t0()),
        Err(CookieError::Malformed)
    );
    assert_eq!(
        jar.try_store(&url, "a=b\r\nX-Injected: 1", t0()),
        Err(CookieError::Malformed)
    );
    assert_eq!(
        hawser_core::Error::from(CookieError::Malformed).kind(),
        ErrorKind::Protocol
    );
}

#[test]
fn attribute_names_are_case_insensitive_and_flags_parse() {
    let mut jar = CookieJar::new();
    jar.try_store(
        &u("https://a.example/"),
        "a=1; SECURE; httponly; SameSite=Strict; PATH=/p",
        t0(),
    )
    .unwrap();
    let c = jar.iter().next().unwrap();
    assert!(c.secure());
    assert!(c.http_only());
    assert_eq!(c.same_site(), Some(SameSite::Strict));
    assert_eq!(c.path(), "/p");
}

#[test]
fn samesite_is_parsed_but_does_not_change_sending() {
    let jar = jar_with(
        "http://a.example/",
        &[
            "a=1; SameSite=Lax",
            "b=2; SameSite=None",
            "c=3; SameSite=bogus",
        ],
    );
    let kinds: Vec<_> = jar.iter().map(|c| c.same_site()).collect();
    assert_eq!(kinds, [Some(SameSite::Lax), Some(SameSite::None), None]);
    assert_eq!(
        header(&jar, "http://a.example/", t0()).unwrap(),
        "a=1; b=2; c=3"
    );
}

#[test]
fn unknown_attributes_are_ignored() {
    let jar = jar_with(
        "http://a.example/",
        &["a=1; Priority=High; Partitioned; Foo=bar"],
    );
    assert_eq!(header(&jar, "http://a.example/", t0()).unwrap(), "a=1");
}

#[test]
fn non_utf8_bytes_do_not_fail_parsing() {
    let mut jar = CookieJar::new();
    assert_eq!(
        jar.try_store(&u("http://a.example/"), b"a=caf\xe9".as_slice(), t0()),
        Ok(Stored::Added)
    );
}

// ---- size bounds ----

#[test]
fn name_plus_value_over_4096_is_rejected() {
    let mut jar = CookieJar::new();
    let url = u("http://a.example/");
    let ok = format!("n={}", "v".repeat(4095));
    let big = format!("n={}", "v".repeat(4096));
    assert_eq!(jar.try_store(&url, &ok, t0()), Ok(Stored::Added));
    assert_eq!(jar.try_store(&url, &big, t0()), Err(CookieError::TooLarge));
}

#[test]
fn huge_path_or_domain_is_rejected() {
    let mut jar = CookieJar::new();
    let url = u("http://a.example/");
    let path = format!("a=1; Path=/{}", "p".repeat(1024));
    assert_eq!(jar.try_store(&url, &path, t0()), Err(CookieError::TooLarge));
    let domain = format!("a=1; Domain={}.a.example", "d".repeat(1024));
    assert_eq!(
        jar.try_store(&url, &domain, t0()),
        Err(CookieError::TooLarge)
    );
}

#[test]
fn per_domain_limit_evicts_oldest() {
    let mut jar = CookieJar::with_limits(CookieLimits {
        per_domain: 3,
        total: 100,
    });
    let url = u("http://a.example/");
    for i in 0..5u64 {
        jar.try_store(&url, format!("c{i}=v"), t0() + secs(i))
            .unwrap();
    }
    jar.try_store(&u("http://b.example/"), "other=1", t0())
        .unwrap();
    assert_eq!(jar.len(), 4);
    assert_eq!(
        header(&jar, "http://a.example/", t0() + secs(10)).unwrap(),
        "c2=v; c3=v; c4=v"
    );
    assert_eq!(header(&jar, "http://b.example/", t0()).unwrap(), "other=1");
}

#[test]
fn total_limit_evicts_oldest_overall_and_expired_first() {
    let mut jar = CookieJar::with_limits(CookieLimits {
        per_domain: 10,
        total: 3,
    });
    jar.try_store(&u("http://a.example/"), "old=1", t0())
        .unwrap();
    jar.try_store(
        &u("http://b.example/"),
        "short=1; Max-Age=5",
        t0() + secs(1),
    )
    .unwrap();
    jar.try_store(&u("http://c.example/"), "c=1", t0() + secs(2))
        .unwrap();
    // At t0+10 `short` has expired: it goes first, `old` survives.
    jar.try_store(&u("http://d.example/"), "d=1", t0() + secs(10))
        .unwrap();
    let names: Vec<_> = jar.iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["old", "c", "d"]);
    // Now over again: the oldest (`old`) goes.
    jar.try_store(&u("http://e.example/"), "e=1", t0() + secs(11))
        .unwrap();
    let names: Vec<_> = jar.iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, ["c", "d", "e"]);
}

#[test]
fn memory_stays_bounded_under_a_flood() {
    let mut jar = CookieJar::new();
    for i in 0..5000u32 {
        jar.try_store(
            &u(&format!("http://h{}.example/", i % 200)),
            format!("c{i}=v"),
            t0(),
        )
        .unwrap();
    }
    assert!(jar.len() <= 3000);
    assert!(jar.iter().filter(|c| c.domain() == "h1.example").count() <= 50);
}

// ---- Domain ----

#[test]
fn no_domain_means_host_only() {
    let jar = jar_with("http://a.example/", &["a=1"]);
    assert!(jar.iter().next().unwrap().host_only());
    assert!(header(&jar, "http://a.example/", t0()).is_some());
    assert!(header(&jar, "http://www.a.example/", t0()).is_none());
}

#[test]
fn domain_attribute_covers_subdomains_and_leading_dot_is_ignored() {
    for attr in ["Domain=a.example", "Domain=.a.example", "domain=A.EXAMPLE"] {
        let jar = jar_with("http://www.a.example/", &[&format!("a=1; {attr}")]);
        let c = jar.iter().next().unwrap();
        assert_eq!(c.domain(), "a.example");
        assert!(!c.host_only());
        assert!(header(&jar, "http://a.example/", t0()).is_some(), "{attr}");
        assert!(
            header(&jar, "http://deep.www.a.example/", t0()).is_some(),
            "{attr}"
        );
        assert!(
            header(&jar, "http://nota.example/", t0()).is_none(),
            "{attr}"
        );
    }
}

#[test]
fn domain_equal_to_host_is_a_domain_cookie() {
    let jar = jar_with("http://a.example/", &["a=1; Domain=a.example"]);
    assert!(!jar.iter().next().unwrap().host_only());
    assert!(header(&jar, "http://sub.a.example/", t0()).is_some());
}

#[test]
fn domain_that_does_not_match_is_rejected() {
    let mut jar = CookieJar::new();
    let url = u("http://www.a.example/");
    for attr in [
        "Domain=b.example",
        "Domain=sub.www.a.example",
        "Domain=ww.a.example",
        "Domain=example",
    ] {
        assert_eq!(
            jar.try_store(&url, format!("a=1; {attr}"), t0()),
            Err(CookieError::DomainMismatch),
            "{attr}"
        );
    }
    assert!(jar.is_empty());
}

#[test]
fn single_label_domain_is_rejected() {
    let mut jar = CookieJar::new();
    assert_eq!(
        jar.try_store(&u("http://shop.com/"), "a=1; Domain=com", t0()),
        Err(CookieError::DomainMismatch)
    );
    assert_eq!(
        jar.try_store(&u("http://shop.com/"), "a=1; Domain=.com", t0()),
        Err(CookieError::DomainMismatch)
    );
}

#[test]
fn single_label_host_may_name_itself_and_becomes_host_only() {
    let jar = jar_with("http://localhost:8080/", &["a=1; Domain=localhost"]);
    assert!(jar.iter().next().unwrap().host_only());
    assert!(header(&jar, "http://localhost/", t0()).is_some());
}

#[test]
fn empty_domain_attribute_is_ignored() {
    let jar = jar_with("http://a.example/", &["a=1; Domain="]);
    assert!(jar.iter().next().unwrap().host_only());
}

#[test]
fn ip_host_accepts_only_identical_domain() {
    let mut jar = CookieJar::new();
    let url = u("http://192.168.1.5/");
    assert_eq!(
        jar.try_store(&url, "a=1; Domain=1.5", t0()),
        Err(CookieError::DomainMismatch)
    );
    assert_eq!(
        jar.try_store(&url, "a=1; Domain=168.1.5", t0()),
        Err(CookieError::DomainMismatch)
    );
    assert_eq!(
        jar.try_store(&url, "a=1; Domain=192.168.1.5", t0()),
        Ok(Stored::Added)
    );
    assert!(jar.iter().next().unwrap().host_only());
    assert!(header(&jar, "http://192.168.1.5:8080/", t0()).is_some());
    assert!(header(&jar, "http://10.192.168.1.5.example/", t0()).is_none());
}

#[test]
fn ipv6_host_cookies() {
    let jar = jar_with("http://[::1]:8080/", &["a=1"]);
    assert!(header(&jar, "http://[::1]/", t0()).is_some());
    assert!(header(&jar, "http://[::2]/", t0()).is_none());
}

#[test]
fn host_only_cookies_ignore_port() {
    let jar = jar_with("http://a.example:8080/", &["a=1"]);
    assert!(header(&jar, "http://a.example:9090/", t0()).is_some());
}

// ---- Path ----

#[test]
fn default_path_is_the_directory_of_the_request() {
    let cases = [
        ("http://a.example/", "/"),
        ("http://a.example/page", "/"),
        ("http://a.example/docs/page", "/docs"),
        ("http://a.example/docs/sub/", "/docs/sub"),
        ("http://a.example/docs/page?x=/y", "/docs"),
    ];
    for (url, want) in cases {
        let jar = jar_with(url, &["a=1"]);
        assert_eq!(jar.iter().next().unwrap().path(), want, "{url}");
    }
}

#[test]
fn path_attribute_not_starting_with_slash_uses_default_path() {
    let jar = jar_with(
        "http://a.example/docs/page",
        &["a=1; Path=relative", "b=2; Path="],
    );
    assert!(jar.iter().all(|c| c.path() == "/docs"));
}

#[test]
fn path_match_rules() {
    let jar = jar_with("http://a.example/", &["a=1; Path=/docs"]);
    assert!(header(&jar, "http://a.example/docs", t0()).is_some());
    assert!(header(&jar, "http://a.example/docs/", t0()).is_some());
    assert!(header(&jar, "http://a.example/docs/x", t0()).is_some());
    assert!(header(&jar, "http://a.example/docsx", t0()).is_none());
    assert!(header(&jar, "http://a.example/", t0()).is_none());
    let jar = jar_with("http://a.example/", &["a=1; Path=/docs/"]);
    assert!(header(&jar, "http://a.example/docs/x", t0()).is_some());
    assert!(header(&jar, "http://a.example/docs", t0()).is_none());
}

// ---- storage key and replacement ----

#[test]
fn same_domain_path_name_replaces_and_keeps_creation_time() {
    let mut jar = CookieJar::new();
    let url = u("http://a.example/");
    assert_eq!(jar.try_store(&url, "a=1", t0()), Ok(Stored::Added));
    jar.try_store(&url, "b=1", t0() + secs(1)).unwrap();
    assert_eq!(
        jar.try_store(&url, "a=2", t0() + secs(2)),
        Ok(Stored::Replaced)
    );
    assert_eq!(jar.len(), 2);
    let a = jar.iter().find(|c| c.name() == "a").unwrap();
    assert_eq!(a.value(), "2");
    assert_eq!(a.creation(), t0());
    // Creation order kept: a before b.
    assert_eq!(
        header(&jar, "http://a.example/", t0() + secs(3)).unwrap(),
        "a=2; b=1"
    );
}

#[test]
fn different_path_or_domain_are_different_cookies() {
    let jar = jar_with(
        "http://www.a.example/x/y",
        &["a=1", "a=2; Path=/", "a=3; Domain=a.example"],
    );
    assert_eq!(jar.len(), 3);
}

// ---- ordering ----

#[test]
fn longer_paths_first_then_earlier_creation() {
    let mut jar = CookieJar::new();
    let url = u("http://a.example/a/b/c");
    jar.try_store(&url, "root1=1; Path=/", t0()).unwrap();
    jar.try_store(&url, "deep=1; Path=/a/b", t0() + secs(1))
        .unwrap();
    jar.try_store(&url, "root0=1; Path=/", t0() - secs(1))
        .unwrap();
    jar.try_store(&url, "mid=1; Path=/a", t0() + secs(2))
        .unwrap();
    assert_eq!(
        header(&jar, "http://a.example/a/b/c", t0() + secs(3)).unwrap(),
        "deep=1; mid=1; root0=1; root1=1"
    );
}

// ---- Secure ----

#[test]
fn secure_cookies_only_over_https() {
    let jar = jar_with("https://a.example/", &["s=1; Secure", "p=2"]);
    assert_eq!(
        header(&jar, "https://a.example/", t0()).unwrap(),
        "s=1; p=2"
    );
    assert_eq!(header(&jar, "http://a.example/", t0()).unwrap(), "p=2");
}

#[test]
fn localhost_over_http_is_not_trustworthy() {
    let jar = jar_with("https://localhost/", &["s=1; Secure"]);
    assert!(header(&jar, "http://localhost/", t0()).is_none());
    assert!(header(&jar, "https://localhost/", t0()).is_some());
}

#[test]
fn http_cannot_set_a_secure_cookie() {
    let mut jar = CookieJar::new();
    assert_eq!(
        jar.try_store(&u("http://a.example/"), "s=1; Secure", t0()),
        Err(CookieError::InsecureOrigin)
    );
}

#[test]
fn http_cannot_overwrite_a_secure_cookie() {
    let mut jar = jar_with("https://a.example/", &["s=good; Secure; Path=/"]);
    assert_eq!(
        jar.try_store(&u("http://a.example/"), "s=evil; Path=/", t0()),
        Err(CookieError::InsecureOrigin)
    );
    assert_eq!(
        jar.try_store(
            &u("http://www.a.example/x"),
            "s=evil; Domain=a.example; Path=/x",
            t0()
        ),
        Err(CookieError::InsecureOrigin)
    );
    assert_eq!(header(&jar, "https://a.example/", t0()).unwrap(), "s=good");
    // Another name is fine.
    assert_eq!(
        jar.try_store(&u("http://a.example/"), "t=1", t0()),
        Ok(Stored::Added)
    );
}

// ---- expiry ----

#[test]
fn session_cookie_has_no_expiry() {
    let jar = jar_with("http://a.example/", &["a=1"]);
    assert_eq!(jar.iter().next().unwrap().expires(), None);
    assert!(header(&jar, "http://a.example/", t0() + secs(10_000_000)).is_some());
}

#[test]
fn max_age_expires_relative_to_store_time() {
    let jar = jar_with("http://a.example/", &["a=1; Max-Age=100"]);
    assert_eq!(jar.iter().next().unwrap().expires(), Some(t0() + secs(100)));
    assert!(header(&jar, "http://a.example/", t0() + secs(99)).is_some());
    assert!(header(&jar, "http://a.example/", t0() + secs(100)).is_none());
}

#[test]
fn expires_attribute_sets_absolute_time() {
    // 2023-11-14T22:13:20Z + 1 day
    let jar = jar_with(
        "http://a.example/",
        &["a=1; Expires=Wed, 15 Nov 2023 22:13:20 GMT"],
    );
    assert_eq!(
        jar.iter().next().unwrap().expires(),
        Some(t0() + secs(86_400))
    );
}

#[test]
fn max_age_wins_over_expires_in_either_order() {
    for s in [
        "a=1; Max-Age=10; Expires=Wed, 15 Nov 2023 22:13:20 GMT",
        "a=1; Expires=Wed, 15 Nov 2023 22:13:20 GMT; Max-Age=10",
    ] {
        let jar = jar_with("http://a.example/", &[s]);
        assert_eq!(
            jar.iter().next().unwrap().expires(),
            Some(t0() + secs(10)),
            "{s}"
        );
    }
}

#[test]
fn max_age_zero_or_negative_deletes() {
    for del in ["a=; Max-Age=0", "a=; Max-Age=-1"] {
        let mut jar = jar_with("http://a.example/", &["a=1", "b=2"]);
        assert_eq!(
            jar.try_store(&u("http://a.example/"), del, t0()),
            Ok(Stored::Deleted)
        );
        assert_eq!(header(&jar, "http://a.example/", t0()).unwrap(), "b=2");
        assert_eq!(jar.len(), 1);
    }
}

#[test]
fn past_expires_deletes() {
    let mut jar = jar_with("http://a.example/", &["a=1"]);
    assert_eq!(
        jar.try_store(
            &u("http://a.example/"),
            "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            t0()
        ),
        Ok(Stored::Deleted)
    );
    assert!(jar.is_empty());
}

#[test]
fn invalid_max_age_is_ignored() {
    for s in [
        "a=1; Max-Age=abc",
        "a=1; Max-Age=+5",
        "a=1; Max-Age=1.5",
        "a=1; Max-Age=",
    ] {
        let jar = jar_with("http://a.example/", &[s]);
        assert_eq!(jar.iter().next().unwrap().expires(), None, "{s}");
    }
}

#[test]
fn huge_max_age_saturates() {
    let jar = jar_with(
        "http://a.example/",
        &["a=1; Max-Age=99999999999999999999999"],
    );
    assert!(jar.iter().next().unwrap().expires().unwrap() > t0() + secs(100 * 365 * 86_400));
}

#[test]
fn remove_expired_prunes_storage() {
    let mut jar = jar_with("http://a.example/", &["a=1; Max-Age=5", "b=2"]);
    jar.remove_expired(t0() + secs(4));
    assert_eq!(jar.len(), 2);
    jar.remove_expired(t0() + secs(5));
    assert_eq!(jar.len(), 1);
}

// ---- RFC 6265 §5.1.1 date parsing ----

#[test]
fn cookie_dates_in_common_formats() {
    let want = SystemTime::UNIX_EPOCH + secs(784_111_777); // 1994-11-06 08:49:37Z
    for s in [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "06 Nov 1994 08:49:37",
        "Sun, 6-NOVEMBER-1994 8:49:37 GMT",
        "1994 Nov 06 08:49:37",
    ] {
        assert_eq!(parse_cookie_date(s), Some(want), "{s}");
    }
}

#[test]
fn two_digit_years() {
    let y2000 = parse_cookie_date("01 Jan 00 00:00:00").unwrap();
    assert_eq!(y2000, SystemTime::UNIX_EPOCH + secs(946_684_800));
    let y1970 = parse_cookie_date("01 Jan 70 00:00:00").unwrap();
    assert_eq!(y1970, SystemTime::UNIX_EPOCH);
    let y2069 = parse_cookie_date("01 Jan 69 00:00:00").unwrap();
    assert!(y2069 > y2000);
}

#[test]
fn invalid_dates_are_rejected() {
    for s in [
        "",
        "Sun, 06 Nov 1994",           // no time
        "Sun, 32 Nov 1994 08:49:37",  // day 32
        "Sun, 06 Nov 1994 24:00:00",  // hour 24
        "Sun, 06 Nov 1994 08:60:00",  // minute 60
        "Sun, 06 Xyz 1994 08:49:37",  // month
        "Sun, 06 Nov 1600 08:49:37",  // year < 1601
        "Fri, 30 Feb 2024 00:00:00",  // no such day
        "Sun, 06 Nov 19945 08:49:37", // 5-digit year
    ] {
        assert_eq!(parse_cookie_date(s), None, "{s:?}");
    }
    assert!(parse_cookie_date("Thu, 29 Feb 2024 00:00:00").is_some());
}

#[test]
fn dates_before_1970_work() {
    let t = parse_cookie_date("Mon, 01 Jan 1601 00:00:00 GMT").unwrap();
    assert_eq!(
        SystemTime::UNIX_EPOCH.duration_since(t).unwrap(),
        secs(11_644_473_600)
    );
}

#[test]
fn invalid_expires_is_ignored_not_fatal() {
    let jar = jar_with("http://a.example/", &["a=1; Expires=whenever"]);
    assert_eq!(jar.iter().next().unwrap().expires(), None);
}

// ---- redaction ----

#[test]
fn debug_redacts_values() {
    let jar = jar_with("http://a.example/", &["session=TOPSECRET123"]);
    let text = format!("{jar:?}");
    assert!(!text.contains("TOPSECRET123"), "{text}");
    assert!(text.contains("session"));
    assert!(text.contains("[redacted]"));
    assert!(
        jar.cookie_header(&u("http://a.example/"), t0())
            .unwrap()
            .is_sensitive()
    );
}

// ---- requests' redirect cookie behaviours that belong to the jar ----

#[test]
fn set_cookie_on_a_redirect_response_is_sent_to_the_next_hop() {
    let mut jar = CookieJar::new();
    let first = u("http://a.example/login");
    jar.store(&first, ["sid=1; Path=/"], t0());
    assert_eq!(
        header(&jar, "http://a.example/home", t0()).unwrap(),
        "sid=1"
    );
}

#[test]
fn cookies_from_a_redirect_do_not_follow_to_another_domain() {
    let mut jar = CookieJar::new();
    jar.store(&u("http://a.example/"), ["sid=1"], t0());
    assert!(header(&jar, "http://b.example/", t0()).is_none());
}

#[test]
fn secure_cookie_stays_behind_on_https_to_http_redirect() {
    let mut jar = CookieJar::new();
    jar.store(&u("https://a.example/"), ["sid=1; Secure", "pref=2"], t0());
    assert_eq!(header(&jar, "http://a.example/", t0()).unwrap(), "pref=2");
}

#[test]
fn domain_cookie_follows_redirect_to_subdomain() {
    let mut jar = CookieJar::new();
    jar.store(&u("http://a.example/"), ["sso=1; Domain=a.example"], t0());
    assert_eq!(
        header(&jar, "http://login.a.example/", t0()).unwrap(),
        "sso=1"
    );
}

#[test]
fn store_counts_only_accepted_cookies() {
    let mut jar = CookieJar::new();
    let n = jar.store(
        &u("http://a.example/"),
        ["a=1", "bad", "b=2; Domain=other.example", "c=; Max-Age=0"],
        t0(),
    );
    assert_eq!(n, 1);
}

#[test]
fn non_http_urls_get_no_cookies() {
    let mut jar = CookieJar::new();
    assert_eq!(
        jar.try_store(&u("file:///tmp/x"), "a=1", t0()),
        Err(CookieError::NoHost)
    );
    jar.store(&u("http://a.example/"), ["a=1"], t0());
    assert!(jar.cookie_header(&u("ftp://a.example/"), t0()).is_none());
}

#[test]
fn a_public_suffix_domain_is_refused_or_host_only() {
    let t = SystemTime::UNIX_EPOCH;
    let mut jar = CookieJar::new();
    let a = Url::parse("https://a.co.uk/").unwrap();
    let b = Url::parse("https://b.co.uk/").unwrap();
    assert_eq!(
        jar.try_store(&a, "x=1; Domain=co.uk", t),
        Err(CookieError::DomainMismatch)
    );
    let page = Url::parse("https://me.github.io/").unwrap();
    let other = Url::parse("https://you.github.io/").unwrap();
    assert_eq!(
        jar.try_store(&page, "y=1; Domain=github.io", t),
        Err(CookieError::DomainMismatch)
    );
    // The registrable domain itself is fine and reaches its subdomains.
    let shop = Url::parse("https://shop.example.co.uk/").unwrap();
    let www = Url::parse("https://www.example.co.uk/").unwrap();
    jar.try_store(&shop, "z=1; Domain=example.co.uk", t)
        .unwrap();
    assert_eq!(jar.cookie_header(&www, t).unwrap(), "z=1");
    assert!(jar.cookie_header(&b, t).is_none());
    assert!(jar.cookie_header(&other, t).is_none());
    // A Domain equal to a host that is itself a suffix: host-only.
    let io = Url::parse("https://github.io/").unwrap();
    jar.try_store(&io, "h=1; Domain=github.io", t).unwrap();
    assert!(jar.iter().any(|c| c.name() == "h" && c.host_only()));
    assert!(jar.cookie_header(&page, t).is_none());
}

#[test]
fn cookie_name_prefixes_are_enforced() {
    let t = SystemTime::UNIX_EPOCH;
    let https = Url::parse("https://a.example/x").unwrap();
    let http = Url::parse("http://a.example/x").unwrap();
    let mut jar = CookieJar::new();
    for (url, cookie) in [
        (&https, "__Secure-a=1"),
        (&http, "__Secure-b=1; Secure"),
        (&https, "__Host-c=1; Secure"),
        (&https, "__Host-d=1; Secure; Path=/; Domain=a.example"),
        (&https, "__host-e=1; Path=/"),
    ] {
        assert_eq!(
            jar.try_store(url, cookie, t),
            Err(CookieError::Prefix),
            "{cookie}"
        );
    }
    jar.try_store(&https, "__Secure-ok=1; Secure", t).unwrap();
    jar.try_store(&https, "__Host-ok=1; Secure; Path=/", t)
        .unwrap();
    let sent = jar.cookie_header(&https, t).unwrap();
    assert_eq!(sent.to_str().unwrap(), "__Secure-ok=1; __Host-ok=1");
}
