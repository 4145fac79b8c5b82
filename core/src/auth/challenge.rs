//! Parsing of `WWW-Authenticate` / `Proxy-Authenticate` challenges
//! (RFC 9110 §11.6.1, §11.3) and of auth-param lists such as
//! `Authentication-Info` and `Authorization: Digest ...`.
//!
//! The grammar is ambiguous in one place: commas separate both challenges
//! and the parameters inside one challenge. A challenge ends where a token
//! appears that is *not* followed by `=`; that token is the next scheme.
//! No crate on crates.io parses this grammar for an arbitrary scheme and
//! several challenges per field, so it is hand-written here (about 150
//! lines) and fuzzed by a proptest.
//!
//! The parser is lenient in the ways real servers need (parameters
//! separated by spaces only, unterminated quoted strings, empty list
//! elements) and never fails: garbage that cannot be read is skipped.

use http::HeaderMap;
use http::HeaderName;
use std::borrow::Cow;

/// One challenge: an auth scheme with either a token68 or a list of
/// parameters.
///
/// ```
/// use hawser_core::auth::Challenge;
/// let all = Challenge::parse_all(br#"Basic realm="B", Digest realm="R", nonce=abc, qop="auth,auth-int""#);
/// assert_eq!(all.len(), 2);
/// assert!(all[1].scheme_is("digest"));
/// assert_eq!(all[1].param("Realm"), Some("R"));
/// assert_eq!(all[1].param("qop"), Some("auth,auth-int"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    scheme: String,
    token68: Option<String>,
    params: Vec<(String, String)>,
}

impl std::fmt::Debug for Challenge {
    // Challenges are server data, but the same grammar carries credentials
    // (`Authorization: Digest response=...`), so values are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Challenge")
            .field("scheme", &self.scheme)
            .field("token68", &self.token68.as_ref().map(|_| "***"))
            .field("params", &names)
            .finish()
    }
}

impl Challenge {
    /// The auth scheme as the server wrote it (e.g. `Digest`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// True when the scheme equals `name`, ignoring ASCII case.
    pub fn scheme_is(&self, name: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(name)
    }

    /// The token68 form (`Negotiate abc==`), if the challenge used it.
    pub fn token68(&self) -> Option<&str> {
        self.token68.as_deref()
    }

    /// The value of the first parameter called `name` (ASCII
    /// case-insensitive), unquoted and unescaped.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All parameters in order, names as written.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Parse every challenge in one field value. Never fails; unreadable
    /// parts are skipped. Non-UTF-8 bytes in values are replaced (U+FFFD).
    pub fn parse_all(value: &[u8]) -> Vec<Challenge> {
        Parser { s: value, pos: 0 }.challenges()
    }

    /// Parse the challenges of every field called `name` in `headers`, in
    /// order (several fields are the same as one comma-joined field).
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, header::WWW_AUTHENTICATE};
    /// use hawser_core::auth::Challenge;
    /// let mut h = HeaderMap::new();
    /// h.append(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=a"));
    /// h.append(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    /// let all = Challenge::from_headers(&h, &WWW_AUTHENTICATE);
    /// assert_eq!(all.iter().map(|c| c.scheme()).collect::<Vec<_>>(), ["Basic", "Bearer"]);
    /// ```
    pub fn from_headers(headers: &HeaderMap, name: &HeaderName) -> Vec<Challenge> {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| Challenge::parse_all(v.as_bytes()))
            .collect()
    }
}

