//! # hawser-std: the blocking hawser client
//!
//! A [`Session`] reuses connections, keeps headers, cookies and auth across
//! calls, retries what is safe to retry with backoff and `Retry-After`,
//! bounds every wait, follows redirects safely and reports typed errors.
//! All of that behaviour lives in [`hawser_core`]; this crate only resolves
//! and connects, moves bytes over `std::net::TcpStream`, sleeps when told,
//! and keeps pooled sockets behind a lock.
//!
//! ```no_run
//! use std::time::Duration;
//! use hawser_std::{Retry, Session};
//!
//! let session = Session::builder()
//!     .header("x-client", "docs")
//!     .retry(Retry::new(3).backoff_factor(Duration::from_millis(500)).status_forcelist([502, 503, 504]))
//!     .timeout(Duration::from_secs(5))
//!     .deadline(Duration::from_secs(20))
//!     .build()?;
//! let resp = session.get("http://127.0.0.1:8080/items").query(&[("page", "2")]).send()?;
//! println!("{} {}", resp.status(), resp.error_for_status()?.text()?);
//! # Ok::<(), hawser_std::Error>(())
//! ```
//!
//! What it does not do: HTTP/2, DNS with a timeout of its own (resolution
//! uses the system resolver and is bounded only by it; the connect that
//! follows is bounded by the core's deadline).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod driver;
mod response;

use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::Method;

pub use hawser_core::auth::Auth;
pub use hawser_core::call::{AttemptOutcome, AttemptReport, CallReport, Config};
pub use hawser_core::deadline::Timeouts;
pub use hawser_core::pool::{PoolConfig, PoolStats, WhenFull};
pub use hawser_core::proxy::{Proxy, ProxyConfig};
pub use hawser_core::redirect::RedirectPolicy;
pub use hawser_core::request::Body;
pub use hawser_core::retry::{Retry, RetryBudget};
#[cfg(feature = "rustls")]
pub use hawser_core::tls::TlsConfig;
pub use hawser_core::{Error, ErrorKind, Result, TimeoutPhase};
pub use response::Response;

use driver::{Driver, Inner, Pumped};
use hawser_core::call::{Agent, CallOptions};

/// A blocking HTTP client session: a connection pool, default headers, a
/// cookie jar, auth, retry policy and timeouts shared by its requests.
///
/// Cheap to clone (clones share the pool); `Send + Sync`. Dropping the last
/// clone closes its idle connections.
///
/// ```
/// let s = hawser_std::Session::new();
/// let s2 = s.clone();
/// fn shareable<T: Send + Sync + Clone>(_: &T) {}
/// shareable(&s2);
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("agent", &self.inner.agent)
            .finish()
    }
}

