//! Redirect policy: requests' should_strip_auth table, the method/body
//! table, Location resolution, header editing and limits.

use hawser_core::ErrorKind;
use hawser_core::redirect::{
    RedirectError, RedirectPolicy, already_visited, next_hop, resolve_location, should_strip_auth,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use url::Url;

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn strip(old: &str, new: &str) -> bool {
    should_strip_auth(&u(old), &u(new))
}

// ---- requests' should_strip_auth table, one test per row ----

#[test]
fn strip_01_same_host_other_path_keeps() {
    assert!(!strip("http://a.com/x", "http://a.com/y"));
}
#[test]
fn strip_02_other_host_strips() {
    assert!(strip("http://a.com", "http://b.com"));
}
#[test]
fn strip_03_host_case_insensitive_keeps() {
    assert!(!strip("http://a.com", "http://A.COM"));
}
#[test]
fn strip_04_http_to_https_default_ports_keeps() {
    assert!(!strip("http://a.com", "https://a.com"));
    assert!(!strip("http://a.com:80", "https://a.com"));
    assert!(!strip("http://a.com", "https://a.com:443"));
}
#[test]
fn strip_05_http_nondefault_port_to_https_strips() {
    assert!(strip("http://a.com:8080", "https://a.com"));
}
#[test]
fn strip_06_http_to_https_nondefault_port_strips() {
    assert!(strip("http://a.com", "https://a.com:8443"));
}
#[test]
fn strip_07_https_to_http_strips() {
    assert!(strip("https://a.com", "http://a.com"));
}
#[test]
fn strip_08_https_explicit_default_port_keeps_both_ways() {
    assert!(!strip("https://a.com", "https://a.com:443"));
    assert!(!strip("https://a.com:443", "https://a.com"));
}
#[test]
fn strip_09_http_explicit_default_port_keeps() {
    assert!(!strip("http://a.com", "http://a.com:80"));
}
#[test]
fn strip_10_http_port_change_strips() {
    assert!(strip("http://a.com", "http://a.com:8080"));
}
#[test]
fn strip_11_same_nondefault_port_keeps() {
    assert!(!strip("http://a.com:8080", "http://a.com:8080"));
}
#[test]
fn strip_12_https_to_port_80_strips() {
    assert!(strip("https://a.com", "https://a.com:80"));
}
#[test]
fn strip_13_http_to_port_443_strips() {
    assert!(strip("http://a.com", "http://a.com:443"));
}
#[test]
fn strip_14_scheme_change_to_ftp_strips() {
    assert!(strip("http://a.com", "ftp://a.com"));
}
#[test]
fn strip_15_subdomain_strips() {
    assert!(strip("http://a.com", "http://sub.a.com"));
}
#[test]
fn strip_16_trailing_dot_is_another_host() {
    assert!(strip("http://a.com.", "http://a.com"));
}

// ---- method / body table (status x method), requests' verified table ----

fn hop_for(status: u16, method: Method) -> (Method, bool) {
    let cur = u("http://a.example/src");
    let hop = next_hop(
        &cur,
        &method,
        StatusCode::from_u16(status).unwrap(),
        b"/dst",
        true,
    )
    .unwrap();
    (hop.method().clone(), hop.drops_body())
}

type Row = (u16, [(Method, Method); 5], bool);

#[test]
fn method_table_matches_requests() {
    use Method as M;
    let table: [Row; 5] = [
        (
            301,
            [
                (M::POST, M::GET),
                (M::PUT, M::PUT),
                (M::DELETE, M::DELETE),
                (M::HEAD, M::HEAD),
                (M::GET, M::GET),
            ],
            true,
        ),
        (
            302,
            [
                (M::POST, M::GET),
                (M::PUT, M::GET),
                (M::DELETE, M::GET),
                (M::HEAD, M::HEAD),
                (M::GET, M::GET),
            ],
            true,
        ),
        (
            303,
            [
                (M::POST, M::GET),
                (M::PUT, M::GET),
                (M::DELETE, M::GET),
                (M::HEAD, M::HEAD),
                (M::GET, M::GET),
            ],
            true,
        ),
        (
            307,
            [
                (M::POST, M::POST),
                (M::PUT, M::PUT),
                (M::DELETE, M::DELETE),
                (M::HEAD, M::HEAD),
                (M::GET, M::GET),
            ],
            false,
        ),
        (
            308,
            [
                (M::POST, M::POST),
                (M::PUT, M::PUT),
                (M::DELETE, M::DELETE),
                (M::HEAD, M::HEAD),
                (M::GET, M::GET),
            ],
            false,
        ),
    ];
    for (status, rows, drops) in table {
        for (from, to) in rows {
            let (m, d) = hop_for(status, from.clone());
            assert_eq!(m, to, "{status} {from}");
            assert_eq!(d, drops, "{status} {from} drops body");
        }
    }
}

#[test]
fn temporary_redirect_with_unreplayable_body_is_a_typed_error() {
    let cur = u("http://a.example/upload");
    for status in [307u16, 308] {
        let err = next_hop(
            &cur,
            &Method::POST,
            StatusCode::from_u16(status).unwrap(),
            b"/x",
            false,
        )
        .unwrap_err();
        assert_eq!(err, RedirectError::BodyNotReplayable { status });
        assert_eq!(
            hawser_core::Error::from(err).kind(),
            ErrorKind::BodyNotReplayable
        );
    }
}

#[test]
fn unreplayable_body_is_fine_when_the_redirect_drops_it() {
    let cur = u("http://a.example/upload");
    for status in [301u16, 302, 303] {
        let hop = next_hop(
            &cur,
            &Method::POST,
            StatusCode::from_u16(status).unwrap(),
            b"/x",
            false,
        )
        .unwrap();
        assert!(hop.drops_body());
    }
}

// ---- Location resolution ----

#[test]
fn relative_location_resolves_against_current_directory() {
    let cur = u("http://a.example/dir/page?q=1");
    assert_eq!(
        resolve_location(&cur, b"next").unwrap().as_str(),
        "http://a.example/dir/next"
    );
    assert_eq!(
        resolve_location(&cur, b"../up").unwrap().as_str(),
        "http://a.example/up"
    );
    assert_eq!(
        resolve_location(&cur, b"?q=2").unwrap().as_str(),
        "http://a.example/dir/page?q=2"
    );
}

#[test]
fn absolute_path_location() {
    let cur = u("https://a.example:8443/dir/page");
    assert_eq!(
        resolve_location(&cur, b"/root").unwrap().as_str(),
        "https://a.example:8443/root"
    );
}

#[test]
fn scheme_relative_location_takes_current_scheme() {
    let cur = u("https://a.example/x");
    assert_eq!(
        resolve_location(&cur, b"//b.example/y").unwrap().as_str(),
        "https://b.example/y"
    );
    let cur = u("http://a.example/x");
    assert_eq!(
        resolve_location(&cur, b"//b.example/y").unwrap().as_str(),
        "http://b.example/y"
    );
}

#[test]
fn fragment_carries_over_only_when_location_has_none() {
    let cur = u("http://a.example/x#keep");
    assert_eq!(
        resolve_location(&cur, b"/y").unwrap().fragment(),
        Some("keep")
    );
    assert_eq!(
        resolve_location(&cur, b"/y#new").unwrap().fragment(),
        Some("new")
    );
    assert_eq!(
        resolve_location(&cur, b"http://b.example/")
            .unwrap()
            .fragment(),
        Some("keep")
    );
    let cur = u("http://a.example/x");
    assert_eq!(resolve_location(&cur, b"/y").unwrap().fragment(), None);
}

#[test]
fn non_ascii_and_spaces_are_percent_encoded() {
    let cur = u("http://a.example/");
    let utf8 = "/café x".as_bytes();
    assert_eq!(
        resolve_location(&cur, utf8).unwrap().path(),
        "/caf%C3%A9%20x"
    );
    // Latin-1 bytes (not UTF-8) are decoded as Latin-1 rather than rejected.
    assert_eq!(
        resolve_location(&cur, b"/caf\xe9").unwrap().path(),
        "/caf%C3%A9"
    );
}

#[test]
fn non_http_schemes_are_rejected() {
    let cur = u("http://a.example/");
    for loc in [
        &b"ftp://a.example/f"[..],
        b"file:///etc/passwd",
        b"javascript:alert(1)",
        b"data:text/plain,hi",
    ] {
        let err = resolve_location(&cur, loc).unwrap_err();
        assert!(
            matches!(err, RedirectError::UnsupportedScheme { .. }),
            "{err:?}"
        );
        assert_eq!(hawser_core::Error::from(err).kind(), ErrorKind::Protocol);
    }
}

#[test]
fn unparseable_location_is_rejected() {
    let cur = u("http://a.example/");
    for loc in [
        &b"http://[::1/"[..],
        b"http://exa mple.com/",
        b"http://a.example:99999/",
    ] {
        let err = resolve_location(&cur, loc).unwrap_err();
        assert!(
            matches!(err, RedirectError::InvalidLocation { .. }),
            "{err:?}"
        );
    }
}

// ---- policy: not-a-redirect, limits, "do not follow" ----

#[test]
fn redirect_status_without_location_is_not_a_redirect() {
    let cur = u("http://a.example/");
    let p = RedirectPolicy::default();
    assert_eq!(
        p.next_hop(0, &cur, &Method::GET, StatusCode::FOUND, None, true)
            .unwrap(),
        None
    );
    assert_eq!(
        p.next_hop(0, &cur, &Method::GET, StatusCode::FOUND, Some(b""), true)
            .unwrap(),
        None
    );
}

#[test]
fn other_3xx_statuses_are_not_followed() {
    let cur = u("http://a.example/");
    let p = RedirectPolicy::default();
    for s in [300u16, 304, 305, 200, 404] {
        let st = StatusCode::from_u16(s).unwrap();
        assert_eq!(
            p.next_hop(0, &cur, &Method::GET, st, Some(b"/x"), true)
                .unwrap(),
            None,
            "{s}"
        );
    }
    assert_eq!(
        next_hop(&cur, &Method::GET, StatusCode::NOT_MODIFIED, b"/x", true).unwrap_err(),
        RedirectError::NotARedirect { status: 304 }
    );
}

#[test]
fn limit_allows_exactly_max_redirects() {
    let cur = u("http://a.example/");
    let p = RedirectPolicy::limited(3);
    for followed in 0..3 {
        assert!(
            p.next_hop(
                followed,
                &cur,
                &Method::GET,
                StatusCode::FOUND,
                Some(b"/n"),
                true
            )
            .unwrap()
            .is_some()
        );
    }
    let err = p
        .next_hop(3, &cur, &Method::GET, StatusCode::FOUND, Some(b"/n"), true)
        .unwrap_err();
    assert_eq!(err, RedirectError::TooManyRedirects { max: 3 });
    assert_eq!(
        hawser_core::Error::from(err).kind(),
        ErrorKind::TooManyRedirects
    );
}

#[test]
fn limited_zero_fails_on_first_redirect_but_none_returns_it() {
    let cur = u("http://a.example/");
    let err = RedirectPolicy::limited(0)
        .next_hop(
            0,
            &cur,
            &Method::GET,
            StatusCode::MOVED_PERMANENTLY,
            Some(b"/n"),
            true,
        )
        .unwrap_err();
    assert_eq!(err, RedirectError::TooManyRedirects { max: 0 });
    assert_eq!(
        RedirectPolicy::none()
            .next_hop(
                0,
                &cur,
                &Method::GET,
                StatusCode::MOVED_PERMANENTLY,
                Some(b"/n"),
                true
            )
            .unwrap(),
        None
    );
}

#[test]
fn default_limit_is_ten() {
    assert_eq!(RedirectPolicy::default().max_redirects(), Some(10));
}

// ---- header editing ----

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_static(v));
    }
    h
}

