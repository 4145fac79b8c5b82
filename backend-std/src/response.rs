//! The blocking [`Response`]: head, history, report, and a streaming body.

use std::fmt;
use std::io::{self, Read};

use http::{HeaderMap, StatusCode, Version};
use url::Url;

use hawser_core::call::{Call, CallReport, Head, HistoryItem};
use hawser_core::{Error, ErrorKind, Result};

use crate::driver::{Driver, Pumped};
use crate::net::Connection;

type Progress = Box<dyn FnMut(u64, Option<u64>) + Send>;

/// A response whose head has arrived. The body streams through
/// [`Read`]; reading it to the end returns the connection to the pool,
/// dropping the response early closes it.
///
/// Errors met while reading keep their kind: the `io::Error` wraps a
/// hawser [`Error`] that [`io::Error::get_ref`] + `downcast_ref` recover.
pub struct Response {
    head: Head,
    /// Boxed so the response stays small: it is returned through
    /// `Result`s by value, and a `Call` is 3.6 KB.
    call: Box<Call<Connection>>,
    driver: Driver,
    done: bool,
    read: u64,
    progress: Option<Progress>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.head.status)
            .field("url", &self.head.url.as_str())
            .field("headers", &hawser_core::redact::Headers(&self.head.headers))
            .finish_non_exhaustive()
    }
}

impl Response {
    pub(crate) fn new(head: Head, call: Box<Call<Connection>>, driver: Driver) -> Response {
        Response {
            head,
            call,
            driver,
            done: false,
            read: 0,
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
        self.head.content_length()
    }
    /// What happened: attempts, sleeps, redirects, connection reuse, phase times.
    pub fn report(&self) -> CallReport {
        self.call.report()
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
    pub fn error_for_status(self) -> Result<Response> {
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
    pub fn error_for_status_with_body(mut self) -> Result<Response> {
        let Some(e) = self.head.status_error() else {
            return Ok(self);
        };
        let mut prefix = vec![0u8; hawser_core::Error::BODY_PREFIX_LIMIT];
        let mut filled = 0;
        while filled < prefix.len() {
            match self.read(&mut prefix[filled..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        prefix.truncate(filled);
        Err(e.with_body_prefix(prefix))
    }

    /// The whole body.
    ///
    /// At most the in-memory cap is read (`max_body_in_memory`, 10 MiB by
    /// default): a larger body, or a `Content-Length` over it, is an
    /// [`ErrorKind::BodyTooLarge`] error. Stream through [`Read`] for more.
    pub fn bytes(mut self) -> Result<Vec<u8>> {
        let hint = self.call.read_into_memory()?;
        let cap = self.call.memory_cap();
        let mut out = Vec::with_capacity(hint);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match self.next_chunk(&mut buf)? {
                0 => return Ok(out),
                n => hawser_core::call::extend_within(&mut out, &buf[..n], cap),
            }
        }
    }

    /// The body as text, decoded with the `Content-Type` charset (see
    /// [`Head::decode_text`]).
    pub fn text(self) -> Result<String> {
        let head = self.head.clone();
        Ok(head.decode_text(self.bytes()?))
    }

    /// The body parsed as JSON (feature `json`, on by default).
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let bytes = self.bytes()?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::Body,
                format!("the response body is not valid JSON: {e}"),
            )
            .with_source(e)
        })
    }

    fn next_chunk(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.driver.pump(&mut self.call, Some(buf))? {
                Pumped::Body(0) => continue,
                Pumped::Body(n) => {
                    self.read += n as u64;
                    let total = self.content_length();
                    if let Some(p) = &mut self.progress {
                        p(self.read, total);
                    }
                    return Ok(n);
                }
                Pumped::Done => {
                    self.done = true;
                    return Ok(0);
                }
                Pumped::Head(_) => {
                    return Err(Error::new(ErrorKind::Usage, "a second response head"));
                }
            }
        }
    }
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.next_chunk(buf).map_err(io::Error::from)
    }
}
