//! # hawser-smol: the async hawser client on smol
//!
//! A [`Session`] reuses connections, keeps headers, cookies and auth across
//! calls, retries what is safe to retry with backoff and `Retry-After`,
//! bounds every wait, follows redirects safely and reports typed errors.
//! All of that behaviour lives in [`hawser_core`] (the connection pool
//! included), and the run loop and streaming response in [`hawser_async`];
//! this crate is the [`Smol`] runtime glue: resolve on smol's `blocking`
//! pool, connect and move bytes over `async-net` sockets, sleep on
//! `async-io` timers, peek at idle sockets. It behaves exactly like the
//! blocking `hawser-std`, with `.await`.
//!
//! ```no_run
//! use std::time::Duration;
//! use hawser_smol::{Retry, Session};
//!
//! smol::block_on(async {
//!     let session = Session::builder()
//!         .header("x-client", "docs")
//!         .retry(Retry::new(3).backoff_factor(Duration::from_millis(500)).status_forcelist([502, 503, 504]))
//!         .timeout(Duration::from_secs(5))
//!         .deadline(Duration::from_secs(20))
//!         .build()?;
//!     let resp = session.get("http://127.0.0.1:8080/items").query(&[("page", "2")]).send().await?;
//!     println!("{} {}", resp.status(), resp.error_for_status()?.text().await?);
//!     Ok::<(), hawser_smol::Error>(())
//! })?;
//! # Ok::<(), hawser_smol::Error>(())
//! ```
//!
//! The body streams: [`Response`] implements [`futures_io::AsyncRead`], and
//! [`Response::chunk`] hands out pieces as they arrive. Reading to the end
//! returns the connection to the pool; dropping the response early closes it.
//!
//! ## How it is driven
//!
//! `send()` returns a boxed `Send` future that runs the core's run loop
//! ([`hawser_core::call`]) until the response head; the [`Response`] then
//! owns the loop and resumes it as the body is read. Any executor works
//! (smol's, `async-executor`, or `block_on`), as `async-io` drives its own
//! reactor when nothing else does. This crate does not re-export one: add
//! `smol` (or the executor you use) to your own dependencies, as the
//! examples here do with `smol::block_on`. A future dropped at any
//! `.await` gives back its pool slot, its place in the queue and its
//! connection.
//!
//! [`Url`] is the `url` crate's (version 2), re-exported with the crate as
//! [`url`] (for `url::ParseError`), as [`http`] is. The examples in
//! `backend-smol/examples/` (`get`, and `api_client`: the tutorial's
//! production API client on smol) run with
//! `cargo run -p hawser-smol --example NAME`.
//!
//! What it does not do: HTTP/2. Name resolution runs on the `blocking`
//! thread pool (as in smol); it and each connect are bounded by the core's
//! connect deadline.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

#[cfg(feature = "rustls")]
pub use hawser_async::TlsConfig;
pub use hawser_async::{
    AttemptOutcome, AttemptReport, Auth, Body, BodySource, CallReport, Config, Error, ErrorKind,
    Head, HistoryItem, HookRequest, HookResponse, Hooks, Mount, PoolConfig, PoolStats, Proxy,
    ProxyConfig, RedirectPolicy, Result, Retry, RetryBudget, Runtime, TimeoutPhase, Timeouts,
    WhenFull,
};
pub use hawser_async::{Cookie, CookieJar, HeaderMap, Method, StatusCode, Url, http, url};

/// The smol runtime: `async_net::TcpStream` and `async_io::Timer`.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Instant;
/// use hawser_smol::{Runtime, Smol};
///
/// smol::block_on(async {
///     let addrs = Smol::resolve("localhost".into(), 8080).await?;
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
///     Smol::sleep_until(Instant::now()).await; // already due: returns at once
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

impl Runtime for Smol {
    type Stream = async_net::TcpStream;

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        async_net::resolve((host, port)).await
    }

    async fn connect(addr: SocketAddr) -> io::Result<async_net::TcpStream> {
        let s = async_net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    async fn sleep_until(at: Instant) {
        async_io::Timer::at(at).await;
    }

    fn poll_read(
        s: &mut Self::Stream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(s).poll_read(cx, buf)
    }

    fn poll_write(
        s: &mut Self::Stream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(s).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        s: &mut Self::Stream,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(s).poll_write_vectored(cx, bufs)
    }

    fn peek(s: &Self::Stream) -> io::Result<usize> {
        hawser_async::peek_fd(s)
    }
}

