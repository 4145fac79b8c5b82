//! # hawser-std: the blocking hawser client
//!
//! A [`Session`] reuses connections, keeps headers, cookies and auth across
//! calls, retries what is safe to retry with backoff and `Retry-After`,
//! bounds every wait, follows redirects safely and reports typed errors.
//! All of that behaviour lives in [`hawser_core`], the connection pool
//! included; this crate only resolves and connects, moves bytes over
//! `std::net::TcpStream`, peeks at idle sockets, and sleeps when told.
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
//! Coming from requests: `REQUESTS.md` in the repository maps requests'
//! exceptions onto [`Error`]'s `is_*` helpers and lists every deliberate
//! difference.
//!
//! Every wait is bounded by the core's deadlines, name resolution included:
//! the system resolver has no timeout, so a lookup runs on a short-lived
//! thread that is abandoned when the connect deadline passes. What it does
//! not do: HTTP/2, HTTPS or SOCKS proxies.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod driver;
mod net;
mod response;

use std::io::Read;
use std::time::{Instant, SystemTime};

pub use hawser_core::auth::{
    Auth, AuthError, AuthHook, AuthTarget, ChallengeContext, HookDecision, OutgoingRequest,
};
pub use hawser_core::call::{
    AttemptOutcome, AttemptReport, CallReport, Config, Head, HistoryItem, HookRequest,
    HookResponse, Hooks, Mount,
};
pub use hawser_core::cookies::{Cookie, CookieJar};
pub use hawser_core::deadline::Timeouts;
pub use hawser_core::pool::{PoolConfig, PoolStats, WhenFull};
pub use hawser_core::proxy::{Proxy, ProxyConfig};
pub use hawser_core::redirect::RedirectPolicy;
pub use hawser_core::request::Body;
pub use hawser_core::retry::{Retry, RetryBudget};
#[cfg(feature = "rustls")]
pub use hawser_core::tls::TlsConfig;
pub use hawser_core::{Error, ErrorKind, Result, TimeoutPhase};
pub use http::{self, HeaderMap, Method, StatusCode};
pub use net::Connection;
pub use response::Response;
pub use url::{self, Url};

use driver::{Driver, Pumped};
use hawser_core::call::{Agent, CallOptions};
use hawser_core::client::Backend;

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
    agent: Agent<Connection>,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("agent", &self.agent)
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
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// let session = hawser_std::Session::new();
    /// assert_eq!(session.config().timeouts, hawser_std::Timeouts::default());
    /// assert_eq!(session.get(srv.url("/")).send()?.text()?, "hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Session {
        Session::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// Configure a session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// let session = hawser_std::Session::builder().header("x-client", "docs").build()?;
    /// session.get(srv.url("/")).send()?.bytes()?;
    /// assert_eq!(srv.requests()[0].header("x-client"), Some("docs"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// Start a request with any method.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// let session = hawser_std::Session::new();
    /// let resp = session.request(hawser_std::Method::OPTIONS, srv.url("/")).send()?;
    /// assert_eq!(resp.status(), 200);
    /// assert_eq!(srv.requests()[0].method, "OPTIONS");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url)
    }

    verbs! {
        /// `GET url`.
        ///
        /// ```
        /// # use hawser_testkit::{Behaviour, Reply, TestServer};
        /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
        /// let resp = hawser_std::Session::new().get(srv.url("/")).send()?;
        /// assert_eq!((resp.status(), resp.text()?), (hawser_std::StatusCode::OK, "hi".to_owned()));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        get => Method::GET;
        /// `POST url`.
        ///
        /// ```
        /// # use hawser_testkit::{Behaviour, TestServer};
        /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
        /// hawser_std::Session::new().post(srv.url("/")).body("new item").send()?.bytes()?;
        /// let seen = &srv.requests()[0];
        /// assert_eq!((seen.method.as_str(), &seen.body[..]), ("POST", &b"new item"[..]));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        post => Method::POST;
        /// `PUT url`.
        ///
        /// ```
        /// # use hawser_testkit::{Behaviour, TestServer};
        /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
        /// hawser_std::Session::new().put(srv.url("/")).body("v2").send()?.bytes()?;
        /// assert_eq!((srv.requests()[0].method.as_str(), &srv.requests()[0].body[..]), ("PUT", &b"v2"[..]));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        put => Method::PUT;
        /// `DELETE url`.
        ///
        /// ```
        /// # use hawser_testkit::{Behaviour, TestServer};
        /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
        /// let resp = hawser_std::Session::new().delete(srv.url("/")).send()?;
        /// assert_eq!(resp.status(), 200);
        /// assert_eq!(srv.requests()[0].method, "DELETE");
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        delete => Method::DELETE;
        /// `HEAD url`.
        ///
        /// ```
        /// # use hawser_testkit::{Behaviour, Reply, TestServer};
        /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
        /// let resp = hawser_std::Session::new().head(srv.url("/")).send()?;
        /// assert_eq!(resp.content_length(), Some(2)); // the length a GET would get...
        /// assert_eq!(resp.bytes()?, b""); // ...but no body
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        head => Method::HEAD;
        /// `PATCH url`.
        ///
        /// ```
        /// # use hawser_testkit::{Behaviour, TestServer};
        /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
        /// hawser_std::Session::new().patch(srv.url("/")).body("x=1").send()?.bytes()?;
        /// assert_eq!(srv.requests()[0].method, "PATCH");
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        patch => Method::PATCH;
    }

    /// Connection pool counters (opened, reused, evicted, waited, ...).
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// let session = hawser_std::Session::new();
    /// for _ in 0..3 {
    ///     session.get(srv.url("/")).send()?.bytes()?; // read to the end: back to the pool
    /// }
    /// let stats = session.pool_stats();
    /// assert_eq!((stats.opened, stats.reused), (1, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pool_stats(&self) -> PoolStats {
        self.agent.pool_stats()
    }

    /// The session's settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// let session = hawser_std::Session::builder().read_timeout(Duration::from_secs(3)).max_redirects(2).build()?;
    /// assert_eq!(session.config().timeouts.read(), Duration::from_secs(3));
    /// assert_eq!(session.config().redirect.max_redirects(), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn config(&self) -> &Config {
        self.agent.config()
    }

    /// The session's cookie jar, locked while the guard lives (keep it
    /// short): read it with `iter()`, seed it with
    /// `try_store(url, "name=value; ...", now)`, empty it with `clear()`.
    ///
    /// ```
    /// let s = hawser_std::Session::new();
    /// let url = hawser_std::Url::parse("https://api.example/").unwrap();
    /// s.cookies().try_store(&url, "session=abc; Secure", std::time::SystemTime::now()).unwrap();
    /// assert_eq!(s.cookies().iter().map(|c| c.name()).collect::<Vec<_>>(), ["session"]);
    /// s.cookies().clear();
    /// assert!(s.cookies().is_empty());
    /// ```
    pub fn cookies(&self) -> std::sync::MutexGuard<'_, CookieJar> {
        self.agent.cookies()
    }
}

