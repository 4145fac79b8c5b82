//! The session cookie jar: RFC 6265 storage and retrieval, with time passed
//! in.
//!
//! [`CookieJar::store`] takes the `Set-Cookie` values of a response (every
//! response, redirects included) with the request URL and the current
//! `SystemTime`; [`CookieJar::cookie_header`] produces the `Cookie` value for
//! the next request. The jar never reads a clock, so expiry is exactly as
//! testable as everything else in the core.
//!
//! Why hand-written: `cookie_store` (the jar reqwest uses) reads the system
//! clock internally for expiry, which breaks the core's no-clock rule; the
//! `cookie` crate only parses, parses `Expires` with a few fixed formats
//! instead of RFC 6265's lenient date algorithm (§5.1.1), and would bring
//! the `time` crate in. RFC 6265 §5.2 parsing is short, so it lives here.
//!
//! Rules and decisions:
//! - `Domain`: a leading dot is ignored; it must domain-match the request
//!   host, otherwise the cookie is rejected; without it the cookie is
//!   host-only. IP-address hosts only accept a `Domain` equal to the address.
//! - Public suffixes (RFC 6265 §5.3 step 5, with the maintained list of the
//!   `psl` crate, ICANN and private sections: `co.uk`, `github.io`, and any
//!   single label such as `com` or `localhost`): a `Domain` that is one is
//!   refused unless it equals the request host, and then the cookie is
//!   host-only, as browsers do. So `Domain=co.uk` from `a.co.uk` never
//!   reaches `b.co.uk`.
//! - Name prefixes (RFC 6265bis §4.1.3, matched case-insensitively): a
//!   `__Secure-` cookie must be `Secure` and come over https; a `__Host-`
//!   cookie must also have no `Domain` and `Path=/`. Others are refused.
//! - `Max-Age` wins over `Expires`; `Max-Age <= 0` or a past `Expires`
//!   deletes the stored cookie.
//! - `Secure` cookies are sent only over `https`. `http://localhost` is
//!   **not** treated as trustworthy (the same as requests and Python's
//!   `http.cookiejar`): a proxy or a hosts-file entry can make "localhost"
//!   something else. Following RFC 6265bis ("leave secure cookies alone"), a
//!   response over plain http cannot set a `Secure` cookie, nor overwrite
//!   one.
//! - `HttpOnly` is stored and reported but changes nothing: this is an HTTP
//!   client, not a script host. `SameSite` is parsed and ignored, as a
//!   non-browser client has no "site" to compare with.
//! - Bounds: a cookie's name plus value may be at most 4096 bytes, its
//!   `Domain`/`Path` at most 1024; at most 50 cookies per domain and 3000 in
//!   all by default ([`CookieLimits`]). Over a bound, the oldest cookies are
//!   evicted (expired ones first), so memory stays bounded whatever the
//!   server sends.
//! - `Debug` output never shows values: cookies are credentials.
//!
//! ```
//! use hawser_core::cookies::CookieJar;
//! use std::time::{Duration, SystemTime};
//! use url::Url;
//!
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let mut jar = CookieJar::new();
//! let login = Url::parse("https://shop.example/login").unwrap();
//! jar.store(&login, ["sid=abc; Path=/; Secure; HttpOnly", "theme=dark; Max-Age=60"], now);
//!
//! let cart = Url::parse("https://shop.example/cart").unwrap();
//! assert_eq!(jar.cookie_header(&cart, now).unwrap(), "sid=abc; theme=dark");
//! // Over http the Secure cookie stays home; a minute later `theme` is gone.
//! let later = now + Duration::from_secs(61);
//! assert_eq!(jar.cookie_header(&Url::parse("http://shop.example/").unwrap(), later), None);
//! ```

#[cfg(feature = "serde")]
#[path = "cookies_persist.rs"]
mod persist;

use std::cmp::Reverse;
use std::fmt;
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use url::{Host, Url};

/// Longest name plus value accepted (RFC 6265 §6.1's minimum capacity).
const MAX_NAME_VALUE_BYTES: usize = 4096;
/// Longest `Domain` or `Path` attribute value accepted (RFC 6265bis).
const MAX_ATTRIBUTE_BYTES: usize = 1024;

/// Bounds that keep the jar's memory finite.
///
/// ```
/// use hawser_core::cookies::{CookieJar, CookieLimits};
/// let jar = CookieJar::with_limits(CookieLimits { per_domain: 2, total: 10 });
/// assert!(jar.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieLimits {
    /// Most cookies kept for one domain (default 50).
    pub per_domain: usize,
    /// Most cookies kept in all (default 3000).
    pub total: usize,
}

