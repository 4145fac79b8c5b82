//! Authentication: Basic, Bearer, Digest and custom hooks, for origin
//! servers (`401` / `WWW-Authenticate` / `Authorization`) and proxies
//! (`407` / `Proxy-Authenticate` / `Proxy-Authorization`).
//!
//! Pure like the rest of the core: no I/O, no clock; the Digest `cnonce`
//! comes from an RNG the caller passes.
//!
//! # How the orchestrator drives it
//!
//! One [`AuthState`] per logical request and per target (origin, proxy):
//!
//! 1. before sending each attempt, [`Auth::authorize`] sets the
//!    `Authorization` (or `Proxy-Authorization`) field;
//! 2. on each response head, [`Auth::on_response`] says whether to re-send
//!    ([`AuthDecision::Resend`]: call `authorize` again, then send the same
//!    request; needs a replayable body) or to deliver the response;
//! 3. on each redirect hop, [`AuthState::next_hop`] restores the re-send
//!    allowance.
//!
//! A hop is re-sent at most once for a challenge, plus at most once more
//! when the server says the nonce was merely `stale` (RFC 7616: the
//! credentials were right, so that re-send is not a failed attempt).
//! Neither counts against the retry policy.
//!
//! Credentials stay with the origin of the logical request's first URL
//! (or its `http` → `https` upgrade on default ports): after a redirect to
//! another origin they are neither sent nor used to answer challenges,
//! unless [`AuthState::trust_redirects`] says so. A Digest challenge is
//! reused preemptively only for the origin (scheme, host, port) that issued
//! it, where requests reuses it for any host.
//!
//! # Examples
//!
//! Basic and Bearer are sent on every request:
//!
//! ```
//! use hawser_core::auth::{Auth, AuthState, OutgoingRequest};
//! use http::{HeaderMap, Method, header::AUTHORIZATION};
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let mut rng = StdRng::seed_from_u64(1);
//! let (mut method, mut url) = (Method::GET, url::Url::parse("http://example.com/").unwrap());
//! let mut state = AuthState::for_origin(&url);
//!
//! let mut headers = HeaderMap::new();
//! let auth = Auth::basic("Aladdin", "open sesame");
//! auth.authorize(&mut OutgoingRequest::new(&mut method, &mut url, &mut headers), &mut state, &mut rng).unwrap();
//! assert_eq!(headers[AUTHORIZATION], "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
//!
//! let auth = Auth::bearer("tok3n");
//! auth.authorize(&mut OutgoingRequest::new(&mut method, &mut url, &mut headers), &mut state, &mut rng).unwrap();
//! assert_eq!(headers[AUTHORIZATION], "Bearer tok3n");
//! assert!(!format!("{auth:?}").contains("tok3n"));
//! ```
//!
//! Digest answers a `401` once, then reuses the challenge for the same
//! origin:
//!
//! ```
//! use hawser_core::auth::{Auth, AuthDecision, AuthState, OutgoingRequest};
//! use http::{HeaderMap, HeaderValue, Method, StatusCode, header::{AUTHORIZATION, WWW_AUTHENTICATE}};
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let mut rng = StdRng::seed_from_u64(7);
//! let auth = Auth::digest("Mufasa", "Circle of Life");
//! let (mut method, mut url) = (Method::GET, url::Url::parse("http://example.org/dir/index.html").unwrap());
//! let mut state = AuthState::for_origin(&url);
//!
//! let mut headers = HeaderMap::new();
//! auth.authorize(&mut OutgoingRequest::new(&mut method, &mut url, &mut headers), &mut state, &mut rng).unwrap();
//! assert!(headers.get(AUTHORIZATION).is_none()); // nothing known yet
//!
//! let mut resp = HeaderMap::new();
//! resp.insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Digest realm="r", nonce="n1", qop="auth""#));
//! let decision = auth.on_response(&url, StatusCode::UNAUTHORIZED, &resp, &mut state);
//! assert_eq!(decision, AuthDecision::Resend { stale: false });
//!
//! auth.authorize(&mut OutgoingRequest::new(&mut method, &mut url, &mut headers), &mut state, &mut rng).unwrap();
//! let sent = headers[AUTHORIZATION].to_str().unwrap();
//! assert!(sent.starts_with("Digest username=\"Mufasa\"") && sent.contains("nc=00000001"));
//! ```
//!
//! A custom hook edits every outgoing request and may ask for one re-send:
//!
//! ```
//! use hawser_core::auth::{Auth, AuthError, AuthHook, AuthState, AuthTarget, ChallengeContext, HookDecision, OutgoingRequest};
//! use http::{HeaderMap, HeaderValue, Method, StatusCode};
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! struct ApiKey(&'static str);
//! impl AuthHook for ApiKey {
//!     fn apply(&self, _target: AuthTarget, req: &mut OutgoingRequest<'_>) -> Result<(), AuthError> {
//!         req.url.query_pairs_mut().append_pair("key", self.0);
//!         req.headers.insert("x-api-key", HeaderValue::from_static("k"));
//!         Ok(())
//!     }
//!     fn on_challenge(&self, ctx: &ChallengeContext<'_>) -> HookDecision {
//!         if ctx.challenges.iter().any(|c| c.scheme_is("ApiKey")) { HookDecision::Resend } else { HookDecision::Deliver }
//!     }
//! }
//!
//! let auth = Auth::custom(ApiKey("k"));
//! let (mut method, mut url) = (Method::GET, url::Url::parse("https://api.example/v1").unwrap());
//! let mut state = AuthState::for_origin(&url);
//! let mut headers = HeaderMap::new();
//! auth.authorize(&mut OutgoingRequest::new(&mut method, &mut url, &mut headers), &mut state, &mut StdRng::seed_from_u64(0)).unwrap();
//! assert_eq!(url.as_str(), "https://api.example/v1?key=k");
//! assert_eq!(headers["x-api-key"], "k");
//! ```

mod challenge;
mod digest;

pub use challenge::Challenge;
pub use digest::{Algorithm, DigestAuth, DigestChallenge, DigestHash, ResponseInputs};

use base64::Engine as _;
use http::header::{
    AUTHORIZATION, HeaderName, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use rand::RngCore;
use std::fmt;
use std::sync::Arc;
use url::{Origin, Position, Url};

/// The credentials of a request (or of a proxy).
///
/// `Debug` never shows passwords, tokens or digest responses.
///
/// ```
/// use hawser_core::auth::Auth;
/// let a = Auth::basic("user", "hunter2");
/// assert_eq!(format!("{a:?}"), r#"Basic { user: "user", password: "***" }"#);
/// ```
#[derive(Clone)]
pub enum Auth {
    /// RFC 7617 Basic, UTF-8. The user may not contain `:`, and neither
    /// part may contain control characters.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// RFC 6750 `Bearer <token>`.
    Bearer(String),
    /// RFC 7616 Digest: credentials plus the challenges learned so far.
    Digest(DigestAuth),
    /// A user-supplied scheme (requests' `AuthBase`).
    Custom(Arc<dyn AuthHook>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &"***")
                .finish(),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Digest(d) => d.fmt(f),
            Auth::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Who is being authenticated to.
///
/// ```
/// use hawser_core::auth::AuthTarget;
/// assert_eq!(AuthTarget::Origin.status(), 401);
/// assert_eq!(AuthTarget::Proxy.challenge_header(), "proxy-authenticate");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthTarget {
    /// The origin server: `401`, `WWW-Authenticate`, `Authorization`.
    Origin,
    /// The proxy: `407`, `Proxy-Authenticate`, `Proxy-Authorization`.
    Proxy,
}

impl AuthTarget {
    /// The request field carrying credentials.
    ///
    /// ```
    /// use hawser_core::auth::AuthTarget;
    /// assert_eq!(AuthTarget::Proxy.authorization_header(), http::header::PROXY_AUTHORIZATION);
    /// ```
    pub fn authorization_header(self) -> HeaderName {
        match self {
            AuthTarget::Origin => AUTHORIZATION,
            AuthTarget::Proxy => PROXY_AUTHORIZATION,
        }
    }

    /// The response field carrying challenges.
    ///
    /// ```
    /// use hawser_core::auth::AuthTarget;
    /// assert_eq!(AuthTarget::Origin.challenge_header(), http::header::WWW_AUTHENTICATE);
    /// assert_eq!(AuthTarget::Proxy.challenge_header(), http::header::PROXY_AUTHENTICATE);
    /// ```
    pub fn challenge_header(self) -> HeaderName {
        match self {
            AuthTarget::Origin => WWW_AUTHENTICATE,
            AuthTarget::Proxy => PROXY_AUTHENTICATE,
        }
    }

    /// The response field carrying `nextnonce` (RFC 7615).
    ///
    /// ```
    /// use hawser_core::auth::AuthTarget;
    /// assert_eq!(AuthTarget::Origin.info_header(), "authentication-info");
    /// assert_eq!(AuthTarget::Proxy.info_header(), "proxy-authentication-info");
    /// ```
    pub fn info_header(self) -> HeaderName {
        match self {
            AuthTarget::Origin => HeaderName::from_static("authentication-info"),
            AuthTarget::Proxy => HeaderName::from_static("proxy-authentication-info"),
        }
    }

    /// The status that carries a challenge: `401` or `407`.
    ///
    /// ```
    /// use hawser_core::auth::AuthTarget;
    /// assert_eq!(AuthTarget::Origin.status(), http::StatusCode::UNAUTHORIZED);
    /// assert_eq!(AuthTarget::Proxy.status().as_u16(), 407);
    /// ```
    pub fn status(self) -> StatusCode {
        match self {
            AuthTarget::Origin => StatusCode::UNAUTHORIZED,
            AuthTarget::Proxy => StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        }
    }
}

/// The parts of an outgoing request that auth may read and edit.
///
/// ```
/// use hawser_core::auth::OutgoingRequest;
/// let (mut m, mut u, mut h) = (http::Method::GET, url::Url::parse("http://h/p?q=1#f").unwrap(), http::HeaderMap::new());
/// let req = OutgoingRequest::new(&mut m, &mut u, &mut h);
/// assert_eq!(req.target_uri(), "/p?q=1");
/// ```
#[derive(Debug)]
pub struct OutgoingRequest<'a> {
    /// The method.
    pub method: &'a mut Method,
    /// The URL of the resource.
    pub url: &'a mut Url,
    /// The header fields to be sent.
    pub headers: &'a mut HeaderMap,
    /// The request target as written in the request line, when it is not
    /// the URL's path and query (absolute form through a proxy, authority
    /// form for CONNECT). Digest signs this.
    pub request_target: Option<&'a str>,
}

impl<'a> OutgoingRequest<'a> {
    /// A request sent in origin form (`/path?query`).
    ///
    /// ```
    /// use hawser_core::auth::OutgoingRequest;
    /// let (mut m, mut u, mut h) = (http::Method::PUT, url::Url::parse("http://h/a?b").unwrap(), http::HeaderMap::new());
    /// let req = OutgoingRequest::new(&mut m, &mut u, &mut h);
    /// assert_eq!((req.method.as_str(), req.request_target), ("PUT", None));
    /// ```
    pub fn new(method: &'a mut Method, url: &'a mut Url, headers: &'a mut HeaderMap) -> Self {
        OutgoingRequest {
            method,
            url,
            headers,
            request_target: None,
        }
    }

    /// Name the request target as sent, when it differs from path + query.
    ///
    /// ```
    /// use hawser_core::auth::OutgoingRequest;
    /// let (mut m, mut u, mut h) = (http::Method::GET, url::Url::parse("http://h/a").unwrap(), http::HeaderMap::new());
    /// // Through a forward proxy the request line carries the absolute URL.
    /// let req = OutgoingRequest::new(&mut m, &mut u, &mut h).with_request_target("http://h/a");
    /// assert_eq!(req.target_uri(), "http://h/a");
    /// ```
    pub fn with_request_target(mut self, target: &'a str) -> Self {
        self.request_target = Some(target);
        self
    }

    /// The request target Digest signs: [`Self::request_target`], else the
    /// URL's path and query.
    ///
    /// ```
    /// use hawser_core::auth::OutgoingRequest;
    /// let (mut m, mut u, mut h) = (http::Method::GET, url::Url::parse("http://h/").unwrap(), http::HeaderMap::new());
    /// assert_eq!(OutgoingRequest::new(&mut m, &mut u, &mut h).target_uri(), "/");
    /// ```
    pub fn target_uri(&self) -> &str {
        match self.request_target {
            Some(t) => t,
            None => &self.url[Position::BeforePath..Position::AfterQuery],
        }
    }
}

/// A custom authentication scheme: requests' `AuthBase`.
///
/// `apply` runs before every request the [`AuthState`]'s scope allows
/// (including re-sends); `on_challenge` runs on a `401` (or `407` for a
/// proxy) and may ask for one re-send per hop.
///
/// ```
/// use hawser_core::auth::{Auth, AuthError, AuthHook, AuthState, AuthTarget, OutgoingRequest};
/// # use rand::{rngs::StdRng, SeedableRng};
/// struct Token;
/// impl AuthHook for Token {
///     fn apply(&self, target: AuthTarget, req: &mut OutgoingRequest<'_>) -> Result<(), AuthError> {
///         req.headers.insert(target.authorization_header(), http::HeaderValue::from_static("Token t"));
///         Ok(())
///     }
/// }
/// let (mut m, mut u, mut h) = (http::Method::GET, url::Url::parse("http://h/").unwrap(), http::HeaderMap::new());
/// let mut state = AuthState::for_origin(&u);
/// Auth::custom(Token).authorize(&mut OutgoingRequest::new(&mut m, &mut u, &mut h), &mut state, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(h["authorization"], "Token t");
/// # Ok::<(), AuthError>(())
/// ```
pub trait AuthHook: Send + Sync {
    /// Edit the outgoing request: typically set
    /// `target.authorization_header()`.
    ///
    /// ```
    /// use hawser_core::auth::{AuthError, AuthHook, AuthTarget, OutgoingRequest};
    /// struct Refuse;
    /// impl AuthHook for Refuse {
    ///     fn apply(&self, _: AuthTarget, _: &mut OutgoingRequest<'_>) -> Result<(), AuthError> {
    ///         Err(AuthError::Hook("no key configured".into()))
    ///     }
    /// }
    /// let (mut m, mut u, mut h) = (http::Method::GET, url::Url::parse("http://h/").unwrap(), http::HeaderMap::new());
    /// let err = Refuse.apply(AuthTarget::Origin, &mut OutgoingRequest::new(&mut m, &mut u, &mut h)).unwrap_err();
    /// assert_eq!(err.to_string(), "auth hook failed: no key configured");
    /// ```
    fn apply(&self, target: AuthTarget, req: &mut OutgoingRequest<'_>) -> Result<(), AuthError>;

    /// React to a challenge. The default delivers the response.
    ///
    /// ```
    /// use hawser_core::auth::{AuthError, AuthHook, AuthTarget, ChallengeContext, HookDecision, OutgoingRequest};
    /// struct Quiet;
    /// impl AuthHook for Quiet {
    ///     fn apply(&self, _: AuthTarget, _: &mut OutgoingRequest<'_>) -> Result<(), AuthError> { Ok(()) }
    /// }
    /// let url = url::Url::parse("http://h/").unwrap();
    /// let headers = http::HeaderMap::new();
    /// let ctx = ChallengeContext { target: AuthTarget::Origin, url: &url, status: http::StatusCode::UNAUTHORIZED, headers: &headers, challenges: &[] };
    /// assert_eq!(Quiet.on_challenge(&ctx), HookDecision::Deliver);
    /// ```
    fn on_challenge(&self, ctx: &ChallengeContext<'_>) -> HookDecision {
        let _ = ctx;
        HookDecision::Deliver
    }
}

/// What a custom hook sees of a challenge response.
///
/// ```
/// use hawser_core::auth::{AuthTarget, Challenge, ChallengeContext};
/// let mut headers = http::HeaderMap::new();
/// headers.insert("www-authenticate", http::HeaderValue::from_static("ApiKey realm=\"x\""));
/// let challenges = Challenge::from_headers(&headers, &AuthTarget::Origin.challenge_header());
/// let url = url::Url::parse("http://h/").unwrap();
/// let ctx = ChallengeContext { target: AuthTarget::Origin, url: &url, status: http::StatusCode::UNAUTHORIZED, headers: &headers, challenges: &challenges };
/// assert!(ctx.challenges[0].scheme_is("apikey"));
/// ```
#[derive(Debug)]
pub struct ChallengeContext<'a> {
    /// Origin or proxy.
    pub target: AuthTarget,
    /// The URL of the request that was challenged.
    pub url: &'a Url,
    /// `401` or `407`.
    pub status: StatusCode,
    /// The response header fields.
    pub headers: &'a HeaderMap,
    /// The parsed challenges of the target's challenge field.
    pub challenges: &'a [Challenge],
}

/// A custom hook's answer to a challenge.
///
/// ```
/// use hawser_core::auth::{Auth, AuthDecision, AuthError, AuthHook, AuthState, AuthTarget, ChallengeContext, HookDecision, OutgoingRequest};
/// struct Always;
/// impl AuthHook for Always {
///     fn apply(&self, _: AuthTarget, _: &mut OutgoingRequest<'_>) -> Result<(), AuthError> { Ok(()) }
///     fn on_challenge(&self, _: &ChallengeContext<'_>) -> HookDecision { HookDecision::Resend }
/// }
/// let url = url::Url::parse("http://h/").unwrap();
/// let mut state = AuthState::for_origin(&url);
/// let d = Auth::custom(Always).on_response(&url, http::StatusCode::UNAUTHORIZED, &http::HeaderMap::new(), &mut state);
/// assert_eq!(d, AuthDecision::Resend { stale: false });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookDecision {
    /// Re-send the request once (`apply` runs again first).
    Resend,
    /// Hand the response to the caller.
    Deliver,
}

