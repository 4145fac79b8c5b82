//! HTTP Digest access authentication (RFC 7616, and RFC 2069 when the
//! server sends no `qop`).
//!
//! What is supported, and where it differs from Python requests:
//!
//! * algorithms `MD5`, `SHA-256`, `SHA-512-256`, `SHA-512`, `SHA` (SHA-1,
//!   as requests accepts it), each also as `-sess`; names are matched
//!   ignoring case and echoed back exactly as the server wrote them;
//! * `qop`: `auth` is chosen from a list such as `auth,auth-int` or
//!   `auth-int, auth` (items are trimmed and compared ignoring case, where
//!   requests needs an exact `auth` with no space). A challenge offering
//!   only `auth-int` cannot be answered (hawser does not hash bodies), and
//!   is reported as [`AuthError::UnsupportedQop`] instead of re-sending
//!   without credentials as requests does;
//! * no `qop` means RFC 2069 style (`response = H(HA1:nonce:HA2)`, no
//!   `nc`/`cnonce`); a `-sess` algorithm without `qop` is refused because
//!   the server could not learn the cnonce it needs;
//! * `userhash=true` is honoured (the username is sent as
//!   `H(user:realm)`); a username that is not printable ASCII is sent as
//!   `username*` (RFC 8187) when `userhash` is off;
//! * `nc` counts every use of a nonce (8 hex digits) and restarts at 1 for a
//!   new nonce; `cnonce` is 16 bytes from the caller's RNG, hex encoded;
//! * `Authentication-Info: nextnonce=...` switches the cached nonce.
//! * credentials are hashed as UTF-8, the one `charset` RFC 7616 defines;
//!   realm and nonce bytes that are not UTF-8 are replaced (U+FFFD) by the
//!   parser, so such a challenge cannot be answered correctly.

use super::{AuthError, Challenge};
use http::HeaderValue;
use rand::RngCore;
use sha2::Digest as _;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use url::Origin;

/// How many origins a [`DigestAuth`] remembers challenges for; the least
/// recently used is forgotten first, so memory stays bounded.
const MAX_CACHED_ORIGINS: usize = 32;

/// The hash function of a Digest algorithm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestHash {
    /// MD5 (the RFC 2617 default, still the most common).
    Md5,
    /// SHA-1 (`algorithm=SHA`, not in RFC 7616 but accepted by requests).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512/256.
    Sha512_256,
    /// SHA-512 (not in RFC 7616, accepted by requests).
    Sha512,
}

impl DigestHash {
    /// Lower-case hex of the hash of `data`.
    ///
    /// ```
    /// use hawser_core::auth::DigestHash;
    /// assert_eq!(DigestHash::Md5.hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    /// ```
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            DigestHash::Md5 => hex(&md5::Md5::digest(data)),
            DigestHash::Sha1 => hex(&sha1::Sha1::digest(data)),
            DigestHash::Sha256 => hex(&sha2::Sha256::digest(data)),
            DigestHash::Sha512_256 => hex(&sha2::Sha512_256::digest(data)),
            DigestHash::Sha512 => hex(&sha2::Sha512::digest(data)),
        }
    }
}

/// Lower-case hex. Hand-written: eight lines do not justify a dependency.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// A Digest algorithm: a hash, optionally in session (`-sess`) form.
///
/// ```
/// use hawser_core::auth::{Algorithm, DigestHash};
/// let a = Algorithm::parse("sha-512-256-SESS").unwrap();
/// assert_eq!(a, Algorithm { hash: DigestHash::Sha512_256, session: true });
/// assert_eq!(Algorithm::parse("MD5"), Some(Algorithm::MD5));
/// assert_eq!(Algorithm::parse("SHA-3"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Algorithm {
    /// The hash function.
    pub hash: DigestHash,
    /// `-sess`: HA1 also covers the nonce and cnonce.
    pub session: bool,
}

impl Algorithm {
    /// `MD5`, the default when a challenge names no algorithm.
    pub const MD5: Algorithm = Algorithm {
        hash: DigestHash::Md5,
        session: false,
    };

