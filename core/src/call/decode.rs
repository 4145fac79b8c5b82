//! Content-Encoding decoding (gzip, deflate) of response bodies, in memory.

use crate::Result;
#[cfg(feature = "gzip")]
use crate::{Error, ErrorKind};

/// A streaming decoder writing into an in-memory `Vec` (flate2's write-side
/// decoders do no I/O of their own), with what it has taken and made, for
/// the size and expansion-ratio bounds.
// Without `gzip` no decoder is ever made, so its counters go unread.
#[cfg_attr(not(feature = "gzip"), allow(dead_code))]
pub(crate) struct Decoder {
    inner: Inner,
    /// Compressed bytes fed so far.
    fed: u64,
    /// Decoded bytes produced so far.
    made: u64,
    /// Largest decoded/compressed ratio accepted (past `RATIO_FLOOR`).
    max_ratio: Option<u64>,
}

enum Inner {
    #[cfg(feature = "gzip")]
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    #[cfg(feature = "gzip")]
    Deflate(flate2::write::ZlibDecoder<Vec<u8>>),
}

/// Feed compressed input at most this many bytes at a time, so one step
/// can inflate to at most ~1 MiB (deflate's ratio is bounded by ~1032:1)
/// before the size bound is checked.
#[cfg(feature = "gzip")]
const STEP: usize = 1024;

/// The expansion ratio is only judged past this much decoded output: small
/// bodies (a few KiB of zeros) may compress arbitrarily well.
#[cfg(feature = "gzip")]
const RATIO_FLOOR: u64 = 1 << 20;

impl Decoder {
    /// A decoder for a `Content-Encoding` value, if hawser decodes it.
    pub(crate) fn for_encoding(value: &[u8], max_ratio: Option<u64>) -> Option<Decoder> {
        #[cfg(feature = "gzip")]
        {
            let v = std::str::from_utf8(value).ok()?.trim();
            let inner = if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") {
                Inner::Gzip(flate2::write::GzDecoder::new(Vec::new()))
            } else if v.eq_ignore_ascii_case("deflate") {
                Inner::Deflate(flate2::write::ZlibDecoder::new(Vec::new()))
            } else {
                return None;
            };
            Some(Decoder {
                inner,
                fed: 0,
                made: 0,
                max_ratio,
            })
        }
        #[cfg(not(feature = "gzip"))]
        {
            let _ = (value, max_ratio);
            None
        }
    }

    /// Decode `input`, appending decoded bytes to the internal buffer;
    /// fails once more than `room` decoded bytes are pending, or once the
    /// output outgrows the input by more than the ratio bound.
    pub(crate) fn feed(&mut self, input: &[u8], room: u64) -> Result<()> {
        #[cfg(feature = "gzip")]
        {
            use std::io::Write;
            for piece in input.chunks(STEP) {
                let before = self.buffer().len();
                let r = match &mut self.inner {
                    Inner::Gzip(d) => d.write_all(piece),
                    Inner::Deflate(d) => d.write_all(piece),
                };
                r.map_err(bad)?;
                self.fed += piece.len() as u64;
                self.made += self.buffer().len().saturating_sub(before) as u64;
                if self.buffer().len() as u64 > room {
                    return Err(too_big());
                }
                if let Some(max) = self.max_ratio
                    && self.made > RATIO_FLOOR
                    && self.made / self.fed.max(1) > max
                {
                    return Err(bomb(max));
                }
            }
        }
        let _ = (input, room);
        Ok(())
    }

    /// Flush at the end of the body; a truncated stream is an error, an
    /// empty one (a chunked or close-delimited body with no bytes at all)
    /// is an empty body.
    pub(crate) fn finish(&mut self) -> Result<()> {
        #[cfg(feature = "gzip")]
        {
            if self.fed == 0 {
                return Ok(());
            }
            let r = match &mut self.inner {
                Inner::Gzip(d) => d.try_finish(),
                Inner::Deflate(d) => d.try_finish(),
            };
            r.map_err(bad)?;
        }
        Ok(())
    }

    /// Decoded bytes not yet handed out.
    #[cfg(feature = "gzip")]
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        match &mut self.inner {
            Inner::Gzip(d) => d.get_mut(),
            Inner::Deflate(d) => d.get_mut(),
        }
    }

    /// Without the `gzip` feature no decoder can exist.
    #[cfg(not(feature = "gzip"))]
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        match self.inner {}
    }
}

#[cfg(feature = "gzip")]
fn bomb(max: u64) -> Error {
    Error::new(
        ErrorKind::BodyTooLarge,
        format!(
            "the compressed response body expands more than {max} times (a decompression bomb?); \
             raise Config::max_decompression_ratio to accept it"
        ),
    )
}

#[cfg(feature = "gzip")]
fn bad(e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Body,
        "could not decode the compressed response body",
    )
    .with_source(e)
}

#[cfg(feature = "gzip")]
fn too_big() -> Error {
    Error::new(
        ErrorKind::BodyTooLarge,
        "the decompressed response body is larger than the configured limit \
         (Config::max_decompressed)",
    )
}

#[cfg(all(test, feature = "gzip"))]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip_in_pieces() {
        let data = b"hello hello hello hello".repeat(100);
        let z = gzip(&data);
        let mut d = Decoder::for_encoding(b"gzip", None).unwrap();
        for piece in z.chunks(7) {
            d.feed(piece, u64::MAX).unwrap();
        }
        d.finish().unwrap();
        assert_eq!(d.buffer().as_slice(), data.as_slice());
    }

    #[test]
    fn bomb_is_stopped_at_the_bound() {
        let z = gzip(&vec![0u8; 10 << 20]);
        let mut d = Decoder::for_encoding(b"gzip", None).unwrap();
        let e = d.feed(&z, 1 << 20).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BodyTooLarge);
        assert!(d.buffer().len() < 3 << 20);
    }

    #[test]
    fn a_bomb_is_stopped_by_its_ratio_long_before_the_size_bound() {
        let z = gzip(&vec![0u8; 64 << 20]);
        let mut d = Decoder::for_encoding(b"gzip", Some(100)).unwrap();
        let e = d.feed(&z, u64::MAX).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BodyTooLarge);
        assert!(e.to_string().contains("100 times"), "{e}");
        assert!(
            d.buffer().len() < 3 << 20,
            "stopped at {} bytes",
            d.buffer().len()
        );
        // Ordinary text compresses well under the bound.
        let text = (0..200_000)
            .map(|i| format!("line {i} of a log\n"))
            .collect::<String>();
        let mut d = Decoder::for_encoding(b"gzip", Some(100)).unwrap();
        d.feed(&gzip(text.as_bytes()), u64::MAX).unwrap();
        d.finish().unwrap();
        assert_eq!(d.buffer().len(), text.len());
    }

    #[test]
    fn an_empty_encoded_body_is_an_empty_body() {
        let mut d = Decoder::for_encoding(b"gzip", None).unwrap();
        d.finish().unwrap();
        assert!(d.buffer().is_empty());
    }

    #[test]
    fn truncated_stream_fails_at_finish() {
        let z = gzip(b"some body that is long enough to matter");
        let mut d = Decoder::for_encoding(b"gzip", None).unwrap();
        d.feed(&z[..z.len() / 2], u64::MAX).unwrap();
        assert_eq!(d.finish().unwrap_err().kind(), ErrorKind::Body);
    }

    #[test]
    fn unknown_encodings_are_not_decoded() {
        assert!(Decoder::for_encoding(b"br", None).is_none());
        assert!(Decoder::for_encoding(b"identity", None).is_none());
    }
}