macro_rules! verbs {
    ($($(#[$m:meta])* $name:ident => $method:expr;)*) => {$(
        $(#[$m])*
        pub fn $name(&self, url: impl AsRef<str>) -> RequestBuilder {
            self.request($method, url)
        }
    )*};
}

impl Session {
    /// A session with the default [`Config`].
    pub fn new() -> Session {
        Session::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// Configure a session.
    pub fn builder() -> SessionBuilder {
        SessionBuilder {
            config: Config::default(),
            error: None,
        }
    }

    /// Start a request with any method.
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder {
            session: self.clone(),
            inner: hawser_core::request::Request::builder(method, url),
            opts: CallOptions::default(),
            reader: None,
            error: None,
        }
    }

    verbs! {
        /// `GET url`.
        get => Method::GET;
        /// `POST url`.
        post => Method::POST;
        /// `PUT url`.
        put => Method::PUT;
        /// `DELETE url`.
        delete => Method::DELETE;
        /// `HEAD url`.
        head => Method::HEAD;
        /// `PATCH url`.
        patch => Method::PATCH;
    }

    /// Connection pool counters (opened, reused, evicted, waited, ...).
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool().stats()
    }

    /// The session's settings.
    pub fn config(&self) -> &Config {
        self.inner.agent.config()
    }
}

/// Builds a [`Session`]. Invalid settings are reported by [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// let s = hawser_std::Session::builder().timeout(Duration::ZERO).build();
/// assert_eq!(s.unwrap_err().kind(), hawser_std::ErrorKind::InvalidRequest);
/// ```
#[must_use]
pub struct SessionBuilder {
    config: Config,
    error: Option<Error>,
}

impl SessionBuilder {
    fn timeouts(
        mut self,
        f: impl FnOnce(Timeouts) -> std::result::Result<Timeouts, hawser_core::deadline::InvalidTimeout>,
    ) -> Self {
        match f(self.config.timeouts) {
            Ok(t) => self.config.timeouts = t,
            Err(e) => self.error = self.error.or(Some(e.into())),
        }
        self
    }

    /// A default header for every request (a request may override it).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match hawser_core::request::validate_header(name, value.as_bytes()) {
            Ok((n, v)) => {
                self.config.headers.insert(n, v);
            }
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }
    /// Credentials for every request.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.config.auth = Some(auth);
        self
    }
    /// Basic credentials for every request.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        self.auth(Auth::basic(user, password))
    }
    /// Digest credentials, answering the server's challenges.
    pub fn digest_auth(self, user: &str, password: &str) -> Self {
        self.auth(Auth::digest(user, password))
    }
    /// A Bearer token for every request.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.auth(Auth::bearer(token))
    }
    /// Keep cookies across requests (default on).
    pub fn cookie_store(mut self, on: bool) -> Self {
        self.config.cookie_store = on;
        self
    }
    /// The retry policy.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.config.retry = retry;
        self
    }
    /// A retry budget shared by the session's requests.
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.config.retry_budget = Some(budget);
        self
    }
    /// Connect and read timeouts (requests' `timeout=5`).
    pub fn timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_connect(d)?.with_read(d))
    }
    /// The connect timeout.
    pub fn connect_timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_connect(d))
    }
    /// The read timeout (longest silence).
    pub fn read_timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_read(d))
    }
    /// The write timeout (longest stall while sending).
    pub fn write_timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_write(d))
    }
    /// The overall deadline of each logical request, across retries.
    pub fn deadline(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_deadline(d))
    }
    /// Follow at most `n` redirects (`0`: return 3xx responses as they are).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.config.redirect = if n == 0 {
            RedirectPolicy::none()
        } else {
            RedirectPolicy::limited(n)
        };
        self
    }
    /// Pool limits and eviction.
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.config.pool = pool;
        self
    }
    /// Proxies.
    pub fn proxies(mut self, proxies: ProxyConfig) -> Self {
        self.config.proxies = proxies;
        self
    }
    /// Proxies from this process's `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY`.
    pub fn proxies_from_env(mut self) -> Self {
        match ProxyConfig::from_env(std::env::vars()) {
            Ok(p) => self.config.proxies = p,
            Err(e) => self.error = self.error.or(Some(e.into())),
        }
        self
    }
    /// TLS settings (custom CA, client certificate, ...).
    #[cfg(feature = "rustls")]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        match tls.build() {
            Ok(c) => self.config.tls = c,
            Err(e) => self.error = self.error.or(Some(e)),
        }
        self
    }
    /// Decode gzip/deflate bodies (default on).
    pub fn decompress(mut self, on: bool) -> Self {
        self.config.decompress = on;
        self
    }
    /// Edit the full core [`Config`] directly.
    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }
    /// Build the session.
    pub fn build(self) -> Result<Session> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let inner = Inner::new(Agent::new(self.config))?;
        Ok(Session {
            inner: Arc::new(inner),
        })
    }
}

/// A request being built; [`send`](Self::send) runs it.
#[must_use = "a request does nothing until send() is called"]
pub struct RequestBuilder {
    session: Session,
    inner: hawser_core::request::RequestBuilder,
    opts: CallOptions,
    reader: Option<Box<dyn Read + Send>>,
    error: Option<Error>,
}

