//! Chunked transfer coding (RFC 9112 §7.1): an encoder for request bodies
//! and an incremental decoder for response bodies.

use http::HeaderMap;

use super::encode::{BadField, check_field};
use super::error::{EncodeError, ResponseError};
use super::{Limits, find_blank_line, resume_point};

/// Frames a streamed request body as chunks into a caller's buffer.
///
/// ```
/// use hawser_core::h1::ChunkedEncoder;
/// let mut enc = ChunkedEncoder::new();
/// let mut out = Vec::new();
/// enc.chunk(b"hello, ", &mut out)?;
/// enc.chunk(b"", &mut out)?; // an empty write is not the last chunk
/// enc.chunk(b"world", &mut out)?;
/// enc.finish(None, &mut out)?;
/// assert_eq!(out, b"7\r\nhello, \r\n5\r\nworld\r\n0\r\n\r\n");
/// assert!(enc.chunk(b"late", &mut out).is_err());
/// # Ok::<(), hawser_core::h1::EncodeError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct ChunkedEncoder {
    finished: bool,
}

impl ChunkedEncoder {
    /// A fresh encoder.
    pub fn new() -> Self {
        ChunkedEncoder { finished: false }
    }

    /// Appends `data` as one chunk. Empty data writes nothing, since an empty
    /// chunk would end the body.
    pub fn chunk(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.finished {
            return Err(EncodeError::ChunkAfterEnd);
        }
        if data.is_empty() {
            return Ok(());
        }
        write_hex(data.len() as u64, out);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// Appends the last chunk and the optional trailer section. Trailer
    /// fields are validated like header fields, and the framing fields
    /// (`Content-Length`, `Transfer-Encoding`, `Host`) are refused in
    /// trailers (RFC 9110 §6.5.1). On error nothing is written.
    ///
    /// ```
    /// use hawser_core::h1::ChunkedEncoder;
    /// let mut trailers = http::HeaderMap::new();
    /// trailers.insert("x-checksum", "abc".parse().unwrap());
    /// let mut out = Vec::new();
    /// ChunkedEncoder::new().finish(Some(&trailers), &mut out).unwrap();
    /// assert_eq!(out, b"0\r\nx-checksum: abc\r\n\r\n");
    /// ```
    pub fn finish(
        &mut self,
        trailers: Option<&HeaderMap>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        if self.finished {
            return Err(EncodeError::ChunkAfterEnd);
        }
        let start = out.len();
        out.extend_from_slice(b"0\r\n");
        for (name, value) in trailers.into_iter().flatten() {
            let bad = if matches!(
                name,
                &http::header::CONTENT_LENGTH
                    | &http::header::TRANSFER_ENCODING
                    | &http::header::HOST
            ) {
                Some(EncodeError::FramingConflict("framing field in trailers"))
            } else {
                check_field(name.as_str().as_bytes(), value.as_bytes())
                    .err()
                    .map(|b| match b {
                        BadField::Name => EncodeError::InvalidHeaderName,
                        BadField::Value => EncodeError::InvalidHeaderValue(name.clone()),
                    })
            };
            if let Some(e) = bad {
                out.truncate(start);
                return Err(e);
            }
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        self.finished = true;
        Ok(())
    }

    /// True once [`finish`](Self::finish) has written the last chunk.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

fn write_hex(n: u64, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = HEX[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// One step of chunked decoding.
///
/// ```
/// use hawser_core::h1::{ChunkedDecoder, ChunkedEvent, Limits};
/// let mut dec = ChunkedDecoder::new(&Limits::default());
/// assert_eq!(dec.decode(b"3\r\nab").unwrap(), (5, ChunkedEvent::Data(b"ab")));
/// assert_eq!(dec.decode(b"").unwrap(), (0, ChunkedEvent::NeedInput));
/// let (n, ev) = dec.decode(b"c\r\n0\r\nx-t: 1\r\n\r\n").unwrap();
/// assert_eq!((n, ev), (1, ChunkedEvent::Data(b"c")));
/// let (_, ev) = dec.decode(b"\r\n0\r\nx-t: 1\r\n\r\n").unwrap();
/// assert!(matches!(ev, ChunkedEvent::Trailers(t) if t["x-t"] == "1"));
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum ChunkedEvent<'a> {
    /// Nothing more can be decoded from the input: read more.
    NeedInput,
    /// Body bytes: a slice of the input.
    Data(&'a [u8]),
    /// The trailer fields after the last chunk (only when there are any).
    Trailers(HeaderMap),
    /// The body is complete.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataCrlf,
    Trailers,
    Done,
}

/// Incremental decoder of a chunked body.
///
/// Same contract as the [`ResponseReader`](super::ResponseReader):
/// [`decode`](Self::decode) returns `(consumed, event)`; drop the consumed
/// bytes, keep the rest, append more input, call again. Chunk extensions are
/// ignored; chunk-size lines and trailers are bounded by [`Limits`].
///
/// ```
/// use hawser_core::h1::{ChunkedDecoder, ChunkedEvent, Limits};
/// let mut dec = ChunkedDecoder::new(&Limits::default());
/// let input = b"5;ext=1\r\nhello\r\n0\r\n\r\n";
/// let (n, ev) = dec.decode(input)?;
/// assert_eq!(ev, ChunkedEvent::Data(b"hello"));
/// assert_eq!(dec.decode(&input[n..])?.1, ChunkedEvent::End);
/// # Ok::<(), hawser_core::h1::ResponseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// How far into the pending line / trailer section we already searched.
    scanned: usize,
    received: u64,
    max_line: usize,
    max_trailers: usize,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new(limits: &Limits) -> Self {
        ChunkedDecoder {
            state: State::Size,
            scanned: 0,
            received: 0,
            max_line: limits.max_chunk_line,
            max_trailers: limits.max_trailer_bytes,
        }
    }

    /// Body bytes decoded so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// True once the last chunk and trailers were read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input`, which must start with the bytes not consumed by
    /// the previous call. Returns the bytes consumed and one event.
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, ChunkedEvent<'a>), ResponseError> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            match self.state {
                State::Size => match self.size_line(rest)? {
                    None => return Ok((pos, ChunkedEvent::NeedInput)),
                    Some((used, 0)) => {
                        pos += used;
                        self.state = State::Trailers;
                    }
                    Some((used, size)) => {
                        pos += used;
                        self.state = State::Data(size);
                    }
                },
                State::Data(remaining) => {
                    if rest.is_empty() {
                        return Ok((pos, ChunkedEvent::NeedInput));
                    }
                    // `take` fits in usize because it is at most rest.len().
                    let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    let left = remaining - take as u64;
                    self.state = if left == 0 {
                        State::DataCrlf
                    } else {
                        State::Data(left)
                    };
                    self.received = self.received.saturating_add(take as u64);
                    return Ok((
                        pos + take,
                        ChunkedEvent::Data(rest.get(..take).unwrap_or_default()),
                    ));
                }
                State::DataCrlf => match rest {
                    [b'\r', b'\n', ..] => {
                        pos += 2;
                        self.state = State::Size;
                    }
                    [] | [b'\r'] => return Ok((pos, ChunkedEvent::NeedInput)),
                    _ => return Err(ResponseError::MissingChunkCrlf),
                },
                State::Trailers => return self.trailers(rest).map(|(used, ev)| (pos + used, ev)),
                State::Done => return Ok((pos, ChunkedEvent::End)),
            }
        }
    }

    /// Call when the peer closed the connection: `Ok(End)` if the body was
    /// complete, else a truncation error.
    pub fn eof(&self) -> Result<ChunkedEvent<'static>, ResponseError> {
        if self.state == State::Done {
            Ok(ChunkedEvent::End)
        } else {
            Err(ResponseError::TruncatedChunked {
                received: self.received,
            })
        }
    }