impl Default for CookieLimits {
    /// RFC 6265 §6.1 asks for at least 50 per domain and 3000 in all.
    fn default() -> Self {
        CookieLimits {
            per_domain: 50,
            total: 3000,
        }
    }
}

/// The `SameSite` attribute as sent (parsed, not enforced).
///
/// ```
/// use hawser_core::cookies::{CookieJar, SameSite};
/// let mut jar = CookieJar::new();
/// jar.store(&url::Url::parse("https://a.example/").unwrap(), ["a=1; SameSite=None; Secure", "b=1; SameSite=lax"], std::time::SystemTime::UNIX_EPOCH);
/// let modes: Vec<_> = jar.iter().map(|c| c.same_site()).collect();
/// assert_eq!(modes, [Some(SameSite::None), Some(SameSite::Lax)]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
}

/// One stored cookie. `Debug` redacts the value.
///
/// ```
/// use hawser_core::cookies::CookieJar;
/// use std::time::SystemTime;
/// let url = url::Url::parse("http://a.example/docs/page").unwrap();
/// let mut jar = CookieJar::new();
/// jar.try_store(&url, "k=secret; HttpOnly; SameSite=Lax", SystemTime::UNIX_EPOCH).unwrap();
/// let c = jar.iter().next().unwrap();
/// assert_eq!((c.name(), c.value(), c.domain(), c.path()), ("k", "secret", "a.example", "/docs"));
/// assert!(c.host_only() && c.http_only() && !c.secure());
/// assert!(!format!("{c:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie {
    name: String,
    value: String,
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    expires: Option<SystemTime>,
    creation: SystemTime,
    // Tie-break for equal creation times, so ordering is total and stable.
    seq: u64,
}

