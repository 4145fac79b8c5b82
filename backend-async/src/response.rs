//! The async [`Response`]: head, history, report, and a streaming body.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_io::AsyncRead;
use http::{HeaderMap, StatusCode, Version};
use url::Url;

use hawser_core::call::{Call, CallReport, Head, HistoryItem, Input, Output};
use hawser_core::{Error, ErrorKind, Result};

use crate::conn::Conn;
use crate::driver::{Driver, Pumped};
use crate::runtime::Runtime;

type Progress = Box<dyn FnMut(u64, Option<u64>) + Send>;

/// The call and its connection, owned by whichever future reads the body.
pub(crate) struct Exchange<R: Runtime> {
    call: Box<Call<Conn<R>>>,
    driver: Driver<R>,
    /// The last piece of body the core handed out.
    chunk: Vec<u8>,
    done: bool,
}

impl<R: Runtime> Exchange<R> {
    /// A call and its driver, boxed.
    pub(crate) fn new(call: Box<Call<Conn<R>>>, driver: Driver<R>) -> Box<Self> {
        Box::new(Exchange {
            call,
            driver,
            chunk: Vec::new(),
            done: false,
        })
    }

    /// Run the call until its head (or the end).
    pub(crate) async fn pump_head(&mut self) -> Result<Pumped> {
        self.driver.pump(&mut self.call, None).await
    }

    /// Replace `chunk` with the next piece of body: `Ok(false)` at the end.
    /// Takes and returns the box so the future is `'static` and can live in
    /// the response between polls.
    async fn fill(mut self: Box<Self>) -> (Box<Self>, Result<bool>) {
        let ex = &mut *self;
        ex.chunk.clear();
        let r = loop {
            if ex.done {
                break Ok(false);
            }
            match ex.driver.pump(&mut ex.call, Some(&mut ex.chunk)).await {
                Ok(Pumped::Body(0)) => continue,
                Ok(Pumped::Body(_)) => break Ok(true),
                Ok(Pumped::Done) => ex.done = true,
                Ok(Pumped::Head(_)) => {
                    break Err(Error::new(ErrorKind::Usage, "a second response head"));
                }
                Err(e) => break Err(e),
            }
        };
        (self, r)
    }
}

type Filling<R> = Pin<Box<dyn Future<Output = (Box<Exchange<R>>, Result<bool>)> + Send>>;

enum Body<R: Runtime> {
    /// Between reads: the exchange, and `chunk[pos..]` not yet handed out.
    Idle(Box<Exchange<R>>),
    /// A read is in flight (it owns the exchange until it completes).
    Filling(Filling<R>),
    /// Only while switching states (or after a panic inside a read).
    Gone,
}

/// A response whose head has arrived. The body streams through
/// [`AsyncRead`] or [`chunk`](Self::chunk); reading it to the end returns the
/// connection to the pool, dropping the response early closes it.
///
/// Errors met while reading through `AsyncRead` keep their kind: the
/// `io::Error` wraps a hawser [`Error`] that [`io::Error::get_ref`] +
/// `downcast_ref` recover.
pub struct Response<R: Runtime> {
    head: Head,
    body: Body<R>,
    pos: usize,
    read: u64,
    content_length: Option<u64>,
    progress: Option<Progress>,
    /// The report as of the head, for `report()` while a read is in flight:
    /// taken when the first read future starts, since most responses (a
    /// small body read through `AsyncRead`) never start one.
    report: Option<CallReport>,
}

