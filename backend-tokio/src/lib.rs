//! # hawser-tokio: the async hawser client on tokio
//!
//! The same [`Session`] and [`Response`] as `hawser-smol`, over
//! `tokio::net::TcpStream` and `tokio::time`. Connection pooling, retries
//! with backoff and `Retry-After`, timeouts and the overall deadline,
//! redirects, auth, cookies, proxies and TLS all come from [`hawser_core`];
//! the run loop and the streaming body come from [`hawser_async`]. This
//! crate is only the [`Tokio`] runtime glue, written against the public
//! API of those two crates: proof that the driver contract is complete.
//!
//! Requests must run inside a tokio runtime with I/O and time enabled
//! (`#[tokio::main]`, or a `Runtime` built with `enable_all`). A request
//! future dropped at any `.await` gives back its pool slot, its place in the
//! queue for a slot and its connection.
//!
//! ```
//! # use hawser_testkit::{Behaviour, Reply, TestServer};
//! # let srv = TestServer::start(vec![("/items", Behaviour::Reply(Reply::text("[1,2]")))])?;
//! use std::time::Duration;
//! use hawser_tokio::{Retry, Session};
//!
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! rt.block_on(async {
//!     let session = Session::builder()
//!         .retry(Retry::new(3).status_forcelist([502, 503, 504]))
//!         .timeout(Duration::from_secs(5))
//!         .build()?;
//!     let resp = session.get(srv.url("/items")).send().await?;
//!     assert_eq!(resp.error_for_status()?.text().await?, "[1,2]");
//!     Ok::<(), hawser_tokio::Error>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

#[cfg(feature = "rustls")]
pub use hawser_async::TlsConfig;
pub use hawser_async::{
    AttemptOutcome, AttemptReport, Auth, Body, BodySource, CallReport, Config, Cookie, CookieJar,
    Error, ErrorKind, Head, HeaderMap, HistoryItem, HookRequest, HookResponse, Hooks, Method,
    Mount, PoolConfig, PoolStats, Proxy, ProxyConfig, RedirectPolicy, Result, Retry, RetryBudget,
    Runtime, StatusCode, TimeoutPhase, Timeouts, Url, WhenFull, http, url,
};

/// tokio's sockets and timer, for the shared hawser driver.
///
/// ```
/// use hawser_tokio::{Runtime, Tokio};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// rt.block_on(async {
///     let addrs = Tokio::resolve("localhost".into(), 80).await?;
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    type Stream = TcpStream;

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        Ok(tokio::net::lookup_host((host.as_str(), port))
            .await?
            .collect())
    }

    async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    async fn sleep_until(at: Instant) {
        tokio::time::sleep_until(at.into()).await;
    }

    fn poll_read(
        s: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(s).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write(s: &mut TcpStream, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(s).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        s: &mut TcpStream,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(s).poll_write_vectored(cx, bufs)
    }

    fn peek(s: &TcpStream) -> io::Result<usize> {
        // Straight to the socket, not through tokio's readiness (which may
        // not have seen a FIN that arrived while the connection was idle).
        hawser_async::peek_fd(s)
    }
}

/// An async HTTP client session on tokio; see [`hawser_async::Session`].
///
/// ```
/// let s = hawser_tokio::Session::new();
/// fn shareable<T: Send + Sync + Clone>(_: &T) {}
/// shareable(&s);
/// ```
pub type Session = hawser_async::Session<Tokio>;

/// A response on tokio; see [`hawser_async::Response`]. Its body streams
/// through `futures_io::AsyncRead` and [`hawser_async::Response::chunk`].
///
/// ```
/// # use hawser_testkit::{Behaviour, Reply, TestServer};
/// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hello")))])?;
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// rt.block_on(async {
///     let mut resp = hawser_tokio::get(srv.url("/")).await?;
///     let mut body = Vec::new();
///     while let Some(piece) = resp.chunk().await? {
///         body.extend_from_slice(&piece);
///     }
///     assert_eq!(body, b"hello");
///     Ok::<(), hawser_tokio::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Response = hawser_async::Response<Tokio>;

/// Configures a [`Session`]; see [`hawser_core::client::SessionBuilder`].
pub type SessionBuilder = hawser_core::client::SessionBuilder<Session>;

/// A request being built; see [`hawser_core::client::RequestBuilder`].
pub type RequestBuilder = hawser_core::client::RequestBuilder<Session>;

// The helpers with docs of this crate's own (the macro's internal arms
// take each function's attributes), so each has a runnable example.
hawser_async::one_off_helpers!(@bodiless Tokio;
    /// One-off `GET` on a fresh session, like `requests.get`.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let text = rt.block_on(async { hawser_tokio::get(srv.url("/")).await?.text().await })?;
    /// assert_eq!(text, "hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    get => GET,
    /// One-off `HEAD` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let resp = rt.block_on(hawser_tokio::head(srv.url("/")))?;
    /// assert_eq!((resp.status().as_u16(), resp.content_length()), (200, Some(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    head => HEAD,
    /// One-off `DELETE` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let resp = rt.block_on(hawser_tokio::delete(srv.url("/")))?;
    /// assert_eq!((resp.status().as_u16(), srv.requests()[0].method.as_str()), (200, "DELETE"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    delete => DELETE
);
hawser_async::one_off_helpers!(@body Tokio;
    /// One-off `POST` of `body` on a fresh session, like `requests.post`.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// rt.block_on(async { hawser_tokio::post(srv.url("/"), "hello").await?.bytes().await })?;
    /// assert_eq!((srv.requests()[0].method.as_str(), &srv.requests()[0].body[..]), ("POST", &b"hello"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    post => POST,
    /// One-off `PUT` of `body` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// rt.block_on(async { hawser_tokio::put(srv.url("/"), vec![1u8, 2, 3]).await?.bytes().await })?;
    /// assert_eq!(srv.requests()[0].body, [1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    put => PUT,
    /// One-off `PATCH` of `body` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// rt.block_on(async { hawser_tokio::patch(srv.url("/"), "op=add").await?.bytes().await })?;
    /// assert_eq!(srv.requests()[0].method, "PATCH");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    patch => PATCH
);