impl Cookie {
    /// The cookie's name.
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// jar.try_store(&url::Url::parse("http://a.example/").unwrap(), "theme=dark", SystemTime::UNIX_EPOCH).unwrap();
    /// assert_eq!(jar.iter().next().unwrap().name(), "theme");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The cookie's value (a credential: do not log it).
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// jar.try_store(&url::Url::parse("http://a.example/").unwrap(), "theme=\"dark\"", SystemTime::UNIX_EPOCH).unwrap();
    /// assert_eq!(jar.iter().next().unwrap().value(), "\"dark\"");
    /// ```
    pub fn value(&self) -> &str {
        &self.value
    }
    /// The domain it belongs to (lower-case, no leading dot).
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// let url = url::Url::parse("http://www.a.example/").unwrap();
    /// jar.try_store(&url, "k=v; Domain=.A.Example", SystemTime::UNIX_EPOCH).unwrap();
    /// assert_eq!(jar.iter().next().unwrap().domain(), "a.example");
    /// ```
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// True when it is sent only to exactly [`Cookie::domain`] (no `Domain`
    /// attribute was given).
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// let url = url::Url::parse("http://www.a.example/").unwrap();
    /// jar.try_store(&url, "host=1", SystemTime::UNIX_EPOCH).unwrap();
    /// jar.try_store(&url, "wide=1; Domain=a.example", SystemTime::UNIX_EPOCH).unwrap();
    /// let flags: Vec<_> = jar.iter().map(|c| (c.name(), c.host_only())).collect();
    /// assert_eq!(flags, [("host", true), ("wide", false)]);
    /// ```
    pub fn host_only(&self) -> bool {
        self.host_only
    }
    /// The path it is scoped to.
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// let url = url::Url::parse("http://a.example/shop/cart").unwrap();
    /// jar.try_store(&url, "a=1", SystemTime::UNIX_EPOCH).unwrap(); // default path: the directory
    /// jar.try_store(&url, "b=1; Path=/", SystemTime::UNIX_EPOCH).unwrap();
    /// assert_eq!(jar.iter().map(|c| c.path()).collect::<Vec<_>>(), ["/shop", "/"]);
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }
    /// Sent only over https.
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// jar.try_store(&url::Url::parse("https://a.example/").unwrap(), "s=1; Secure", SystemTime::UNIX_EPOCH).unwrap();
    /// assert!(jar.iter().next().unwrap().secure());
    /// assert!(jar.cookie_header(&url::Url::parse("http://a.example/").unwrap(), SystemTime::UNIX_EPOCH).is_none());
    /// ```
    pub fn secure(&self) -> bool {
        self.secure
    }
    /// The `HttpOnly` flag (informational for an HTTP client).
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// jar.try_store(&url::Url::parse("http://a.example/").unwrap(), "h=1; HttpOnly", SystemTime::UNIX_EPOCH).unwrap();
    /// assert!(jar.iter().next().unwrap().http_only());
    /// ```
    pub fn http_only(&self) -> bool {
        self.http_only
    }
    /// The `SameSite` attribute, if one was given.
    ///
    /// ```
    /// # use hawser_core::cookies::{CookieJar, SameSite};
    /// # use std::time::SystemTime;
    /// # let mut jar = CookieJar::new();
    /// jar.try_store(&url::Url::parse("http://a.example/").unwrap(), "s=1; SameSite=Strict", SystemTime::UNIX_EPOCH).unwrap();
    /// assert_eq!(jar.iter().next().unwrap().same_site(), Some(SameSite::Strict));
    /// ```
    pub fn same_site(&self) -> Option<SameSite> {
        self.same_site
    }
    /// When it expires; `None` for a session cookie.
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::{Duration, SystemTime};
    /// # let mut jar = CookieJar::new();
    /// let (url, now) = (url::Url::parse("http://a.example/").unwrap(), SystemTime::UNIX_EPOCH);
    /// jar.try_store(&url, "session=1", now).unwrap();
    /// jar.try_store(&url, "day=1; Max-Age=86400", now).unwrap();
    /// let expiries: Vec<_> = jar.iter().map(|c| c.expires()).collect();
    /// assert_eq!(expiries, [None, Some(now + Duration::from_secs(86400))]);
    /// ```
    pub fn expires(&self) -> Option<SystemTime> {
        self.expires
    }
    /// When it was first stored (kept across replacements, RFC 6265 §5.3).
    ///
    /// ```
    /// # use hawser_core::cookies::CookieJar;
    /// # use std::time::{Duration, SystemTime};
    /// # let mut jar = CookieJar::new();
    /// let (url, t0) = (url::Url::parse("http://a.example/").unwrap(), SystemTime::UNIX_EPOCH);
    /// jar.try_store(&url, "a=1", t0).unwrap();
    /// jar.try_store(&url, "a=2", t0 + Duration::from_secs(5)).unwrap();
    /// let c = jar.iter().next().unwrap();
    /// assert_eq!((c.value(), c.creation()), ("2", t0));
    /// ```
    pub fn creation(&self) -> SystemTime {
        self.creation
    }

    fn is_expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookie")
            .field("name", &self.name)
            .field("value", &"[redacted]")
            .field("domain", &self.domain)
            .field("host_only", &self.host_only)
            .field("path", &self.path)
            .field("secure", &self.secure)
            .field("http_only", &self.http_only)
            .field("same_site", &self.same_site)
            .field("expires", &self.expires)
            .finish()
    }
}

/// Why a `Set-Cookie` was not stored.
///
/// ```
/// use hawser_core::cookies::{CookieError, CookieJar};
/// use std::time::SystemTime;
/// let url = url::Url::parse("http://a.example/").unwrap();
/// let err = CookieJar::new().try_store(&url, "no-equals-sign", SystemTime::UNIX_EPOCH).unwrap_err();
/// assert_eq!(err, CookieError::Malformed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieError {
    /// No `name=value` pair, an empty name, or control characters.
    Malformed,
    /// Name plus value over 4096 bytes, or `Domain`/`Path` over 1024.
    TooLarge,
    /// The `Domain` attribute does not domain-match the request host, is a
    /// public suffix other than the host itself, or names another IP address.
    DomainMismatch,
    /// A `Secure` cookie sent over plain http, or an http response trying to
    /// overwrite a `Secure` cookie.
    InsecureOrigin,
    /// A `__Secure-` or `__Host-` cookie without what its prefix requires.
    Prefix,
    /// The request URL has no host (or is not http/https).
    NoHost,
}

impl fmt::Display for CookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CookieError::Malformed => "malformed Set-Cookie",
            CookieError::TooLarge => "cookie too large",
            CookieError::DomainMismatch => "cookie Domain does not match the request host",
            CookieError::InsecureOrigin => "Secure cookie set or overwritten over plain http",
            CookieError::Prefix => "__Secure- or __Host- cookie without what its prefix requires",
            CookieError::NoHost => "cookie request URL has no host",
        })
    }
}

