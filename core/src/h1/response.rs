//! The incremental response reader.

use std::mem::MaybeUninit;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};

use super::chunked::{ChunkedDecoder, ChunkedEvent};
use super::encode::{RequestInfo, parse_u64};
use super::error::ResponseError;
use super::{Limits, find_blank_line, list_items, resume_point};

/// How the body of a response is delimited (RFC 9112 §6.3).
///
/// ```
/// use hawser_core::h1::BodyFraming;
/// assert!(BodyFraming::Length(3).allows_reuse());
/// assert!(!BodyFraming::Close.allows_reuse());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body: a response to HEAD, or a 204 / 304.
    None,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: ..., chunked`.
    Chunked,
    /// Neither: the body runs until the server closes the connection.
    Close,
    /// 101 Switching Protocols, or a 2xx answer to CONNECT: the bytes after
    /// the head belong to another protocol (the tunnel) and are not read.
    Upgrade,
}

impl BodyFraming {
    /// Whether a body framed this way leaves the connection usable for HTTP.
    pub fn allows_reuse(self) -> bool {
        matches!(
            self,
            BodyFraming::None | BodyFraming::Length(_) | BodyFraming::Chunked
        )
    }
}

/// A parsed final (or 101) response head.
///
/// ```
/// use hawser_core::h1::{Event, Limits, RequestInfo, ResponseReader, BodyFraming};
/// let mut r = ResponseReader::new(RequestInfo::new(&http::Method::GET), Limits::default());
/// let (_, ev) = r.read(b"HTTP/1.0 404 Not Found\r\nX-A: b\r\n\r\n").unwrap();
/// let Event::Head(head) = ev else { unreachable!() };
/// assert_eq!(head.version, http::Version::HTTP_10);
/// assert_eq!(head.status, http::StatusCode::NOT_FOUND);
/// assert_eq!(head.headers["x-a"], "b");
/// assert_eq!(head.framing, BodyFraming::Close);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseHead {
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The status code.
    pub status: StatusCode,
    /// The header fields, in order, names lower-cased.
    pub headers: HeaderMap,
    /// How the body that follows is delimited.
    pub framing: BodyFraming,
    /// The server's reason phrase, when it differs from the status's
    /// canonical one (`NOT FOUND` for a 404); `None` for the usual case,
    /// so a plain response allocates nothing for it.
    pub reason: Option<String>,
}

/// What the reader found in the input.
///
/// ```
/// use hawser_core::h1::{Event, Limits, RequestInfo, ResponseReader};
/// let mut r = ResponseReader::new(RequestInfo::new(&http::Method::POST), Limits::default());
/// let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
/// let (n, ev) = r.read(wire).unwrap();
/// assert_eq!(ev, Event::Continue); // release a body that waits for it
/// let (m, ev) = r.read(&wire[n..]).unwrap();
/// assert!(matches!(ev, Event::Head(ref h) if h.status == 204));
/// assert_eq!(r.read(&wire[n + m..]).unwrap(), (0, Event::Done));
/// ```
#[derive(Debug, PartialEq)]
pub enum Event<'a> {
    /// Nothing more can be made of the input: read more from the peer (or
    /// call [`ResponseReader::eof`] if it closed).
    NeedInput,
    /// `100 Continue` arrived (and was consumed): a request body that waits
    /// for it may be sent now. The final head follows.
    Continue,
    /// The final response head (or a 101).
    Head(ResponseHead),
    /// Body bytes, borrowed from the input: no copy was made.
    Body(&'a [u8]),
    /// Trailer fields of a chunked body.
    Trailers(HeaderMap),
    /// The response is complete; see [`ResponseReader::reusable`].
    Done,
}

#[derive(Debug)]
enum State {
    Head,
    Length {
        expected: u64,
        remaining: u64,
    },
    Chunked(ChunkedDecoder),
    Close,
    /// The response is complete; the next call reports [`Event::Done`].
    Finish,
    Done,
    Failed(ResponseError),
}

