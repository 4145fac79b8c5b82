//! Observers of each outgoing request and each response head: requests'
//! `hooks={"response": ...}`, run by the core so every backend runs them.

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Version};
use url::Url;

use crate::{Error, ErrorKind, Result};

type RequestHook = Arc<dyn Fn(&mut HookRequest<'_>) + Send + Sync>;
type ResponseHook = Arc<dyn Fn(&HookResponse<'_>) + Send + Sync>;

/// Callbacks the core runs for every request it writes (each attempt, each
/// redirect hop, each auth re-send) and every response head it reads
/// (including redirects and statuses that are retried).
///
/// A request hook sees what is about to be sent and may add headers; a
/// response hook sees the head. Neither can change the core's decisions:
/// a hook cannot touch framing, the target, the body, retries or
/// redirects, and cannot replace a header the request already carries (an
/// `Authorization` that Digest computed, say). For custom credentials use
/// [`Auth::custom`](crate::auth::Auth::custom). Hooks run on the driver's
/// thread, inside the call: keep them short and non-blocking.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use hawser_core::call::{Config, Hooks};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// let hooks = Hooks::new()
///     .on_request(|req| {
///         req.add_header("x-request-id", &format!("r-{}", req.attempt())).unwrap();
///     })
///     .on_response(move |resp| log.lock().unwrap().push(resp.status().as_u16()));
/// let mut config = Config::default();
/// config.hooks = hooks;
/// assert_eq!((config.hooks.request_hooks(), config.hooks.response_hooks()), (1, 1));
/// # drop(seen);
/// ```
#[derive(Clone, Default)]
pub struct Hooks {
    pub(crate) request: Vec<RequestHook>,
    pub(crate) response: Vec<ResponseHook>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("request", &self.request.len())
            .field("response", &self.response.len())
            .finish()
    }
}

impl Hooks {
    /// No hooks.
    ///
    /// ```
    /// assert_eq!(hawser_core::call::Hooks::new().request_hooks(), 0);
    /// ```
    pub fn new() -> Hooks {
        Hooks::default()
    }

    /// Run `f` before each request is written (after cookies and auth are
    /// added, so it sees what goes on the wire).
    ///
    /// ```
    /// let hooks = hawser_core::call::Hooks::new().on_request(|req| {
    ///     let _ = req.add_header("x-trace", "1");
    /// });
    /// assert_eq!(hooks.request_hooks(), 1);
    /// ```
    pub fn on_request(mut self, f: impl Fn(&mut HookRequest<'_>) + Send + Sync + 'static) -> Hooks {
        self.request.push(Arc::new(f));
        self
    }

    /// Run `f` for each response head read (before the core decides what
    /// to do with it: redirect, retry, answer a challenge or hand it over).
    ///
    /// ```
    /// let hooks = hawser_core::call::Hooks::new().on_response(|resp| {
    ///     if resp.status().is_server_error() { eprintln!("{} {}", resp.status(), resp.url()); }
    /// });
    /// assert_eq!(hooks.response_hooks(), 1);
    /// ```
    pub fn on_response(mut self, f: impl Fn(&HookResponse<'_>) + Send + Sync + 'static) -> Hooks {
        self.response.push(Arc::new(f));
        self
    }

    /// How many request hooks there are.
    ///
    /// ```
    /// assert_eq!(hawser_core::call::Hooks::new().on_request(|_| {}).request_hooks(), 1);
    /// ```
    pub fn request_hooks(&self) -> usize {
        self.request.len()
    }

    /// How many response hooks there are.
    ///
    /// ```
    /// assert_eq!(hawser_core::call::Hooks::new().on_response(|_| {}).response_hooks(), 1);
    /// ```
    pub fn response_hooks(&self) -> usize {
        self.response.len()
    }
}

/// Headers the core decides (framing, connection management, the target's
/// host): a hook may not add them.
fn core_owned(name: &HeaderName) -> bool {
    use http::header::*;
    [
        HOST,
        CONTENT_LENGTH,
        TRANSFER_ENCODING,
        CONNECTION,
        EXPECT,
        TE,
        TRAILER,
        UPGRADE,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// What a request hook sees: the request about to be written.
pub struct HookRequest<'a> {
    pub(crate) method: &'a Method,
    pub(crate) url: &'a Url,
    pub(crate) attempt: u32,
    pub(crate) headers: &'a mut HeaderMap,
}

impl fmt::Debug for HookRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookRequest")
            .field("method", self.method)
            .field("url", &crate::redact::url_text(self.url.as_str()))
            .field("attempt", &self.attempt)
            .field("headers", &crate::redact::Headers(self.headers))
            .finish()
    }
}

impl HookRequest<'_> {
    /// The method.
    pub fn method(&self) -> &Method {
        self.method
    }
    /// The URL of this hop.
    pub fn url(&self) -> &Url {
        self.url
    }
    /// Which request of the logical call this is: 1 for the first, then
    /// one more per retry, redirect hop or auth re-send.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// The headers that will be sent (the core adds `Host` and framing).
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }
    /// Add a header to this request only. Fails with
    /// [`ErrorKind::InvalidRequest`] (and adds nothing) when the name or
    /// value is invalid, when the request already carries the header, or
    /// when the core owns it (`Host`, `Content-Length`, `Transfer-Encoding`,
    /// `Connection`, `Expect`, `TE`, `Trailer`, `Upgrade`, `Keep-Alive`).
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        let (name, value): (HeaderName, HeaderValue) =
            crate::request::validate_header(name, value.as_bytes())?;
        if core_owned(&name) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("a hook cannot set {name}: the core decides it"),
            ));
        }
        if self.headers.contains_key(&name) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("a hook cannot replace {name}: the request already carries it"),
            ));
        }
        self.headers.insert(name, value);
        Ok(())
    }
}

/// What a response hook sees: one response head as read.
pub struct HookResponse<'a> {
    pub(crate) method: &'a Method,
    pub(crate) url: &'a Url,
    pub(crate) attempt: u32,
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) reused_connection: bool,
}

impl fmt::Debug for HookResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookResponse")
            .field("method", self.method)
            .field("url", &crate::redact::url_text(self.url.as_str()))
            .field("attempt", &self.attempt)
            .field("status", &self.status)
            .field("headers", &crate::redact::Headers(self.headers))
            .finish()
    }
}

impl HookResponse<'_> {
    /// The request's method.
    pub fn method(&self) -> &Method {
        self.method
    }
    /// The URL this response answers.
    pub fn url(&self) -> &Url {
        self.url
    }
    /// Which request of the logical call this answers (see
    /// [`HookRequest::attempt`]).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }
    /// The headers as received (before decoding removes `Content-Encoding`).
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }
    /// Was the request sent on a pooled connection?
    pub fn reused_connection(&self) -> bool {
        self.reused_connection
    }
}