const ALL: &[(&str, &str)] = &[
    ("authorization", "Basic dTpw"),
    ("cookie", "hand=set"),
    ("proxy-authorization", "Basic cHg6cHc="),
    ("content-type", "text/plain"),
    ("content-length", "3"),
    ("content-encoding", "gzip"),
    ("content-language", "en"),
    ("content-location", "/c"),
    ("transfer-encoding", "chunked"),
    ("digest", "sha-256=x"),
    ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
    ("x-custom", "kept"),
    ("accept", "*/*"),
];

fn apply(cur: &str, status: u16, method: Method, loc: &str) -> HeaderMap {
    let mut h = headers(ALL);
    next_hop(
        &u(cur),
        &method,
        StatusCode::from_u16(status).unwrap(),
        loc.as_bytes(),
        true,
    )
    .unwrap()
    .apply_to_headers(&mut h);
    h
}

#[test]
fn dropped_body_takes_its_headers_along() {
    let h = apply("http://a.example/", 303, Method::POST, "/x");
    for name in [
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "content-location",
        "transfer-encoding",
        "digest",
        "last-modified",
    ] {
        assert!(h.get(name).is_none(), "{name} should be gone");
    }
    assert_eq!(h.get("x-custom").unwrap(), "kept");
    assert_eq!(h.get("accept").unwrap(), "*/*");
}

