//! Redirect policy: whether to follow a 3xx, where to, with which method and
//! body, and which headers must not travel to the next hop.
//!
//! This module is pure: it looks at the current URL, the method, the status,
//! the raw `Location` value and whether the request body can be sent again,
//! and answers with a [`RedirectHop`]. The call orchestrator drives it once
//! per response and applies the hop to its request with
//! [`RedirectHop::apply_to_headers`]. Loop detection beyond `max_redirects`
//! is the orchestrator's job; [`already_visited`] is a cheap helper for it.
//!
//! Semantics follow requests 2.34 (see `docs/RETRY.md`, "Redirects"):
//!
//! | status | POST | PUT | DELETE | HEAD | body kept? |
//! |---|---|---|---|---|---|
//! | 301 | GET | PUT | DELETE | HEAD | no |
//! | 302 | GET | GET | GET | HEAD | no |
//! | 303 | GET | GET | GET | HEAD | no |
//! | 307 | POST | PUT | DELETE | HEAD | yes (must be replayable) |
//! | 308 | POST | PUT | DELETE | HEAD | yes (must be replayable) |
//!
//! Credentials (`Authorization`, a hand-set `Cookie`, `Proxy-Authorization`)
//! are removed when [`should_strip_auth`] says the origin changed, including
//! https → http. The session cookie jar then supplies whatever cookies the
//! new URL should get, so the orchestrator must generate the jar's `Cookie`
//! header afresh for every hop rather than storing it in the user's headers.
//!
//! ```
//! use hawser_core::redirect::RedirectPolicy;
//! use http::{HeaderMap, Method, StatusCode};
//! use url::Url;
//!
//! let policy = RedirectPolicy::default();
//! let current = Url::parse("https://a.example/form#top").unwrap();
//! let hop = policy
//!     .next_hop(0, &current, &Method::POST, StatusCode::SEE_OTHER, Some(b"/done".as_slice()), true)
//!     .unwrap()
//!     .expect("303 with a Location is a redirect");
//! assert_eq!(hop.url().as_str(), "https://a.example/done#top");
//! assert_eq!(hop.method(), &Method::GET);
//! assert!(hop.drops_body());
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("content-type", "text/plain".parse().unwrap());
//! headers.insert("x-trace", "1".parse().unwrap());
//! hop.apply_to_headers(&mut headers);
//! assert!(headers.get("content-type").is_none());
//! assert!(headers.get("x-trace").is_some());
//! ```

use std::fmt;

use http::header::{self, HeaderMap, HeaderName};
use http::{Method, StatusCode};
use url::Url;

/// The default limit on followed redirects: 10, as in reqwest, ureq and
/// browsers' practical limits. requests allows 30; ten hops is already far
/// more than any legitimate chain, and each hop costs a round-trip.
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// Headers that describe the request body; they go when the body goes.
///
/// The union of what requests (Content-Length, Content-Type,
/// Transfer-Encoding) and urllib3 2.8 (also Content-Encoding/-Language/
/// -Location, Digest, Last-Modified) remove.
const BODY_HEADERS: [HeaderName; 8] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_LOCATION,
    header::TRANSFER_ENCODING,
    header::LAST_MODIFIED,
    HeaderName::from_static("digest"),
];

/// Whether and how far redirects are followed.
///
/// ```
/// use hawser_core::redirect::{RedirectPolicy, DEFAULT_MAX_REDIRECTS};
/// assert_eq!(RedirectPolicy::default().max_redirects(), Some(DEFAULT_MAX_REDIRECTS));
/// assert_eq!(RedirectPolicy::none().max_redirects(), None);
/// assert_eq!(RedirectPolicy::limited(3).max_redirects(), Some(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectPolicy {
    // `None` = do not follow: 3xx responses are handed to the caller.
    max: Option<u32>,
}

impl Default for RedirectPolicy {
    fn default() -> Self {
        RedirectPolicy::limited(DEFAULT_MAX_REDIRECTS)
    }
}

