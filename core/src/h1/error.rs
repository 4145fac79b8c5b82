//! The precise errors of the wire layer and their mapping onto [`crate::Error`].

use std::fmt;

use crate::{Error, ErrorKind};

/// Why a request could not be encoded. Nothing was written when this is
/// returned. Maps to [`ErrorKind::InvalidRequest`].
///
/// ```
/// use hawser_core::h1::EncodeError;
/// let e: hawser_core::Error = EncodeError::InvalidMethod.into();
/// assert_eq!(e.kind(), hawser_core::ErrorKind::InvalidRequest);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// The method is not an RFC 9110 token.
    InvalidMethod,
    /// The request target has a byte that may not appear on the wire
    /// (space, control, non-ASCII), or is missing the part its form needs.
    InvalidTarget(&'static str),
    /// No `Host` could be derived: the URI has no authority and no `Host`
    /// header was given.
    MissingHost,
    /// A header name is not a token.
    InvalidHeaderName,
    /// A header value holds CR, LF, NUL or another control byte.
    InvalidHeaderValue(http::HeaderName),
    /// A `Content-Length` / `Transfer-Encoding` header disagrees with the
    /// framing the body needs (the encoder writes the framing headers itself).
    FramingConflict(&'static str),
    /// The chunked body was already finished with its last chunk.
    ChunkAfterEnd,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::InvalidMethod => f.write_str("request method is not a valid token"),
            EncodeError::InvalidTarget(why) => write!(f, "invalid request target: {why}"),
            EncodeError::MissingHost => {
                f.write_str("request has no host (no URI authority and no Host header)")
            }
            EncodeError::InvalidHeaderName => f.write_str("header name is not a valid token"),
            EncodeError::InvalidHeaderValue(name) => {
                write!(
                    f,
                    "value of header `{name}` contains a control character (CR, LF, NUL, ...)"
                )
            }
            EncodeError::FramingConflict(why) => {
                write!(f, "conflicting body framing header: {why}")
            }
            EncodeError::ChunkAfterEnd => f.write_str("chunk written after the last chunk"),
        }
    }
}

impl std::error::Error for EncodeError {}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::new(ErrorKind::InvalidRequest, e.to_string()).with_source(e)
    }
}

/// Why a response could not be read. Once returned, the reader is failed
/// and returns the same error again; the connection must be closed.
///
/// [`ResponseError::Truncated`] and [`ResponseError::TruncatedChunked`] map
/// to [`ErrorKind::Body`] (the head was fine, the body ended early); every
/// other variant maps to [`ErrorKind::Protocol`].
///
/// ```
/// use hawser_core::h1::ResponseError;
/// let stale = ResponseError::ClosedBeforeResponse;
/// assert!(stale.is_closed_before_response());
/// assert_eq!(hawser_core::Error::from(stale).kind(), hawser_core::ErrorKind::Protocol);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// The connection closed before a single response byte arrived: the
    /// signature of a stale pooled connection.
    ClosedBeforeResponse,
    /// The connection closed in the middle of a response head.
    IncompleteHead,
    /// The head is longer than [`Limits::max_head_bytes`](super::Limits).
    HeadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// More header fields than [`Limits::max_headers`](super::Limits).
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// `httparse` rejected the status line or a header.
    InvalidHead(httparse::Error),
    /// Both `Content-Length` and `Transfer-Encoding` were sent (a classic
    /// request-smuggling vector).
    ContentLengthWithTransferEncoding,
    /// A `Content-Length` value is not a decimal number that fits in `u64`.
    InvalidContentLength,
    /// `Content-Length` values that differ.
    ConflictingContentLength,
    /// A `Transfer-Encoding` whose last coding is not `chunked` (or that
    /// names `chunked` twice).
    UnsupportedTransferEncoding,
    /// A chunk-size line that is not hex digits (plus extensions).
    InvalidChunkSize,
    /// A chunk size that does not fit in `u64`.
    ChunkSizeOverflow,
    /// A chunk-size line longer than [`Limits::max_chunk_line`](super::Limits).
    ChunkLineTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// Chunk data not followed by CRLF.
    MissingChunkCrlf,
    /// A trailer section larger than [`Limits::max_trailer_bytes`](super::Limits).
    TrailersTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// A malformed trailer field.
    InvalidTrailers(httparse::Error),
    /// The connection closed before `Content-Length` bytes arrived.
    Truncated {
        /// The declared `Content-Length`.
        expected: u64,
        /// How many body bytes arrived.
        received: u64,
    },
    /// The connection closed inside a chunked body.
    TruncatedChunked {
        /// Body bytes received before the close.
        received: u64,
    },
    /// [`ResponseReader::body_read`](super::ResponseReader::body_read) was
    /// told of more bytes than [`body_room`](super::ResponseReader::body_room)
    /// allowed: a bug in the code driving the reader, not the peer's.
    BodyOverrun,
}

impl ResponseError {
    /// True for [`ResponseError::ClosedBeforeResponse`]: the peer closed
    /// before sending anything, so the request may be re-sent on a fresh
    /// connection when that is safe.
    pub fn is_closed_before_response(&self) -> bool {
        matches!(self, ResponseError::ClosedBeforeResponse)
    }

    /// The coarse kind this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ResponseError::Truncated { .. } | ResponseError::TruncatedChunked { .. } => {
                ErrorKind::Body
            }
            _ => ErrorKind::Protocol,
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::ClosedBeforeResponse => {
                f.write_str("connection closed before any response byte")
            }
            ResponseError::IncompleteHead => {
                f.write_str("connection closed in the middle of the response head")
            }
            ResponseError::HeadTooLarge { limit } => {
                write!(f, "response head larger than {limit} bytes")
            }
            ResponseError::TooManyHeaders { limit } => {
                write!(f, "more than {limit} response header fields")
            }
            ResponseError::InvalidHead(e) => write!(f, "malformed response head: {e}"),
            ResponseError::ContentLengthWithTransferEncoding => {
                f.write_str("response has both Content-Length and Transfer-Encoding")
            }
            ResponseError::InvalidContentLength => f.write_str("invalid Content-Length value"),
            ResponseError::ConflictingContentLength => {
                f.write_str("differing Content-Length values")
            }
            ResponseError::UnsupportedTransferEncoding => {
                f.write_str("Transfer-Encoding does not end with a single `chunked`")
            }
            ResponseError::InvalidChunkSize => f.write_str("invalid chunk size line"),
            ResponseError::ChunkSizeOverflow => f.write_str("chunk size overflows 64 bits"),
            ResponseError::ChunkLineTooLong { limit } => {
                write!(f, "chunk size line longer than {limit} bytes")
            }
            ResponseError::MissingChunkCrlf => f.write_str("chunk data not followed by CRLF"),
            ResponseError::TrailersTooLarge { limit } => {
                write!(f, "chunked trailers larger than {limit} bytes")
            }
            ResponseError::InvalidTrailers(e) => write!(f, "malformed chunked trailers: {e}"),
            ResponseError::Truncated { expected, received } => write!(
                f,
                "response body truncated: expected {expected} bytes, connection closed after {received}"
            ),
            ResponseError::TruncatedChunked { received } => {
                write!(f, "chunked response body truncated after {received} bytes")
            }
            ResponseError::BodyOverrun => {
                f.write_str("more body bytes reported read than the framing allows")
            }
        }
    }
}

impl std::error::Error for ResponseError {}

impl From<ResponseError> for Error {
    fn from(e: ResponseError) -> Self {
        Error::new(e.kind(), e.to_string()).with_source(e)
    }
}
