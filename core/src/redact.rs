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

/// Formats a `HeaderMap` with sensitive values replaced by `***`.
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
            if is_sensitive(k.as_str()) {
                m.entry(&k.as_str(), &"***");
            } else {
                m.entry(&k.as_str(), &String::from_utf8_lossy(v.as_bytes()));
            }
        }
        m.finish()
    }
}