/// Configures a [`Session`]; see [`hawser_core::client::SessionBuilder`].
///
/// ```
/// use std::time::Duration;
/// let s = hawser_std::Session::builder().timeout(Duration::ZERO).build();
/// assert_eq!(s.unwrap_err().kind(), hawser_std::ErrorKind::InvalidRequest);
/// ```
pub type SessionBuilder = hawser_core::client::SessionBuilder<Session>;

/// A request being built; see [`hawser_core::client::RequestBuilder`].
/// `send()` returns once the response head arrived; the body streams from
/// the [`Response`].
pub type RequestBuilder = hawser_core::client::RequestBuilder<Session>;

impl Backend for Session {
    type Transport = Connection;
    type BodySource = Box<dyn Read + Send>;
    type Send = Result<Response>;

    fn from_agent(agent: Agent<Connection>) -> Result<Session> {
        Ok(Session { agent })
    }

    fn agent(&self) -> &Agent<Connection> {
        &self.agent
    }

    fn execute(
        &self,
        request: Result<(hawser_core::request::Request, CallOptions)>,
        body: Option<Self::BodySource>,
    ) -> Result<Response> {
        let (request, opts) = request?;
        let mut call = self
            .agent
            .start_boxed(request, opts, Instant::now(), SystemTime::now())?;
        // Head and in-memory body leave in one writev.
        call.accept_vectored(true);
        let mut driver = Driver::new(body);
        match driver.pump(&mut call, None)? {
            Pumped::Head(head) => Ok(Response::new(*head, call, driver)),
            _ => Err(Error::new(
                ErrorKind::Usage,
                "the call ended without a response",
            )),
        }
    }
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
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// let resp = hawser_std::head(srv.url("/"))?;
    /// assert_eq!((resp.status().as_u16(), resp.content_length()), (200, Some(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    head;
    /// One-off `DELETE` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// assert_eq!(hawser_std::delete(srv.url("/"))?.status(), 200);
    /// assert_eq!(srv.requests()[0].method, "DELETE");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    delete;
}

/// One-off `POST` of `body` on a fresh session, like `requests.post`.
///
/// ```
/// # use hawser_testkit::{Behaviour, TestServer};
/// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
/// hawser_std::post(srv.url("/"), "hello")?.bytes()?;
/// assert_eq!((srv.requests()[0].method.as_str(), &srv.requests()[0].body[..]), ("POST", &b"hello"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn post(url: impl AsRef<str>, body: impl Into<Body>) -> Result<Response> {
    Session::new().post(url).body(body).send()
}

/// One-off `PUT` of `body` on a fresh session.
///
/// ```
/// # use hawser_testkit::{Behaviour, TestServer};
/// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
/// hawser_std::put(srv.url("/"), vec![1u8, 2, 3])?.bytes()?;
/// assert_eq!(srv.requests()[0].body, [1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn put(url: impl AsRef<str>, body: impl Into<Body>) -> Result<Response> {
    Session::new().put(url).body(body).send()
}

/// One-off `PATCH` of `body` on a fresh session.
///
/// ```
/// # use hawser_testkit::{Behaviour, TestServer};
/// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
/// hawser_std::patch(srv.url("/"), "op=add")?.bytes()?;
/// assert_eq!(srv.requests()[0].method, "PATCH");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn patch(url: impl AsRef<str>, body: impl Into<Body>) -> Result<Response> {
    Session::new().patch(url).body(body).send()
}

/// The README's quick start, compiled as a doctest so it stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

// The requests guide's snippets compile (and keep compiling) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../REQUESTS.md")]
pub struct RequestsGuide;
