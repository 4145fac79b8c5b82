//! The builders every backend shares: [`SessionBuilder`] and
//! [`RequestBuilder`], generic over a [`Backend`].
//!
//! They live in the core so that `hawser-std`, `hawser-smol` and
//! `hawser-async-std` accept exactly the same settings with exactly the same
//! validation. A backend implements [`Backend`] (how to make a session from
//! an [`Agent`], and how to run a prepared request) and re-exports the
//! builders under its own names.
//!
//! ```
//! use hawser_core::call::{Agent, CallOptions};
//! use hawser_core::client::{Backend, SessionBuilder};
//! use hawser_core::request::Request;
//! use hawser_core::Result;
//!
//! /// A toy backend that only records what it was asked to send.
//! #[derive(Clone)]
//! struct Recorder(Agent<()>);
//!
//! impl Backend for Recorder {
//!     type Transport = ();
//!     type BodySource = Vec<u8>;
//!     type Send = Result<String>;
//!     fn from_agent(agent: Agent<()>) -> Result<Self> { Ok(Recorder(agent)) }
//!     fn agent(&self) -> &Agent<()> { &self.0 }
//!     fn execute(&self, req: Result<(Request, CallOptions)>, _body: Option<Vec<u8>>) -> Result<String> {
//!         let (req, _opts) = req?;
//!         Ok(format!("{} {}", req.method(), req.url()))
//!     }
//! }
//!
//! let session: Recorder = SessionBuilder::new().header("x-a", "1").build()?;
//! let sent = hawser_core::client::RequestBuilder::new(session, http::Method::GET, "http://h.test/p")
//!     .query(&[("q", "1")])
//!     .send()?;
//! assert_eq!(sent, "GET http://h.test/p?q=1");
//! # Ok::<(), hawser_core::Error>(())
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use http::Method;

use crate::auth::Auth;
use crate::call::mount::{TimeoutEdit, apply_edits};
use crate::call::{Agent, CallOptions, Config, HookRequest, HookResponse, Mount};
use crate::deadline::{InvalidTimeout, Timeouts};
use crate::pool::PoolConfig;
use crate::proxy::ProxyConfig;
use crate::redirect::RedirectPolicy;
use crate::request::{self, Body, Request};
use crate::retry::{Retry, RetryBudget};
use crate::{Error, Result};

/// What a backend crate supplies to the shared builders.
pub trait Backend: Clone + Sized {
    /// The driver's transport handle (what its agent's pool holds).
    type Transport;
    /// Where a streamed request body comes from (`std::io::Read` for a
    /// blocking backend, `AsyncRead` for an async one).
    type BodySource;
    /// What [`RequestBuilder::send`] returns: a `Result<Response>` or a
    /// future of one.
    type Send;
    /// A session from a configured agent.
    fn from_agent(agent: Agent<Self::Transport>) -> Result<Self>;
    /// The session's agent.
    fn agent(&self) -> &Agent<Self::Transport>;
    /// Run a request (or report the error met while building it). The
    /// options carry the call's RNG seed, from [`Agent::next_seed`].
    fn execute(
        &self,
        request: Result<(Request, CallOptions)>,
        body: Option<Self::BodySource>,
    ) -> Self::Send;
}

fn redirect_policy(n: u32) -> RedirectPolicy {
    if n == 0 {
        RedirectPolicy::none()
    } else {
        RedirectPolicy::limited(n)
    }
}

/// Configures a session. Invalid settings are reported by [`build`](Self::build).
#[must_use]
pub struct SessionBuilder<B> {
    config: Config,
    error: Option<Error>,
    _backend: PhantomData<fn() -> B>,
}

