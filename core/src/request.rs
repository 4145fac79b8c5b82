//! Building requests: method, URL and query, headers, body.
//!
//! A [`Request`] is plain data built on the `http` and `url` crates. Every
//! check that can fail happens in [`RequestBuilder::build`], so a request
//! that exists is valid: an `http`/`https` URL with a host, header names
//! that are tokens and values without CR, LF or NUL (so no header
//! injection), and a [`Body`] that knows whether it can be sent again.
//!
//! ```
//! use hawser_core::request::Request;
//! let req = Request::post("http://example.com/items?x=1")
//!     .query(&[("page", "2")])
//!     .header("x-trace", "abc")
//!     .form(&[("name", "rope"), ("len", "30 m")])
//!     .build()?;
//! assert_eq!(req.url().as_str(), "http://example.com/items?x=1&page=2");
//! assert_eq!(req.headers()["content-type"], "application/x-www-form-urlencoded");
//! assert!(req.body().is_replayable());
//! assert_eq!(req.body().as_bytes().unwrap(), &b"name=rope&len=30+m"[..]);
//! # Ok::<(), hawser_core::Error>(())
//! ```

use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use url::Url;

use crate::{Error, ErrorKind, Result};

/// A request body, and whether it can be sent more than once.
///
/// Bytes, strings, forms and JSON are held in memory and are *replayable*:
/// a retry, a 307/308 redirect or an auth challenge can send them again. A
/// stream is supplied chunk by chunk by the driver while it is sent, so it
/// is not replayable: once part of it has gone out, hawser will not re-send
/// it and says so with [`ErrorKind::BodyNotReplayable`].
///
/// ```
/// use hawser_core::request::Body;
/// assert!(Body::from("hi").is_replayable());
/// assert_eq!(Body::from("hi").len(), Some(2));
/// assert!(!Body::stream(None).is_replayable());
/// assert_eq!(Body::empty().len(), Some(0));
/// ```
#[derive(Clone, Default)]
pub struct Body {
    kind: BodyKind,
}

#[derive(Clone, Default)]
enum BodyKind {
    #[default]
    Empty,
    Bytes(Bytes),
    Stream {
        len: Option<u64>,
    },
}

impl Body {
    /// No body.
    ///
    /// ```
    /// let b = hawser_core::request::Body::empty();
    /// assert!(b.is_empty() && b.is_replayable());
    /// assert_eq!(b.as_bytes(), None);
    /// ```
    pub fn empty() -> Self {
        Body::default()
    }

    /// A body held in memory (replayable).
    ///
    /// ```
    /// use hawser_core::request::Body;
    /// let b = Body::from_bytes(vec![1u8, 2, 3]);
    /// assert_eq!(b.as_bytes().unwrap(), &[1u8, 2, 3][..]);
    /// assert!(b.is_replayable());
    /// ```
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Body {
            kind: BodyKind::Bytes(bytes.into()),
        }
    }

    /// A body the driver streams in while sending (not replayable). With a
    /// known length it is sent with `Content-Length`, otherwise chunked.
    ///
    /// ```
    /// use hawser_core::request::Body;
    /// assert_eq!(Body::stream(Some(10)).len(), Some(10));
    /// assert_eq!(Body::stream(None).len(), None);
    /// assert!(Body::stream(None).as_bytes().is_none());
    /// ```
    pub fn stream(len: Option<u64>) -> Self {
        Body {
            kind: BodyKind::Stream { len },
        }
    }

    /// True when the body can be sent again (retries, 307/308, auth).
    ///
    /// ```
    /// use hawser_core::request::Body;
    /// assert!(Body::from(String::from("again")).is_replayable());
    /// assert!(!Body::stream(Some(5)).is_replayable());
    /// ```
    pub fn is_replayable(&self) -> bool {
        !matches!(self.kind, BodyKind::Stream { .. })
    }

    /// True for a streamed body the driver supplies.
    ///
    /// ```
    /// use hawser_core::request::Body;
    /// assert!(Body::stream(None).is_stream());
    /// assert!(!Body::from("x").is_stream());
    /// ```
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, BodyKind::Stream { .. })
    }

    /// True when there is no body at all.
    ///
    /// ```
    /// use hawser_core::request::Body;
    /// assert!(Body::from("").is_empty());
    /// assert!(Body::stream(Some(0)).is_empty());
    /// assert!(!Body::stream(None).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        match &self.kind {
            BodyKind::Empty => true,
            BodyKind::Bytes(b) => b.is_empty(),
            BodyKind::Stream { len } => *len == Some(0),
        }
    }

    /// The length if known (`None` for a stream of unknown length).
    ///
    /// ```
    /// use hawser_core::request::Body;
    /// assert_eq!(Body::from("héllo").len(), Some(6));
    /// assert_eq!(Body::stream(None).len(), None);
    /// ```
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            BodyKind::Empty => Some(0),
            BodyKind::Bytes(b) => Some(b.len() as u64),
            BodyKind::Stream { len } => *len,
        }
    }

    /// The in-memory bytes, if this body is held in memory.
    ///
    /// ```
    /// use hawser_core::request::Body;
    /// assert_eq!(Body::from("abc").as_bytes().unwrap(), "abc");
    /// assert_eq!(Body::stream(Some(3)).as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            BodyKind::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