impl RedirectPolicy {
    /// Follow at most `max` redirects; the response that would be redirect
    /// number `max + 1` ends the call with [`RedirectError::TooManyRedirects`]
    /// (requests' semantics). `limited(0)` therefore fails on the first
    /// redirect; use [`RedirectPolicy::none`] to receive 3xx responses.
    ///
    /// ```
    /// use hawser_core::redirect::RedirectPolicy;
    /// assert_eq!(RedirectPolicy::limited(0).max_redirects(), Some(0));
    /// ```
    pub fn limited(max: u32) -> Self {
        RedirectPolicy { max: Some(max) }
    }

    /// Never follow: every 3xx is returned to the caller as a response.
    ///
    /// ```
    /// use hawser_core::redirect::RedirectPolicy;
    /// use http::{Method, StatusCode};
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// let hop = RedirectPolicy::none()
    ///     .next_hop(0, &url, &Method::GET, StatusCode::FOUND, Some(b"/b".as_slice()), true)
    ///     .unwrap();
    /// assert!(hop.is_none());
    /// ```
    pub fn none() -> Self {
        RedirectPolicy { max: None }
    }

    /// The limit, or `None` when redirects are not followed.
    ///
    /// ```
    /// use hawser_core::redirect::RedirectPolicy;
    /// assert_eq!(RedirectPolicy::limited(5).max_redirects(), Some(5));
    /// ```
    pub fn max_redirects(&self) -> Option<u32> {
        self.max
    }

    /// Decide the next hop for a response.
    ///
    /// `followed` is how many redirects this logical request has already
    /// followed. Returns `Ok(None)` when the response is not a redirect to
    /// follow (not 301/302/303/307/308, no or empty `Location`, or the policy
    /// is [`RedirectPolicy::none`]): the orchestrator then hands the
    /// response to the caller. Errors: too many redirects, an unparseable or
    /// non-http(s) `Location`, or a 307/308 whose body cannot be replayed.
    ///
    /// ```
    /// use hawser_core::redirect::{RedirectError, RedirectPolicy};
    /// use http::{Method, StatusCode};
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// let policy = RedirectPolicy::limited(1);
    /// let loc = Some(b"/b".as_slice());
    /// assert!(policy.next_hop(0, &url, &Method::GET, StatusCode::FOUND, loc, true).unwrap().is_some());
    /// let err = policy.next_hop(1, &url, &Method::GET, StatusCode::FOUND, loc, true).unwrap_err();
    /// assert_eq!(err, RedirectError::TooManyRedirects { max: 1 });
    /// ```
    pub fn next_hop(
        &self,
        followed: u32,
        current: &Url,
        method: &Method,
        status: StatusCode,
        location: Option<&[u8]>,
        body_replayable: bool,
    ) -> Result<Option<RedirectHop>, RedirectError> {
        let Some(max) = self.max else {
            return Ok(None);
        };
        let location = match location {
            Some(l) if is_redirect_status(status) && !l.is_empty() => l,
            _ => return Ok(None),
        };
        if followed >= max {
            return Err(RedirectError::TooManyRedirects { max });
        }
        next_hop(current, method, status, location, body_replayable).map(Some)
    }
}