/// What the orchestrator should do with a response head.
///
/// ```
/// use hawser_core::auth::{Auth, AuthDecision, AuthState};
/// let url = url::Url::parse("http://h/").unwrap();
/// let mut state = AuthState::for_origin(&url);
/// let d = Auth::basic("u", "p").on_response(&url, http::StatusCode::OK, &http::HeaderMap::new(), &mut state);
/// assert_eq!(d, AuthDecision::NotChallenged);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// Not a challenge for this target (or no auth configured for it):
    /// carry on with the response.
    NotChallenged,
    /// Re-send the same request; call [`Auth::authorize`] first. `stale`
    /// tells a stale-nonce re-send (credentials were right) from a normal one.
    /// The body must be sent again: if it cannot be replayed, deliver the
    /// response instead (or report `ErrorKind::BodyNotReplayable`).
    Resend {
        /// True when answering `stale=true`.
        stale: bool,
    },
    /// A challenge that will not be answered: deliver the response as is.
    Deliver(Unanswered),
}

/// Why a challenge is not answered.
///
/// ```
/// use hawser_core::auth::{Auth, AuthDecision, AuthState, Unanswered};
/// let url = url::Url::parse("http://h/").unwrap();
/// let mut state = AuthState::for_origin(&url);
/// let mut headers = http::HeaderMap::new();
/// headers.insert("www-authenticate", http::HeaderValue::from_static("Digest realm=\"r\", nonce=\"n\""));
/// // Basic credentials cannot answer a Digest-only challenge.
/// let d = Auth::basic("u", "p").on_response(&url, http::StatusCode::UNAUTHORIZED, &headers, &mut state);
/// assert_eq!(d, AuthDecision::Deliver(Unanswered::NoUsableChallenge));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    /// The request went to an origin the credentials are not for.
    OutOfScope,
    /// The request already carried these credentials, and they were refused.
    CredentialsRejected,
    /// This hop was already re-sent once.
    ResendSpent,
    /// No challenge of the configured scheme was offered.
    NoUsableChallenge,
    /// A Digest challenge was offered but cannot be answered.
    Unanswerable(AuthError),
    /// The custom hook chose not to re-send.
    DeclinedByHook,
}

