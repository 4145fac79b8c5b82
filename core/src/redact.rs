//! `Debug` helpers that never print credentials.
//!
//! Headers that carry secrets (`Authorization`, `Proxy-Authorization`,
//! `Cookie`, `Set-Cookie`) are printed as `"***"`, so a request or response
//! can be logged with `{:?}` safely.

use std::fmt;

use http::HeaderMap;

/// True for header names whose values are credentials.
///
/// ```
/// assert!(hawser_core::redact::is_sensitive("Authorization"));
/// assert!(!hawser_core::redact::is_sensitive("accept"));
/// ```
pub fn is_sensitive(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|s| s.eq_ignore_ascii_case(name))
}

/// Formats a `HeaderMap` with sensitive values replaced by `***`: the
/// credential headers above, and any value marked with
/// [`HeaderValue::set_sensitive`](http::HeaderValue::set_sensitive).
///
/// ```
/// use http::HeaderMap;
/// let mut h = HeaderMap::new();
/// h.insert("authorization", "Bearer secret".parse().unwrap());
/// h.insert("accept", "*/*".parse().unwrap());
/// let s = format!("{:?}", hawser_core::redact::Headers(&h));
/// assert!(!s.contains("secret") && s.contains("*/*"));
/// ```
pub struct Headers<'a>(pub &'a HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.0 {
            if is_sensitive(k.as_str()) || v.is_sensitive() {
                m.entry(&k.as_str(), &"***");
            } else {
                m.entry(&k.as_str(), &String::from_utf8_lossy(v.as_bytes()));
            }
        }
        m.finish()
    }
}

/// A URL as text with any `user:password@` replaced by `***@`, for error
/// messages about URLs that may not even parse.
///
/// ```
/// let s = hawser_core::redact::url_text("http://user:secretpw@bad host/");
/// assert_eq!(s, "http://***@bad host/");
/// assert_eq!(hawser_core::redact::url_text("http://h.test/a@b"), "http://h.test/a@b");
/// ```
pub fn url_text(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}