impl std::error::Error for CookieError {}

impl From<CookieError> for crate::Error {
    fn from(e: CookieError) -> Self {
        // A bad Set-Cookie is the peer's doing.
        crate::Error::new(crate::ErrorKind::Protocol, e.to_string()).with_source(e)
    }
}

/// Outcome of a successful [`CookieJar::try_store`].
///
/// ```
/// use hawser_core::cookies::{CookieJar, Stored};
/// use std::time::SystemTime;
/// let url = url::Url::parse("http://a.example/").unwrap();
/// let mut jar = CookieJar::new();
/// assert_eq!(jar.try_store(&url, "a=1", SystemTime::UNIX_EPOCH), Ok(Stored::Added));
/// assert_eq!(jar.try_store(&url, "a=2", SystemTime::UNIX_EPOCH), Ok(Stored::Replaced));
/// assert_eq!(jar.try_store(&url, "a=; Max-Age=0", SystemTime::UNIX_EPOCH), Ok(Stored::Deleted));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new cookie.
    Added,
    /// An existing (domain, path, name) was replaced.
    Replaced,
    /// The cookie was already expired: any stored one with the same key was
    /// removed and nothing was added.
    Deleted,
}

/// The session's cookies.
///
/// ```
/// use hawser_core::cookies::CookieJar;
/// use std::time::SystemTime;
/// let now = SystemTime::UNIX_EPOCH;
/// let mut jar = CookieJar::new();
/// let a = url::Url::parse("http://a.example/").unwrap();
/// jar.store(&a, ["x=1; Domain=a.example"], now);
/// let sub = url::Url::parse("http://www.a.example/").unwrap();
/// assert_eq!(jar.cookie_header(&sub, now).unwrap(), "x=1");
/// let other = url::Url::parse("http://b.example/").unwrap();
/// assert!(jar.cookie_header(&other, now).is_none());
/// ```
#[derive(Clone, Default)]
pub struct CookieJar {
    cookies: Vec<Cookie>,
    limits: CookieLimits,
    next_seq: u64,
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieJar")
            .field("cookies", &self.cookies)
            .field("limits", &self.limits)
            .finish()
    }
}

impl CookieJar {
    /// An empty jar with the default [`CookieLimits`].
    ///
    /// ```
    /// assert_eq!(hawser_core::cookies::CookieJar::new().len(), 0);
    /// ```
    pub fn new() -> Self {
        CookieJar::default()
    }

    /// An empty jar with the given bounds (each at least 1).
    ///
    /// ```
    /// use hawser_core::cookies::{CookieJar, CookieLimits};
    /// use std::time::SystemTime;
    /// let mut jar = CookieJar::with_limits(CookieLimits { per_domain: 2, total: 10 });
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// jar.store(&url, ["a=1", "b=1", "c=1"], SystemTime::UNIX_EPOCH);
    /// assert_eq!(jar.len(), 2); // the oldest was evicted
    /// ```
    pub fn with_limits(limits: CookieLimits) -> Self {
        CookieJar {
            limits: CookieLimits {
                per_domain: limits.per_domain.max(1),
                total: limits.total.max(1),
            },
            ..CookieJar::default()
        }
    }