/// What the previous `authorize` put on the request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    Nothing,
    Credentials,
    Digest { origin: Origin, nonce: String },
}

/// Per logical request, per target: the credentials' scope and the
/// re-send allowance of the current hop.
///
/// ```
/// use hawser_core::auth::{AuthState, AuthTarget};
/// let url = url::Url::parse("http://a.example/").unwrap();
/// let mut st = AuthState::for_origin(&url);
/// assert_eq!(st.target(), AuthTarget::Origin);
/// st.next_hop();
/// assert_eq!(st.resends(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct AuthState {
    target: AuthTarget,
    scope: Origin,
    trust_redirects: bool,
    resent: bool,
    stale_resent: bool,
    resends: u32,
    sent: Sent,
}

impl AuthState {
    /// For the origin server of a logical request whose first URL is `url`.
    ///
    /// ```
    /// use hawser_core::auth::{AuthState, AuthTarget};
    /// let st = AuthState::for_origin(&url::Url::parse("https://a.example/x").unwrap());
    /// assert_eq!((st.target(), st.resends()), (AuthTarget::Origin, 0));
    /// ```
    pub fn for_origin(url: &Url) -> Self {
        Self::new(AuthTarget::Origin, url.origin())
    }

    /// For the proxy at `proxy`. Make a new one when a hop uses another proxy.
    ///
    /// ```
    /// use hawser_core::auth::{AuthState, AuthTarget};
    /// let st = AuthState::for_proxy(&url::Url::parse("http://proxy.local:3128").unwrap());
    /// assert_eq!(st.target(), AuthTarget::Proxy);
    /// ```
    pub fn for_proxy(proxy: &Url) -> Self {
        Self::new(AuthTarget::Proxy, proxy.origin())
    }