#[test]
fn kept_body_keeps_its_headers() {
    let h = apply("http://a.example/", 307, Method::POST, "/x");
    assert_eq!(h.get("content-type").unwrap(), "text/plain");
    assert_eq!(h.get("content-length").unwrap(), "3");
    assert_eq!(h.get("transfer-encoding").unwrap(), "chunked");
}

#[test]
fn same_origin_keeps_credentials() {
    let h = apply("http://a.example/", 302, Method::GET, "/x");
    assert!(h.get("authorization").is_some());
    assert!(h.get("cookie").is_some());
    assert!(h.get("proxy-authorization").is_some());
}

#[test]
fn cross_host_strips_credentials_keeps_custom_headers() {
    let h = apply("http://a.example/", 307, Method::POST, "http://b.example/x");
    assert!(h.get("authorization").is_none());
    assert!(h.get("cookie").is_none());
    assert!(h.get("proxy-authorization").is_none());
    assert_eq!(h.get("x-custom").unwrap(), "kept");
    // 307 keeps the body even cross-host.
    assert_eq!(h.get("content-type").unwrap(), "text/plain");
}

#[test]
fn https_to_http_downgrade_strips_credentials() {
    let h = apply("https://a.example/", 302, Method::GET, "http://a.example/x");
    assert!(h.get("authorization").is_none());
    assert!(h.get("cookie").is_none());
}

#[test]
fn http_to_https_upgrade_keeps_credentials() {
    let h = apply("http://a.example/", 301, Method::GET, "https://a.example/x");
    assert!(h.get("authorization").is_some());
}

#[test]
fn hand_set_host_is_removed_when_host_changes_only() {
    let mut h = headers(&[("host", "a.example")]);
    next_hop(
        &u("http://a.example/"),
        &Method::GET,
        StatusCode::FOUND,
        b"/x",
        true,
    )
    .unwrap()
    .apply_to_headers(&mut h);
    assert!(h.get("host").is_some());
    next_hop(
        &u("http://a.example/"),
        &Method::GET,
        StatusCode::FOUND,
        b"http://b.example/",
        true,
    )
    .unwrap()
    .apply_to_headers(&mut h);
    assert!(h.get("host").is_none());
}

// ---- loop helper ----

#[test]
fn already_visited_detects_loops_ignoring_fragment() {
    let a = u("http://a.example/a");
    let b = u("http://a.example/b");
    assert!(already_visited([&a, &b], &u("http://a.example/a#f")));
    assert!(!already_visited([&a, &b], &u("http://a.example/c")));
    assert!(!already_visited([&a], &u("https://a.example/a")));
}