    /// Parses `hex[ws][;ext]\r\n`; `None` when the line is incomplete.
    fn size_line(&mut self, rest: &[u8]) -> Result<Option<(usize, u64)>, ResponseError> {
        let from = self.scanned.min(rest.len());
        let Some(nl) = rest
            .get(from..)
            .and_then(|r| memchr::memchr(b'\n', r))
            .map(|i| from + i)
        else {
            if rest.len() >= self.max_line {
                return Err(ResponseError::ChunkLineTooLong {
                    limit: self.max_line,
                });
            }
            self.scanned = rest.len();
            return Ok(None);
        };
        if nl + 1 > self.max_line {
            return Err(ResponseError::ChunkLineTooLong {
                limit: self.max_line,
            });
        }
        self.scanned = 0;
        let line = match rest.get(..nl) {
            Some([line @ .., b'\r']) => line,
            _ => return Err(ResponseError::InvalidChunkSize),
        };
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 {
            return Err(ResponseError::InvalidChunkSize);
        }
        let mut size: u64 = 0;
        for &b in line.get(..digits).unwrap_or_default() {
            let d = u64::from(hex_value(b));
            size = size
                .checked_mul(16)
                .and_then(|s| s.checked_add(d))
                .ok_or(ResponseError::ChunkSizeOverflow)?;
        }
        // After the digits: optional whitespace, then nothing or `;ext`.
        // Extensions are ignored, but a stray CR or other control byte in
        // the line is hostile.
        let tail = super::trim_ows(line.get(digits..).unwrap_or_default());
        let tail_ok = tail.is_empty()
            || (tail.first() == Some(&b';')
                && tail.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)));
        if !tail_ok {
            return Err(ResponseError::InvalidChunkSize);
        }
        Ok(Some((nl + 1, size)))
    }

    fn trailers<'a>(&mut self, rest: &'a [u8]) -> Result<(usize, ChunkedEvent<'a>), ResponseError> {
        match rest {
            [b'\r', b'\n', ..] => {
                self.state = State::Done;
                return Ok((2, ChunkedEvent::End));
            }
            [] | [b'\r'] => return Ok((0, ChunkedEvent::NeedInput)),
            _ => {}
        }
        let Some(end) = find_blank_line(rest, self.scanned.min(rest.len())) else {
            if rest.len() > self.max_trailers {
                return Err(ResponseError::TrailersTooLarge {
                    limit: self.max_trailers,
                });
            }
            self.scanned = resume_point(rest.len());
            return Ok((0, ChunkedEvent::NeedInput));
        };
        if end > self.max_trailers {
            return Err(ResponseError::TrailersTooLarge {
                limit: self.max_trailers,
            });
        }
        let section = rest.get(..end).unwrap_or_default();
        // Trailers are rare, so they get a fresh header array sized by the
        // line count (bounded by max_trailer_bytes) instead of reused scratch.
        let lines = memchr::memchr_iter(b'\n', section).count();
        let mut slots = vec![httparse::EMPTY_HEADER; lines];
        let map = match httparse::parse_headers(section, &mut slots) {
            Ok(httparse::Status::Complete((_, fields))) => {
                super::response::header_map(section, fields, &mut Vec::new())
                    .map_err(ResponseError::InvalidTrailers)?
            }
            Ok(httparse::Status::Partial) => {
                return Err(ResponseError::InvalidTrailers(httparse::Error::NewLine));
            }
            Err(e) => return Err(ResponseError::InvalidTrailers(e)),
        };
        self.scanned = 0;
        self.state = State::Done;
        Ok((end, ChunkedEvent::Trailers(map)))
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; returns body, trailers.
    fn decode_all(
        input: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, Option<HeaderMap>), ResponseError> {
        let mut dec = ChunkedDecoder::new(&Limits::default());
        let mut buf = Vec::new();
        let mut fed = 0;
        let mut body = Vec::new();
        let mut trailers = None;
        loop {
            let (n, ev) = dec.decode(&buf)?;
            let ev = match ev {
                ChunkedEvent::Data(d) => {
                    body.extend_from_slice(d);
                    None
                }
                ChunkedEvent::Trailers(t) => {
                    trailers = Some(t);
                    None
                }
                ChunkedEvent::End => Some(()),
                ChunkedEvent::NeedInput => {
                    if n == 0 && fed == input.len() {
                        dec.eof()?;
                        unreachable!("eof on an unfinished body is an error");
                    }
                    None
                }
            };
            buf.drain(..n);
            if ev.is_some() {
                return Ok((body, trailers));
            }
            if n == 0 {
                let next = (fed + step).min(input.len());
                buf.extend_from_slice(&input[fed..next]);
                fed = next;
            }
        }
    }

    #[test]
    fn decodes_chunks_extensions_and_trailers_in_any_step() {
        let input =
            b"4\r\nWiki\r\n5 ; a=b\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nx-sum: 1\r\n\r\n";
        for step in [1, 2, 3, 7, input.len()] {
            let (body, trailers) = decode_all(input, step).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.");
            assert_eq!(trailers.unwrap()["x-sum"], "1");
        }
    }

    #[test]
    fn rejects_hostile_chunking() {
        let cases: [(&[u8], ResponseError); 6] = [
            (b"x\r\n", ResponseError::InvalidChunkSize),
            (b"5\n", ResponseError::InvalidChunkSize),
            (b"1ffffffffffffffff\r\n", ResponseError::ChunkSizeOverflow),
            (b"3\r\nabcX\r\n", ResponseError::MissingChunkCrlf),
            (b"3 x\r\nabc\r\n", ResponseError::InvalidChunkSize),
            (b"3\r\nab", ResponseError::TruncatedChunked { received: 2 }),
        ];
        for (input, want) in cases {
            for step in [1, input.len()] {
                assert_eq!(
                    decode_all(input, step).unwrap_err(),
                    want,
                    "{:?} step {step}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn line_and_trailer_limits_hold() {
        let limits = Limits {
            max_chunk_line: 8,
            max_trailer_bytes: 16,
            ..Limits::default()
        };
        let mut dec = ChunkedDecoder::new(&limits);
        assert_eq!(
            dec.decode(b"1;aaaaaaa"),
            Err(ResponseError::ChunkLineTooLong { limit: 8 })
        );
        let mut dec = ChunkedDecoder::new(&limits);
        assert_eq!(dec.decode(b"0\r\n").unwrap(), (3, ChunkedEvent::NeedInput));
        assert_eq!(
            dec.decode(b"x-long: 0123456789abcdef"),
            Err(ResponseError::TrailersTooLarge { limit: 16 })
        );
    }

    #[test]
    fn encoder_output_decodes_back() {
        let mut enc = ChunkedEncoder::new();
        let mut out = Vec::new();
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        for piece in data.chunks(777) {
            enc.chunk(piece, &mut out).unwrap();
        }
        let mut trailers = HeaderMap::new();
        trailers.insert("x-t", "v".parse().unwrap());
        enc.finish(Some(&trailers), &mut out).unwrap();
        let (body, t) = decode_all(&out, 13).unwrap();
        assert_eq!(body, data);
        assert_eq!(t.unwrap(), trailers);
    }

    #[test]
    fn encoder_refuses_framing_trailers_and_writes_nothing() {
        let mut trailers = HeaderMap::new();
        trailers.insert("content-length", "1".parse().unwrap());
        let mut out = b"x".to_vec();
        let mut enc = ChunkedEncoder::new();
        assert!(matches!(
            enc.finish(Some(&trailers), &mut out),
            Err(EncodeError::FramingConflict(_))
        ));
        assert_eq!(out, b"x");
        assert!(!enc.is_finished());
    }
}