    fn new(target: AuthTarget, scope: Origin) -> Self {
        AuthState {
            target,
            scope,
            trust_redirects: false,
            resent: false,
            stale_resent: false,
            resends: 0,
            sent: Sent::Nothing,
        }
    }

    /// Let origin credentials follow redirects to any origin (curl's
    /// `--location-trusted`). Off by default.
    ///
    /// ```
    /// use hawser_core::auth::{Auth, AuthState, OutgoingRequest};
    /// # use rand::{rngs::StdRng, SeedableRng};
    /// let first = url::Url::parse("http://a.example/").unwrap();
    /// let (mut m, mut other, mut h) = (http::Method::GET, url::Url::parse("http://b.example/").unwrap(), http::HeaderMap::new());
    /// let mut state = AuthState::for_origin(&first).trust_redirects(true);
    /// Auth::bearer("t").authorize(&mut OutgoingRequest::new(&mut m, &mut other, &mut h), &mut state, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(h["authorization"], "Bearer t"); // sent to b.example too
    /// ```
    pub fn trust_redirects(mut self, trust: bool) -> Self {
        self.trust_redirects = trust;
        self
    }

    /// A redirect was followed: the new hop gets its own re-send allowance.
    ///
    /// ```
    /// use hawser_core::auth::{Auth, AuthDecision, AuthState, Unanswered};
    /// let url = url::Url::parse("http://h/").unwrap();
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("www-authenticate", http::HeaderValue::from_static("Basic realm=\"r\""));
    /// let (auth, mut state) = (Auth::basic("u", "p"), AuthState::for_origin(&url));
    /// let decide = |st: &mut AuthState| auth.on_response(&url, http::StatusCode::UNAUTHORIZED, &headers, st);
    /// assert_eq!(decide(&mut state), AuthDecision::Resend { stale: false });
    /// assert_eq!(decide(&mut state), AuthDecision::Deliver(Unanswered::ResendSpent));
    /// state.next_hop();
    /// assert_eq!(decide(&mut state), AuthDecision::Resend { stale: false });
    /// ```
    pub fn next_hop(&mut self) {
        self.resent = false;
        self.stale_resent = false;
        self.sent = Sent::Nothing;
    }