/// Reads one HTTP/1.1 response from bytes the caller supplies.
///
/// Drive it like this: keep a buffer of unconsumed bytes; call
/// [`read`](Self::read) with all of them; drop the `consumed` prefix; on
/// [`Event::NeedInput`] append more bytes from the peer (or call
/// [`eof`](Self::eof) if it closed); stop at [`Event::Done`]. Any split of the
/// peer's bytes produces the same events. The reader keeps no copy of the
/// input: it remembers only how far it already searched for the end of the
/// head, so bytes are scanned once, not once per call.
///
/// After a complete exchange, [`reset`](Self::reset) prepares it for the next
/// request on the same connection and keeps its scratch memory, so a
/// keep-alive loop allocates only the response's `HeaderMap`.
///
/// ```
/// use hawser_core::h1::{Event, Limits, RequestInfo, ResponseReader};
/// let mut reader = ResponseReader::new(RequestInfo::new(&http::Method::GET), Limits::default());
/// let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
/// let mut body = Vec::new();
/// let mut buf: &[u8] = wire;
/// loop {
///     let (n, ev) = reader.read(buf)?;
///     match ev {
///         Event::Body(b) => body.extend_from_slice(b),
///         Event::Done => break,
///         Event::NeedInput => reader.eof().map(|_| ())?, // no more bytes in this demo
///         _ => {}
///     }
///     buf = &buf[n..];
/// }
/// assert_eq!(body, b"abc");
/// assert!(reader.reusable());
/// # Ok::<(), hawser_core::h1::ResponseError>(())
/// ```
#[derive(Debug)]
pub struct ResponseReader {
    info: RequestInfo,
    limits: Limits,
    state: State,
    /// How far into the pending head the blank-line search already went.
    scanned: usize,
    /// Empty lines consumed before the current head (they count toward the
    /// head-size limit, so a stream of them cannot go on forever).
    blank: usize,
    /// Any response byte seen in this exchange (to tell a stale connection).
    any_byte: bool,
    saw_eof: bool,
    keep_alive: bool,
    keep_alive_timeout: Option<Duration>,
    framing: Option<BodyFraming>,
    /// Reused httparse header slots: grown up to `limits.max_headers`, never
    /// a fixed-size array (a fixed array is httparse's own documented trap).
    slots: Vec<httparse::Header<'static>>,
    /// Header names seen in earlier heads, kept across `reset`: a server
    /// sends the same names in the same order every time, and a name found
    /// here is not parsed (nor, if non-standard, allocated) again.
    names: NameCache,
}

/// Header names as a server spelt them (`Content-Type`), with the parsed
/// name: a hit is one exact byte comparison.
pub(crate) type NameCache = Vec<(Box<[u8]>, HeaderName)>;

/// At most this many names are remembered, each at most [`NAME_CACHE_LEN`]
/// bytes long, so a hostile server cannot grow the cache.
const NAME_CACHE: usize = 32;
const NAME_CACHE_LEN: usize = 64;

impl ResponseReader {
    /// A reader for the response to a request described by `info`.
    pub fn new(info: RequestInfo, limits: Limits) -> Self {
        ResponseReader {
            info,
            limits,
            state: State::Head,
            scanned: 0,
            blank: 0,
            any_byte: false,
            saw_eof: false,
            keep_alive: false,
            keep_alive_timeout: None,
            framing: None,
            slots: Vec::new(),
            names: Vec::new(),
        }
    }

    /// Header names a reader learnt (to hand to the next call's reader).
    pub(crate) fn take_names(&mut self) -> NameCache {
        std::mem::take(&mut self.names)
    }

    /// Start with the header names an earlier reader learnt.
    pub(crate) fn with_names(mut self, names: NameCache) -> Self {
        self.names = names;
        self
    }