impl<B> fmt::Debug for SessionBuilder<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Default for SessionBuilder<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> SessionBuilder<B> {
    /// Start from the default [`Config`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().build()?;
    /// assert!(s.config().cookie_store);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Self {
        SessionBuilder {
            config: Config::default(),
            error: None,
            _backend: PhantomData,
        }
    }

    fn keep(mut self, r: Result<()>) -> Self {
        if let Err(e) = r {
            self.error = self.error.or(Some(e));
        }
        self
    }

    fn timeouts(mut self, f: impl FnOnce(Timeouts) -> Result<Timeouts, InvalidTimeout>) -> Self {
        let r = f(self.config.timeouts).map(|t| self.config.timeouts = t);
        self.keep(r.map_err(Error::from))
    }

    /// A default header for every request (a request may override it).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().header("x-team", "core").build()?;
    /// assert_eq!(s.config().headers["x-team"], "core");
    /// assert!(SessionBuilder::<Session>::new().header("x-bad", "a\r\nb").build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let r = request::validate_header(name, value.as_bytes()).map(|(n, v)| {
            self.config.headers.insert(n, v);
        });
        self.keep(r)
    }
    /// Credentials for every request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// use hawser_core::auth::Auth;
    /// let s: Session = SessionBuilder::new().auth(Auth::bearer("t0k3n")).build()?;
    /// assert!(s.config().auth.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn auth(mut self, auth: Auth) -> Self {
        self.config.auth = Some(auth);
        self
    }
    /// Basic credentials for every request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().basic_auth("user", "s3cr3t").build()?;
    /// assert!(s.config().auth.is_some());
    /// assert!(!format!("{:?}", s.config()).contains("s3cr3t"), "credentials stay out of Debug");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        self.auth(Auth::basic(user, password))
    }
    /// Digest credentials, answering the server's challenges.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().digest_auth("user", "pass").build()?;
    /// assert!(s.config().auth.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn digest_auth(self, user: &str, password: &str) -> Self {
        self.auth(Auth::digest(user, password))
    }
    /// A Bearer token for every request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().bearer_auth("t0k3n").build()?;
    /// assert!(s.config().auth.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bearer_auth(self, token: &str) -> Self {
        self.auth(Auth::bearer(token))
    }
    /// Keep cookies across requests (default on).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().cookie_store(false).build()?;
    /// assert!(!s.config().cookie_store);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cookie_store(mut self, on: bool) -> Self {
        self.config.cookie_store = on;
        self
    }
    /// The retry policy.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// use hawser_core::retry::Retry;
    /// let policy = Retry::new(Some(5)).status_forcelist([502, 503]);
    /// let s: Session = SessionBuilder::new().retry(policy.clone()).build()?;
    /// assert_eq!(s.config().retry, policy);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry(mut self, retry: Retry) -> Self {
        self.config.retry = retry;
        self
    }
    /// A retry budget shared by the session's requests.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// use hawser_core::retry::RetryBudget;
    /// let s: Session = SessionBuilder::new().retry_budget(RetryBudget::default()).build()?;
    /// assert!(s.config().retry_budget.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.config.retry_budget = Some(budget);
        self
    }
    /// Connect and read timeouts (requests' `timeout=5`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().timeout(Duration::from_secs(5)).build()?;
    /// assert_eq!(s.config().timeouts.connect(), Duration::from_secs(5));
    /// assert_eq!(s.config().timeouts.read(), Duration::from_secs(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_connect(d)?.with_read(d))
    }
    /// The connect timeout.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().connect_timeout(Duration::from_secs(3)).build()?;
    /// assert_eq!(s.config().timeouts.connect(), Duration::from_secs(3));
    /// assert!(SessionBuilder::<Session>::new().connect_timeout(Duration::ZERO).build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_connect(d))
    }
    /// The read timeout (longest silence).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().read_timeout(Duration::from_secs(27)).build()?;
    /// assert_eq!(s.config().timeouts.read(), Duration::from_secs(27));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_read(d))
    }
    /// The write timeout (longest stall while sending).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().write_timeout(Duration::from_secs(9)).build()?;
    /// assert_eq!(s.config().timeouts.write(), Duration::from_secs(9));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_timeout(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_write(d))
    }
    /// The overall deadline of each logical request, across retries.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().deadline(Duration::from_secs(20)).build()?;
    /// assert_eq!(s.config().timeouts.deadline(), Duration::from_secs(20));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deadline(self, d: Duration) -> Self {
        self.timeouts(|t| t.with_deadline(d))
    }
    /// Follow at most `n` redirects (`0`: return 3xx responses as they are).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().max_redirects(3).build()?;
    /// assert_eq!(s.config().redirect.max_redirects(), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.config.redirect = redirect_policy(n);
        self
    }
    /// Pool limits and eviction.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// use hawser_core::pool::{PoolConfig, WhenFull};
    /// let s: Session = SessionBuilder::new()
    ///     .pool(PoolConfig { max_active_per_host: 4, when_full: WhenFull::Wait, ..PoolConfig::default() })
    ///     .build()?;
    /// assert_eq!(s.config().pool.max_active_per_host, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.config.pool = pool;
        self
    }
    /// Proxies.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// use hawser_core::proxy::{Proxy, ProxyConfig};
    /// let s: Session = SessionBuilder::new()
    ///     .proxies(ProxyConfig::new().with_all(Proxy::parse("http://proxy.test:3128")?))
    ///     .build()?;
    /// let route = s.config().proxies.route(&"http://h.test/".parse()?)?;
    /// assert_eq!(route.proxy().map(|p| p.port()), Some(3128));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxies(mut self, proxies: ProxyConfig) -> Self {
        self.config.proxies = proxies;
        self
    }
    /// Proxies from an environment map (`HTTP_PROXY`, `HTTPS_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`); backends pass `std::env::vars()`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let env = [("HTTPS_PROXY", "http://proxy.test:3128"), ("NO_PROXY", "internal.test")];
    /// let s: Session = SessionBuilder::new().proxies_from_env(env).build()?;
    /// assert!(s.config().proxies.route(&"https://h.test/".parse()?)?.proxy().is_some());
    /// assert!(s.config().proxies.route(&"https://internal.test/".parse()?)?.proxy().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxies_from_env<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let r = ProxyConfig::from_env(env).map(|p| self.config.proxies = p);
        self.keep(r.map_err(Error::from))
    }
    /// TLS settings (custom CA, client certificate, ...).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// use hawser_core::tls::TlsConfig;
    /// let s: Session = SessionBuilder::new()
    ///     .tls(TlsConfig::new().dangerous_disable_certificate_verification())
    ///     .build()?;
    /// assert!(!s.config().tls.verifies_certificates());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "rustls")]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        let r = tls.build().map(|c| self.config.tls = c);
        self.keep(r)
    }
    /// The largest response body `bytes()`, `text()` and `json()` read
    /// into memory (default 10 MiB); streaming is not capped.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().max_body_in_memory(1 << 20).build()?;
    /// assert_eq!(s.config().max_body_in_memory, 1 << 20);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_body_in_memory(mut self, bytes: u64) -> Self {
        self.config.max_body_in_memory = bytes;
        self
    }
    /// A header that carries the caller's own credentials (`X-Api-Key`):
    /// stripped on cross-origin redirects like `Authorization`, and
    /// redacted in `Debug`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().sensitive_header("X-Api-Key").build()?;
    /// assert_eq!(s.config().sensitive_headers[0], "x-api-key");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sensitive_header(mut self, name: &str) -> Self {
        match http::header::HeaderName::from_bytes(name.as_bytes()) {
            Ok(n) => self.config.sensitive_headers.push(n),
            Err(_) => {
                let e = Error::new(
                    crate::ErrorKind::InvalidRequest,
                    format!("invalid header name {name:?}"),
                );
                self.error = self.error.or(Some(e));
            }
        }
        self
    }
    /// A fixed base for the per-call RNG seeds (jitter, Digest cnonces), to
    /// replay a run exactly; by default each session draws a random one.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().seed(7).build()?;
    /// assert_eq!(s.config().seed, Some(7));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seed(mut self, base: u64) -> Self {
        self.config.seed = Some(base);
        self
    }
    /// A policy for every URL under `mount`'s prefix, like requests'
    /// `session.mount("https://slow.example/", HTTPAdapter(max_retries=...))`:
    /// the longest matching prefix wins, a request's own settings beat it,
    /// and mounting the same prefix again replaces it.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// use hawser_core::call::Mount;
    /// let s: Session = SessionBuilder::new()
    ///     .mount(Mount::new("https://slow.test/").read_timeout(Duration::from_secs(120)))
    ///     .build()?;
    /// let url = "https://slow.test/report".parse()?;
    /// assert_eq!(s.agent().timeouts_for(&url).read(), Duration::from_secs(120));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mount(mut self, mount: Mount) -> Self {
        self.config.mounts.push(mount);
        self
    }
    /// Run `f` before each request is written (every attempt, redirect hop
    /// and auth re-send); it may add headers. See [`Hooks`](crate::call::Hooks).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new()
    ///     .on_request(|req| { let _ = req.add_header("x-request-id", "r-1"); })
    ///     .build()?;
    /// assert_eq!(s.config().hooks.request_hooks(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_request(mut self, f: impl Fn(&mut HookRequest<'_>) + Send + Sync + 'static) -> Self {
        self.config.hooks = std::mem::take(&mut self.config.hooks).on_request(f);
        self
    }
    /// Run `f` for each response head read, like requests'
    /// `hooks={"response": f}` (redirects and retried statuses included).
    /// See [`Hooks`](crate::call::Hooks).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new()
    ///     .on_response(|resp| eprintln!("{} {}", resp.status(), resp.url()))
    ///     .build()?;
    /// assert_eq!(s.config().hooks.response_hooks(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_response(mut self, f: impl Fn(&HookResponse<'_>) + Send + Sync + 'static) -> Self {
        self.config.hooks = std::mem::take(&mut self.config.hooks).on_response(f);
        self
    }
    /// Decode gzip/deflate bodies (default on).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().decompress(false).build()?;
    /// assert!(!s.config().decompress);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decompress(mut self, on: bool) -> Self {
        self.config.decompress = on;
        self
    }
    /// Edit the full [`Config`] directly.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Session = SessionBuilder::new().config(|c| c.max_drain = 0).build()?;
    /// assert_eq!(s.config().max_drain, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }
    /// Build the session.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::{doc::Session, SessionBuilder};
    /// let s: Result<Session, _> = SessionBuilder::new().read_timeout(Duration::ZERO).build();
    /// assert_eq!(s.err().map(|e| e.kind()), Some(hawser_core::ErrorKind::InvalidRequest));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<B> {
        match self.error {
            Some(e) => Err(e),
            None => B::from_agent(Agent::new(self.config)?),
        }
    }
}