impl fmt::Debug for Body {
    // Bodies can hold credentials (form logins): show the shape, not the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Empty => f.write_str("Body::Empty"),
            BodyKind::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            BodyKind::Stream { len: Some(n) } => write!(f, "Body::Stream({n} bytes)"),
            BodyKind::Stream { len: None } => f.write_str("Body::Stream(unknown length)"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::from_bytes(b)
    }
}
impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::from_bytes(b)
    }
}
impl From<&'static [u8]> for Body {
    fn from(b: &'static [u8]) -> Self {
        Body::from_bytes(Bytes::from_static(b))
    }
}
impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from_bytes(s)
    }
}
impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from_bytes(Bytes::from_static(s.as_bytes()))
    }
}

/// A validated request: method, absolute `http`/`https` URL, headers, body.
///
/// Build one with [`Request::builder`] or the per-method shortcuts.
///
/// ```
/// use hawser_core::request::Request;
/// let req = Request::get("https://example.com/a b").build()?;
/// assert_eq!(req.method(), "GET");
/// assert_eq!(req.url().path(), "/a%20b");
/// # Ok::<(), hawser_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Body,
    url_credentials: Option<(String, String)>,
    /// `Content-Type` was set by a body helper (`form`, `json`), not by the
    /// caller: a caller's value replaces it, and a session's default wins
    /// over it (requests' order).
    content_type_implicit: bool,
}