impl RequestBuilder {
    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.header(name, value);
        self
    }
    /// Append query parameters.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.inner = self.inner.query(pairs);
        self
    }
    /// An in-memory (replayable) body.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.inner = self.inner.body(body);
        self
    }
    /// A streamed body read from `reader` while sending (not replayable:
    /// never re-sent by a retry or redirect once started). With a known
    /// length it goes with `Content-Length`, otherwise chunked.
    pub fn body_reader(mut self, reader: impl Read + Send + 'static, len: Option<u64>) -> Self {
        self.inner = self.inner.body(Body::stream(len));
        self.reader = Some(Box::new(reader));
        self
    }
    /// A URL-encoded form body.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.inner = self.inner.form(pairs);
        self
    }
    /// A JSON body.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.inner = self.inner.json(value);
        self
    }
    /// Credentials for this request only.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.opts.auth = Some(auth);
        self
    }
    /// Basic credentials for this request.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        self.auth(Auth::basic(user, password))
    }
    /// A Bearer token for this request.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.auth(Auth::bearer(token))
    }
    fn timeouts(
        mut self,
        f: impl FnOnce(Timeouts) -> std::result::Result<Timeouts, hawser_core::deadline::InvalidTimeout>,
    ) -> Self {
        let base = self.opts.timeouts.unwrap_or(self.session.config().timeouts);
        match f(base) {
            Ok(t) => self.opts.timeouts = Some(t),
            Err(e) => self.error = self.error.or(Some(e.into())),
        }
        self
    }
    /// Connect and read timeouts for this request.
    pub fn timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_connect(d)?.with_read(d))
    }
    /// The overall deadline for this request.
    pub fn deadline(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_deadline(d))
    }
    /// All timeouts for this request.
    pub fn with_timeouts(mut self, t: Timeouts) -> Self {
        self.opts.timeouts = Some(t);
        self
    }
    /// The retry policy for this request.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.opts.retry = Some(retry);
        self
    }
    /// Follow at most `n` redirects for this request (0: none).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.opts.redirect = Some(if n == 0 {
            RedirectPolicy::none()
        } else {
            RedirectPolicy::limited(n)
        });
        self
    }

    /// Send the request; returns once the response head arrived. The body
    /// streams from the [`Response`].
    pub fn send(mut self) -> Result<Response> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let request = self.inner.build()?;
        self.opts.seed = random_seed();
        let inner = self.session.inner.clone();
        let mut call = inner
            .agent
            .start(request, self.opts, Instant::now(), SystemTime::now())?;
        let mut driver = Driver::new(inner, self.reader);
        match driver.pump(&mut call, None)? {
            Pumped::Head(head) => Ok(Response::new(*head, call, driver)),
            _ => Err(Error::new(
                ErrorKind::Usage,
                "the call ended without a response",
            )),
        }
    }
}

/// A random seed for the call's jitter and Digest cnonce, from std's
/// per-process random hasher keys (no extra dependency).
fn random_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

macro_rules! oneoff {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        pub fn $name(url: impl AsRef<str>) -> Result<Response> {
            Session::new().$name(url).send()
        }
    )*};
}

oneoff! {
    /// One-off `GET` on a fresh session, like `requests.get`.
    ///
    /// ```no_run
    /// let body = hawser_std::get("http://127.0.0.1:8080/")?.text()?;
    /// # Ok::<(), hawser_std::Error>(())
    /// ```
    get;
    /// One-off `HEAD` on a fresh session.
    head;
    /// One-off `DELETE` on a fresh session.
    delete;
}

/// One-off `POST` of `body` on a fresh session, like `requests.post`.
pub fn post(url: impl AsRef<str>, body: impl Into<Body>) -> Result<Response> {
    Session::new().post(url).body(body).send()
}

/// One-off `PUT` of `body` on a fresh session.
pub fn put(url: impl AsRef<str>, body: impl Into<Body>) -> Result<Response> {
    Session::new().put(url).body(body).send()
}