    /// Parse an algorithm name, ignoring ASCII case. None if unsupported.
    pub fn parse(name: &str) -> Option<Algorithm> {
        let upper = name.trim().to_ascii_uppercase();
        let (base, session) = match upper.strip_suffix("-SESS") {
            Some(b) => (b, true),
            None => (upper.as_str(), false),
        };
        let hash = match base {
            "MD5" => DigestHash::Md5,
            "SHA" | "SHA-1" => DigestHash::Sha1,
            "SHA-256" => DigestHash::Sha256,
            "SHA-512-256" => DigestHash::Sha512_256,
            "SHA-512" => DigestHash::Sha512,
            _ => return None,
        };
        Some(Algorithm { hash, session })
    }
}

/// Everything the `response` value is computed from (RFC 7616 §3.4.1).
/// Exposed so that tests and servers (the testkit) can check a response.
///
/// ```
/// use hawser_core::auth::{Algorithm, ResponseInputs};
/// // RFC 7616 §3.9.1, MD5.
/// let r = ResponseInputs {
///     algorithm: Algorithm::MD5,
///     username: "Mufasa",
///     realm: "http-auth@example.org",
///     password: "Circle of Life",
///     method: "GET",
///     uri: "/dir/index.html",
///     nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
///     qop_auth: true,
///     nc: 1,
///     cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
/// };
/// assert_eq!(r.response(), "8ca523f5e9506fed4657c9700eebdbec");
/// ```
#[derive(Clone, Copy)]
pub struct ResponseInputs<'a> {
    /// Algorithm in use.
    pub algorithm: Algorithm,
    /// The real user name (never the userhash).
    pub username: &'a str,
    /// `realm` from the challenge.
    pub realm: &'a str,
    /// The password.
    pub password: &'a str,
    /// Request method as sent.
    pub method: &'a str,
    /// The digest-uri: the request target as sent.
    pub uri: &'a str,
    /// `nonce` from the challenge.
    pub nonce: &'a str,
    /// True for `qop=auth`; false for RFC 2069 style (no qop).
    pub qop_auth: bool,
    /// The nonce count (sent as 8 hex digits).
    pub nc: u32,
    /// The client nonce.
    pub cnonce: &'a str,
}

impl fmt::Debug for ResponseInputs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseInputs")
            .field("algorithm", &self.algorithm)
            .field("username", &self.username)
            .field("realm", &self.realm)
            .field("password", &"***")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("nonce", &self.nonce)
            .field("qop_auth", &self.qop_auth)
            .field("nc", &self.nc)
            .field("cnonce", &self.cnonce)
            .finish()
    }
}

impl ResponseInputs<'_> {
    /// The `response` value, lower-case hex.
    pub fn response(&self) -> String {
        let h = |s: &str| self.algorithm.hash.hex(s.as_bytes());
        let mut ha1 = h(&format!(
            "{}:{}:{}",
            self.username, self.realm, self.password
        ));
        if self.algorithm.session {
            ha1 = h(&format!("{ha1}:{}:{}", self.nonce, self.cnonce));
        }
        let ha2 = h(&format!("{}:{}", self.method, self.uri));
        if self.qop_auth {
            h(&format!(
                "{ha1}:{}:{:08x}:{}:auth:{ha2}",
                self.nonce, self.nc, self.cnonce
            ))
        } else {
            h(&format!("{ha1}:{}:{ha2}", self.nonce))
        }
    }
}

/// A Digest challenge that hawser can answer.
///
/// ```
/// use hawser_core::auth::{Challenge, DigestChallenge};
/// let c = &Challenge::parse_all(b"Digest realm=R, nonce=N, qop=\"auth-int, auth\", algorithm=sha-256")[0];
/// let d = DigestChallenge::from_challenge(c).unwrap();
/// assert_eq!(d.realm(), "R");
/// assert!(d.qop_auth());
///
/// let missing = &Challenge::parse_all(b"Digest nonce=N")[0];
/// assert!(DigestChallenge::from_challenge(missing).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    algorithm: Algorithm,
    /// The algorithm exactly as the server wrote it, echoed back.
    algorithm_token: Option<String>,
    qop_auth: bool,
    stale: bool,
    userhash: bool,
}

