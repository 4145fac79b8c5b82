//! Content-Encoding decoding (gzip, deflate) of response bodies, in memory.

use crate::Result;
#[cfg(feature = "gzip")]
use crate::{Error, ErrorKind};

/// A streaming decoder writing into an in-memory `Vec` (flate2's write-side
/// decoders do no I/O of their own).
pub(crate) enum Decoder {
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

impl Decoder {
    /// A decoder for a `Content-Encoding` value, if hawser decodes it.
    pub(crate) fn for_encoding(value: &[u8]) -> Option<Decoder> {
        #[cfg(feature = "gzip")]
        {
            let v = std::str::from_utf8(value).ok()?.trim();
            if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") {
                return Some(Decoder::Gzip(flate2::write::GzDecoder::new(Vec::new())));
            }
            if v.eq_ignore_ascii_case("deflate") {
                return Some(Decoder::Deflate(
                    flate2::write::ZlibDecoder::new(Vec::new()),
                ));
            }
        }
        let _ = value;
        None
    }

    /// Decode `input`, appending decoded bytes to the internal buffer;
    /// fails once more than `room` decoded bytes are pending.
    pub(crate) fn feed(&mut self, input: &[u8], room: u64) -> Result<()> {
        #[cfg(feature = "gzip")]
        {
            use std::io::Write;
            for piece in input.chunks(STEP) {
                let r = match self {
                    Decoder::Gzip(d) => d.write_all(piece),
                    Decoder::Deflate(d) => d.write_all(piece),
                };
                r.map_err(bad)?;
                if self.buffer().len() as u64 > room {
                    return Err(too_big());
                }
            }
        }
        let _ = (input, room);
        Ok(())
    }

    /// Flush at the end of the body; a truncated stream is an error.
    pub(crate) fn finish(&mut self) -> Result<()> {
        #[cfg(feature = "gzip")]
        {
            let r = match self {
                Decoder::Gzip(d) => d.try_finish(),
                Decoder::Deflate(d) => d.try_finish(),
            };
            r.map_err(bad)?;
        }
        Ok(())
    }

    /// Decoded bytes not yet handed out.
    #[cfg(not(feature = "gzip"))]
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        // Without `gzip` there are no decoders: this is never called.
        match *self {}
    }

    /// Decoded bytes not yet handed out.
    #[cfg(feature = "gzip")]
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        match self {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Deflate(d) => d.get_mut(),
        }
    }
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
        ErrorKind::Body,
        "the decompressed response body is larger than the configured limit",
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
        let mut d = Decoder::for_encoding(b"gzip").unwrap();
        for piece in z.chunks(7) {
            d.feed(piece, u64::MAX).unwrap();
        }
        d.finish().unwrap();
        assert_eq!(d.buffer().as_slice(), data.as_slice());
    }

    #[test]
    fn bomb_is_stopped_at_the_bound() {
        let z = gzip(&vec![0u8; 10 << 20]);
        let mut d = Decoder::for_encoding(b"gzip").unwrap();
        let e = d.feed(&z, 1 << 20).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Body);
        assert!(d.buffer().len() < 3 << 20);
    }

    #[test]
    fn truncated_stream_fails_at_finish() {
        let z = gzip(b"some body that is long enough to matter");
        let mut d = Decoder::for_encoding(b"gzip").unwrap();
        d.feed(&z[..z.len() / 2], u64::MAX).unwrap();
        assert_eq!(d.finish().unwrap_err().kind(), ErrorKind::Body);
    }

    #[test]
    fn unknown_encodings_are_not_decoded() {
        assert!(Decoder::for_encoding(b"br").is_none());
        assert!(Decoder::for_encoding(b"identity").is_none());
    }
}