    /// Number of stored cookies (expired ones included until
    /// [`CookieJar::remove_expired`] or the next store).
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// let mut jar = CookieJar::new();
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// jar.store(&url, ["a=1", "b=2", "a=3"], std::time::SystemTime::UNIX_EPOCH);
    /// assert_eq!(jar.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.cookies.len()
    }

    /// True when no cookie is stored.
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// let mut jar = CookieJar::new();
    /// assert!(jar.is_empty());
    /// jar.store(&url::Url::parse("http://a.example/").unwrap(), ["a=1"], std::time::SystemTime::UNIX_EPOCH);
    /// assert!(!jar.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Every stored cookie, in storage order.
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// let mut jar = CookieJar::new();
    /// jar.store(&url::Url::parse("http://a.example/").unwrap(), ["b=1", "a=2"], std::time::SystemTime::UNIX_EPOCH);
    /// let pairs: Vec<_> = jar.iter().map(|c| (c.name(), c.value())).collect();
    /// assert_eq!(pairs, [("b", "1"), ("a", "2")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &Cookie> {
        self.cookies.iter()
    }

    /// Forget every cookie.
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// let mut jar = CookieJar::new();
    /// jar.store(&url::Url::parse("http://a.example/").unwrap(), ["a=1"], std::time::SystemTime::UNIX_EPOCH);
    /// jar.clear();
    /// assert_eq!(jar.len(), 0);
    /// ```
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Drop cookies whose expiry is at or before `now`.
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// use std::time::{Duration, SystemTime};
    /// let now = SystemTime::UNIX_EPOCH;
    /// let mut jar = CookieJar::new();
    /// jar.store(&url::Url::parse("http://a.example/").unwrap(), ["a=1; Max-Age=10"], now);
    /// jar.remove_expired(now + Duration::from_secs(10));
    /// assert!(jar.is_empty());
    /// ```
    pub fn remove_expired(&mut self, now: SystemTime) {
        self.cookies.retain(|c| !c.is_expired(now));
    }

    /// Store every `Set-Cookie` value of a response to `url`, ignoring the
    /// ones RFC 6265 says to ignore. Returns how many were added or
    /// replaced. Values may be `&str`, `&[u8]` or `&HeaderValue`
    /// (e.g. `headers.get_all(SET_COOKIE)`).
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// use http::{header::SET_COOKIE, HeaderMap};
    /// let mut headers = HeaderMap::new();
    /// headers.append(SET_COOKIE, "a=1".parse().unwrap());
    /// headers.append(SET_COOKIE, "b=2; Domain=elsewhere.example".parse().unwrap());
    /// let mut jar = CookieJar::new();
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// assert_eq!(jar.store(&url, headers.get_all(SET_COOKIE), std::time::SystemTime::UNIX_EPOCH), 1);
    /// ```
    pub fn store<I>(&mut self, url: &Url, set_cookies: I, now: SystemTime) -> usize
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        set_cookies
            .into_iter()
            .filter(|v| {
                matches!(
                    self.try_store(url, v.as_ref(), now),
                    Ok(Stored::Added | Stored::Replaced)
                )
            })
            .count()
    }

    /// Store one `Set-Cookie` value, saying why when it is rejected.
    ///
    /// ```
    /// use hawser_core::cookies::{CookieError, CookieJar};
    /// use std::time::SystemTime;
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// let mut jar = CookieJar::new();
    /// assert_eq!(jar.try_store(&url, "a=1; Domain=com", SystemTime::UNIX_EPOCH), Err(CookieError::DomainMismatch));
    /// ```
    pub fn try_store(
        &mut self,
        url: &Url,
        set_cookie: impl AsRef<[u8]>,
        now: SystemTime,
    ) -> Result<Stored, CookieError> {
        let request_host = RequestHost::of(url)?;
        let secure_origin = url.scheme() == "https";
        let parsed = parse_set_cookie(set_cookie.as_ref())?;

        // RFC 6265bis §4.1.3: cookie name prefixes.
        let name = parsed.name.as_bytes();
        let has_prefix =
            |p: &[u8]| name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p);
        if has_prefix(b"__secure-") && !(parsed.secure && secure_origin) {
            return Err(CookieError::Prefix);
        }
        if has_prefix(b"__host-")
            && !(parsed.secure
                && secure_origin
                && parsed.domain.is_none()
                && parsed.path.as_deref() == Some("/"))
        {
            return Err(CookieError::Prefix);
        }

        // RFC 6265 §5.3 step 4-6: Domain attribute, and public suffixes.
        let (domain, host_only) = match parsed.domain {
            Some(d) => {
                let public_suffix = !request_host.is_ip && psl::suffix_str(&d) == Some(d.as_str());
                if d == request_host.name {
                    // Equal to the host: a domain cookie, except for IP
                    // addresses and public suffixes (`localhost`, a
                    // `github.io` page's own host), which become host-only.
                    (d, request_host.is_ip || public_suffix)
                } else if request_host.is_ip
                    || public_suffix
                    || !domain_match(&request_host.name, &d)
                {
                    return Err(CookieError::DomainMismatch);
                } else {
                    (d, false)
                }
            }
            None => (request_host.name.clone(), true),
        };
        let path = parsed.path.unwrap_or_else(|| default_path(url.path()));

        // RFC 6265bis §5.7 steps 16-17: plain http may neither set nor
        // shadow a Secure cookie.
        if !secure_origin {
            if parsed.secure {
                return Err(CookieError::InsecureOrigin);
            }
            let shadows_secure = self.cookies.iter().any(|c| {
                c.secure
                    && c.name == parsed.name
                    && (domain_match(&domain, &c.domain) || domain_match(&c.domain, &domain))
                    && path_match(&path, &c.path)
            });
            if shadows_secure {
                return Err(CookieError::InsecureOrigin);
            }
        }

        // Max-Age wins over Expires (§5.3 step 3).
        let expires = match (parsed.max_age, parsed.expires) {
            (Some(secs), _) if secs <= 0 => Some(SystemTime::UNIX_EPOCH),
            (Some(secs), _) => Some(
                now.checked_add(Duration::from_secs(secs.unsigned_abs()))
                    .unwrap_or_else(far_future),
            ),
            (None, Some(at)) => Some(at),
            (None, None) => None,
        };

        let existing = self
            .cookies
            .iter()
            .position(|c| c.name == parsed.name && c.domain == domain && c.path == path);
        let expired = expires.is_some_and(|e| e <= now);
        if expired {
            if let Some(i) = existing {
                self.cookies.remove(i);
            }
            return Ok(Stored::Deleted);
        }
        let (creation, seq, outcome) = match existing {
            Some(i) => {
                let old = self.cookies.remove(i);
                (old.creation, old.seq, Stored::Replaced)
            }
            None => {
                self.next_seq += 1;
                (now, self.next_seq, Stored::Added)
            }
        };
        self.cookies.push(Cookie {
            name: parsed.name,
            value: parsed.value,
            domain: domain.clone(),
            host_only,
            path,
            secure: parsed.secure,
            http_only: parsed.http_only,
            same_site: parsed.same_site,
            expires,
            creation,
            seq,
        });
        self.enforce_limits(&domain, now);
        Ok(outcome)
    }

    /// Evict expired cookies, then the oldest of `domain` (the one just
    /// stored to) while it is over its limit, then the oldest overall (RFC
    /// 6265 §5.3 step 12's order). Only the just-touched domain can have
    /// gone over, so each store costs O(n).
    fn enforce_limits(&mut self, domain: &str, now: SystemTime) {
        let per_domain =
            |jar: &CookieJar| jar.cookies.iter().filter(|c| c.domain == domain).count();
        if self.cookies.len() <= self.limits.total && per_domain(self) <= self.limits.per_domain {
            return;
        }
        self.remove_expired(now);
        while per_domain(self) > self.limits.per_domain {
            self.evict_oldest(|c| c.domain == domain);
        }
        while self.cookies.len() > self.limits.total {
            self.evict_oldest(|_| true);
        }
    }

    fn evict_oldest(&mut self, pick: impl Fn(&Cookie) -> bool) {
        let oldest = self
            .cookies
            .iter()
            .enumerate()
            .filter(|(_, c)| pick(c))
            .min_by_key(|(_, c)| (c.creation, c.seq))
            .map(|(i, _)| i);
        if let Some(i) = oldest {
            self.cookies.remove(i);
        }
    }

    /// The cookies to send to `url` at `now`, in RFC 6265 §5.4 order: longer
    /// paths first, then earlier creation.
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// use std::time::SystemTime;
    /// let now = SystemTime::UNIX_EPOCH;
    /// let mut jar = CookieJar::new();
    /// let url = url::Url::parse("http://a.example/app/page").unwrap();
    /// jar.store(&url, ["root=1; Path=/", "app=2; Path=/app"], now);
    /// let names: Vec<_> = jar.matching(&url, now).map(|c| c.name()).collect();
    /// assert_eq!(names, ["app", "root"]);
    /// ```
    pub fn matching<'a>(
        &'a self,
        url: &Url,
        now: SystemTime,
    ) -> impl Iterator<Item = &'a Cookie> + use<'a> {
        // An empty jar (the usual case for an API client) allocates nothing.
        let host = if self.cookies.is_empty() {
            Err(CookieError::NoHost)
        } else {
            RequestHost::of(url)
        };
        let mut found: Vec<&Cookie> = match host {
            Ok(host) => {
                let secure = url.scheme() == "https";
                let path = url.path();
                self.cookies
                    .iter()
                    .filter(|c| {
                        !c.is_expired(now)
                            && (!c.secure || secure)
                            && if c.host_only {
                                c.domain == host.name
                            } else {
                                !host.is_ip && domain_match(&host.name, &c.domain)
                            }
                            && path_match(path, &c.path)
                    })
                    .collect()
            }
            Err(_) => Vec::new(),
        };
        found.sort_by_key(|c| (Reverse(c.path.len()), c.creation, c.seq));
        found.into_iter()
    }

    /// The `Cookie` header value for a request to `url` at `now`, or `None`
    /// when no cookie applies. Marked sensitive.
    ///
    /// ```
    /// use hawser_core::cookies::CookieJar;
    /// use std::time::SystemTime;
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// let mut jar = CookieJar::new();
    /// jar.store(&url, ["a=1", "b=2"], SystemTime::UNIX_EPOCH);
    /// assert_eq!(jar.cookie_header(&url, SystemTime::UNIX_EPOCH).unwrap(), "a=1; b=2");
    /// ```
    pub fn cookie_header(&self, url: &Url, now: SystemTime) -> Option<HeaderValue> {
        let mut out = String::new();
        for c in self.matching(url, now) {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&c.name);
            out.push('=');
            out.push_str(&c.value);
        }
        if out.is_empty() {
            return None;
        }
        // Stored names and values never contain CTLs (checked at parse), so
        // this cannot fail; if it ever did, sending no cookie is the safe side.
        let mut value = HeaderValue::from_str(&out).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