    /// Origin or proxy.
    ///
    /// ```
    /// use hawser_core::auth::{AuthState, AuthTarget};
    /// let proxy = url::Url::parse("http://p:8080").unwrap();
    /// assert_eq!(AuthState::for_proxy(&proxy).target(), AuthTarget::Proxy);
    /// ```
    pub fn target(&self) -> AuthTarget {
        self.target
    }

    /// Re-sends decided over the whole logical request (for the call report).
    ///
    /// ```
    /// use hawser_core::auth::{Auth, AuthState};
    /// let url = url::Url::parse("http://h/").unwrap();
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("www-authenticate", http::HeaderValue::from_static("Bearer"));
    /// let mut state = AuthState::for_origin(&url);
    /// Auth::bearer("t").on_response(&url, http::StatusCode::UNAUTHORIZED, &headers, &mut state);
    /// assert_eq!(state.resends(), 1);
    /// ```
    pub fn resends(&self) -> u32 {
        self.resends
    }

    /// The origin a request to `url` authenticates to.
    fn key(&self, url: &Url) -> Origin {
        match self.target {
            AuthTarget::Origin => url.origin(),
            AuthTarget::Proxy => self.scope.clone(),
        }
    }

    fn in_scope(&self, key: &Origin) -> bool {
        if self.trust_redirects || key == &self.scope {
            return true;
        }
        // requests' should_strip_auth keeps credentials on the upgrade
        // http://h(:80) -> https://h(:443); so do we.
        matches!(
            (&self.scope, key),
            (Origin::Tuple(s1, h1, 80), Origin::Tuple(s2, h2, 443))
                if s1 == "http" && s2 == "https" && h1 == h2
        )
    }