/// True for the statuses that redirect when they carry a `Location`:
/// 301, 302, 303, 307, 308 (300, 304 and 305 are returned as they are).
///
/// ```
/// use hawser_core::redirect::is_redirect_status;
/// use http::StatusCode;
/// assert!(is_redirect_status(StatusCode::PERMANENT_REDIRECT));
/// assert!(!is_redirect_status(StatusCode::NOT_MODIFIED));
/// ```
pub fn is_redirect_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The pure redirect decision without a hop limit: resolve `location`
/// against `current`, rewrite the method, and decide body and credential
/// handling. `status` must be a redirect status (see
/// [`is_redirect_status`]); any other status is rejected as
/// [`RedirectError::NotARedirect`].
///
/// ```
/// use hawser_core::redirect::next_hop;
/// use http::{Method, StatusCode};
/// let cur = url::Url::parse("https://a.example/x/y").unwrap();
/// let hop = next_hop(&cur, &Method::PUT, StatusCode::TEMPORARY_REDIRECT, b"//b.example/z", true).unwrap();
/// assert_eq!(hop.url().as_str(), "https://b.example/z");
/// assert_eq!(hop.method(), &Method::PUT);
/// assert!(!hop.drops_body());
/// assert!(hop.strips_credentials());
/// ```
pub fn next_hop(
    current: &Url,
    method: &Method,
    status: StatusCode,
    location: &[u8],
    body_replayable: bool,
) -> Result<RedirectHop, RedirectError> {
    if !is_redirect_status(status) {
        return Err(RedirectError::NotARedirect {
            status: status.as_u16(),
        });
    }
    let url = resolve_location(current, location)?;
    let code = status.as_u16();
    let keeps_body = matches!(code, 307 | 308);
    if keeps_body && !body_replayable {
        return Err(RedirectError::BodyNotReplayable { status: code });
    }
    let new_method = rewrite_method(code, method);
    Ok(RedirectHop {
        strip_credentials: should_strip_auth(current, &url),
        host_changed: current.host_str() != url.host_str()
            || current.port_or_known_default() != url.port_or_known_default(),
        url,
        method: new_method,
        drop_body: !keeps_body,
        status,
    })
}

/// requests' `rebuild_method`: 303 and 302 turn everything but HEAD into
/// GET; 301 turns only POST into GET; 307/308 keep the method.
fn rewrite_method(code: u16, method: &Method) -> Method {
    match code {
        302 | 303 if method != Method::HEAD => Method::GET,
        301 if method == Method::POST => Method::GET,
        _ => method.clone(),
    }
}

/// Resolve a raw `Location` value against the current URL.
///
/// Relative and scheme-relative (`//host/path`) locations are resolved per
/// the WHATWG URL standard (the `url` crate), which also percent-encodes
/// spaces and non-ASCII. When the new location has no fragment, the current
/// URL's fragment is carried over (RFC 9110 §10.2.2, as requests does).
///
/// ```
/// use hawser_core::redirect::resolve_location;
/// let cur = url::Url::parse("http://a.example/dir/page#frag").unwrap();
/// assert_eq!(resolve_location(&cur, b"other").unwrap().as_str(), "http://a.example/dir/other#frag");
/// assert_eq!(resolve_location(&cur, b"/x#new").unwrap().as_str(), "http://a.example/x#new");
/// assert!(resolve_location(&cur, b"ftp://a.example/").is_err());
/// ```
pub fn resolve_location(current: &Url, location: &[u8]) -> Result<Url, RedirectError> {
    // Servers send raw UTF-8 in Location; anything that is not UTF-8 is
    // taken as Latin-1, the header's historical charset (requests does the
    // same round trip), so no byte makes us fail before URL parsing.
    let text: String = match std::str::from_utf8(location) {
        Ok(s) => s.to_owned(),
        Err(_) => location.iter().map(|&b| char::from(b)).collect(),
    };
    let mut url = current
        .join(&text)
        .map_err(|e| RedirectError::InvalidLocation {
            location: text.clone(),
            reason: e.to_string(),
        })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(RedirectError::UnsupportedScheme {
                scheme: other.to_owned(),
            });
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RedirectError::InvalidLocation {
            location: text,
            reason: "no host".to_owned(),
        });
    }
    if url.fragment().is_none() {
        url.set_fragment(current.fragment());
    }
    // The next request is quoted like any other (requests re-quotes it too).
    crate::request::requote_url(&mut url);
    Ok(url)
}