fn far_future() -> SystemTime {
    // Year 9999: later than anything a cookie date can say.
    SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799)
}

/// The canonical request host (RFC 6265 §5.1.2): lower-case, IPv6 with
/// brackets as the url crate prints it.
struct RequestHost {
    name: String,
    is_ip: bool,
}

impl RequestHost {
    fn of(url: &Url) -> Result<RequestHost, CookieError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CookieError::NoHost);
        }
        match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() => Ok(RequestHost {
                name: d.to_ascii_lowercase(),
                is_ip: false,
            }),
            Some(Host::Ipv4(a)) => Ok(RequestHost {
                name: a.to_string(),
                is_ip: true,
            }),
            Some(Host::Ipv6(a)) => Ok(RequestHost {
                name: format!("[{a}]"),
                is_ip: true,
            }),
            _ => Err(CookieError::NoHost),
        }
    }
}

/// RFC 6265 §5.1.3 for a host name (callers exclude IP addresses).
fn domain_match(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.'))
}

/// RFC 6265 §5.1.4.
fn path_match(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

/// RFC 6265 §5.1.4 default-path.
fn default_path(uri_path: &str) -> String {
    if !uri_path.starts_with('/') {
        return "/".to_owned();
    }
    match uri_path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => uri_path.get(..i).unwrap_or("/").to_owned(),
    }
}

