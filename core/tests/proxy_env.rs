//! Proxy selection: the environment matrix, NO_PROXY rules from the
//! reference (requests 2.34), credentials and redaction.

use hawser_core::ErrorKind;
use hawser_core::proxy::{NoProxy, Proxy, ProxyConfig, ProxyError, Route};
use url::Url;

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn proxy_host(cfg: &ProxyConfig, target: &str) -> Option<String> {
    cfg.proxy_for(&u(target)).map(|p| p.host().to_owned())
}

fn env(pairs: &[(&str, &str)]) -> ProxyConfig {
    ProxyConfig::from_env(pairs.iter().copied()).unwrap()
}

// ---- environment matrix ----

#[test]
fn http_proxy_applies_to_http_only() {
    let cfg = env(&[("HTTP_PROXY", "http://envp:3128")]);
    assert_eq!(
        proxy_host(&cfg, "http://a.example/").as_deref(),
        Some("envp")
    );
    assert_eq!(proxy_host(&cfg, "https://a.example/"), None);
}

#[test]
fn https_proxy_applies_to_https_only() {
    let cfg = env(&[("HTTPS_PROXY", "http://hp:3128")]);
    assert_eq!(
        proxy_host(&cfg, "https://a.example/").as_deref(),
        Some("hp")
    );
    assert_eq!(proxy_host(&cfg, "http://a.example/"), None);
}

#[test]
fn all_proxy_is_the_fallback_and_scheme_specific_wins() {
    let cfg = env(&[("ALL_PROXY", "http://allp:1")]);
    assert_eq!(
        proxy_host(&cfg, "https://a.example/").as_deref(),
        Some("allp")
    );
    assert_eq!(
        proxy_host(&cfg, "http://a.example/").as_deref(),
        Some("allp")
    );
    let cfg = env(&[
        ("ALL_PROXY", "http://allp:1"),
        ("HTTPS_PROXY", "http://hp:2"),
    ]);
    assert_eq!(
        proxy_host(&cfg, "https://a.example/").as_deref(),
        Some("hp")
    );
    assert_eq!(
        proxy_host(&cfg, "http://a.example/").as_deref(),
        Some("allp")
    );
}

#[test]
fn lower_case_wins_over_upper_case_in_either_order() {
    let a = env(&[
        ("HTTP_PROXY", "http://upper:1"),
        ("http_proxy", "http://lower:2"),
    ]);
    let b = env(&[
        ("http_proxy", "http://lower:2"),
        ("HTTP_PROXY", "http://upper:1"),
    ]);
    assert_eq!(
        proxy_host(&a, "http://a.example/").as_deref(),
        Some("lower")
    );
    assert_eq!(
        proxy_host(&b, "http://a.example/").as_deref(),
        Some("lower")
    );
}

#[test]
fn empty_lower_case_removes_the_upper_case_entry() {
    let cfg = env(&[("HTTP_PROXY", "http://upper:1"), ("http_proxy", "")]);
    assert_eq!(proxy_host(&cfg, "http://a.example/"), None);
}

#[test]
fn empty_upper_case_is_ignored() {
    let cfg = env(&[("HTTP_PROXY", ""), ("ALL_PROXY", "http://allp:1")]);
    assert_eq!(
        proxy_host(&cfg, "http://a.example/").as_deref(),
        Some("allp")
    );
}

#[test]
fn cgi_request_method_ignores_upper_case_http_proxy_only() {
    let cfg = env(&[("HTTP_PROXY", "http://upper:1"), ("REQUEST_METHOD", "GET")]);
    assert_eq!(proxy_host(&cfg, "http://a.example/"), None);
    let cfg = env(&[("http_proxy", "http://lower:1"), ("REQUEST_METHOD", "GET")]);
    assert_eq!(
        proxy_host(&cfg, "http://a.example/").as_deref(),
        Some("lower")
    );
    let cfg = env(&[("HTTPS_PROXY", "http://hp:1"), ("REQUEST_METHOD", "GET")]);
    assert_eq!(
        proxy_host(&cfg, "https://a.example/").as_deref(),
        Some("hp")
    );
}

#[test]
fn no_proxy_lower_case_then_upper_case() {
    let cfg = env(&[
        ("ALL_PROXY", "http://p:1"),
        ("no_proxy", "a.example"),
        ("NO_PROXY", "b.example"),
    ]);
    assert_eq!(proxy_host(&cfg, "http://a.example/"), None);
    assert!(proxy_host(&cfg, "http://b.example/").is_some());
    let cfg = env(&[
        ("ALL_PROXY", "http://p:1"),
        ("no_proxy", ""),
        ("NO_PROXY", "b.example"),
    ]);
    assert_eq!(proxy_host(&cfg, "http://b.example/"), None);
}

#[test]
fn no_env_means_direct() {
    let cfg = env(&[("PATH", "/usr/bin"), ("FTP_PROXY", "http://ftp:1")]);
    assert_eq!(
        cfg.route(&u("http://a.example/")).unwrap(),
        Route::Direct {
            host: "a.example".into(),
            port: 80
        }
    );
}