    fn take_resend(&mut self, stale: bool) -> AuthDecision {
        self.resends = self.resends.saturating_add(1);
        if stale {
            self.stale_resent = true;
        } else {
            self.resent = true;
        }
        AuthDecision::Resend { stale }
    }
}

impl Auth {
    /// Basic credentials.
    ///
    /// ```
    /// use hawser_core::auth::Auth;
    /// let Auth::Basic { user, password } = Auth::basic("ann", "pw") else { unreachable!() };
    /// assert_eq!((user.as_str(), password.as_str()), ("ann", "pw"));
    /// ```
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Auth {
        Auth::Basic {
            user: user.into(),
            password: password.into(),
        }
    }

    /// A bearer token.
    ///
    /// ```
    /// use hawser_core::auth::Auth;
    /// assert!(matches!(Auth::bearer("t0k"), Auth::Bearer(t) if t == "t0k"));
    /// assert_eq!(format!("{:?}", Auth::bearer("t0k")), "Bearer(***)");
    /// ```
    pub fn bearer(token: impl Into<String>) -> Auth {
        Auth::Bearer(token.into())
    }

    /// Digest credentials with nothing learned yet.
    ///
    /// ```
    /// use hawser_core::auth::Auth;
    /// let a = Auth::digest("Mufasa", "Circle of Life");
    /// assert!(matches!(a, Auth::Digest(_)));
    /// assert!(!format!("{a:?}").contains("Circle"));
    /// ```
    pub fn digest(user: impl Into<String>, password: impl Into<String>) -> Auth {
        Auth::Digest(DigestAuth::new(user, password))
    }

    /// A custom hook.
    ///
    /// ```
    /// use hawser_core::auth::{Auth, AuthError, AuthHook, AuthTarget, OutgoingRequest};
    /// struct Nop;
    /// impl AuthHook for Nop {
    ///     fn apply(&self, _: AuthTarget, _: &mut OutgoingRequest<'_>) -> Result<(), AuthError> { Ok(()) }
    /// }
    /// let a = Auth::custom(Nop);
    /// assert_eq!(format!("{a:?}"), "Custom(..)");
    /// ```
    pub fn custom(hook: impl AuthHook + 'static) -> Auth {
        Auth::Custom(Arc::new(hook))
    }