/// A request being built; [`send`](Self::send) runs it on the backend.
#[must_use = "a request does nothing until send() is called"]
pub struct RequestBuilder<B: Backend> {
    session: B,
    inner: request::RequestBuilder,
    opts: CallOptions,
    /// Timeout changes, applied at `send` over the timeouts of the URL's
    /// mount (or the session's).
    timeouts: Vec<TimeoutEdit>,
    body: Option<B::BodySource>,
    error: Option<Error>,
}

impl<B: Backend> fmt::Debug for RequestBuilder<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("options", &self.opts)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> RequestBuilder<B> {
    /// A request with `method` to `url` on `session`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// use hawser_core::client::RequestBuilder;
    /// let (req, _opts) = RequestBuilder::new(session, http::Method::PUT, "http://h.test/x").send()?;
    /// assert_eq!((req.method().as_str(), req.url().as_str()), ("PUT", "http://h.test/x"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(session: B, method: Method, url: impl AsRef<str>) -> Self {
        let opts = CallOptions {
            seed: session.agent().next_seed(),
            ..CallOptions::default()
        };
        RequestBuilder {
            session,
            inner: Request::builder(method, url),
            opts,
            timeouts: Vec::new(),
            body: None,
            error: None,
        }
    }

    /// Add a header (a session header of the same name is replaced). A
    /// name the session lists as sensitive is marked so.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (req, _) = session.get("http://h.test/").header("x-trace", "1").send()?;
    /// assert_eq!(req.headers()["x-trace"], "1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let mut listed = self.session.agent().config().sensitive_headers.iter();
        if listed.any(|n| n.as_str().eq_ignore_ascii_case(name)) {
            self.inner = self.inner.sensitive_header(name, value);
        } else {
            self.inner = self.inner.header(name, value);
        }
        self
    }
    /// Add a header whose value is a credential: stripped on cross-origin
    /// redirects and redacted in `Debug`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (req, _) = session.get("http://h.test/").sensitive_header("x-api-key", "k3y").send()?;
    /// assert!(req.headers()["x-api-key"].is_sensitive());
    /// assert!(!format!("{req:?}").contains("k3y"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sensitive_header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.sensitive_header(name, value);
        self
    }
    /// Do not send this session (or default) header with this request, like
    /// requests' `headers={"User-Agent": None}`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").remove_header("user-agent").send()?;
    /// assert_eq!(opts.remove_headers[0], "user-agent");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_header(mut self, name: &str) -> Self {
        match http::header::HeaderName::from_bytes(name.as_bytes()) {
            Ok(n) => self.opts.remove_headers.push(n),
            Err(_) => {
                let e = Error::new(
                    crate::ErrorKind::InvalidRequest,
                    format!("invalid header name {name:?}"),
                );
                self.error = self.error.or(Some(e));
            }
        }
        self
    }
    /// Append query parameters.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (req, _) = session.get("http://h.test/s?a=1").query(&[("q", "rust http")]).send()?;
    /// assert_eq!(req.url().query(), Some("a=1&q=rust+http"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.inner = self.inner.query(pairs);
        self
    }
    /// An in-memory (replayable) body.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (req, _) = session.post("http://h.test/").body("hello").send()?;
    /// assert_eq!(req.body().as_bytes().map(|b| &b[..]), Some(&b"hello"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.inner = self.inner.body(body);
        self
    }
    /// A streamed body read while sending (not replayable: never re-sent
    /// once started). With a known length it goes with `Content-Length`,
    /// otherwise chunked.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (req, _) = session.post("http://h.test/").body_stream(b"data".to_vec(), Some(4)).send()?;
    /// assert!(req.body().is_stream() && !req.body().is_replayable());
    /// assert_eq!(req.body().len(), Some(4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn body_stream(mut self, source: B::BodySource, len: Option<u64>) -> Self {
        self.inner = self.inner.body(Body::stream(len));
        self.body = Some(source);
        self
    }
    /// A URL-encoded form body.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (req, _) = session.post("http://h.test/").form(&[("a", "1"), ("b", "x y")]).send()?;
    /// assert_eq!(req.body().as_bytes().map(|b| &b[..]), Some(&b"a=1&b=x+y"[..]));
    /// assert_eq!(req.headers()["content-type"], "application/x-www-form-urlencoded");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.inner = self.inner.form(pairs);
        self
    }
    /// A JSON body (feature `json`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (req, _) = session.post("http://h.test/").json(&[1, 2]).send()?;
    /// assert_eq!(req.body().as_bytes().map(|b| &b[..]), Some(&b"[1,2]"[..]));
    /// assert_eq!(req.headers()["content-type"], "application/json");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.inner = self.inner.json(value);
        self
    }
    /// Credentials for this request only.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// use hawser_core::auth::Auth;
    /// let (_, opts) = session.get("http://h.test/").auth(Auth::basic("u", "p")).send()?;
    /// assert!(opts.auth.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn auth(mut self, auth: Auth) -> Self {
        self.opts.auth = Some(auth);
        self
    }
    /// Basic credentials for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").basic_auth("u", "p").send()?;
    /// assert!(opts.auth.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        self.auth(Auth::basic(user, password))
    }
    /// A Bearer token for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").bearer_auth("t0k3n").send()?;
    /// assert!(opts.auth.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bearer_auth(self, token: &str) -> Self {
        self.auth(Auth::bearer(token))
    }
    fn timeouts(mut self, edit: TimeoutEdit) -> Self {
        self.timeouts.push(edit);
        self
    }
    /// Connect and read timeouts for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").timeout(Duration::from_secs(2)).send()?;
    /// let t = opts.timeouts.unwrap();
    /// assert_eq!((t.connect(), t.read()), (Duration::from_secs(2), Duration::from_secs(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Both(d))
    }
    /// The connect timeout for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").connect_timeout(Duration::from_secs(1)).send()?;
    /// assert_eq!(opts.timeouts.unwrap().connect(), Duration::from_secs(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Connect(d))
    }
    /// The read timeout for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").read_timeout(Duration::from_secs(1)).send()?;
    /// assert_eq!(opts.timeouts.unwrap().read(), Duration::from_secs(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Read(d))
    }
    /// The write timeout for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").write_timeout(Duration::from_secs(1)).send()?;
    /// assert_eq!(opts.timeouts.unwrap().write(), Duration::from_secs(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Write(d))
    }
    /// The overall deadline for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").deadline(Duration::from_secs(4)).send()?;
    /// assert_eq!(opts.timeouts.unwrap().deadline(), Duration::from_secs(4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deadline(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Deadline(d))
    }
    /// All timeouts for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// use hawser_core::deadline::Timeouts;
    /// let t = Timeouts::from_pair_secs_f64(3.05, 27.0)?;
    /// let (_, opts) = session.get("http://h.test/").with_timeouts(t).send()?;
    /// assert_eq!(opts.timeouts.unwrap().read(), Duration::from_secs(27));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_timeouts(self, t: Timeouts) -> Self {
        self.timeouts(TimeoutEdit::All(t))
    }
    /// The retry policy for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// use hawser_core::retry::Retry;
    /// let (_, opts) = session.get("http://h.test/").retry(Retry::disabled()).send()?;
    /// assert_eq!(opts.retry, Some(Retry::disabled()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry(mut self, retry: Retry) -> Self {
        self.opts.retry = Some(retry);
        self
    }
    /// The largest response body `bytes()`, `text()` and `json()` read into
    /// memory for this request.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").max_body_in_memory(4096).send()?;
    /// assert_eq!(opts.max_body_in_memory, Some(4096));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_body_in_memory(mut self, bytes: u64) -> Self {
        self.opts.max_body_in_memory = Some(bytes);
        self
    }
    /// A fixed RNG seed for this request (its jitter and Digest cnonce), to
    /// replay it exactly; by default every request gets its own.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").seed(7).send()?;
    /// assert_eq!(opts.seed, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.opts.seed = seed;
        self
    }
    /// Follow at most `n` redirects for this request (0: none).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let (_, opts) = session.get("http://h.test/").max_redirects(2).send()?;
    /// assert_eq!(opts.redirect.unwrap().max_redirects(), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.opts.redirect = Some(redirect_policy(n));
        self
    }

    /// Send the request on the backend.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use hawser_core::client::doc::Session;
    /// # let session = Session::new();
    /// let err = session.get("not a url").send().unwrap_err();
    /// assert_eq!(err.kind(), hawser_core::ErrorKind::InvalidRequest);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(self) -> B::Send {
        let agent = self.session.agent();
        let edits = self.timeouts;
        let prepared = match self.error {
            Some(e) => Err(e),
            None => self.inner.build().and_then(|r| {
                let mut opts = self.opts;
                if !edits.is_empty() {
                    // Over the mount's timeouts, so a request that sets only
                    // its read timeout keeps the mount's deadline.
                    let base = opts.timeouts.unwrap_or_else(|| agent.timeouts_for(r.url()));
                    opts.timeouts = Some(apply_edits(base, &edits)?);
                }
                Ok((r, opts))
            }),
        };
        self.session.execute(prepared, self.body)
    }
}

