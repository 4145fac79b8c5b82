//! # hawser-smol: the async hawser client on smol
//!
//! A [`Session`] reuses connections, keeps headers, cookies and auth across
//! calls, retries what is safe to retry with backoff and `Retry-After`,
//! bounds every wait, follows redirects safely and reports typed errors.
//! All of that behaviour lives in [`hawser_core`]; this crate only resolves
//! and connects, moves bytes over smol's sockets (`async-net`), sleeps on
//! `async-io` timers when told, and keeps pooled sockets behind a lock,
//! waking tasks that wait for a pool slot. It behaves exactly like the
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
//! ([`hawser_core::call`]) on a [`runtime::Runtime`] until the response
//! head; the [`Response`] then owns the loop and resumes it as the body is
//! read. Any executor works (smol's, `async-executor`, or `block_on`), as
//! `async-io` drives its own reactor when nothing else does. The loop is
//! generic over the runtime ([`generic::Session`]), which is how
//! `hawser-async-std` shares it.
//!
//! What it does not do: HTTP/2. Name resolution runs on the `blocking`
//! thread pool (as in smol); it and each connect are bounded by the core's
//! connect deadline.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod driver;
pub mod generic;
mod response;
pub mod runtime;

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

use runtime::Smol;

/// A streamed request body, for [`RequestBuilder::body_stream`](hawser_core::client::RequestBuilder::body_stream).
///
/// ```
/// let body: hawser_smol::BodySource = Box::new(futures_lite::io::Cursor::new(b"data".to_vec()));
/// # drop(body);
/// ```
pub type BodySource = Box<dyn futures_io::AsyncRead + Send + Unpin>;

/// An async HTTP client session on smol; see [`generic::Session`].
///
/// ```
/// let s = hawser_smol::Session::new();
/// let s2 = s.clone(); // shares the pool
/// fn shareable<T: Send + Sync + Clone>(_: &T) {}
/// shareable(&s2);
/// ```
pub type Session = generic::Session<Smol>;

/// A response on smol; see [`generic::Response`].
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
pub type Response = generic::Response<Smol>;

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

/// One-off `GET` on a fresh session, like `requests.get`.
///
/// ```no_run
/// # smol::block_on(async {
/// let body = hawser_smol::get("http://127.0.0.1:8080/").await?.text().await?;
/// # Ok::<(), hawser_smol::Error>(())
/// # })?;
/// # Ok::<(), hawser_smol::Error>(())
/// ```
pub async fn get(url: impl AsRef<str>) -> Result<Response> {
    Session::new().get(url).send().await
}

/// One-off `POST` of `body` on a fresh session, like `requests.post`.
pub async fn post(url: impl AsRef<str>, body: impl Into<Body>) -> Result<Response> {
    Session::new().post(url).body(body).send().await
}