impl DigestChallenge {
    /// Check a parsed challenge and keep what answering it needs.
    ///
    /// Errors: not a Digest challenge, no `realm` or `nonce`, an
    /// unsupported algorithm, a `qop` list without `auth`, or `-sess`
    /// without `qop`.
    pub fn from_challenge(c: &Challenge) -> Result<DigestChallenge, AuthError> {
        if !c.scheme_is("digest") {
            return Err(AuthError::NotDigest);
        }
        let realm = c
            .param("realm")
            .ok_or(AuthError::MissingParam { param: "realm" })?;
        let nonce = c
            .param("nonce")
            .ok_or(AuthError::MissingParam { param: "nonce" })?;
        let algorithm_token = c.param("algorithm").map(str::to_owned);
        let algorithm = match &algorithm_token {
            None => Algorithm::MD5,
            Some(a) => {
                Algorithm::parse(a).ok_or_else(|| AuthError::UnsupportedAlgorithm(a.clone()))?
            }
        };
        let qop_auth = match c.param("qop") {
            None => false,
            Some(list) => {
                if list
                    .split(',')
                    .any(|q| q.trim().eq_ignore_ascii_case("auth"))
                {
                    true
                } else {
                    return Err(AuthError::UnsupportedQop(list.to_owned()));
                }
            }
        };
        if algorithm.session && !qop_auth {
            return Err(AuthError::SessionWithoutQop);
        }
        let flag = |name: &str| {
            c.param(name)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        };
        Ok(DigestChallenge {
            realm: realm.to_owned(),
            nonce: nonce.to_owned(),
            opaque: c.param("opaque").map(str::to_owned),
            algorithm,
            algorithm_token,
            qop_auth,
            stale: flag("stale"),
            userhash: flag("userhash"),
        })
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The server nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// True when answered with `qop=auth`, false for RFC 2069 style.
    pub fn qop_auth(&self) -> bool {
        self.qop_auth
    }

    /// `stale=true`: the previous nonce expired but the credentials were
    /// right.
    pub fn stale(&self) -> bool {
        self.stale
    }

    /// The value of the `Authorization` (or `Proxy-Authorization`) field
    /// answering this challenge. `nc` is the nonce count, `cnonce` the
    /// client nonce (ignored in RFC 2069 style). The value is marked
    /// sensitive.
    ///
    /// ```
    /// use hawser_core::auth::{Challenge, DigestChallenge};
    /// let c = &Challenge::parse_all(b"Digest realm=R, nonce=N, qop=auth, algorithm=md5")[0];
    /// let d = DigestChallenge::from_challenge(c).unwrap();
    /// let v = d.authorization("u", "p", "GET", "/x", 1, "c0ffee").unwrap();
    /// let s = v.to_str().unwrap();
    /// assert!(s.starts_with("Digest username=\"u\", realm=\"R\""));
    /// assert!(s.contains("algorithm=md5") && s.contains("nc=00000001"));
    /// ```
    pub fn authorization(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        nc: u32,
        cnonce: &str,
    ) -> Result<HeaderValue, AuthError> {
        let response = ResponseInputs {
            algorithm: self.algorithm,
            username,
            realm: &self.realm,
            password,
            method,
            uri,
            nonce: &self.nonce,
            qop_auth: self.qop_auth,
            nc,
            cnonce,
        }
        .response();
        let mut v = String::from("Digest ");
        if self.userhash {
            let hashed = self
                .algorithm
                .hash
                .hex(format!("{username}:{}", self.realm).as_bytes());
            v.push_str(&format!("username=\"{hashed}\""));
        } else if username.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            v.push_str(&format!("username={}", quote(username)));
        } else {
            v.push_str(&format!("username*=UTF-8''{}", ext_value(username)));
        }
        v.push_str(&format!(
            ", realm={}, nonce={}, uri={}",
            quote(&self.realm),
            quote(&self.nonce),
            quote(uri)
        ));
        if let Some(a) = &self.algorithm_token {
            v.push_str(&format!(", algorithm={a}"));
        }
        v.push_str(&format!(", response=\"{response}\""));
        if self.qop_auth {
            v.push_str(&format!(
                ", qop=auth, nc={nc:08x}, cnonce={}",
                quote(cnonce)
            ));
        }
        if let Some(o) = &self.opaque {
            v.push_str(&format!(", opaque={}", quote(o)));
        }
        if self.userhash {
            v.push_str(", userhash=true");
        }
        let mut hv = HeaderValue::from_bytes(v.as_bytes()).map_err(|_| AuthError::InvalidHeader)?;
        hv.set_sensitive(true);
        Ok(hv)
    }
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// RFC 8187 ext-value body: attr-chars kept, every other byte `%XX`.
/// Hand-written because the attr-char set is specific to this RFC.
fn ext_value(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Cached {
    origin: Origin,
    challenge: DigestChallenge,
    /// Uses of `challenge.nonce` so far.
    nc: u32,
}

/// Digest credentials plus the challenges learned from servers.
///
/// Cloning is cheap and **shares** the learned state, so every clone (e.g.
/// one per concurrent call of a session) counts `nc` for a nonce in one
/// place, as RFC 7616 requires. Challenges are remembered per origin
/// (scheme, host, port), at most 32 origins.
///
/// ```
/// use hawser_core::auth::DigestAuth;
/// let d = DigestAuth::new("Mufasa", "Circle of Life");
/// assert_eq!(d.username(), "Mufasa");
/// assert!(!format!("{d:?}").contains("Circle"));
/// ```
#[derive(Clone)]
pub struct DigestAuth {
    creds: Arc<(String, String)>,
    cache: Arc<Mutex<Vec<Cached>>>,
}

impl fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuth")
            .field("user", &self.creds.0)
            .field("password", &"***")
            .field("cached_origins", &self.lock().len())
            .finish()
    }
}