impl Request {
    /// Start building a request.
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::builder(http::Method::OPTIONS, "http://h.test/").build()?;
    /// assert_eq!(req.method(), http::Method::OPTIONS);
    /// assert!(Request::builder(http::Method::GET, "ftp://h.test/").build().is_err());
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn builder(method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder::new(method, url.as_ref())
    }
    /// `GET url`.
    ///
    /// ```
    /// let req = hawser_core::request::Request::get("http://h.test/").build()?;
    /// assert_eq!((req.method().as_str(), req.url().as_str()), ("GET", "http://h.test/"));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn get(url: impl AsRef<str>) -> RequestBuilder {
        Self::builder(Method::GET, url)
    }
    /// `POST url`.
    ///
    /// ```
    /// let req = hawser_core::request::Request::post("http://h.test/").body("x").build()?;
    /// assert_eq!((req.method().as_str(), req.body().len()), ("POST", Some(1)));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn post(url: impl AsRef<str>) -> RequestBuilder {
        Self::builder(Method::POST, url)
    }
    /// `PUT url`.
    ///
    /// ```
    /// let req = hawser_core::request::Request::put("http://h.test/item/1").build()?;
    /// assert_eq!(req.method(), http::Method::PUT);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn put(url: impl AsRef<str>) -> RequestBuilder {
        Self::builder(Method::PUT, url)
    }
    /// `DELETE url`.
    ///
    /// ```
    /// let req = hawser_core::request::Request::delete("http://h.test/item/1").build()?;
    /// assert_eq!(req.method(), http::Method::DELETE);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn delete(url: impl AsRef<str>) -> RequestBuilder {
        Self::builder(Method::DELETE, url)
    }
    /// `HEAD url`.
    ///
    /// ```
    /// let req = hawser_core::request::Request::head("http://h.test/").build()?;
    /// assert_eq!(req.method(), http::Method::HEAD);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn head(url: impl AsRef<str>) -> RequestBuilder {
        Self::builder(Method::HEAD, url)
    }
    /// `PATCH url`.
    ///
    /// ```
    /// let req = hawser_core::request::Request::patch("http://h.test/item/1").build()?;
    /// assert_eq!(req.method(), http::Method::PATCH);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn patch(url: impl AsRef<str>) -> RequestBuilder {
        Self::builder(Method::PATCH, url)
    }

    /// The method.
    ///
    /// ```
    /// let req = hawser_core::request::Request::post("http://h.test/").build()?;
    /// assert_eq!(req.method(), "POST");
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The URL (credentials removed; see [`Request::url_credentials`]).
    ///
    /// ```
    /// let req = hawser_core::request::Request::get("http://u:p@h.test/x").build()?;
    /// assert_eq!(req.url().as_str(), "http://h.test/x");
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn url(&self) -> &Url {
        &self.url
    }
    /// The headers set on this request (session defaults are merged later).
    ///
    /// ```
    /// let req = hawser_core::request::Request::get("http://h.test/").header("accept", "text/plain").build()?;
    /// assert_eq!(req.headers()["accept"], "text/plain");
    /// assert_eq!(req.headers().len(), 1);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// Mutable access to the headers. Values are `HeaderValue`s, which
    /// cannot hold CR, LF or NUL, so edits cannot inject.
    ///
    /// ```
    /// let mut req = hawser_core::request::Request::get("http://h.test/").header("x-a", "1").build()?;
    /// req.headers_mut().insert("x-a", http::HeaderValue::from_static("2"));
    /// assert_eq!(req.headers()["x-a"], "2");
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }
    /// The body.
    ///
    /// ```
    /// let req = hawser_core::request::Request::put("http://h.test/").body("data").build()?;
    /// assert_eq!(req.body().as_bytes().unwrap(), "data");
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn body(&self) -> &Body {
        &self.body
    }
    /// `user:password` that were given in the URL (`http://u:p@host/`),
    /// decoded; like requests, they become Basic auth when no other auth is set.
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::get("http://ann:p%40ss@h.test/").build()?;
    /// assert_eq!(req.url_credentials(), Some(("ann", "p@ss")));
    /// assert_eq!(Request::get("http://h.test/").build()?.url_credentials(), None);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn url_credentials(&self) -> Option<(&str, &str)> {
        self.url_credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// Whether `Content-Type` came from a body helper rather than the caller.
    pub(crate) fn content_type_is_implicit(&self) -> bool {
        self.content_type_implicit
    }

    /// Split into parts (used by the call orchestrator).
    ///
    /// ```
    /// let req = hawser_core::request::Request::post("http://h.test/").body("b").build()?;
    /// let (method, url, headers, body) = req.into_parts();
    /// assert_eq!((method, url.as_str()), (http::Method::POST, "http://h.test/"));
    /// assert!(headers.is_empty());
    /// assert_eq!(body.len(), Some(1));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn into_parts(self) -> (Method, Url, HeaderMap, Body) {
        (self.method, self.url, self.headers, self.body)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &crate::redact::Headers(&self.headers))
            .field("body", &self.body)
            .finish()
    }
}

/// Builds a [`Request`]; errors are kept until [`RequestBuilder::build`].
///
/// ```
/// use hawser_core::{request::Request, ErrorKind};
/// let err = Request::get("http://example.com/")
///     .header("x-evil", "a\r\nInjected: yes")
///     .build()
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
/// ```
#[must_use = "a builder does nothing until build() is called"]
pub struct RequestBuilder {
    inner: Result<Request>,
}