/// requests' `should_strip_auth`: must credentials be removed when going
/// from `old` to `new`?
///
/// In order: a different host strips; `http` on its default port to `https`
/// on its default port keeps (the upgrade is safe); the same scheme with
/// default ports on both sides keeps; otherwise a change of port or scheme
/// strips. Host names compare case-insensitively (the `url` crate lowers
/// them); `a.com.` and `a.com` are different hosts.
///
/// ```
/// use hawser_core::redirect::should_strip_auth;
/// let u = |s: &str| url::Url::parse(s).unwrap();
/// assert!(!should_strip_auth(&u("http://a.com/"), &u("https://a.com/")));
/// assert!(should_strip_auth(&u("https://a.com/"), &u("http://a.com/")));
/// assert!(should_strip_auth(&u("http://a.com/"), &u("http://b.com/")));
/// ```
pub fn should_strip_auth(old: &Url, new: &Url) -> bool {
    if old.host_str() != new.host_str() {
        return true;
    }
    // `Url::port()` is already `None` for the scheme's default port, which
    // is exactly requests' "port in (default, None)" test.
    if old.scheme() == "http"
        && old.port().is_none()
        && new.scheme() == "https"
        && new.port().is_none()
    {
        return false;
    }
    let changed_scheme = old.scheme() != new.scheme();
    if !changed_scheme && old.port().is_none() && new.port().is_none() {
        return false;
    }
    changed_scheme || old.port() != new.port()
}

/// True when `next` (ignoring its fragment) is one of the URLs in
/// `visited`: a redirect loop. Cheap because chains are bounded by
/// `max_redirects`.
///
/// ```
/// use hawser_core::redirect::already_visited;
/// let a = url::Url::parse("http://a.example/x#one").unwrap();
/// let b = url::Url::parse("http://a.example/x#two").unwrap();
/// assert!(already_visited([&a], &b));
/// ```
pub fn already_visited<'a>(visited: impl IntoIterator<Item = &'a Url>, next: &Url) -> bool {
    let key = |u: &Url| {
        let mut u = u.clone();
        u.set_fragment(None);
        u
    };
    let next = key(next);
    visited.into_iter().any(|u| key(u) == next)
}

/// The decision for one followed redirect.
///
/// ```
/// use hawser_core::redirect::next_hop;
/// use http::{Method, StatusCode};
/// let cur = url::Url::parse("http://a.example/").unwrap();
/// let hop = next_hop(&cur, &Method::HEAD, StatusCode::FOUND, b"/b", false).unwrap();
/// assert_eq!(hop.method(), &Method::HEAD);
/// assert_eq!(hop.status(), StatusCode::FOUND);
/// assert!(!hop.strips_credentials());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectHop {
    url: Url,
    method: Method,
    drop_body: bool,
    strip_credentials: bool,
    host_changed: bool,
    status: StatusCode,
}

impl RedirectHop {
    /// The resolved URL of the next request (fragment carried over).
    ///
    /// ```
    /// use hawser_core::redirect::next_hop;
    /// let cur = url::Url::parse("http://a.example/dir/page#top").unwrap();
    /// let hop = next_hop(&cur, &http::Method::GET, http::StatusCode::FOUND, b"../other", false).unwrap();
    /// assert_eq!(hop.url().as_str(), "http://a.example/other#top");
    /// ```
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The method of the next request.
    ///
    /// ```
    /// use hawser_core::redirect::next_hop;
    /// use http::{Method, StatusCode};
    /// let cur = url::Url::parse("http://a.example/form").unwrap();
    /// let see_other = next_hop(&cur, &Method::POST, StatusCode::SEE_OTHER, b"/done", false).unwrap();
    /// assert_eq!(see_other.method(), Method::GET);
    /// let temporary = next_hop(&cur, &Method::POST, StatusCode::TEMPORARY_REDIRECT, b"/again", true).unwrap();
    /// assert_eq!(temporary.method(), Method::POST);
    /// ```
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// True when the next request is sent without the body (301/302/303).
    ///
    /// ```
    /// use hawser_core::redirect::next_hop;
    /// use http::{Method, StatusCode};
    /// let cur = url::Url::parse("http://a.example/upload").unwrap();
    /// assert!(next_hop(&cur, &Method::POST, StatusCode::FOUND, b"/x", false).unwrap().drops_body());
    /// assert!(!next_hop(&cur, &Method::POST, StatusCode::PERMANENT_REDIRECT, b"/x", true).unwrap().drops_body());
    /// ```
    pub fn drops_body(&self) -> bool {
        self.drop_body
    }