/// Parse a bare auth-param list (`a=1, b="2"`), as used by
/// `Authentication-Info`. Never fails.
pub(crate) fn parse_params(value: &[u8]) -> Vec<(String, String)> {
    let mut p = Parser { s: value, pos: 0 };
    let mut out = Vec::new();
    loop {
        p.skip_ows_and_commas();
        if p.at_end() {
            return out;
        }
        match p.param() {
            Some(kv) => out.push(kv),
            // Not a `name=value`: skip to the next comma and go on.
            None => p.skip_past_comma(),
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

fn text(bytes: &[u8]) -> String {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => s.to_owned(),
        Cow::Owned(s) => s,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_ows_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn skip_past_comma(&mut self) {
        while let Some(b) = self.peek() {
            self.pos += 1;
            if b == b',' {
                break;
            }
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &[u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or_default()
    }

    fn challenges(&mut self) -> Vec<Challenge> {
        let mut out = Vec::new();
        loop {
            self.skip_ows_and_commas();
            if self.at_end() {
                return out;
            }
            let scheme = self.take_while(is_tchar);
            if scheme.is_empty() {
                // Not a scheme: skip this list element.
                self.skip_past_comma();
                continue;
            }
            let mut ch = Challenge {
                scheme: text(scheme),
                token68: None,
                params: Vec::new(),
            };
            self.skip_ows();
            if let Some(t) = self.token68() {
                ch.token68 = Some(t);
            } else {
                self.params_into(&mut ch.params);
            }
            out.push(ch);
        }
    }

    /// A token68 is a run of token68 characters plus `=` padding that ends
    /// the list element. Otherwise rewinds and returns None.
    fn token68(&mut self) -> Option<String> {
        let start = self.pos;
        let body = self.take_while(is_token68_char).len();
        self.take_while(|b| b == b'=');
        let end = self.pos;
        self.skip_ows();
        if body > 0 && (self.at_end() || self.peek() == Some(b',')) {
            return self.s.get(start..end).map(text);
        }
        self.pos = start;
        None
    }

    fn params_into(&mut self, params: &mut Vec<(String, String)>) {
        loop {
            let before = self.pos;
            self.skip_ows_and_commas();
            if self.at_end() {
                return;
            }
            match self.param() {
                Some(kv) => params.push(kv),
                None => {
                    // A token not followed by `=` starts the next challenge.
                    self.pos = before;
                    return;
                }
            }
        }
    }

    /// `name BWS = BWS (token / quoted-string)`, or None (position
    /// restored) when the input here is not a parameter.
    fn param(&mut self) -> Option<(String, String)> {
        let start = self.pos;
        let name = self.take_while(is_tchar);
        if name.is_empty() {
            self.pos = start;
            return None;
        }
        let name = text(name);
        self.skip_ows();
        if self.peek() != Some(b'=') {
            self.pos = start;
            return None;
        }
        self.pos += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.pos += 1;
            self.quoted_rest()
        } else {
            // Lenient: a bare value runs to the next separator.
            text(self.take_while(|b| !matches!(b, b',' | b' ' | b'\t')))
        };
        Some((name, value))
    }

    /// The rest of a quoted-string after its opening quote, unescaped. An
    /// unterminated string runs to the end of the field.
    fn quoted_rest(&mut self) -> String {
        let mut buf = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        self.pos += 1;
                        buf.push(n);
                    }
                }
                _ => buf.push(b),
            }
        }
        text(&buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token68_and_params_and_next_scheme() {
        let all = Challenge::parse_all(b"Negotiate abc+/==, Basic realm=\"x, y\", charset=UTF-8");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].token68(), Some("abc+/=="));
        assert_eq!(all[1].param("realm"), Some("x, y"));
        assert_eq!(all[1].param("charset"), Some("UTF-8"));
    }

    #[test]
    fn escapes_and_unterminated_quotes() {
        let all = Challenge::parse_all(br#"Digest realm="a\"b\\c", nonce="open"#);
        assert_eq!(all[0].param("realm"), Some(r#"a"b\c"#));
        assert_eq!(all[0].param("nonce"), Some("open"));
    }

    #[test]
    fn scheme_without_params_then_another() {
        let all = Challenge::parse_all(b"Bearer, Digest realm=r");
        assert_eq!(all.len(), 2);
        assert!(all[0].token68().is_none() && all[0].params().count() == 0);
        assert_eq!(all[1].param("realm"), Some("r"));
    }

    #[test]
    fn param_lists() {
        let p = parse_params(b"nextnonce=\"n2\", , qop=auth garbage, rspauth=\"x\"");
        assert_eq!(p[0], ("nextnonce".into(), "n2".into()));
        assert_eq!(p[1], ("qop".into(), "auth".into()));
        assert_eq!(p.last(), Some(&("rspauth".into(), "x".into())));
    }
}