impl RequestBuilder {
    fn new(method: Method, url: &str) -> Self {
        RequestBuilder {
            inner: parse_url(url).map(|(url, url_credentials)| Request {
                method,
                url,
                headers: HeaderMap::new(),
                body: Body::empty(),
                url_credentials,
                content_type_implicit: false,
            }),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Request) -> Result<()>) -> Self {
        if let Ok(req) = &mut self.inner
            && let Err(e) = f(req)
        {
            self.inner = Err(e);
        }
        self
    }

    /// Add a header (appended; repeated names are kept). Invalid names or
    /// values (CR, LF, NUL, non-token names) make `build` fail. A
    /// `Content-Type` replaces the one a body helper set, so it is sent
    /// once, with the caller's value (as requests does).
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::post("http://h.test/")
    ///     .form(&[("a", "1")])
    ///     .header("content-type", "application/x-custom")
    ///     .build()?;
    /// let values: Vec<_> = req.headers().get_all("content-type").iter().collect();
    /// assert_eq!(values, ["application/x-custom"]);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn header(self, name: impl AsRef<str>, value: impl AsRef<[u8]>) -> Self {
        self.with(|req| {
            let (name, value) = validate_header(name.as_ref(), value.as_ref())?;
            if name == CONTENT_TYPE && std::mem::take(&mut req.content_type_implicit) {
                req.headers.remove(CONTENT_TYPE);
            }
            req.headers.append(name, value);
            Ok(())
        })
    }

    /// Add a header whose value is a credential: it is stripped on a
    /// redirect to another origin (like `Authorization`) and printed as
    /// `***` by `Debug` (`HeaderValue::set_sensitive`).
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::get("http://h.test/").sensitive_header("x-api-key", "k-SECRET").build()?;
    /// assert!(req.headers()["x-api-key"].is_sensitive());
    /// assert!(!format!("{req:?}").contains("k-SECRET"));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn sensitive_header(self, name: impl AsRef<str>, value: impl AsRef<[u8]>) -> Self {
        self.with(|req| {
            let (name, mut value) = validate_header(name.as_ref(), value.as_ref())?;
            value.set_sensitive(true);
            req.headers.append(name, value);
            Ok(())
        })
    }

    /// Append query parameters, percent-encoded.
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::get("http://h.test/s?a=1").query(&[("q", "rope & knot")]).build()?;
    /// assert_eq!(req.url().query(), Some("a=1&q=rope+%26+knot"));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn query<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        self.with(|req| {
            if !pairs.is_empty() {
                let mut q = req.url.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k.as_ref(), v.as_ref());
                }
            }
            Ok(())
        })
    }

    /// Set the body from bytes or a string (replayable).
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::post("http://h.test/").body(vec![0u8; 4]).build()?;
    /// assert_eq!(req.body().len(), Some(4));
    /// assert!(req.body().is_replayable());
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn body(self, body: impl Into<Body>) -> Self {
        self.with(|req| {
            req.body = body.into();
            Ok(())
        })
    }

    /// Set a URL-encoded form body, and `Content-Type:
    /// application/x-www-form-urlencoded` unless the caller set one.
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::post("http://h.test/login").form(&[("user", "ann"), ("pw", "a b")]).build()?;
    /// assert_eq!(req.body().as_bytes().unwrap(), "user=ann&pw=a+b");
    /// assert_eq!(req.headers()["content-type"], "application/x-www-form-urlencoded");
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        self.with(|req| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                ser.append_pair(k.as_ref(), v.as_ref());
            }
            req.body = Body::from(ser.finish());
            req.default_content_type("application/x-www-form-urlencoded");
            Ok(())
        })
    }

    /// Set a JSON body, and `Content-Type: application/json` unless the
    /// caller set one (feature `json`). NaN and infinities are refused with
    /// [`ErrorKind::InvalidRequest`] (JSON has no such numbers; requests
    /// raises `InvalidJSONError`), rather than sent as `null`.
    ///
    /// ```
    /// use hawser_core::{request::Request, ErrorKind};
    /// let ok = Request::post("http://h.test/").json(&[1.5, 2.0]).build()?;
    /// assert_eq!(ok.headers()["content-type"], "application/json");
    /// let err = Request::post("http://h.test/").json(&[f64::NAN]).build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        self.with(|req| {
            if let Err(e) = value.serialize(crate::json_check::Finite) {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    format!("the JSON body cannot be sent: {e}"),
                ));
            }
            let bytes = serde_json::to_vec(value).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    "could not serialize the JSON body",
                )
                .with_source(e)
            })?;
            req.body = Body::from(bytes);
            req.default_content_type("application/json");
            Ok(())
        })
    }

    /// Finish, returning the first error met while building. The URL's
    /// path and query are re-quoted as requests' `requote_uri` does:
    /// characters a strict server refuses (`|`, `^`, `{`, `}`, `\`, ...)
    /// are percent-encoded, escapes of unreserved characters are decoded,
    /// and a `%` that starts no valid escape becomes `%25`; valid escapes
    /// are never encoded twice.
    ///
    /// ```
    /// use hawser_core::request::Request;
    /// let req = Request::get("http://h.test/p|q?a=|^{}&b=%zz&c=%41%2F").build()?;
    /// assert_eq!(req.url().path(), "/p%7Cq");
    /// assert_eq!(req.url().query(), Some("a=%7C%5E%7B%7D&b=%25zz&c=A%2F"));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    ///
    /// Fields that must be unique on the wire (`Host`, `Content-Length`,
    /// `Transfer-Encoding`) set twice by the caller are refused here, with
    /// [`ErrorKind::InvalidRequest`]: two of them are how requests are
    /// smuggled past a proxy.
    pub fn build(self) -> Result<Request> {
        let mut req = self.inner?;
        for name in [
            http::header::HOST,
            http::header::CONTENT_LENGTH,
            http::header::TRANSFER_ENCODING,
        ] {
            if req.headers.get_all(&name).iter().nth(1).is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    format!("the {name} header is set twice; it must appear once on the wire"),
                ));
            }
        }
        requote_url(&mut req.url);
        Ok(req)
    }
}

