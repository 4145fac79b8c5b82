//! # hawser-async: the async hawser client, on any runtime
//!
//! One run loop ([`hawser_core::call`]'s driver contract done with
//! `.await`), one [`Session`] and one streaming [`Response`], generic over
//! a small [`Runtime`] trait: resolve, connect, sleep, poll a read or a
//! write, peek. `hawser-smol`, `hawser-async-std` and `hawser-tokio` are
//! each about a hundred lines of [`Runtime`] glue over this crate, so they
//! behave identically, and none depends on another.
//!
//! The pool, waiting for a slot, the liveness check before reuse, Happy
//! Eyeballs, retries, redirects and every timer live in `hawser-core`; the
//! driver here only performs the I/O the core asks for. A request future
//! dropped at any `.await` (waiting for a slot, connecting, mid-head,
//! mid-body, mid-backoff) gives back what it held: the core's `Call` does it
//! when it is dropped.
//!
//! A whole runtime's glue, here over `async-io` (a real one resolves names
//! too: `hawser-smol` and `hawser-tokio` are this, plus a resolver):
//!
//! ```
//! # use hawser_testkit::{Behaviour, Reply, TestServer};
//! # let srv = TestServer::start(vec![("/items", Behaviour::Reply(Reply::text("[1,2]")))])?;
//! use std::net::{SocketAddr, TcpStream};
//! use std::pin::Pin;
//! use std::task::{Context, Poll};
//! use std::time::{Duration, Instant};
//! use async_io::{Async, Timer};
//! use futures_io::{AsyncRead, AsyncWrite};
//! use hawser_async::{Retry, Runtime, Session};
//!
//! struct AsyncIo;
//! impl Runtime for AsyncIo {
//!     type Stream = Async<TcpStream>;
//!     async fn resolve(host: String, _port: u16) -> std::io::Result<Vec<SocketAddr>> {
//!         Err(std::io::Error::other(format!("no resolver for {host}")))
//!     }
//!     async fn connect(addr: SocketAddr) -> std::io::Result<Async<TcpStream>> {
//!         let s = Async::<TcpStream>::connect(addr).await?;
//!         s.get_ref().set_nodelay(true)?;
//!         Ok(s)
//!     }
//!     async fn sleep_until(at: Instant) {
//!         Timer::at(at).await;
//!     }
//!     fn poll_read(s: &mut Self::Stream, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
//!         Pin::new(s).poll_read(cx, buf)
//!     }
//!     fn poll_write(s: &mut Self::Stream, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
//!         Pin::new(s).poll_write(cx, buf)
//!     }
//!     fn peek(s: &Self::Stream) -> std::io::Result<usize> {
//!         hawser_async::peek_fd(s)
//!     }
//! }
//!
//! async_io::block_on(async {
//!     let session: Session<AsyncIo> = Session::builder()
//!         .retry(Retry::new(3).status_forcelist([502, 503, 504]))
//!         .timeout(Duration::from_secs(5))
//!         .build()?;
//!     let resp = session.get(srv.url("/items")).send().await?;
//!     assert_eq!(resp.error_for_status()?.text().await?, "[1,2]");
//!     Ok::<(), hawser_async::Error>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod conn;
mod driver;
mod response;
mod runtime;
mod session;

pub use hawser_core::auth::Auth;
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
pub use url::{self, Url};

pub use conn::Conn;
pub use response::Response;
pub use runtime::Runtime;
#[cfg(unix)]
pub use runtime::peek_fd;
pub use session::{SendFuture, Session};

/// A streamed request body, for
/// [`RequestBuilder::body_stream`](hawser_core::client::RequestBuilder::body_stream).
///
/// ```
/// let body: hawser_async::BodySource = Box::new(futures_lite::io::Cursor::new(b"data".to_vec()));
/// # drop(body);
/// ```
pub type BodySource = Box<dyn futures_io::AsyncRead + Send + Unpin>;

/// Defines a runtime crate's one-off helpers, like `requests.get`: `get`,
/// `head`, `delete` (no body) and `post`, `put`, `patch` (with one), each on a
/// fresh session of `Session<$runtime>`. hawser-smol, hawser-async-std and
/// hawser-tokio expand it, so all three offer the same six. They call its
/// two inner forms, `(@bodiless $runtime; $(#[attr])* name => METHOD, ..)`
/// and `(@body ..)`, which take each function's own attributes, so each
/// helper carries a doc example written for that crate's executor.
///
/// ```
/// mod my_runtime_crate {
///     # pub struct Mine;
///     # impl hawser_async::Runtime for Mine {
///     #     type Stream = ();
///     #     async fn resolve(_: String, _: u16) -> std::io::Result<Vec<std::net::SocketAddr>> { Ok(vec![]) }
///     #     async fn connect(_: std::net::SocketAddr) -> std::io::Result<()> { Err(std::io::ErrorKind::ConnectionRefused.into()) }
///     #     async fn sleep_until(_: std::time::Instant) {}
///     #     fn poll_read(_: &mut (), _: &mut std::task::Context<'_>, _: &mut [u8]) -> std::task::Poll<std::io::Result<usize>> { std::task::Poll::Ready(Ok(0)) }
///     #     fn poll_write(_: &mut (), _: &mut std::task::Context<'_>, _: &[u8]) -> std::task::Poll<std::io::Result<usize>> { std::task::Poll::Ready(Ok(0)) }
///     #     fn peek(_: &()) -> std::io::Result<usize> { Ok(0) }
///     # }
///     hawser_async::one_off_helpers!(Mine);
/// }
/// let _future = my_runtime_crate::get("http://127.0.0.1:1/");
/// ```
#[macro_export]
macro_rules! one_off_helpers {
    ($runtime:ty) => {
        $crate::one_off_helpers!(@bodiless $runtime;
            /// One-off `GET` on a fresh session, like `requests.get`.
            get => GET,
            /// One-off `HEAD` on a fresh session.
            head => HEAD,
            /// One-off `DELETE` on a fresh session.
            delete => DELETE);
        $crate::one_off_helpers!(@body $runtime;
            /// One-off `POST` of `body` on a fresh session, like `requests.post`.
            post => POST,
            /// One-off `PUT` of `body` on a fresh session.
            put => PUT,
            /// One-off `PATCH` of `body` on a fresh session.
            patch => PATCH);
    };
    (@bodiless $runtime:ty; $($(#[$m:meta])* $name:ident => $method:ident),*) => {$(
        $(#[$m])*
        pub async fn $name(
            url: impl AsRef<str>,
        ) -> $crate::Result<$crate::Response<$runtime>> {
            $crate::Session::<$runtime>::new()
                .request($crate::Method::$method, url)
                .send()
                .await
        }
    )*};
    (@body $runtime:ty; $($(#[$m:meta])* $name:ident => $method:ident),*) => {$(
        $(#[$m])*
        pub async fn $name(
            url: impl AsRef<str>,
            body: impl Into<$crate::Body>,
        ) -> $crate::Result<$crate::Response<$runtime>> {
            $crate::Session::<$runtime>::new()
                .request($crate::Method::$method, url)
                .body(body)
                .send()
                .await
        }
    )*};
}
