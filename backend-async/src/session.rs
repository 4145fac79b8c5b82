//! The async [`Session`], generic over a [`Runtime`].

use std::future::Future;
use std::pin::Pin;
use std::time::{Instant, SystemTime};

use http::Method;

use hawser_core::call::{Agent, CallOptions, Config};
use hawser_core::client::{self, Backend};
use hawser_core::pool::PoolStats;
use hawser_core::request::Request;
use hawser_core::{Error, ErrorKind, Result};

use crate::BodySource;
use crate::conn::Conn;
use crate::driver::{Driver, Pumped};
use crate::response::{Exchange, Response};
use crate::runtime::Runtime;

/// An async HTTP client session on runtime `R`: a connection pool, default
/// headers, a cookie jar, auth, retry policy and timeouts shared by its
/// requests.
///
/// Cheap to clone (clones share the pool); `Send + Sync`. Dropping the last
/// clone closes its idle connections.
///
/// Runtime crates name it for their runtime (`hawser_smol::Session` is
/// `Session<Smol>`).
///
/// ```
/// fn shareable<T: Send + Sync + Clone>(_: &T) {}
/// fn any_runtime<R: hawser_async::Runtime>() {
///     let s: hawser_async::Session<R> = hawser_async::Session::new();
///     shareable(&s.clone()); // clones share the pool
/// }
/// ```
pub struct Session<R: Runtime> {
    agent: Agent<Conn<R>>,
}

impl<R: Runtime> Clone for Session<R> {
    fn clone(&self) -> Self {
        Session {
            agent: self.agent.clone(),
        }
    }
}

impl<R: Runtime> Default for Session<R> {
    fn default() -> Self {
        Session::new()
    }
}

impl<R: Runtime> std::fmt::Debug for Session<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("agent", &self.agent)
            .finish()
    }
}

macro_rules! verbs {
    ($($(#[$m:meta])* $name:ident => $method:expr;)*) => {$(
        $(#[$m])*
        pub fn $name(&self, url: impl AsRef<str>) -> client::RequestBuilder<Self> {
            self.request($method, url)
        }
    )*};
}

impl<R: Runtime> Session<R> {
    /// A session with the default [`Config`].
    pub fn new() -> Self {
        Session::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// Configure a session.
    pub fn builder() -> client::SessionBuilder<Self> {
        client::SessionBuilder::new()
    }

    /// Start a request with any method.
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> client::RequestBuilder<Self> {
        client::RequestBuilder::new(self.clone(), method, url)
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
        self.agent.pool_stats()
    }

    /// The session's settings.
    pub fn config(&self) -> &Config {
        self.agent.config()
    }

    /// The session's cookie jar, locked while the guard lives (keep it
    /// short, and never across an `.await`): read it with `iter()`, seed it
    /// with `try_store(url, "name=value; ...", now)`, empty it with `clear()`.
    ///
    /// ```
    /// fn seeded<R: hawser_async::Runtime>(s: &hawser_async::Session<R>) -> usize {
    ///     let url = hawser_async::Url::parse("https://api.example/").unwrap();
    ///     let now = std::time::SystemTime::now();
    ///     s.cookies().try_store(&url, "session=abc; Secure", now).unwrap();
    ///     s.cookies().len()
    /// }
    /// # let _ = seeded::<hawser_smol_free::Rt>;
    /// # mod hawser_smol_free { pub struct Rt; impl hawser_async::Runtime for Rt {
    /// #     type Stream = ();
    /// #     async fn resolve(_: String, _: u16) -> std::io::Result<Vec<std::net::SocketAddr>> { Ok(vec![]) }
    /// #     async fn connect(_: std::net::SocketAddr) -> std::io::Result<()> { Ok(()) }
    /// #     async fn sleep_until(_: std::time::Instant) {}
    /// #     fn poll_read(_: &mut (), _: &mut std::task::Context<'_>, _: &mut [u8]) -> std::task::Poll<std::io::Result<usize>> { std::task::Poll::Ready(Ok(0)) }
    /// #     fn poll_write(_: &mut (), _: &mut std::task::Context<'_>, _: &[u8]) -> std::task::Poll<std::io::Result<usize>> { std::task::Poll::Ready(Ok(0)) }
    /// #     fn peek(_: &()) -> std::io::Result<usize> { Ok(0) }
    /// # } }
    /// ```
    pub fn cookies(&self) -> std::sync::MutexGuard<'_, hawser_core::cookies::CookieJar> {
        self.agent.cookies()
    }
}

/// What [`client::RequestBuilder::send`] returns: a future of the response
/// head (the body streams from the [`Response`]).
pub type SendFuture<R> = Pin<Box<dyn Future<Output = Result<Response<R>>> + Send>>;

impl<R: Runtime> Backend for Session<R> {
    type Transport = Conn<R>;
    type BodySource = BodySource;
    type Send = SendFuture<R>;

    fn from_agent(agent: Agent<Conn<R>>) -> Result<Self> {
        Ok(Session { agent })
    }

    fn agent(&self) -> &Agent<Conn<R>> {
        &self.agent
    }

    fn execute(
        &self,
        request: Result<(Request, CallOptions)>,
        body: Option<BodySource>,
    ) -> SendFuture<R> {
        let agent = self.agent.clone();
        Box::pin(async move {
            let (request, opts) = request?;
            // The call (3 KB) is built on the heap, so this future stays
            // small and the call never moves (not at the awaits, not into
            // the response).
            let call = agent.start_boxed(request, opts, Instant::now(), SystemTime::now())?;
            let mut ex = Exchange::new(call, Driver::new(body));
            match ex.pump_head().await? {
                Pumped::Head(head) => Ok(Response::new(*head, ex)),
                _ => Err(Error::new(
                    ErrorKind::Usage,
                    "the call ended without a response",
                )),
            }
        })
    }
}