/// What [`DigestAuth::next_authorization`] put on a request.
pub(crate) struct Sent {
    pub(crate) value: HeaderValue,
    pub(crate) nonce: String,
}

impl DigestAuth {
    /// Credentials with no learned challenge yet.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> DigestAuth {
        DigestAuth {
            creds: Arc::new((user.into(), password.into())),
            cache: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.creds.0
    }

    /// True when a challenge for `origin` is remembered, so requests to it
    /// carry a Digest header preemptively.
    pub fn has_challenge_for(&self, origin: &Origin) -> bool {
        self.lock().iter().any(|c| &c.origin == origin)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Cached>> {
        // A panic elsewhere while holding the lock leaves a consistent Vec
        // (every mutation is a single push/remove/assignment), so poisoning
        // is ignored rather than propagated as a panic.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Build the header for the next request to `origin`, counting one use
    /// of the remembered nonce. None when nothing is remembered.
    pub(crate) fn next_authorization<R: RngCore + ?Sized>(
        &self,
        origin: &Origin,
        method: &str,
        uri: &str,
        rng: &mut R,
    ) -> Result<Option<Sent>, AuthError> {
        let mut cache = self.lock();
        let Some(i) = cache.iter().position(|c| &c.origin == origin) else {
            return Ok(None);
        };
        let entry = cache.remove(i);
        let Some(nc) = entry.nc.checked_add(1) else {
            // 2^32 uses of one nonce: forget it; the server will issue a new one.
            return Ok(None);
        };
        let challenge = entry.challenge.clone();
        cache.push(Cached { nc, ..entry });
        drop(cache);
        let mut raw = [0u8; 16];
        rng.fill_bytes(&mut raw);
        let cnonce = hex(&raw);
        let value =
            challenge.authorization(&self.creds.0, &self.creds.1, method, uri, nc, &cnonce)?;
        Ok(Some(Sent {
            value,
            nonce: challenge.nonce,
        }))
    }

    /// Remember `challenge` for `origin`. The count continues when the
    /// nonce is the one already in use, and restarts otherwise.
    pub(crate) fn remember(&self, origin: &Origin, challenge: DigestChallenge) {
        let mut cache = self.lock();
        let nc = match cache.iter().position(|c| &c.origin == origin) {
            Some(i) => {
                let old = cache.remove(i);
                if old.challenge.nonce == challenge.nonce {
                    old.nc
                } else {
                    0
                }
            }
            None => 0,
        };
        if cache.len() >= MAX_CACHED_ORIGINS {
            cache.remove(0);
        }
        cache.push(Cached {
            origin: origin.clone(),
            challenge,
            nc,
        });
    }

    /// Forget the challenge for `origin` (its credentials were refused).
    pub(crate) fn forget(&self, origin: &Origin) {
        self.lock().retain(|c| &c.origin != origin);
    }

    /// `Authentication-Info: nextnonce=...`: use `nonce` from now on.
    pub(crate) fn next_nonce(&self, origin: &Origin, nonce: &str) {
        let mut cache = self.lock();
        if let Some(c) = cache.iter_mut().find(|c| &c.origin == origin)
            && c.challenge.nonce != nonce
        {
            c.challenge.nonce = nonce.to_owned();
            c.challenge.stale = false;
            c.nc = 0;
        }
    }
}
