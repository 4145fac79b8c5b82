//! The three policy modules driven together the way the call orchestrator
//! drives them across a redirect: the hop edits the headers, the jar
//! supplies the cookies for the new URL, and the proxy route is recomputed.

use std::time::{Duration, SystemTime};

use hawser_core::cookies::CookieJar;
use hawser_core::proxy::{ProxyConfig, Route};
use hawser_core::redirect::RedirectPolicy;
use http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use url::Url;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn user_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer tok"));
    h.insert(COOKIE, HeaderValue::from_static("hand=set"));
    h.insert("x-request-id", HeaderValue::from_static("42"));
    h
}

#[test]
fn cross_domain_redirect_drops_hand_set_cookie_and_jar_sends_nothing_foreign() {
    let mut jar = CookieJar::new();
    let first = Url::parse("http://a.example/login").unwrap();
    // The 302 itself sets a cookie for a.example.
    jar.store(&first, ["a_sid=1; Path=/"], now());
    let hop = RedirectPolicy::default()
        .next_hop(
            0,
            &first,
            &Method::POST,
            StatusCode::FOUND,
            Some(b"http://b.example/next"),
            true,
        )
        .unwrap()
        .unwrap();
    let mut headers = user_headers();
    hop.apply_to_headers(&mut headers);
    assert!(headers.get(COOKIE).is_none());
    assert!(headers.get(AUTHORIZATION).is_none());
    assert_eq!(headers.get("x-request-id").unwrap(), "42");
    assert!(jar.cookie_header(hop.url(), now()).is_none());
}

#[test]
fn same_domain_redirect_sends_the_cookie_set_by_the_redirect() {
    let mut jar = CookieJar::new();
    let first = Url::parse("https://a.example/login").unwrap();
    jar.store(&first, ["sid=abc; Path=/; Secure"], now());
    let hop = RedirectPolicy::default()
        .next_hop(
            0,
            &first,
            &Method::POST,
            StatusCode::SEE_OTHER,
            Some(b"/home"),
            true,
        )
        .unwrap()
        .unwrap();
    assert_eq!(hop.url().as_str(), "https://a.example/home");
    assert_eq!(jar.cookie_header(hop.url(), now()).unwrap(), "sid=abc");
    // Same origin: credentials stay.
    let mut headers = user_headers();
    hop.apply_to_headers(&mut headers);
    assert!(headers.get(AUTHORIZATION).is_some());
}

#[test]
fn downgrade_redirect_keeps_secure_cookies_and_auth_behind() {
    let mut jar = CookieJar::new();
    let first = Url::parse("https://a.example/").unwrap();
    jar.store(&first, ["sid=abc; Secure", "lang=en"], now());
    let hop = RedirectPolicy::default()
        .next_hop(
            0,
            &first,
            &Method::GET,
            StatusCode::MOVED_PERMANENTLY,
            Some(b"http://a.example/"),
            true,
        )
        .unwrap()
        .unwrap();
    let mut headers = user_headers();
    hop.apply_to_headers(&mut headers);
    assert!(headers.get(AUTHORIZATION).is_none());
    assert_eq!(jar.cookie_header(hop.url(), now()).unwrap(), "lang=en");
}

#[test]
fn proxy_route_is_recomputed_per_hop_and_honours_no_proxy() {
    // requests keeps the previous hop's proxy when redirecting into a
    // NO_PROXY host; recomputing the route per hop honours NO_PROXY.
    let cfg = ProxyConfig::from_env([
        ("HTTP_PROXY", "http://u:p@proxy:3128"),
        ("HTTPS_PROXY", "http://u:p@proxy:3128"),
        ("NO_PROXY", "internal.example"),
    ])
    .unwrap();
    let first = Url::parse("http://public.example/").unwrap();
    let route = cfg.route(&first).unwrap();
    assert!(route.request_proxy_authorization().is_some());
    let mut headers = user_headers();
    headers.insert(
        PROXY_AUTHORIZATION,
        route.request_proxy_authorization().unwrap().clone(),
    );

    let hop = RedirectPolicy::default()
        .next_hop(
            0,
            &first,
            &Method::GET,
            StatusCode::FOUND,
            Some(b"https://internal.example/x"),
            true,
        )
        .unwrap()
        .unwrap();
    hop.apply_to_headers(&mut headers);
    assert!(headers.get(PROXY_AUTHORIZATION).is_none());
    assert_eq!(
        cfg.route(hop.url()).unwrap(),
        Route::Direct {
            host: "internal.example".into(),
            port: 443
        }
    );
}
