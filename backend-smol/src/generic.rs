//! The session and response generic over a [`Runtime`], for crates that put
//! hawser on another runtime (as `hawser-async-std` does). Users of smol want
//! the aliases at the crate root: [`crate::Session`] and [`crate::Response`].

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::Method;

use hawser_core::call::{Agent, CallOptions, Config};
use hawser_core::client::{self, Backend};
use hawser_core::pool::PoolStats;
use hawser_core::request::Request;
use hawser_core::{Error, ErrorKind, Result};

use crate::driver::{Driver, Inner, Pumped};
pub use crate::response::Response;
use crate::runtime::Runtime;
use crate::BodySource;

/// An async HTTP client session on runtime `R`: a connection pool, default
/// headers, a cookie jar, auth, retry policy and timeouts shared by its
/// requests.
///
/// Cheap to clone (clones share the pool); `Send + Sync`. Dropping the last
/// clone closes its idle connections.
///
/// ```
/// use hawser_smol::{runtime::Smol, generic};
/// let s: generic::Session<Smol> = generic::Session::new();
/// fn shareable<T: Send + Sync + Clone>(_: &T) {}
/// shareable(&s.clone());
/// ```
pub struct Session<R: Runtime> {
    inner: Arc<Inner<R>>,
}

impl<R: Runtime> Clone for Session<R> {
    fn clone(&self) -> Self {
        Session {
            inner: self.inner.clone(),
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
            .field("agent", &self.inner.agent)
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
        self.inner.pool().stats()
    }

    /// The session's settings.
    pub fn config(&self) -> &Config {
        self.inner.agent.config()
    }
}

/// What [`client::RequestBuilder::send`] returns: a future of the response
/// head (the body streams from the [`Response`]).
pub type SendFuture<R> = Pin<Box<dyn Future<Output = Result<Response<R>>> + Send>>;

impl<R: Runtime> Backend for Session<R> {
    type BodySource = BodySource;
    type Send = SendFuture<R>;

    fn from_agent(agent: Agent) -> Result<Self> {
        Ok(Session {
            inner: Arc::new(Inner::new(agent)?),
        })
    }

    fn agent(&self) -> &Agent {
        &self.inner.agent
    }

    fn execute(
        &self,
        request: Result<(Request, CallOptions)>,
        body: Option<BodySource>,
    ) -> SendFuture<R> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let (request, mut opts) = request?;
            opts.seed = random_seed();
            let mut call = inner
                .agent
                .start(request, opts, Instant::now(), SystemTime::now())?;
            let mut driver = Driver::new(inner, body);
            match driver.pump(&mut call, None).await? {
                Pumped::Head(head) => Ok(Response::new(*head, call, driver)),
                _ => Err(Error::new(
                    ErrorKind::Usage,
                    "the call ended without a response",
                )),
            }
        })
    }
}

/// A random seed for the call's jitter and Digest cnonce: every
/// `RandomState` gets fresh keys (seeded from the OS once per thread, then
/// stepped), so no RNG dependency is needed for this one number.
fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