    /// True when credentials must not follow ([`should_strip_auth`]).
    ///
    /// ```
    /// use hawser_core::redirect::next_hop;
    /// use http::{Method, StatusCode};
    /// let cur = url::Url::parse("https://a.example/").unwrap();
    /// let away = next_hop(&cur, &Method::GET, StatusCode::FOUND, b"https://b.example/", false).unwrap();
    /// assert!(away.strips_credentials());
    /// ```
    pub fn strips_credentials(&self) -> bool {
        self.strip_credentials
    }

    /// The redirect status that produced this hop.
    ///
    /// ```
    /// use hawser_core::redirect::next_hop;
    /// use http::{Method, StatusCode};
    /// let cur = url::Url::parse("http://a.example/").unwrap();
    /// let hop = next_hop(&cur, &Method::GET, StatusCode::MOVED_PERMANENTLY, b"/new", false).unwrap();
    /// assert_eq!(hop.status(), 301);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Consume the hop, returning its URL and method.
    ///
    /// ```
    /// use hawser_core::redirect::next_hop;
    /// use http::{Method, StatusCode};
    /// let cur = url::Url::parse("http://a.example/").unwrap();
    /// let (url, method) = next_hop(&cur, &Method::POST, StatusCode::MOVED_PERMANENTLY, b"/b", true)
    ///     .unwrap()
    ///     .into_parts();
    /// assert_eq!((url.path(), method), ("/b", Method::GET));
    /// ```
    pub fn into_parts(self) -> (Url, Method) {
        (self.url, self.method)
    }

    /// Edit the previous request's headers for the next hop.
    ///
    /// When the body is dropped, its headers go too (Content-Type,
    /// Content-Length, Content-Encoding, Content-Language, Content-Location,
    /// Transfer-Encoding, Digest, Last-Modified). When the origin changes,
    /// `Authorization`, `Cookie` (a hand-set one; the jar adds its own per
    /// hop) and `Proxy-Authorization` are removed, and a hand-set `Host` is
    /// removed when the host or port changes (the wire layer derives it from
    /// the URL). Every other header, custom ones included, is kept.
    ///
    /// ```
    /// use hawser_core::redirect::next_hop;
    /// use http::{HeaderMap, Method, StatusCode};
    /// let cur = url::Url::parse("https://a.example/").unwrap();
    /// let hop = next_hop(&cur, &Method::GET, StatusCode::FOUND, b"http://a.example/", true).unwrap();
    /// let mut h = HeaderMap::new();
    /// h.insert("authorization", "Bearer t".parse().unwrap());
    /// h.insert("x-custom", "kept".parse().unwrap());
    /// hop.apply_to_headers(&mut h);
    /// assert!(h.get("authorization").is_none());
    /// assert_eq!(h.get("x-custom").unwrap(), "kept");
    /// ```
    pub fn apply_to_headers(&self, headers: &mut HeaderMap) {
        if self.drop_body {
            for name in &BODY_HEADERS {
                headers.remove(name);
            }
        }
        if self.strip_credentials {
            headers.remove(header::AUTHORIZATION);
            headers.remove(header::COOKIE);
            headers.remove(header::PROXY_AUTHORIZATION);
            // Values the caller marked sensitive (`HeaderValue::set_sensitive`)
            // are credentials too: they stay on their origin.
            let marked: Vec<_> = headers
                .iter()
                .filter(|(_, v)| v.is_sensitive())
                .map(|(n, _)| n.clone())
                .collect();
            for name in marked {
                headers.remove(name);
            }
        }
        if self.host_changed {
            headers.remove(header::HOST);
        }
    }