    /// Prepares the reader for the next response on the same connection,
    /// keeping its scratch memory.
    pub fn reset(&mut self, info: RequestInfo) {
        let slots = std::mem::take(&mut self.slots);
        let names = std::mem::take(&mut self.names);
        *self = ResponseReader {
            slots,
            names,
            ..ResponseReader::new(info, self.limits)
        };
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The framing of the final response, once its head was read.
    pub fn framing(&self) -> Option<BodyFraming> {
        self.framing
    }

    /// True once [`Event::Done`] was reported.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Whether the connection may carry another request: the response was
    /// read completely and validly, neither side sent `Connection: close`,
    /// an HTTP/1.0 server sent `Connection: keep-alive`, the body was not
    /// close-delimited, it was not a 101 or CONNECT tunnel, and the peer has
    /// not closed. The caller must also hold no bytes beyond the response
    /// (hawser does not pipeline, so extra bytes mean a confused peer).
    pub fn reusable(&self) -> bool {
        matches!(self.state, State::Done)
            && !self.saw_eof
            && self.keep_alive
            && !self.info.connection_close
            && self.framing.is_some_and(BodyFraming::allows_reuse)
    }

    /// The server's `Keep-Alive: timeout=N` hint: how long it keeps an idle
    /// connection open.
    pub fn keep_alive_timeout(&self) -> Option<Duration> {
        self.keep_alive_timeout
    }

    /// How many body bytes may go from the peer straight to the caller,
    /// without passing through [`read`](Self::read): the bytes left of a
    /// `Content-Length` body (`u64::MAX` for a close-delimited one), or
    /// `None` when the next bytes need parsing (a head, chunked framing) or
    /// the body is complete. Report such bytes with
    /// [`body_read`](Self::body_read).
    ///
    /// ```
    /// use hawser_core::h1::{Event, Limits, RequestInfo, ResponseReader};
    /// let mut reader = ResponseReader::new(RequestInfo::new(&http::Method::GET), Limits::default());
    /// assert_eq!(reader.body_room(), None);
    /// let (n, ev) = reader.read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")?;
    /// assert!(matches!(ev, Event::Head(_)));
    /// assert_eq!(reader.body_room(), Some(5));
    /// reader.body_read(5)?; // the caller read "hello" into its own buffer
    /// assert_eq!(reader.body_room(), None);
    /// assert!(matches!(reader.read(b"")?, (0, Event::Done)));
    /// # let _ = n;
    /// # Ok::<(), hawser_core::h1::ResponseError>(())
    /// ```
    pub fn body_room(&self) -> Option<u64> {
        match self.state {
            State::Length { remaining, .. } if remaining > 0 => Some(remaining),
            State::Close => Some(u64::MAX),
            _ => None,
        }
    }

    /// Accounts for `n` body bytes the caller read itself, within
    /// [`body_room`](Self::body_room). More than the room is an error
    /// ([`ResponseError::BodyOverrun`]), and sticky like the others.
    pub fn body_read(&mut self, n: u64) -> Result<(), ResponseError> {
        match &mut self.state {
            State::Length { remaining, .. } if n <= *remaining => {
                *remaining -= n;
                Ok(())
            }
            State::Close => Ok(()),
            State::Failed(e) => Err(e.clone()),
            _ => {
                self.state = State::Failed(ResponseError::BodyOverrun);
                Err(ResponseError::BodyOverrun)
            }
        }
    }

    /// Reads from `input`, which must start with the bytes the previous call
    /// did not consume. Returns the number of bytes consumed and one event.
    /// Errors are sticky: once failed, every call returns the same error.
    pub fn read<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Event<'a>), ResponseError> {
        let result = self.step(input);
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
        }
        result
    }

    /// Tells the reader the peer closed the connection. Returns
    /// [`Event::Done`] when that completes the response (close-delimited
    /// body, or an already complete one), else the error that describes what
    /// was missing: [`ResponseError::ClosedBeforeResponse`] if not a single
    /// response byte had arrived.
    pub fn eof(&mut self) -> Result<Event<'static>, ResponseError> {
        self.saw_eof = true;
        let result = match &self.state {
            State::Head if !self.any_byte => Err(ResponseError::ClosedBeforeResponse),
            State::Head => Err(ResponseError::IncompleteHead),
            State::Length {
                expected,
                remaining,
            } if *remaining > 0 => Err(ResponseError::Truncated {
                expected: *expected,
                received: expected - remaining,
            }),
            State::Chunked(dec) => dec.eof().map(|_| Event::Done),
            State::Failed(e) => Err(e.clone()),
            State::Length { .. } | State::Close | State::Finish | State::Done => Ok(Event::Done),
        };
        self.state = match &result {
            Ok(_) => State::Done,
            Err(e) => State::Failed(e.clone()),
        };
        result
    }

    fn step<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Event<'a>), ResponseError> {
        match &mut self.state {
            State::Head => self.read_head(input),
            State::Length { remaining, .. } => {
                if *remaining == 0 {
                    self.state = State::Done;
                    return Ok((0, Event::Done));
                }
                if input.is_empty() {
                    return Ok((0, Event::NeedInput));
                }
                let take = usize::try_from(*remaining).map_or(input.len(), |r| r.min(input.len()));
                *remaining -= take as u64;
                Ok((take, Event::Body(input.get(..take).unwrap_or_default())))
            }
            State::Chunked(dec) => {
                let (n, ev) = dec.decode(input)?;
                let ev = match ev {
                    ChunkedEvent::NeedInput => Event::NeedInput,
                    ChunkedEvent::Data(d) => Event::Body(d),
                    ChunkedEvent::Trailers(t) => Event::Trailers(t),
                    ChunkedEvent::End => {
                        self.state = State::Done;
                        Event::Done
                    }
                };
                Ok((n, ev))
            }
            State::Close if input.is_empty() => Ok((0, Event::NeedInput)),
            State::Close => Ok((input.len(), Event::Body(input))),
            State::Finish | State::Done => {
                self.state = State::Done;
                Ok((0, Event::Done))
            }
            State::Failed(e) => Err(e.clone()),
        }
    }

    fn read_head<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Event<'a>), ResponseError> {
        let mut pos = 0;
        // Each turn consumes one interim (1xx) head, so the loop is bounded
        // by the input length.
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            if !rest.is_empty() {
                self.any_byte = true;
            }
            // Empty lines before a status line (tolerated, RFC 9112 §2.2)
            // are consumed as they arrive, so none is scanned twice:
            // otherwise each blank-line pair would re-parse all before it.
            if self.scanned == 0 {
                let skip = leading_empty_lines(rest);
                if skip > 0 {
                    self.blank += skip;
                    if self.blank > self.limits.max_head_bytes {
                        return Err(ResponseError::HeadTooLarge {
                            limit: self.limits.max_head_bytes,
                        });
                    }
                    pos += skip;
                    continue;
                }
            }
            let direct = if self.scanned == 0 {
                self.parse_whole(rest)?
            } else {
                None
            };
            let (end, parsed) = match direct {
                Some(done) => done,
                None => {
                    let Some(end) = self.find_head_end(rest)? else {
                        return Ok((pos, Event::NeedInput));
                    };
                    (end, self.parse_head(rest.get(..end).unwrap_or_default())?)
                }
            };
            match parsed {
                None => continue, // httparse wants more than this blank line; search on
                Some(Parsed::Interim(100)) => {
                    self.scanned = 0;
                    self.blank = 0;
                    return Ok((pos + end, Event::Continue));
                }
                Some(Parsed::Interim(_)) => {
                    self.scanned = 0;
                    self.blank = 0;
                    pos += end;
                }
                Some(Parsed::Final(head)) => {
                    self.scanned = 0;
                    self.blank = 0;
                    return Ok((pos + end, Event::Head(head)));
                }
            }
        }
    }

    /// The end of the head in `rest`, bounded by `max_head_bytes`.
    fn find_head_end(&mut self, rest: &[u8]) -> Result<Option<usize>, ResponseError> {
        let max = self.limits.max_head_bytes;
        match find_blank_line(rest, self.scanned.min(rest.len())) {
            Some(end) if end > max => Err(ResponseError::HeadTooLarge { limit: max }),
            Some(end) => {
                // If httparse does not accept this as a whole head, search
                // on from here next time rather than re-finding it.
                self.scanned = end;
                Ok(Some(end))
            }
            None if rest.len() > max => Err(ResponseError::HeadTooLarge { limit: max }),
            None => {
                self.scanned = resume_point(rest.len());
                Ok(None)
            }
        }
    }

    fn parse_head(&mut self, head: &[u8]) -> Result<Option<Parsed>, ResponseError> {
        // Every header takes a line, so the line count bounds the slots needed.
        let lines = memchr::memchr_iter(b'\n', head).count();
        let want = lines.min(self.limits.max_headers);
        // Reuse the slot allocation across lifetimes: an in-place
        // `into_iter().map().collect()` keeps the buffer (same layout), which
        // is how a `Vec<Header<'static>>` becomes a `Vec<Header<'head>>`
        // without `unsafe`.
        let mut slots: Vec<httparse::Header<'_>> = std::mem::take(&mut self.slots)
            .into_iter()
            .map(|_| httparse::EMPTY_HEADER)
            .collect();
        slots.resize(want, httparse::EMPTY_HEADER);
        let result = self.parse_into(head, &mut slots);
        slots.clear();
        self.slots = slots.into_iter().map(|_| httparse::EMPTY_HEADER).collect();
        result
    }

    /// The head parsed straight from `rest` when all of it is there, as it
    /// usually is (a head comes in one read): no blank-line search, no line
    /// count, no header-slot vector. `None` when it is not complete, not
    /// valid, longer than the size limit or than [`DIRECT_SLOTS`] fields:
    /// then the careful path (search for the blank line, parse what it
    /// ends) gives exactly the answer or error it always gave. It runs
    /// only on a head's first look, so a head arriving in pieces costs at
    /// most one extra parse, and reading stays linear.
    fn parse_whole(
        &mut self,
        rest: &[u8],
    ) -> Result<Option<(usize, Option<Parsed>)>, ResponseError> {
        let cand = rest.get(..self.limits.max_head_bytes).unwrap_or(rest);
        let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; DIRECT_SLOTS];
        let room = self.limits.max_headers.min(DIRECT_SLOTS);
        let mut resp = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut resp,
            cand,
            slots.get_mut(..room).unwrap_or_default(),
        );
        match parsed {
            Ok(httparse::Status::Complete(n)) => {
                let head = cand.get(..n).unwrap_or_default();
                Ok(Some((n, self.finish(head, &resp)?)))
            }
            _ => Ok(None),
        }
    }

    fn parse_into<'h>(
        &mut self,
        head: &'h [u8],
        slots: &mut [httparse::Header<'h>],
    ) -> Result<Option<Parsed>, ResponseError> {
        let mut resp = httparse::Response::new(slots);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(ResponseError::TooManyHeaders {
                    limit: self.limits.max_headers,
                });
            }
            Err(e) => return Err(ResponseError::InvalidHead(e)),
        }
        self.finish(head, &resp)
    }

    /// What a complete, parsed head says: an interim or the final head,
    /// with the framing and reuse it implies.
    fn finish(
        &mut self,
        head: &[u8],
        resp: &httparse::Response<'_, '_>,
    ) -> Result<Option<Parsed>, ResponseError> {
        let code = resp.code.unwrap_or(0);
        let status = StatusCode::from_u16(code)
            .map_err(|_| ResponseError::InvalidHead(httparse::Error::Status))?;
        if status.is_informational() && code != 101 {
            return Ok(Some(Parsed::Interim(code)));
        }
        let version = if resp.version == Some(0) {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        let reason = resp
            .reason
            .filter(|r| Some(*r) != status.canonical_reason())
            .map(str::to_owned);
        let fields: &[httparse::Header<'_>] = resp.headers;

        let mut framing_fields = FramingFields::default();
        for f in fields {
            framing_fields.observe(f)?;
        }
        let no_body = self.info.head || code == 204 || code == 304;
        let framing = if code == 101 || (self.info.connect && status.is_success()) {
            BodyFraming::Upgrade
        } else if no_body {
            BodyFraming::None
        } else {
            framing_fields.framing()?
        };
        self.keep_alive = match version {
            Version::HTTP_10 => framing_fields.keep_alive && !framing_fields.close,
            _ => !framing_fields.close,
        };
        self.keep_alive_timeout = framing_fields.timeout;
        self.framing = Some(framing);
        let headers = header_map(head, fields, &mut self.names).map_err(|e| match e {
            httparse::Error::TooManyHeaders => ResponseError::TooManyHeaders {
                limit: self.limits.max_headers,
            },
            e => ResponseError::InvalidHead(e),
        })?;
        self.state = match framing {
            BodyFraming::None | BodyFraming::Upgrade => State::Finish,
            BodyFraming::Length(n) => State::Length {
                expected: n,
                remaining: n,
            },
            BodyFraming::Chunked => State::Chunked(ChunkedDecoder::new(&self.limits)),
            BodyFraming::Close => State::Close,
        };
        Ok(Some(Parsed::Final(ResponseHead {
            version,
            status,
            headers,
            framing,
            reason,
        })))
    }
}

/// Header slots on the stack for a head parsed whole: more fields than
/// this take the careful path, whose slot vector grows to the limit.
const DIRECT_SLOTS: usize = 32;

/// How many bytes of empty lines (`\r\n` or `\n`) `buf` starts with; a
/// trailing lone `\r` waits for more input.
fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut n = 0;
    loop {
        match buf.get(n..) {
            Some([b'\r', b'\n', ..]) => n += 2,
            Some([b'\n', ..]) => n += 1,
            _ => return n,
        }
    }
}

