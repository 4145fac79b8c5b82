//! # hawser-async-std: the async hawser client on async-std
//!
//! The same [`Session`] and [`Response`] as `hawser-smol`, over
//! `async_std::net::TcpStream` and `async_std::task::sleep`. Connection
//! pooling, retries with backoff and `Retry-After`, timeouts and the overall
//! deadline, redirects, auth, cookies, proxies and TLS all come from
//! [`hawser_core`], so this backend behaves exactly like the others. The run
//! loop and the streaming body are [`hawser_async`]'s, shared through its
//! [`Runtime`] trait: this crate only says how async-std resolves, connects,
//! sleeps, moves bytes and peeks. It does not depend on smol's crates.
//!
//! **A note on async-std:** async-std is discontinued upstream in favour of
//! smol (both sit on `async-io`). This crate is kept for programs already on
//! async-std; new code should prefer `hawser-smol`, which has the same API.
//!
//! ```no_run
//! use std::time::Duration;
//! use hawser_async_std::{Retry, Session};
//!
//! async_std::task::block_on(async {
//!     let session = Session::builder()
//!         .retry(Retry::new(3).status_forcelist([502, 503, 504]))
//!         .timeout(Duration::from_secs(5))
//!         .build()?;
//!     let resp = session.get("http://127.0.0.1:8080/items").send().await?;
//!     println!("{} {}", resp.status(), resp.error_for_status()?.text().await?);
//!     Ok::<(), hawser_async_std::Error>(())
//! })?;
//! # Ok::<(), hawser_async_std::Error>(())
//! ```
//!
//! The body streams: [`Response`] implements `futures_io::AsyncRead` (so
//! `async_std::io::ReadExt` works on it), and `Response::chunk` hands out
//! pieces as they arrive. Reading to the end returns the connection to the
//! pool; dropping the response early closes it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use async_std::io::{Read as _, Write as _};
use async_std::net::{TcpStream, ToSocketAddrs};

#[cfg(feature = "rustls")]
pub use hawser_async::TlsConfig;
pub use hawser_async::{
    AttemptOutcome, AttemptReport, Auth, Body, BodySource, CallReport, Config, Cookie, CookieJar,
    Error, ErrorKind, Head, HeaderMap, HistoryItem, HookRequest, HookResponse, Hooks, Method,
    Mount, PoolConfig, PoolStats, Proxy, ProxyConfig, RedirectPolicy, Result, Retry, RetryBudget,
    Runtime, StatusCode, TimeoutPhase, Timeouts, Url, WhenFull, http, url,
};

/// async-std's sockets and timer, for the shared hawser driver.
///
/// ```
/// use hawser_async_std::{AsyncStd, Runtime};
///
/// async_std::task::block_on(async {
///     let addrs = AsyncStd::resolve("localhost".into(), 80).await?;
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStd;

impl Runtime for AsyncStd {
    type Stream = TcpStream;

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        // An IP literal needs no trip to the resolver's thread pool.
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        Ok((host.as_str(), port).to_socket_addrs().await?.collect())
    }

    async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    async fn sleep_until(at: Instant) {
        async_std::task::sleep(at.saturating_duration_since(Instant::now())).await;
    }

    fn poll_read(
        s: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(s).poll_read(cx, buf)
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
        hawser_async::peek_fd(s)
    }
}

/// An async HTTP client session on async-std; see
/// [`hawser_async::Session`].
///
/// ```
/// let s = hawser_async_std::Session::new();
/// fn shareable<T: Send + Sync + Clone>(_: &T) {}
/// shareable(&s);
/// ```
pub type Session = hawser_async::Session<AsyncStd>;

/// A response on async-std; see [`hawser_async::Response`].
///
/// ```
/// # use hawser_testkit::{Behaviour, Reply, TestServer};
/// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hello")))])?;
/// use async_std::io::ReadExt;
///
/// async_std::task::block_on(async {
///     let mut resp = hawser_async_std::get(srv.url("/")).await?;
///     let mut text = String::new();
///     resp.read_to_string(&mut text).await?;
///     assert_eq!((resp.status().as_u16(), text.as_str()), (200, "hello"));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Response = hawser_async::Response<AsyncStd>;

/// Configures a [`Session`]; see [`hawser_core::client::SessionBuilder`].
pub type SessionBuilder = hawser_core::client::SessionBuilder<Session>;

/// A request being built; see [`hawser_core::client::RequestBuilder`].
pub type RequestBuilder = hawser_core::client::RequestBuilder<Session>;

// The helpers with docs of this crate's own (the macro's internal arms
// take each function's attributes), so each has a runnable example.
hawser_async::one_off_helpers!(@bodiless AsyncStd;
    /// One-off `GET` on a fresh session, like `requests.get`.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// let text = async_std::task::block_on(async { hawser_async_std::get(srv.url("/")).await?.text().await })?;
    /// assert_eq!(text, "hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    get => GET,
    /// One-off `HEAD` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hi")))])?;
    /// let resp = async_std::task::block_on(hawser_async_std::head(srv.url("/")))?;
    /// assert_eq!((resp.status().as_u16(), resp.content_length()), (200, Some(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    head => HEAD,
    /// One-off `DELETE` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// let resp = async_std::task::block_on(hawser_async_std::delete(srv.url("/")))?;
    /// assert_eq!((resp.status().as_u16(), srv.requests()[0].method.as_str()), (200, "DELETE"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    delete => DELETE
);
hawser_async::one_off_helpers!(@body AsyncStd;
    /// One-off `POST` of `body` on a fresh session, like `requests.post`.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// async_std::task::block_on(async { hawser_async_std::post(srv.url("/"), "hello").await?.bytes().await })?;
    /// assert_eq!((srv.requests()[0].method.as_str(), &srv.requests()[0].body[..]), ("POST", &b"hello"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    post => POST,
    /// One-off `PUT` of `body` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// async_std::task::block_on(async { hawser_async_std::put(srv.url("/"), vec![1u8, 2, 3]).await?.bytes().await })?;
    /// assert_eq!(srv.requests()[0].body, [1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    put => PUT,
    /// One-off `PATCH` of `body` on a fresh session.
    ///
    /// ```
    /// # use hawser_testkit::{Behaviour, Reply, TestServer};
    /// # let srv = TestServer::start(vec![("/", Behaviour::Echo)])?;
    /// async_std::task::block_on(async { hawser_async_std::patch(srv.url("/"), "op=add").await?.bytes().await })?;
    /// assert_eq!(srv.requests()[0].method, "PATCH");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    patch => PATCH
);