    /// Set the credentials on an outgoing request (every attempt, every
    /// re-send). Basic and Bearer always; Digest when a challenge from this
    /// request's origin is known (counting one use of its nonce); Custom by
    /// calling the hook. The configured auth owns this target's field:
    /// Basic, Bearer and Digest replace or remove a value already there
    /// (Digest removes it when it knows no challenge yet). Outside the
    /// state's scope nothing is added and the field is removed (Custom
    /// hooks are simply not called there).
    ///
    /// Errors: credentials that cannot be put in a header (a `:` in a Basic
    /// user, control characters), or the hook's error.
    ///
    /// ```
    /// use hawser_core::auth::{Auth, AuthError, AuthState, OutgoingRequest};
    /// # use rand::{rngs::StdRng, SeedableRng};
    /// let (mut m, mut u, mut h) = (http::Method::GET, url::Url::parse("http://h/").unwrap(), http::HeaderMap::new());
    /// let mut state = AuthState::for_origin(&u);
    /// let mut req = OutgoingRequest::new(&mut m, &mut u, &mut h);
    /// let err = Auth::basic("a:b", "pw").authorize(&mut req, &mut state, &mut StdRng::seed_from_u64(0)).unwrap_err();
    /// assert_eq!(err, AuthError::InvalidCredentials("a Basic user name cannot contain ':'"));
    /// Auth::basic("ab", "pw").authorize(&mut req, &mut state, &mut StdRng::seed_from_u64(0))?;
    /// assert_eq!(req.headers["authorization"], "Basic YWI6cHc=");
    /// # Ok::<(), AuthError>(())
    /// ```
    pub fn authorize<R: RngCore + ?Sized>(
        &self,
        req: &mut OutgoingRequest<'_>,
        state: &mut AuthState,
        rng: &mut R,
    ) -> Result<(), AuthError> {
        let name = state.target.authorization_header();
        let key = state.key(req.url);
        state.sent = Sent::Nothing;
        if !state.in_scope(&key) {
            if !matches!(self, Auth::Custom(_)) {
                req.headers.remove(&name);
            }
            return Ok(());
        }
        match self {
            Auth::Basic { user, password } => {
                req.headers.insert(name, basic_value(user, password)?);
                state.sent = Sent::Credentials;
            }
            Auth::Bearer(token) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    AuthError::InvalidCredentials("bearer token is not a valid header value")
                })?;
                v.set_sensitive(true);
                req.headers.insert(name, v);
                state.sent = Sent::Credentials;
            }
            Auth::Digest(d) => {
                req.headers.remove(&name);
                let method = req.method.as_str().to_owned();
                if let Some(sent) = d.next_authorization(&key, &method, req.target_uri(), rng)? {
                    req.headers.insert(name, sent.value);
                    state.sent = Sent::Digest {
                        origin: key,
                        nonce: sent.nonce,
                    };
                }
            }
            Auth::Custom(hook) => {
                hook.apply(state.target, req)?;
                state.sent = Sent::Credentials;
            }
        }
        Ok(())
    }

    /// Look at a response head to the request last passed to
    /// [`Auth::authorize`] with this `state` (`url` is its URL) and decide.
    ///
    /// Call it on every response head, not only on `401`/`407`.
    /// Only the target's status (`401`, `407`) is a challenge: a `403` with
    /// a Digest challenge is delivered (requests re-sends on any 4xx).
    /// Any response may carry `Authentication-Info: nextnonce`, which a
    /// Digest auth adopts.
    ///
    /// ```
    /// use hawser_core::auth::{Auth, AuthDecision, AuthState, Unanswered};
    /// let url = url::Url::parse("http://h/").unwrap();
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("www-authenticate", http::HeaderValue::from_static("Digest realm=\"r\", nonce=\"n\""));
    /// let mut state = AuthState::for_origin(&url);
    /// let auth = Auth::digest("u", "p");
    /// // A 403 is never a challenge, whatever it carries.
    /// assert_eq!(auth.on_response(&url, http::StatusCode::FORBIDDEN, &headers, &mut state), AuthDecision::NotChallenged);
    /// assert_eq!(auth.on_response(&url, http::StatusCode::UNAUTHORIZED, &headers, &mut state), AuthDecision::Resend { stale: false });
    /// // A 401 from another origin is not answered with these credentials.
    /// let other = url::Url::parse("http://elsewhere/").unwrap();
    /// assert_eq!(auth.on_response(&other, http::StatusCode::UNAUTHORIZED, &headers, &mut state), AuthDecision::Deliver(Unanswered::OutOfScope));
    /// ```
    pub fn on_response(
        &self,
        url: &Url,
        status: StatusCode,
        headers: &HeaderMap,
        state: &mut AuthState,
    ) -> AuthDecision {
        let key = state.key(url);
        if status != state.target.status() {
            if let (Auth::Digest(d), Sent::Digest { origin, .. }) = (self, &state.sent) {
                for v in headers.get_all(state.target.info_header()) {
                    let params = challenge::parse_params(v.as_bytes());
                    if let Some((_, n)) = params
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("nextnonce"))
                    {
                        d.next_nonce(origin, n);
                    }
                }
            }
            return AuthDecision::NotChallenged;
        }
        if !state.in_scope(&key) {
            return AuthDecision::Deliver(Unanswered::OutOfScope);
        }
        let challenges = Challenge::from_headers(headers, &state.target.challenge_header());
        match self {
            Auth::Basic { .. } | Auth::Bearer(_) => {
                let scheme = if matches!(self, Auth::Basic { .. }) {
                    "basic"
                } else {
                    "bearer"
                };
                if state.sent == Sent::Credentials {
                    AuthDecision::Deliver(Unanswered::CredentialsRejected)
                } else if !challenges.iter().any(|c| c.scheme_is(scheme)) {
                    AuthDecision::Deliver(Unanswered::NoUsableChallenge)
                } else if state.resent {
                    AuthDecision::Deliver(Unanswered::ResendSpent)
                } else {
                    state.take_resend(false)
                }
            }
            Auth::Digest(d) => digest_decision(d, &key, &challenges, state),
            Auth::Custom(hook) => {
                let ctx = ChallengeContext {
                    target: state.target,
                    url,
                    status,
                    headers,
                    challenges: &challenges,
                };
                match hook.on_challenge(&ctx) {
                    HookDecision::Deliver => AuthDecision::Deliver(Unanswered::DeclinedByHook),
                    HookDecision::Resend if state.resent => {
                        AuthDecision::Deliver(Unanswered::ResendSpent)
                    }
                    HookDecision::Resend => state.take_resend(false),
                }
            }
        }
    }
}