/// Validate a header name and value supplied by the caller.
///
/// ```
/// use hawser_core::request::validate_header;
/// assert!(validate_header("x-ok", b"fine value").is_ok());
/// assert!(validate_header("bad name", b"v").is_err());
/// assert!(validate_header("x", b"a\nb").is_err());
/// assert!(validate_header("x", b"a\0b").is_err());
/// ```
pub fn validate_header(name: &str, value: &[u8]) -> Result<(HeaderName, HeaderValue)> {
    let hname = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid header name {name:?}: header names must be tokens"),
        )
    })?;
    // Never echo the value: it may be a credential.
    let hvalue = HeaderValue::from_bytes(value).map_err(|_| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid value for header {name:?}: control characters (CR, LF, NUL) are not allowed"),
        )
    })?;
    Ok((hname, hvalue))
}

impl Request {
    /// A body helper's `Content-Type`, unless the caller set one.
    fn default_content_type(&mut self, value: &'static str) {
        if !self.headers.contains_key(CONTENT_TYPE) {
            self.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(value));
            self.content_type_implicit = true;
        }
    }
}

/// Re-quote `url`'s path and query like requests' `requote_uri`.
pub(crate) fn requote_url(url: &mut Url) {
    if let Some(p) = requote(url.path()) {
        url.set_path(&p);
    }
    if let Some(q) = url.query().and_then(requote) {
        url.set_query(Some(&q));
    }
}