/// A backend for the builders' doc examples: `send` returns the prepared
/// request and options instead of running them. Not part of the API.
#[doc(hidden)]
pub mod doc {
    use super::{Backend, RequestBuilder};
    use crate::Result;
    use crate::call::{Agent, CallOptions, Config};
    use crate::request::Request;

    /// A session whose requests report what they would send.
    #[derive(Clone)]
    pub struct Session(Agent<()>);

    impl Session {
        /// A session with the default settings.
        pub fn new() -> Session {
            Session(Agent::new(Config::default()).expect("the default config is valid"))
        }
        /// The session's settings.
        pub fn config(&self) -> &Config {
            self.0.config()
        }
        /// The session's agent.
        pub fn agent(&self) -> &Agent<()> {
            &self.0
        }
        /// A GET to `url`.
        pub fn get(&self, url: &str) -> RequestBuilder<Session> {
            RequestBuilder::new(self.clone(), http::Method::GET, url)
        }
        /// A POST to `url`.
        pub fn post(&self, url: &str) -> RequestBuilder<Session> {
            RequestBuilder::new(self.clone(), http::Method::POST, url)
        }
    }

    impl Default for Session {
        fn default() -> Session {
            Session::new()
        }
    }

    impl Backend for Session {
        type Transport = ();
        type BodySource = Vec<u8>;
        type Send = Result<(Request, CallOptions)>;
        fn from_agent(agent: Agent<()>) -> Result<Self> {
            Ok(Session(agent))
        }
        fn agent(&self) -> &Agent<()> {
            &self.0
        }
        fn execute(
            &self,
            request: Result<(Request, CallOptions)>,
            _body: Option<Vec<u8>>,
        ) -> Self::Send {
            request
        }
    }
}