impl<R: Runtime> fmt::Debug for Response<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.head.status)
            .field("url", &self.head.url.as_str())
            .field("headers", &hawser_core::redact::Headers(&self.head.headers))
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Response<R> {
    pub(crate) fn new(head: Head, ex: Box<Exchange<R>>) -> Self {
        let content_length = head
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Response {
            report: None,
            head,
            body: Body::Idle(ex),
            pos: 0,
            read: 0,
            content_length,
            progress: None,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.head.status
    }
    /// The HTTP version of the response.
    pub fn version(&self) -> Version {
        self.head.version
    }
    /// The whole head: status, version, headers, final URL, history.
    pub fn head(&self) -> &Head {
        &self.head
    }
    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }
    /// The first value of header `name` as text, if valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
    /// The final URL, after redirects.
    pub fn url(&self) -> &Url {
        &self.head.url
    }
    /// The redirect responses followed on the way here, oldest first.
    pub fn history(&self) -> &[HistoryItem] {
        &self.head.history
    }
    /// `Content-Length`, if the server sent one (and the body is not decoded).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }
    /// What happened: attempts, sleeps, redirects, connection reuse, phase
    /// times. While a body read is pending (an `AsyncRead` poll returned
    /// `Pending`), this is the report as of the head.
    pub fn report(&self) -> CallReport {
        match &self.body {
            Body::Idle(ex) => ex.call.report(),
            _ => self.report.clone().unwrap_or_default(),
        }
    }

    /// Call `f(bytes_read, content_length)` as the body is read.
    pub fn on_progress(mut self, f: impl FnMut(u64, Option<u64>) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// An error for 4xx and 5xx statuses, worded like requests'
    /// `raise_for_status` ("404 Client Error: Not Found for url: ...").
    /// The error drops the response with its body unread, which closes
    /// its connection (a connection is pooled only with nothing unread on
    /// it); for an API that answers errors often, read the body first or
    /// use `error_for_status_with_body`, which keeps its start.
    pub fn error_for_status(self) -> Result<Self> {
        match self.head.status_error() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    /// Like [`error_for_status`](Self::error_for_status), and the error
    /// keeps the start of the body ([`Error::body_prefix`], at most
    /// [`Error::BODY_PREFIX_LIMIT`] bytes), like requests'
    /// `HTTPError.response.text`: an API's error message survives. Reading
    /// it is bounded by the read timeout; a failed read keeps what came.
    ///
    /// [`Error::body_prefix`]: crate::Error::body_prefix
    /// [`Error::BODY_PREFIX_LIMIT`]: crate::Error::BODY_PREFIX_LIMIT
    pub async fn error_for_status_with_body(mut self) -> Result<Self> {
        let Some(e) = self.head.status_error() else {
            return Ok(self);
        };
        let limit = hawser_core::Error::BODY_PREFIX_LIMIT;
        let mut prefix = Vec::new();
        while prefix.len() < limit {
            match self.chunk().await {
                Ok(Some(c)) => prefix.extend_from_slice(&c[..c.len().min(limit - prefix.len())]),
                Ok(None) | Err(_) => break,
            }
        }
        Err(e.with_body_prefix(prefix))
    }

    /// The next piece of the body as it arrives, `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if !poll_fn(|cx| self.poll_fill(cx)).await? {
            return Ok(None);
        }
        let Body::Idle(ex) = &mut self.body else {
            return Ok(None);
        };
        // The unread tail (all of it, without a copy, when pos is 0).
        let out = ex.chunk.split_off(self.pos.min(ex.chunk.len()));
        self.pos = ex.chunk.len();
        Ok(Some(out))
    }

    /// The whole body.
    ///
    /// At most the in-memory cap is read (`max_body_in_memory`, 10 MiB by
    /// default): a larger body, or a `Content-Length` over it, is an
    /// [`ErrorKind::BodyTooLarge`] error. Stream with `AsyncRead` or
    /// [`chunk`](Self::chunk) for more.
    pub async fn bytes(mut self) -> Result<Vec<u8>> {
        let (mut out, cap) = match &mut self.body {
            Body::Idle(ex) => (
                Vec::with_capacity(ex.call.read_into_memory()?),
                ex.call.memory_cap(),
            ),
            _ => (Vec::new(), usize::MAX),
        };
        while let Some(piece) = self.chunk().await? {
            if out.capacity() == 0 {
                out = piece; // the first piece, without a copy
            } else {
                hawser_core::call::extend_within(&mut out, &piece, cap);
            }
        }
        Ok(out)
    }

    /// The body as text, decoded with the `Content-Type` charset by
    /// `encoding_rs` (UTF-8 without one; see [`Head::decode_text`]).
    pub async fn text(self) -> Result<String> {
        let head = self.head.clone();
        Ok(head.decode_text(self.bytes().await?))
    }

    /// The body parsed as JSON (feature `json`, on by default).
    #[cfg(feature = "json")]
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::Body,
                format!("the response body is not valid JSON: {e}"),
            )
            .with_source(e)
        })
    }

    /// Read body bytes from the connection straight into `buf` when the
    /// core can hand them over that way (a plain body, nothing buffered):
    /// `None` when it cannot, and [`poll_fill`](Self::poll_fill) must.
    fn poll_direct(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Option<Poll<Result<usize>>> {
        let Body::Idle(ex) = &mut self.body else {
            return None;
        };
        if self.pos < ex.chunk.len() {
            return None;
        }
        if ex.done {
            return Some(Poll::Ready(Ok(0)));
        }
        loop {
            ex.call.offer_body_room(buf.len());
            let input = match ex.call.poll_output(Instant::now()) {
                Ok(Output::ReceiveBody { conn, max, until }) => {
                    let room = max.min(buf.len());
                    match R::poll_read(&mut conn.stream, cx, &mut buf[..room]) {
                        Poll::Ready(r) => Input::from_read(r),
                        Poll::Pending => match conn.poll_deadline(cx, until) {
                            Poll::Pending => return Some(Poll::Pending),
                            Poll::Ready(()) => Input::Timeout,
                        },
                    }
                }
                Ok(Output::Close(conn)) => {
                    drop(conn);
                    continue;
                }
                // Bytes the core already holds (they came with the head, or
                // the body is chunked or decoded) go straight into the
                // caller's buffer, and the end is seen here too: no read
                // future, no copy through `chunk`.
                Ok(Output::Body(bytes)) => {
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    ex.call.consume(n);
                    if n == 0 {
                        continue;
                    }
                    self.read += n as u64;
                    if let Some(p) = &mut self.progress {
                        p(self.read, self.content_length);
                    }
                    return Some(Poll::Ready(Ok(n)));
                }
                Ok(Output::Done) => {
                    ex.done = true;
                    return Some(Poll::Ready(Ok(0)));
                }
                Ok(_) => return None,
                Err(e) => return Some(Poll::Ready(Err(e))),
            };
            let got = if let Input::Read(n) = input { n } else { 0 };
            if let Err(e) = ex.call.handle_input(input, Instant::now()) {
                return Some(Poll::Ready(Err(e)));
            }
            if got > 0 {
                self.read += got as u64;
                if let Some(p) = &mut self.progress {
                    p(self.read, self.content_length);
                }
                return Some(Poll::Ready(Ok(got)));
            }
        }
    }

    /// Make body bytes available at `chunk[pos..]`: `Ok(false)` at the end.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        loop {
            match mem::replace(&mut self.body, Body::Gone) {
                Body::Idle(ex) if self.pos < ex.chunk.len() => {
                    self.body = Body::Idle(ex);
                    return Poll::Ready(Ok(true));
                }
                Body::Idle(ex) => {
                    if self.report.is_none() {
                        self.report = Some(ex.call.report());
                    }
                    self.body = Body::Filling(Box::pin(ex.fill()));
                }
                Body::Filling(mut fut) => {
                    let Poll::Ready((ex, r)) = fut.as_mut().poll(cx) else {
                        self.body = Body::Filling(fut);
                        return Poll::Pending;
                    };
                    self.pos = 0;
                    let n = ex.chunk.len() as u64;
                    self.body = Body::Idle(ex);
                    if let Ok(true) = r {
                        self.read += n;
                        if let Some(p) = &mut self.progress {
                            p(self.read, self.content_length);
                        }
                    }
                    return Poll::Ready(r);
                }
                Body::Gone => {
                    return Poll::Ready(Err(Error::new(
                        ErrorKind::Usage,
                        "the response body was abandoned mid-read",
                    )));
                }
            }
        }
    }
}

impl<R: Runtime> AsyncRead for Response<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if let Some(done) = this.poll_direct(cx, buf) {
            return done.map_err(io::Error::from);
        }
        match this.poll_fill(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(io::Error::from(e))),
            Poll::Ready(Ok(false)) => Poll::Ready(Ok(0)),
            Poll::Ready(Ok(true)) => {
                let Body::Idle(ex) = &this.body else {
                    return Poll::Ready(Ok(0));
                };
                let src = ex.chunk.get(this.pos..).unwrap_or(&[]);
                let n = src.len().min(buf.len());
                buf[..n].copy_from_slice(&src[..n]);
                this.pos += n;
                Poll::Ready(Ok(n))
            }
        }
    }
}