struct ParsedCookie {
    name: String,
    value: String,
    expires: Option<SystemTime>,
    max_age: Option<i64>,
    domain: Option<String>,
    path: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// RFC 6265 §5.2 (with RFC 6265bis' rejection of control characters).
fn parse_set_cookie(raw: &[u8]) -> Result<ParsedCookie, CookieError> {
    // Values are UTF-8 in practice; bytes that are not are replaced rather
    // than failing the whole cookie.
    let text = String::from_utf8_lossy(raw);
    if text
        .chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
    {
        return Err(CookieError::Malformed);
    }
    let (pair, attrs) = match text.split_once(';') {
        Some((p, a)) => (p, Some(a)),
        None => (text.as_ref(), None),
    };
    let (name, value) = pair.split_once('=').ok_or(CookieError::Malformed)?;
    let name = name.trim_matches(is_wsp);
    let value = value.trim_matches(is_wsp);
    if name.is_empty() {
        return Err(CookieError::Malformed);
    }
    if name.len() + value.len() > MAX_NAME_VALUE_BYTES {
        return Err(CookieError::TooLarge);
    }
    let mut cookie = ParsedCookie {
        name: name.to_owned(),
        value: value.to_owned(),
        expires: None,
        max_age: None,
        domain: None,
        path: None,
        secure: false,
        http_only: false,
        same_site: None,
    };
    for av in attrs.into_iter().flat_map(|a| a.split(';')) {
        let (key, val) = match av.split_once('=') {
            Some((k, v)) => (k.trim_matches(is_wsp), v.trim_matches(is_wsp)),
            None => (av.trim_matches(is_wsp), ""),
        };
        if (key.eq_ignore_ascii_case("domain") || key.eq_ignore_ascii_case("path"))
            && val.len() > MAX_ATTRIBUTE_BYTES
        {
            return Err(CookieError::TooLarge);
        }
        // Later attributes of the same name win (§5.3 uses the last one).
        if key.eq_ignore_ascii_case("expires") {
            if let Some(t) = parse_cookie_date(val) {
                cookie.expires = Some(t);
            }
        } else if key.eq_ignore_ascii_case("max-age") {
            if let Some(secs) = parse_max_age(val) {
                cookie.max_age = Some(secs);
            }
        } else if key.eq_ignore_ascii_case("domain") {
            // An empty Domain is ignored (§5.2.3 says the behaviour is
            // undefined and the attribute SHOULD be ignored).
            let d = val.trim_start_matches('.').to_ascii_lowercase();
            if !d.is_empty() {
                cookie.domain = Some(d);
            }
        } else if key.eq_ignore_ascii_case("path") {
            cookie.path = val.starts_with('/').then(|| val.to_owned());
        } else if key.eq_ignore_ascii_case("secure") {
            cookie.secure = true;
        } else if key.eq_ignore_ascii_case("httponly") {
            cookie.http_only = true;
        } else if key.eq_ignore_ascii_case("samesite") {
            cookie.same_site = if val.eq_ignore_ascii_case("strict") {
                Some(SameSite::Strict)
            } else if val.eq_ignore_ascii_case("lax") {
                Some(SameSite::Lax)
            } else if val.eq_ignore_ascii_case("none") {
                Some(SameSite::None)
            } else {
                None
            };
        }
    }
    Ok(cookie)
}

/// RFC 6265 §5.2.2: an optional `-` then digits; anything else is ignored.
/// Huge values saturate instead of failing.
fn parse_max_age(val: &str) -> Option<i64> {
    let (neg, digits) = match val.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, val),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Some(if neg { -magnitude } else { magnitude })
}