enum Parsed {
    Interim(u16),
    Final(ResponseHead),
}

/// What the framing-relevant fields of a head say, gathered in one pass.
#[derive(Default)]
struct FramingFields {
    content_length: Option<u64>,
    transfer_encoding: bool,
    chunked_last: bool,
    chunked_seen: bool,
    bad_te: bool,
    close: bool,
    keep_alive: bool,
    timeout: Option<Duration>,
}

impl FramingFields {
    fn observe(&mut self, f: &httparse::Header<'_>) -> Result<(), ResponseError> {
        let name = f.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let mut any = false;
            for item in list_items(f.value) {
                any = true;
                let n = parse_u64(item).ok_or(ResponseError::InvalidContentLength)?;
                match self.content_length {
                    Some(prev) if prev != n => return Err(ResponseError::ConflictingContentLength),
                    _ => self.content_length = Some(n),
                }
            }
            if !any {
                return Err(ResponseError::InvalidContentLength);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.transfer_encoding = true;
            for item in list_items(f.value) {
                // Codings may carry parameters (`gzip;q=1`); compare the name.
                let coding = super::trim_ows(item.split(|&b| b == b';').next().unwrap_or_default());
                let chunked = coding.eq_ignore_ascii_case(b"chunked");
                if chunked && self.chunked_seen {
                    self.bad_te = true; // chunked applied twice
                }
                self.chunked_seen |= chunked;
                self.chunked_last = chunked;
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in list_items(f.value) {
                self.close |= token.eq_ignore_ascii_case(b"close");
                self.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"keep-alive") && self.timeout.is_none() {
            self.timeout = list_items(f.value).find_map(|item| {
                let mut kv = item.splitn(2, |&b| b == b'=');
                let key = super::trim_ows(kv.next()?);
                let value = super::trim_ows(kv.next()?);
                key.eq_ignore_ascii_case(b"timeout")
                    .then(|| parse_u64(value).map(Duration::from_secs))
                    .flatten()
            });
        }
        Ok(())
    }

    fn framing(&self) -> Result<BodyFraming, ResponseError> {
        if self.transfer_encoding {
            if self.content_length.is_some() {
                return Err(ResponseError::ContentLengthWithTransferEncoding);
            }
            // RFC 9112 §6.3 says a response whose last coding is not chunked
            // is read until close; hawser refuses it instead, since such
            // framing is a smuggling vector and no sane server sends it.
            if !self.chunked_last || self.bad_te {
                return Err(ResponseError::UnsupportedTransferEncoding);
            }
            return Ok(BodyFraming::Chunked);
        }
        Ok(match self.content_length {
            Some(n) => BodyFraming::Length(n),
            None => BodyFraming::Close,
        })
    }
}

/// Builds a `HeaderMap` from fields parsed out of `src`.
///
/// The bytes of `src` are copied once into a shared [`Bytes`] block and each
/// value is a slice of it, so the map costs its own two allocations, one for
/// the block, and one per non-standard header name, instead of one per
/// value. (A value kept alive keeps the block, at most one head, alive.)
pub(super) fn header_map(
    src: &[u8],
    fields: &[httparse::Header<'_>],
    names: &mut NameCache,
) -> Result<HeaderMap, httparse::Error> {
    let mut map =
        HeaderMap::try_with_capacity(fields.len()).map_err(|_| httparse::Error::TooManyHeaders)?;
    if fields.is_empty() {
        return Ok(map);
    }
    let block = Bytes::copy_from_slice(src);
    let base = src.as_ptr() as usize;
    for (i, f) in fields.iter().enumerate() {
        let name = cached_name(names, i, f.name.as_bytes())?;
        // httparse's value is a sub-slice of `src`; find it in the block.
        let start = (f.value.as_ptr() as usize).wrapping_sub(base);
        let range = start..start.saturating_add(f.value.len());
        let shared = if range.end <= block.len() {
            block.slice(range)
        } else {
            Bytes::copy_from_slice(f.value)
        };
        let value =
            HeaderValue::from_maybe_shared(shared).map_err(|_| httparse::Error::HeaderValue)?;
        map.try_append(name, value)
            .map_err(|_| httparse::Error::TooManyHeaders)?;
    }
    Ok(map)
}

/// The `HeaderName` for `raw`, the `i`-th field of a head: from `names`
/// when an earlier head had it (looked for at `i` first, where the same
/// server puts it), else parsed and remembered while there is room.
fn cached_name(names: &mut NameCache, i: usize, raw: &[u8]) -> Result<HeaderName, httparse::Error> {
    let same = |(spelt, _): &&(Box<[u8]>, HeaderName)| **spelt == *raw;
    if let Some((_, n)) = names.get(i).filter(same) {
        return Ok(n.clone());
    }
    if let Some((_, n)) = names.iter().find(same) {
        return Ok(n.clone());
    }
    let name = HeaderName::from_bytes(raw).map_err(|_| httparse::Error::HeaderName)?;
    if names.len() < NAME_CACHE && raw.len() <= NAME_CACHE_LEN {
        names.push((raw.into(), name.clone()));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    /// Linear whatever the prefix: empty lines before the status line are
    /// consumed as they arrive (so never scanned twice), up to the head
    /// limit, and the head after them parses as usual.
    #[test]
    fn empty_lines_before_the_head_are_consumed_once_and_bounded() {
        let mut r = reader(Method::GET);
        let blank = b"\r\n".repeat(16_000);
        for piece in blank.chunks(4096) {
            assert_eq!(r.read(piece).unwrap(), (piece.len(), Event::NeedInput));
        }
        // A lone '\r' may start another empty line: kept for the next read.
        assert_eq!(r.read(b"\r").unwrap(), (0, Event::NeedInput));
        let wire = b"\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let (n, ev) = r.read(wire).unwrap();
        assert_eq!(n, wire.len());
        assert!(matches!(ev, Event::Head(ref h) if h.status == 204));

        let mut r = reader(Method::GET);
        let max = r.limits().max_head_bytes;
        let flood = b"\n".repeat(max + 1);
        assert!(matches!(
            r.read(&flood),
            Err(ResponseError::HeadTooLarge { .. })
        ));
    }

    fn reader(method: Method) -> ResponseReader {
        ResponseReader::new(RequestInfo::new(&method), Limits::default())
    }

    #[test]
    fn head_split_byte_by_byte_needs_input_until_complete() {
        let wire = b"HTTP/1.1 204 No Content\r\nA: b\r\n\r\n";
        let mut r = reader(Method::GET);
        for end in 1..wire.len() {
            assert_eq!(
                r.read(&wire[..end]).unwrap(),
                (0, Event::NeedInput),
                "at {end}"
            );
        }
        let (n, ev) = r.read(wire).unwrap();
        assert_eq!(n, wire.len());
        assert!(matches!(ev, Event::Head(h) if h.status == 204 && h.framing == BodyFraming::None));
        assert_eq!(r.read(b"").unwrap(), (0, Event::Done));
        assert!(r.reusable());
    }

    #[test]
    fn scan_offset_is_remembered() {
        let mut r = reader(Method::GET);
        let wire = b"HTTP/1.1 200 OK\r\nServer: x\r\n";
        r.read(wire).unwrap();
        assert_eq!(r.scanned, wire.len() - 2);
    }

    #[test]
    fn continue_is_reported_and_other_interims_are_skipped() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let mut r = reader(Method::POST);
        let (n, ev) = r.read(wire).unwrap();
        assert_eq!((n, ev), (25, Event::Continue));
        let (m, ev) = r.read(&wire[n..]).unwrap();
        assert_eq!(n + m, wire.len());
        assert!(matches!(ev, Event::Head(h) if h.status == 200));
    }

    #[test]
    fn switching_protocols_leaves_the_rest_unread() {
        let wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00";
        let mut r = reader(Method::GET);
        let (n, ev) = r.read(wire).unwrap();
        assert_eq!(&wire[n..], b"\x81\x00");
        assert!(matches!(ev, Event::Head(h) if h.framing == BodyFraming::Upgrade));
        assert_eq!(r.read(&wire[n..]).unwrap(), (0, Event::Done));
        assert!(!r.reusable());
    }

    #[test]
    fn connect_2xx_is_a_tunnel() {
        let mut r = reader(Method::CONNECT);
        let (_, ev) = r
            .read(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        assert!(matches!(ev, Event::Head(h) if h.framing == BodyFraming::Upgrade));
    }

    #[test]
    fn eof_distinguishes_stale_from_truncated_head() {
        assert_eq!(
            reader(Method::GET).eof(),
            Err(ResponseError::ClosedBeforeResponse)
        );
        let mut r = reader(Method::GET);
        r.read(b"HTTP/1.1 2").unwrap();
        assert_eq!(r.eof(), Err(ResponseError::IncompleteHead));
    }

    #[test]
    fn errors_are_sticky() {
        let mut r = reader(Method::GET);
        let bad = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(r.read(bad), Err(ResponseError::ConflictingContentLength));
        assert_eq!(r.read(b""), Err(ResponseError::ConflictingContentLength));
        assert!(!r.reusable());
    }

    #[test]
    fn keep_alive_hint_and_http10() {
        let mut r = reader(Method::GET);
        r.read(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: max=5, timeout=7\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(r.read(b"").unwrap(), (0, Event::Done));
        assert!(r.reusable());
        assert_eq!(r.keep_alive_timeout(), Some(Duration::from_secs(7)));
        r.reset(RequestInfo::new(&Method::GET));
        r.read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        r.read(b"").unwrap();
        assert!(!r.reusable(), "HTTP/1.0 without keep-alive");
    }

    #[test]
    fn request_close_prevents_reuse() {
        let info = RequestInfo {
            connection_close: true,
            ..RequestInfo::new(&Method::GET)
        };
        let mut r = ResponseReader::new(info, Limits::default());
        r.read(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        assert_eq!(r.read(b"").unwrap(), (0, Event::Done));
        assert!(!r.reusable());
    }

    #[test]
    fn header_count_limit_is_config_not_array_size() {
        let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..150 {
            wire.extend_from_slice(format!("x-{i}: v\r\n").as_bytes());
        }
        wire.extend_from_slice(b"content-length: 0\r\n\r\n");
        let mut r = reader(Method::GET);
        assert_eq!(
            r.read(&wire),
            Err(ResponseError::TooManyHeaders { limit: 100 })
        );
        let limits = Limits {
            max_headers: 200,
            ..Limits::default()
        };
        let mut r = ResponseReader::new(RequestInfo::new(&Method::GET), limits);
        let (_, ev) = r.read(&wire).unwrap();
        assert!(matches!(ev, Event::Head(h) if h.headers.len() == 151));
    }

    /// Header names are remembered across heads (so a non-standard one is
    /// not allocated again), in any spelling the server uses, and the
    /// memory is bounded: at most NAME_CACHE names of at most
    /// NAME_CACHE_LEN bytes, whatever a hostile server sends.
    #[test]
    fn header_names_are_remembered_within_bounds() {
        let mut r = reader(Method::GET);
        let head = b"HTTP/1.1 200 OK\r\nX-Trace: a\r\ncontent-length: 0\r\n\r\n";
        let (_, ev) = r.read(head).unwrap();
        assert!(matches!(ev, Event::Head(h) if h.headers["x-trace"] == "a"));
        assert_eq!(r.names.len(), 2);
        r.reset(RequestInfo::new(&Method::GET));
        let other = b"HTTP/1.1 200 OK\r\nX-TRACE: b\r\nContent-Length: 0\r\n\r\n";
        let (_, ev) = r.read(other).unwrap();
        assert!(
            matches!(ev, Event::Head(h) if h.headers["x-trace"] == "b" && h.headers.len() == 2)
        );
        assert_eq!(r.names.len(), 4, "another spelling is another entry");

        let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..90 {
            wire.extend_from_slice(format!("x-{i}: v\r\n").as_bytes());
        }
        let long = "x".repeat(NAME_CACHE_LEN + 1);
        wire.extend_from_slice(format!("{long}: v\r\ncontent-length: 0\r\n\r\n").as_bytes());
        let mut r = reader(Method::GET);
        let (_, ev) = r.read(&wire).unwrap();
        assert!(
            matches!(ev, Event::Head(h) if h.headers.len() == 92 && h.headers[long.as_str()] == "v")
        );
        assert_eq!(r.names.len(), NAME_CACHE);
        assert!(
            r.names
                .iter()
                .all(|(spelt, _)| spelt.len() <= NAME_CACHE_LEN)
        );
    }

    #[test]
    fn head_size_limit() {
        let limits = Limits {
            max_head_bytes: 32,
            ..Limits::default()
        };
        let mut r = ResponseReader::new(RequestInfo::new(&Method::GET), limits);
        assert_eq!(
            r.read(&[b'a'; 33]),
            Err(ResponseError::HeadTooLarge { limit: 32 })
        );
    }
}