    /// Like [`apply_to_headers`](Self::apply_to_headers), also stripping the
    /// headers named in `sensitive` (the session's
    /// [`Config::sensitive_headers`](crate::call::Config::sensitive_headers))
    /// when credentials are stripped.
    ///
    /// ```
    /// use http::{HeaderMap, Method, StatusCode};
    /// use hawser_core::redirect::RedirectPolicy;
    /// let cur = url::Url::parse("https://a.example/").unwrap();
    /// let hop = RedirectPolicy::default()
    ///     .next_hop(0, &cur, &Method::GET, StatusCode::FOUND, Some(b"https://b.example/"), true)
    ///     .unwrap()
    ///     .unwrap();
    /// let mut h = HeaderMap::new();
    /// h.insert("x-api-key", "k".parse().unwrap());
    /// h.insert("x-other", "o".parse().unwrap());
    /// hop.apply_to_headers_with(&mut h, &["x-api-key".parse().unwrap()]);
    /// assert!(h.get("x-api-key").is_none());
    /// assert_eq!(h["x-other"], "o");
    /// ```
    pub fn apply_to_headers_with(&self, headers: &mut HeaderMap, sensitive: &[header::HeaderName]) {
        self.apply_to_headers(headers);
        if self.strip_credentials {
            for name in sensitive {
                headers.remove(name);
            }
        }
    }
}

/// Why a redirect cannot be followed.
///
/// ```
/// use hawser_core::redirect::RedirectError;
/// use hawser_core::ErrorKind;
/// let e: hawser_core::Error = RedirectError::TooManyRedirects { max: 10 }.into();
/// assert_eq!(e.kind(), ErrorKind::TooManyRedirects);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectError {
    /// The chain is longer than the policy allows.
    TooManyRedirects {
        /// The configured maximum.
        max: u32,
    },
    /// The `Location` value could not be resolved to a URL.
    InvalidLocation {
        /// The value as received (decoded as UTF-8 or Latin-1).
        location: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The `Location` points to a scheme other than http or https.
    UnsupportedScheme {
        /// The scheme found.
        scheme: String,
    },
    /// A 307/308 must re-send the body, but the body cannot be replayed.
    BodyNotReplayable {
        /// The status (307 or 308).
        status: u16,
    },
    /// [`next_hop`] was called with a status that does not redirect.
    NotARedirect {
        /// The status given.
        status: u16,
    },
}

impl fmt::Display for RedirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectError::TooManyRedirects { max } => {
                write!(f, "too many redirects (more than {max})")
            }
            RedirectError::InvalidLocation { location, reason } => {
                write!(f, "invalid redirect location {location:?}: {reason}")
            }
            RedirectError::UnsupportedScheme { scheme } => {
                write!(f, "redirect to unsupported scheme {scheme:?}")
            }
            RedirectError::BodyNotReplayable { status } => write!(
                f,
                "a {status} redirect must re-send the request body, but the body cannot be replayed"
            ),
            RedirectError::NotARedirect { status } => {
                write!(f, "status {status} is not a redirect")
            }
        }
    }
}

impl std::error::Error for RedirectError {}

impl From<RedirectError> for crate::Error {
    fn from(e: RedirectError) -> Self {
        let kind = match &e {
            RedirectError::TooManyRedirects { .. } => crate::ErrorKind::TooManyRedirects,
            // The peer sent a Location we cannot follow.
            RedirectError::InvalidLocation { .. } | RedirectError::UnsupportedScheme { .. } => {
                crate::ErrorKind::Protocol
            }
            RedirectError::BodyNotReplayable { .. } => crate::ErrorKind::BodyNotReplayable,
            RedirectError::NotARedirect { .. } => crate::ErrorKind::Usage,
        };
        crate::Error::new(kind, e.to_string()).with_source(e)
    }
}