#[test]
fn scheme_less_env_value_is_http() {
    let cfg = env(&[("HTTP_PROXY", "proxy.local:3128")]);
    let p = cfg.proxy_for(&u("http://a.example/")).unwrap();
    assert_eq!((p.host(), p.port()), ("proxy.local", 3128));
}

#[test]
fn unsupported_env_proxy_is_an_error_naming_the_variable() {
    let err = ProxyConfig::from_env([("ALL_PROXY", "socks5://allp:1080")]).unwrap_err();
    match &err {
        ProxyError::InvalidEnv { variable, source } => {
            assert_eq!(variable, "ALL_PROXY");
            assert!(matches!(**source, ProxyError::UnsupportedScheme { .. }));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("ALL_PROXY"));
    assert_eq!(
        hawser_core::Error::from(err).kind(),
        ErrorKind::InvalidRequest
    );
}

#[test]
fn https_proxy_scheme_is_rejected_clearly() {
    let err = Proxy::parse("https://secure-proxy:443").unwrap_err();
    assert!(matches!(err, ProxyError::UnsupportedScheme { ref scheme } if scheme == "https"));
    assert!(err.to_string().contains("only http://"));
}

#[test]
fn proxy_without_host_is_rejected() {
    assert!(matches!(
        Proxy::parse("http://:3128"),
        Err(ProxyError::InvalidUrl { .. })
    ));
    assert!(matches!(
        Proxy::parse("http://"),
        Err(ProxyError::InvalidUrl { .. })
    ));
}

// ---- NO_PROXY rules (reference §3.3) ----

fn np(value: &str, target: &str) -> bool {
    NoProxy::parse(value).matches(&u(target))
}

#[test]
fn star_alone_bypasses_everything() {
    assert!(np("*", "http://anything.example/"));
    assert!(np("*", "http://10.0.0.1/"));
}

#[test]
fn star_only_works_as_the_whole_value() {
    assert!(!np(" * ", "http://a.example/"));
    assert!(!np("*,foo.com", "http://a.example/"));
    assert!(!np("*.example.com", "http://www.example.com/"));
}

#[test]
fn domain_entry_matches_on_label_boundary_only() {
    assert!(np("example.com", "http://example.com/"));
    assert!(np("example.com", "http://www.example.com/"));
    assert!(!np("example.com", "http://notexample.com/"));
}

#[test]
fn leading_dot_is_ignored() {
    assert!(np(".example.com", "http://www.example.com/"));
    assert!(np(".example.com", "http://example.com/"));
}

#[test]
fn spaces_and_empty_items_are_ignored() {
    assert!(np(" a.example , , b.example ", "http://b.example/"));
    assert!(!np(" , ", "http://b.example/"));
}

#[test]
fn entries_are_case_insensitive() {
    assert!(np("EXAMPLE.COM", "http://www.example.com/"));
}

#[test]
fn trailing_dot_host_does_not_match() {
    assert!(!np("example.com", "http://example.com./"));
}

#[test]
fn host_port_entry_matches_that_port() {
    assert!(np("example.com:8080", "http://example.com:8080/"));
    assert!(!np("example.com:8080", "http://example.com:9090/"));
    assert!(!np("example.com:8080", "http://example.com/"));
    assert!(np("example.com:8080", "http://www.example.com:8080/"));
}

#[test]
fn host_default_port_entry_matches_with_or_without_explicit_port() {
    // Documented deviation: url::Url forgets an explicit default port.
    assert!(np("example.com:80", "http://example.com:80/"));
    assert!(np("example.com:80", "http://example.com/"));
    assert!(!np("example.com:80", "https://example.com/"));
}

#[test]
fn ipv4_cidr_matches_members() {
    assert!(np("192.168.1.0/24", "http://192.168.1.5/"));
    assert!(!np("192.168.1.0/24", "http://192.168.2.5/"));
    assert!(np("10.0.0.0/8", "http://10.255.0.1:8080/"));
    assert!(np("192.168.1.5/32", "http://192.168.1.5/"));
}

#[test]
fn ipv4_cidr_mask_zero_is_invalid() {
    assert!(!np("192.168.1.0/0", "http://192.168.1.5/"));
    assert!(!np("192.168.1.0/33", "http://192.168.1.5/"));
}

#[test]
fn ipv4_exact_address_matches() {
    assert!(np("192.168.1.5", "http://192.168.1.5/"));
    assert!(!np("192.168.1.6", "http://192.168.1.5/"));
}

#[test]
fn ipv4_entry_with_port_never_matches() {
    assert!(!np("192.168.1.5:8080", "http://192.168.1.5:8080/"));
    assert!(!np("192.168.1.5:8080", "http://192.168.1.5/"));
}

#[test]
fn ipv4_label_suffix_matches_like_stdlib() {
    assert!(np("1.5", "http://192.168.1.5/"));
    assert!(!np("91.5", "http://192.168.1.5/"));
}

#[test]
fn ipv6_literal_entry_matches_bracketed_host() {
    assert!(np("::1", "http://[::1]/"));
    assert!(np("::1", "http://[::1]:8080/"));
}

#[test]
fn bracketed_ipv6_and_ipv6_cidr_do_not_match() {
    assert!(!np("[::1]", "http://[::1]/"));
    assert!(!np("::1/128", "http://[::1]/"));
    assert!(!np("fe80::/10", "http://[fe80::1]/"));
}

#[test]
fn localhost_entry() {
    assert!(np("localhost,127.0.0.1", "http://localhost:8080/"));
    assert!(np("localhost,127.0.0.1", "http://127.0.0.1:8080/"));
}

#[test]
fn no_proxy_only_suppresses_the_proxy_not_the_route_shape() {
    let cfg = env(&[("HTTPS_PROXY", "http://hp:1"), ("NO_PROXY", "a.example")]);
    assert_eq!(
        cfg.route(&u("https://a.example/")).unwrap(),
        Route::Direct {
            host: "a.example".into(),
            port: 443
        }
    );
}

// ---- routes and credentials ----

#[test]
fn credentials_from_proxy_url_become_basic() {
    let p = Proxy::parse("http://user:pass@proxy:3128").unwrap();
    assert_eq!(p.authorization().unwrap(), "Basic dXNlcjpwYXNz");
    assert!(p.authorization().unwrap().is_sensitive());
}

#[test]
fn percent_encoded_credentials_are_decoded() {
    // "us@r" : "p:ss%" -> base64("us@r:p:ss%")
    let p = Proxy::parse("http://us%40r:p%3Ass%25@proxy:3128").unwrap();
    assert_eq!(p.authorization().unwrap(), "Basic dXNAcjpwOnNzJQ==");
}

#[test]
fn user_without_password_sends_empty_password() {
    let p = Proxy::parse("http://user@proxy:3128").unwrap();
    assert_eq!(p.authorization().unwrap(), "Basic dXNlcjo=");
}

#[test]
fn no_userinfo_means_no_proxy_authorization() {
    assert!(
        Proxy::parse("http://proxy:3128")
            .unwrap()
            .authorization()
            .is_none()
    );
}

#[test]
fn http_target_goes_absolute_form_with_credentials_for_the_proxy() {
    let cfg = env(&[("HTTP_PROXY", "http://u:p@proxy:3128")]);
    let route = cfg
        .route(&u("http://origin-user:origin-pw@a.example:8080/p?q=1#f"))
        .unwrap();
    match &route {
        Route::Forward { proxy, target } => {
            assert_eq!(proxy.authority(), "proxy:3128");
            assert_eq!(target, "http://a.example:8080/p?q=1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(route.request_proxy_authorization().unwrap(), "Basic dTpw");
    assert!(route.connect_request().is_none());
}

#[test]
fn https_target_tunnels_and_keeps_credentials_on_connect_only() {
    let cfg = env(&[("HTTPS_PROXY", "http://u:p@proxy:3128")]);
    let route = cfg.route(&u("https://a.example/secret")).unwrap();
    assert_eq!(
        route,
        Route::Tunnel {
            proxy: Proxy::parse("http://u:p@proxy:3128").unwrap(),
            authority: "a.example:443".into()
        }
    );
    // Never forwarded into the tunnel target.
    assert!(route.request_proxy_authorization().is_none());
    let head = String::from_utf8(route.connect_request().unwrap()).unwrap();
    assert_eq!(
        head,
        "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
    );
    assert!(!head.contains("/secret"));
}

#[test]
fn tunnel_authority_keeps_ipv6_brackets_and_port() {
    let cfg = ProxyConfig::new().with_https(Proxy::parse("http://proxy:3128").unwrap());
    let Route::Tunnel { authority, .. } = cfg.route(&u("https://[2001:db8::1]:8443/")).unwrap()
    else {
        panic!("expected tunnel")
    };
    assert_eq!(authority, "[2001:db8::1]:8443");
}

#[test]
fn non_http_target_cannot_be_routed() {
    let err = ProxyConfig::new()
        .route(&u("ftp://a.example/"))
        .unwrap_err();
    assert!(matches!(err, ProxyError::UnsupportedTarget { .. }));
}

#[test]
fn explicit_config_no_proxy_applies() {
    let cfg = ProxyConfig::new()
        .with_http(Proxy::parse("http://p:1").unwrap())
        .with_no_proxy(NoProxy::parse("internal.example"));
    assert!(cfg.proxy_for(&u("http://x.internal.example/")).is_none());
    assert!(cfg.proxy_for(&u("http://public.example/")).is_some());
}

// ---- redaction ----

#[test]
fn debug_output_redacts_credentials() {
    let cfg = env(&[
        ("HTTP_PROXY", "http://alice:hunter2@proxy:3128"),
        ("HTTPS_PROXY", "http://alice:hunter2@proxy:3128"),
    ]);
    let token = "YWxpY2U6aHVudGVyMg"; // base64 of alice:hunter2
    for text in [
        format!("{cfg:?}"),
        format!("{:?}", cfg.route(&u("http://a.example/")).unwrap()),
        format!("{:?}", cfg.route(&u("https://a.example/")).unwrap()),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains(token), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
