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
use crate::call::mount::{apply_edits, TimeoutEdit};
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
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let r = request::validate_header(name, value.as_bytes()).map(|(n, v)| {
            self.config.headers.insert(n, v);
        });
        self.keep(r)
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
        self.config.redirect = redirect_policy(n);
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
    /// Proxies from an environment map (`HTTP_PROXY`, `HTTPS_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`); backends pass `std::env::vars()`.
    pub fn proxies_from_env<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let r = ProxyConfig::from_env(env).map(|p| self.config.proxies = p);
        self.keep(r.map_err(Error::from))
    }
    /// TLS settings (custom CA, client certificate, ...).
    #[cfg(feature = "rustls")]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        let r = tls.build().map(|c| self.config.tls = c);
        self.keep(r)
    }
    /// The largest response body `bytes()`, `text()` and `json()` read
    /// into memory (default 10 MiB); streaming is not capped.
    pub fn max_body_in_memory(mut self, bytes: u64) -> Self {
        self.config.max_body_in_memory = bytes;
        self
    }
    /// A header that carries the caller's own credentials (`X-Api-Key`):
    /// stripped on cross-origin redirects like `Authorization`, and
    /// redacted in `Debug`.
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
    pub fn seed(mut self, base: u64) -> Self {
        self.config.seed = Some(base);
        self
    }
    /// A policy for every URL under `mount`'s prefix, like requests'
    /// `session.mount("https://slow.example/", HTTPAdapter(max_retries=...))`:
    /// the longest matching prefix wins, a request's own settings beat it,
    /// and mounting the same prefix again replaces it.
    pub fn mount(mut self, mount: Mount) -> Self {
        self.config.mounts.push(mount);
        self
    }
    /// Run `f` before each request is written (every attempt, redirect hop
    /// and auth re-send); it may add headers. See [`Hooks`].
    pub fn on_request(mut self, f: impl Fn(&mut HookRequest<'_>) + Send + Sync + 'static) -> Self {
        self.config.hooks = std::mem::take(&mut self.config.hooks).on_request(f);
        self
    }
    /// Run `f` for each response head read, like requests'
    /// `hooks={"response": f}` (redirects and retried statuses included).
    /// See [`Hooks`].
    pub fn on_response(mut self, f: impl Fn(&HookResponse<'_>) + Send + Sync + 'static) -> Self {
        self.config.hooks = std::mem::take(&mut self.config.hooks).on_response(f);
        self
    }
    /// Decode gzip/deflate bodies (default on).
    pub fn decompress(mut self, on: bool) -> Self {
        self.config.decompress = on;
        self
    }
    /// Edit the full [`Config`] directly.
    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }
    /// Build the session.
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
    pub fn sensitive_header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.sensitive_header(name, value);
        self
    }
    /// Do not send this session (or default) header with this request, like
    /// requests' `headers={"User-Agent": None}`.
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
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.inner = self.inner.query(pairs);
        self
    }
    /// An in-memory (replayable) body.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.inner = self.inner.body(body);
        self
    }
    /// A streamed body read while sending (not replayable: never re-sent
    /// once started). With a known length it goes with `Content-Length`,
    /// otherwise chunked.
    pub fn body_stream(mut self, source: B::BodySource, len: Option<u64>) -> Self {
        self.inner = self.inner.body(Body::stream(len));
        self.body = Some(source);
        self
    }
    /// A URL-encoded form body.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.inner = self.inner.form(pairs);
        self
    }
    /// A JSON body (feature `json`).
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
    fn timeouts(mut self, edit: TimeoutEdit) -> Self {
        self.timeouts.push(edit);
        self
    }
    /// Connect and read timeouts for this request.
    pub fn timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Both(d))
    }
    /// The connect timeout for this request.
    pub fn connect_timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Connect(d))
    }
    /// The read timeout for this request.
    pub fn read_timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Read(d))
    }
    /// The write timeout for this request.
    pub fn write_timeout(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Write(d))
    }
    /// The overall deadline for this request.
    pub fn deadline(self, d: Duration) -> Self {
        self.timeouts(TimeoutEdit::Deadline(d))
    }
    /// All timeouts for this request.
    pub fn with_timeouts(self, t: Timeouts) -> Self {
        self.timeouts(TimeoutEdit::All(t))
    }
    /// The retry policy for this request.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.opts.retry = Some(retry);
        self
    }
    /// The largest response body `bytes()`, `text()` and `json()` read into
    /// memory for this request.
    pub fn max_body_in_memory(mut self, bytes: u64) -> Self {
        self.opts.max_body_in_memory = Some(bytes);
        self
    }
    /// A fixed RNG seed for this request (its jitter and Digest cnonce), to
    /// replay it exactly; by default every request gets its own.
    pub fn seed(mut self, seed: u64) -> Self {
        self.opts.seed = seed;
        self
    }
    /// Follow at most `n` redirects for this request (0: none).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.opts.redirect = Some(redirect_policy(n));
        self
    }

    /// Send the request on the backend.
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