fn digest_decision(
    d: &DigestAuth,
    key: &Origin,
    challenges: &[Challenge],
    state: &mut AuthState,
) -> AuthDecision {
    let mut first_err = None;
    let mut chosen = None;
    // RFC 7616 §3.7: the server lists challenges in order of preference;
    // answer the first one we can.
    for c in challenges.iter().filter(|c| c.scheme_is("digest")) {
        match DigestChallenge::from_challenge(c) {
            Ok(dc) => {
                chosen = Some(dc);
                break;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let Some(chosen) = chosen else {
        return AuthDecision::Deliver(match first_err {
            Some(e) => Unanswered::Unanswerable(e),
            None => Unanswered::NoUsableChallenge,
        });
    };
    let carried = match &state.sent {
        Sent::Digest { origin, nonce } if origin == key => Some(nonce.clone()),
        _ => None,
    };
    if let Some(sent_nonce) = carried {
        if chosen.stale() && !state.stale_resent {
            d.remember(key, chosen);
            return state.take_resend(true);
        }
        if !chosen.stale() && sent_nonce == chosen.nonce() {
            // The server refused a response computed for its own current
            // nonce: the credentials are wrong. Do not try them again.
            d.forget(key);
            return AuthDecision::Deliver(Unanswered::CredentialsRejected);
        }
        if state.resent {
            d.forget(key);
            return AuthDecision::Deliver(Unanswered::ResendSpent);
        }
    } else if state.resent {
        return AuthDecision::Deliver(Unanswered::ResendSpent);
    }
    d.remember(key, chosen);
    state.take_resend(false)
}

fn basic_value(user: &str, password: &str) -> Result<HeaderValue, AuthError> {
    if user.contains(':') {
        return Err(AuthError::InvalidCredentials(
            "a Basic user name cannot contain ':'",
        ));
    }
    if user.chars().chain(password.chars()).any(char::is_control) {
        return Err(AuthError::InvalidCredentials(
            "Basic credentials cannot contain control characters",
        ));
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut v =
        HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| AuthError::InvalidHeader)?;
    v.set_sensitive(true);
    Ok(v)
}

/// Why credentials could not be sent or a challenge not answered. Messages
/// never contain secrets.
///
/// ```
/// use hawser_core::auth::AuthError;
/// let e = AuthError::MissingParam { param: "nonce" };
/// assert_eq!(e.to_string(), "Digest challenge without nonce");
/// let e: hawser_core::Error = e.into();
/// assert_eq!(e.kind(), hawser_core::ErrorKind::Protocol);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The configured credentials cannot be sent; the reason names the rule.
    InvalidCredentials(&'static str),
    /// A computed field value is not a valid header value.
    InvalidHeader,
    /// The challenge is not a Digest challenge.
    NotDigest,
    /// A Digest challenge lacks a required parameter (`realm`, `nonce`).
    MissingParam {
        /// The missing parameter.
        param: &'static str,
    },
    /// The Digest algorithm is not supported (as the server wrote it).
    UnsupportedAlgorithm(String),
    /// The `qop` list has no `auth` (e.g. `auth-int` only).
    UnsupportedQop(String),
    /// A `-sess` algorithm without `qop` cannot be answered.
    SessionWithoutQop,
    /// A custom hook failed.
    Hook(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::InvalidCredentials(why) => write!(f, "invalid credentials: {why}"),
            AuthError::InvalidHeader => f.write_str("credentials do not form a valid header value"),
            AuthError::NotDigest => f.write_str("not a Digest challenge"),
            AuthError::MissingParam { param } => write!(f, "Digest challenge without {param}"),
            AuthError::UnsupportedAlgorithm(a) => write!(f, "unsupported Digest algorithm {a:?}"),
            AuthError::UnsupportedQop(q) => {
                write!(
                    f,
                    "Digest qop {q:?} offers no \"auth\" (auth-int is not supported)"
                )
            }
            AuthError::SessionWithoutQop => f.write_str("Digest -sess algorithm without qop"),
            AuthError::Hook(m) => write!(f, "auth hook failed: {m}"),
        }
    }
}

impl std::error::Error for AuthError {}

impl From<AuthError> for crate::Error {
    fn from(e: AuthError) -> Self {
        let kind = match e {
            // The caller's credentials or hook.
            AuthError::InvalidCredentials(_) | AuthError::InvalidHeader | AuthError::Hook(_) => {
                crate::ErrorKind::InvalidRequest
            }
            // The server's challenge.
            _ => crate::ErrorKind::Protocol,
        };
        crate::Error::new(kind, e.to_string()).with_source(e)
    }
}
