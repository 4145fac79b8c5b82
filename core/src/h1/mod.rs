//! The HTTP/1.1 wire format: request heads and chunked bodies out, response
//! events in.
//!
//! # The model
//!
//! **Bytes in, events out, every buffer owned by the caller.** Nothing here
//! reads a socket or a clock.
//!
//! * [`encode_request_head`] writes a request head into a `Vec<u8>` the caller
//!   keeps and reuses; [`ChunkedEncoder`] frames a streamed body into the same
//!   kind of buffer. Every byte written is validated first (method token,
//!   target, header names and values): `http` types can be built unchecked, so
//!   they are not trusted. A rejected request writes nothing.
//! * A [`ResponseReader`] is made per exchange (or [`reset`](ResponseReader::reset)
//!   to reuse its scratch space) and fed with [`read`](ResponseReader::read).
//!   Each call returns how many bytes of the input it consumed and one
//!   [`Event`]. The caller drops the consumed bytes, keeps the rest, appends
//!   what it reads next, and calls again. [`Event::NeedInput`] means "read more
//!   from the peer"; when the peer closes, call [`eof`](ResponseReader::eof).
//! * Body bytes come out as [`Event::Body`] slices *of the caller's input*, so
//!   a body is never copied by the reader.
//! * After [`Event::Done`], [`ResponseReader::reusable`] says whether the
//!   connection may carry another request, and
//!   [`ResponseReader::keep_alive_timeout`] gives the server's idle hint.
//!
//! What the reader does: incremental head parsing with `httparse` (any split
//! of the input gives the same events), 1xx handling, body framing per
//! RFC 9112 §6.3, rejection of hostile framing, limits ([`Limits`]) on every
//! buffer the peer could inflate. What it does not do: content decoding
//! (gzip), redirects, retries, timeouts or pooling. Those live in other
//! modules and only consume what this one reports.
//!
//! ```
//! use hawser_core::h1::{self, Event, Limits, RequestFraming, ResponseReader, TargetForm};
//!
//! let req = http::Request::get("http://example.com/hello").body(()).unwrap();
//! let mut out = Vec::new();
//! let info = h1::encode_request(&req, TargetForm::Origin, RequestFraming::None, &mut out)?;
//! assert_eq!(out, b"GET /hello HTTP/1.1\r\nhost: example.com\r\n\r\n");
//!
//! let mut reader = ResponseReader::new(info, Limits::default());
//! let input = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi";
//! let (n, event) = reader.read(input)?;
//! let Event::Head(head) = event else { panic!("expected a head") };
//! assert_eq!(head.status, 200);
//! let (m, event) = reader.read(&input[n..])?;
//! assert_eq!(event, Event::Body(b"hi"));
//! assert_eq!(reader.read(&input[n + m..])?, (0, Event::Done));
//! assert!(reader.reusable());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chunked;
mod encode;
mod error;
mod response;

pub use chunked::{ChunkedDecoder, ChunkedEncoder, ChunkedEvent};
pub use encode::{RequestFraming, RequestInfo, TargetForm, encode_request, encode_request_head};
pub(crate) use encode::{Target, encode_head};
pub use error::{EncodeError, ResponseError};
pub(crate) use response::NameCache;
pub use response::{BodyFraming, Event, ResponseHead, ResponseReader};

/// Bounds on everything a peer could make the reader buffer or scan.
///
/// Exceeding one is a [`ResponseError`], never unbounded growth.
///
/// ```
/// use hawser_core::h1::Limits;
/// let limits = Limits { max_headers: 200, ..Limits::default() };
/// assert_eq!(limits.max_head_bytes, 64 * 1024);
/// assert_eq!(limits.max_headers, 200);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest response head (status line + headers + blank line), in bytes.
    pub max_head_bytes: usize,
    /// Most header fields in one response head.
    pub max_headers: usize,
    /// Longest chunk-size line (hex size, extensions, CRLF), in bytes.
    pub max_chunk_line: usize,
    /// Largest trailer section of a chunked body (including its final CRLF).
    pub max_trailer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 64 * 1024,
            max_headers: 100,
            max_chunk_line: 4 * 1024,
            max_trailer_bytes: 16 * 1024,
        }
    }
}

/// Finds the end of a head (the byte after the blank line that ends it),
/// scanning `buf` from `from`. Accepts CRLF and bare LF line ends, as
/// `httparse` does.
fn find_blank_line(buf: &[u8], from: usize) -> Option<usize> {
    // A blank line is "\n\n" or "\n\r\n"; memchr finds each '\n' with SIMD,
    // which is most of the cost of reading a head.
    let tail = buf.get(from..)?;
    memchr::memchr_iter(b'\n', tail).find_map(|rel| {
        let nl = from + rel;
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (Some(b'\n'), _) => Some(nl + 2),
            (Some(b'\r'), Some(b'\n')) => Some(nl + 3),
            _ => None,
        }
    })
}

/// Where to resume a blank-line search over `len` bytes next time: the last
/// two bytes may begin a blank line that more input completes.
fn resume_point(len: usize) -> usize {
    len.saturating_sub(2)
}

/// Comma-separated list elements of a header value, trimmed of whitespace,
/// empty elements skipped (RFC 9110 §5.6.1).
fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|s| !s.is_empty())
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_line_found_with_crlf_and_lf() {
        assert_eq!(find_blank_line(b"a\r\n\r\nrest", 0), Some(5));
        assert_eq!(find_blank_line(b"a\n\nrest", 0), Some(3));
        assert_eq!(find_blank_line(b"a\r\nb\r\n", 0), None);
        // Resuming past the start still finds a terminator that straddles.
        assert_eq!(find_blank_line(b"abc\r\n\r\n", resume_point(5)), Some(7));
    }

    #[test]
    fn list_items_trim_and_skip_empty() {
        let items: Vec<&[u8]> = list_items(b" gzip ,, chunked\t").collect();
        assert_eq!(items, vec![&b"gzip"[..], &b"chunked"[..]]);
    }
}