/// An async HTTP client session on smol; see [`hawser_async::Session`].
///
/// ```
/// let s = hawser_smol::Session::new();
/// let s2 = s.clone(); // shares the pool
/// fn shareable<T: Send + Sync + Clone>(_: &T) {}
/// shareable(&s2);
/// ```
pub type Session = hawser_async::Session<Smol>;

/// A response on smol; see [`hawser_async::Response`].
///
/// ```
/// # use hawser_testkit::{Behaviour, Reply, TestServer};
/// # let srv = TestServer::start(vec![("/a", Behaviour::Reply(Reply::text("hello"))), ("/b", Behaviour::Reply(Reply::text("world")))])?;
/// use futures_lite::AsyncReadExt;
///
/// smol::block_on(async {
///     let session = hawser_smol::Session::new();
///     // Stream with AsyncRead...
///     let mut resp = session.get(srv.url("/a")).send().await?;
///     assert_eq!(resp.status(), 200);
///     let mut text = String::new();
///     resp.read_to_string(&mut text).await?;
///     assert_eq!(text, "hello");
///     // ...or piece by piece.
///     let mut resp = session.get(srv.url("/b")).send().await?;
///     let mut body = Vec::new();
///     while let Some(piece) = resp.chunk().await? {
///         body.extend_from_slice(&piece);
///     }
///     assert_eq!(body, b"world");
///     // Both bodies were read to the end: one connection, reused.
///     assert_eq!(session.pool_stats().opened, 1);
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Response = hawser_async::Response<Smol>;

/// Configures a [`Session`]; see [`hawser_core::client::SessionBuilder`].
///
/// ```
/// use std::time::Duration;
/// let s = hawser_smol::Session::builder().timeout(Duration::ZERO).build();
/// assert_eq!(s.unwrap_err().kind(), hawser_smol::ErrorKind::InvalidRequest);
/// ```
pub type SessionBuilder = hawser_core::client::SessionBuilder<Session>;

/// A request being built; see [`hawser_core::client::RequestBuilder`].
/// `send().await` returns once the response head arrived; the body streams
/// from the [`Response`].
pub type RequestBuilder = hawser_core::client::RequestBuilder<Session>;

// The helpers with docs of this crate's own (the macro's internal arms
// take each function's attributes), so each has a runnable example.
hawser_async::one_off_helpers!(@bodiless Smol;
    /// One-off `GET` on a fresh session, like `requests.get`.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// let text = smol::block_on(async { hawser_smol::get(srv.url("/")).await?.text().await })?;
    /// assert_eq!(text, "hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    get => GET,
    /// One-off `HEAD` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// let resp = smol::block_on(hawser_smol::head(srv.url("/")))?;
    /// assert_eq!((resp.status().as_u16(), resp.content_length()), (200, Some(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    head => HEAD,
    /// One-off `DELETE` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// let resp = smol::block_on(hawser_smol::delete(srv.url("/")))?;
    /// assert_eq!((resp.status().as_u16(), srv.requests()[0].method.as_str()), (200, "DELETE"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    delete => DELETE
);
hawser_async::one_off_helpers!(@body Smol;
    /// One-off `POST` of `body` on a fresh session, like `requests.post`.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// smol::block_on(async { hawser_smol::post(srv.url("/"), "hello").await?.bytes().await })?;
    /// assert_eq!((srv.requests()[0].method.as_str(), &srv.requests()[0].body[..]), ("POST", &b"hello"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    post => POST,
    /// One-off `PUT` of `body` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// smol::block_on(async { hawser_smol::put(srv.url("/"), vec![1u8, 2, 3]).await?.bytes().await })?;
    /// assert_eq!(srv.requests()[0].body, [1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    put => PUT,
    /// One-off `PATCH` of `body` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// smol::block_on(async { hawser_smol::patch(srv.url("/"), "op=add").await?.bytes().await })?;
    /// assert_eq!(srv.requests()[0].method, "PATCH");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    patch => PATCH
);