/// requests' `requote_uri` on one component (without its fallback that
/// encodes every `%` when one escape is invalid: only the invalid `%` is
/// encoded here, so valid escapes are never encoded twice). `None` when
/// nothing changes. Written by hand: the `url` crate's encode sets leave
/// `|`, `^`, `{`, `}` and `\` in queries, and requests' safe set differs.
fn requote(s: &str) -> Option<String> {
    const SAFE: &[u8] = b"!#$&'()*+,/:;=?@[]~-._";
    let unreserved = |c: u8| c.is_ascii_alphanumeric() || b"-._~".contains(&c);
    let hex = |c: Option<&u8>| c.and_then(|&c| char::from(c).to_digit(16));
    let b = s.as_bytes();
    // The usual case, nothing to re-quote, allocates nothing.
    if b.iter()
        .all(|&c| c.is_ascii_alphanumeric() || SAFE.contains(&c))
    {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if let (Some(h), Some(l)) = (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                let v = (h * 16 + l) as u8;
                if unreserved(v) {
                    out.push(char::from(v));
                    changed = true;
                } else {
                    out.push_str(&s[i..i + 3]);
                }
                i += 3;
                continue;
            }
            out.push_str("%25");
            changed = true;
        } else if c.is_ascii_alphanumeric() || SAFE.contains(&c) {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
            changed = true;
        }
        i += 1;
    }
    changed.then_some(out)
}

fn parse_url(input: &str) -> Result<(Url, Option<(String, String)>)> {
    // Never echo a password: the URL may carry one even when it is broken.
    let shown = || crate::redact::url_text(input);
    let mut url = Url::parse(input).map_err(|e| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid URL {:?}: {e}", shown()),
        )
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("unsupported URL scheme {other:?} (only http and https)"),
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("URL {:?} has no host", shown()),
        ));
    }
    let creds = if !url.username().is_empty() || url.password().is_some() {
        let dec = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let c = (dec(url.username()), dec(url.password().unwrap_or("")));
        // Credentials travel as an Authorization header, never in the URL.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Some(c)
    } else {
        None
    };
    Ok((url, creds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_http_schemes_and_missing_hosts() {
        for u in ["ftp://x/", "file:///etc/passwd", "http://", "not a url"] {
            let e = Request::get(u).build().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{u}");
        }
    }

    #[test]
    fn url_credentials_are_moved_out_of_the_url() {
        let r = Request::get("http://al%40ice:p+w%3A@example.com/")
            .build()
            .unwrap();
        assert_eq!(r.url().as_str(), "http://example.com/");
        assert_eq!(r.url_credentials(), Some(("al@ice", "p+w:")));
    }

    #[test]
    fn header_injection_is_rejected_without_echoing_the_value() {
        let e = Request::get("http://example.com/")
            .header("Authorization", "secret\r\nX: y")
            .build()
            .unwrap_err();
        assert!(!e.to_string().contains("secret"));
        assert!(e.to_string().contains("Authorization"));
    }

    #[test]
    fn first_error_wins_and_later_calls_are_ignored() {
        let e = Request::get("http://example.com/")
            .header("bad name", "v")
            .header("x", "a\nb")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("bad name"));
    }

    #[test]
    fn debug_redacts_credentials() {
        let r = Request::get("http://example.com/")
            .header("authorization", "Bearer s3cr3t")
            .header("cookie", "sid=s3cr3t")
            .header("x-plain", "visible")
            .body("password=s3cr3t")
            .build()
            .unwrap();
        let d = format!("{r:?}");
        assert!(!d.contains("s3cr3t"), "{d}");
        assert!(d.contains("visible"));
    }

    #[test]
    fn repeated_headers_are_kept() {
        let r = Request::get("http://e.com/")
            .header("accept", "a")
            .header("accept", "b")
            .build()
            .unwrap();
        assert_eq!(r.headers().get_all("accept").iter().count(), 2);
    }

    #[test]
    fn a_password_in_a_broken_url_is_never_echoed() {
        for url in [
            "http://user:secretpw@bad host/",
            "http://user:secretpw@h.test:99999/",
            "ftp://user:secretpw@h.test/",
        ] {
            let e = Request::get(url).build().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidRequest);
            assert!(!format!("{e} {e:?}").contains("secretpw"), "{e:?}");
        }
    }

    #[test]
    fn fields_that_must_be_unique_are_refused_twice() {
        for name in ["Host", "content-length", "Transfer-Encoding"] {
            let e = Request::post("http://h.test/")
                .header(name, "1")
                .header(name, "2")
                .build()
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{name}");
            assert!(
                Request::post("http://h.test/")
                    .header(name, "1")
                    .build()
                    .is_ok()
            );
        }
    }
}