/// RFC 6265 §5.1.1's lenient cookie-date algorithm.
///
/// ```
/// use hawser_core::cookies::parse_cookie_date;
/// use std::time::{Duration, SystemTime};
/// let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
/// assert_eq!(parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
/// assert_eq!(parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
/// assert_eq!(parse_cookie_date("Sun Nov  6 08:49:37 1994"), Some(t));
/// assert_eq!(parse_cookie_date("not a date"), None);
/// ```
pub fn parse_cookie_date(input: &str) -> Option<SystemTime> {
    let is_delim =
        |c: char| matches!(c as u32, 0x09 | 0x20..=0x2F | 0x3B..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E);
    let mut time: Option<(u32, u32, u32)> = None;
    let mut day: Option<u32> = None;
    let mut month: Option<u32> = None;
    let mut year: Option<u32> = None;
    for token in input.split(is_delim).filter(|t| !t.is_empty()) {
        if time.is_none()
            && let Some(t) = parse_time_token(token)
        {
            time = Some(t);
            continue;
        }
        if day.is_none()
            && let Some(d) = leading_digits(token, 1, 2)
        {
            day = Some(d);
            continue;
        }
        if month.is_none()
            && let Some(m) = parse_month(token)
        {
            month = Some(m);
            continue;
        }
        if year.is_none()
            && let Some(y) = leading_digits(token, 2, 4)
        {
            year = Some(y);
            continue;
        }
    }
    let (hour, minute, second) = time?;
    let (day, month, mut year) = (day?, month?, year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if year <= 69 {
        year += 2000;
    }
    if !(1..=31).contains(&day) || year < 1601 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}

/// `min..=max` digits at the start of `token`, followed by nothing or a
/// non-digit (the grammar's `( non-digit *OCTET )`).
fn leading_digits(token: &str, min: usize, max: usize) -> Option<u32> {
    let n = token.bytes().take_while(u8::is_ascii_digit).count();
    if n < min || n > max {
        return None;
    }
    token.get(..n)?.parse().ok()
}

/// `hms-time ( non-digit *OCTET )` with 1-2 digits per field.
fn parse_time_token(token: &str) -> Option<(u32, u32, u32)> {
    let mut rest = token;
    let mut fields = [0u32; 3];
    for (i, field) in fields.iter_mut().enumerate() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=2).contains(&n) {
            return None;
        }
        *field = rest.get(..n)?.parse().ok()?;
        rest = rest.get(n..)?;
        if i < 2 {
            rest = rest.strip_prefix(':')?;
        }
    }
    if rest.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((fields[0], fields[1], fields[2]))
}

fn parse_month(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = token.get(..3)?;
    MONTHS
        .iter()
        .position(|m| prefix.eq_ignore_ascii_case(m))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm; a date crate for one function is not worth a dependency).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
