//! Entry points shared by the cargo-fuzz targets (`fuzz/`), the corpus
//! replay test and the property tests. Not a stable API.
//!
//! Each entry point checks the reader's invariants and panics when one is
//! broken, because a panic is how a fuzzer reports a finding: events differ
//! between splits of the same bytes, the driver loop runs longer than the
//! input can justify, or the unconsumed input grows past the configured
//! limits.

use http::HeaderMap;

use hawser_core::h1::{
    ChunkedDecoder, ChunkedEvent, Event, Limits, RequestInfo, ResponseError, ResponseHead,
    ResponseReader,
};

/// An owned [`Event`], with adjacent body pieces merged (so that outcomes of
/// different splits compare equal).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedEvent {
    /// [`Event::Continue`].
    Continue,
    /// [`Event::Head`].
    Head(ResponseHead),
    /// Merged [`Event::Body`] bytes.
    Body(Vec<u8>),
    /// [`Event::Trailers`].
    Trailers(HeaderMap),
    /// [`Event::Done`].
    Done,
}

/// Everything one driven exchange produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The events, in order.
    pub events: Vec<OwnedEvent>,
    /// How it ended.
    pub result: Result<(), ResponseError>,
    /// [`ResponseReader::reusable`] at the end.
    pub reusable: bool,
    /// Bytes left unconsumed at the end (0 after an error).
    pub leftover: usize,
}

/// Drives a [`ResponseReader`] the way a backend would: the peer's bytes
/// arrive as `pieces`; after the last one, the peer closes if `eof`.
pub fn drive(info: RequestInfo, limits: Limits, pieces: &[&[u8]], eof: bool) -> Outcome {
    let mut reader = ResponseReader::new(info, limits);
    let mut buf: Vec<u8> = Vec::new();
    let mut next_piece = 0;
    let mut events = Vec::new();
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    let pending_bound = limits
        .max_head_bytes
        .max(limits.max_chunk_line)
        .max(limits.max_trailer_bytes);
    // Every turn consumes a byte, feeds a piece, or ends: anything more is a loop.
    let max_turns = 2 * total + pieces.len() + 8;
    let mut turns = 0;
    let result = loop {
        turns += 1;
        assert!(
            turns <= max_turns,
            "reader looped: {turns} turns for {total} bytes"
        );
        let (n, ev) = match reader.read(&buf) {
            Ok(step) => step,
            Err(e) => break Err(e),
        };
        assert!(n <= buf.len(), "consumed more than given");
        let (mut need, mut done) = (false, false);
        match ev {
            Event::NeedInput => need = true,
            Event::Continue => events.push(OwnedEvent::Continue),
            Event::Head(h) => events.push(OwnedEvent::Head(h)),
            Event::Body(b) => {
                assert!(!b.is_empty(), "empty body event");
                match events.last_mut() {
                    Some(OwnedEvent::Body(acc)) => acc.extend_from_slice(b),
                    _ => events.push(OwnedEvent::Body(b.to_vec())),
                }
            }
            Event::Trailers(t) => events.push(OwnedEvent::Trailers(t)),
            Event::Done => done = true,
        }
        buf.drain(..n);
        if done {
            events.push(OwnedEvent::Done);
            break Ok(());
        }
        if need && n == 0 {
            assert!(
                buf.len() <= pending_bound,
                "pending input {} beyond limits",
                buf.len()
            );
            match pieces.get(next_piece) {
                Some(p) => {
                    buf.extend_from_slice(p);
                    next_piece += 1;
                }
                None if eof => match reader.eof() {
                    Ok(_) => {
                        events.push(OwnedEvent::Done);
                        break Ok(());
                    }
                    Err(e) => break Err(e),
                },
                // The peer is silent and open: an incomplete response, no error.
                None => break Ok(()),
            }
        }
    };
    // After an error, how much input was never looked at depends on where
    // the split put the error; only a clean end has a meaningful leftover.
    let unfed: usize = pieces.iter().skip(next_piece).map(|p| p.len()).sum();
    let leftover = if result.is_ok() { buf.len() + unfed } else { 0 };
    Outcome {
        events,
        result,
        reusable: reader.reusable(),
        leftover,
    }
}

/// Splits `data` into pieces whose sizes follow a small deterministic
/// generator seeded by `seed` (sizes 1..=16, or single bytes for seed 0).
pub fn split(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed);
    let mut pieces = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let size = if seed == 0 {
            1
        } else {
            1 + (state >> 16) as usize % 16
        };
        let (a, b) = rest.split_at(size.min(rest.len()));
        pieces.push(a);
        rest = b;
    }
    pieces
}

/// Fuzz target `response_head`: a GET response head from arbitrary bytes,
/// all at once and byte by byte, must give the same head or error.
pub fn response_head(data: &[u8]) {
    let info = RequestInfo::new(&http::Method::GET);
    // All at once: read events until a head, a need for input, or an error.
    let mut whole_reader = ResponseReader::new(info, Limits::default());
    let mut consumed = 0;
    let whole = loop {
        match whole_reader.read(data.get(consumed..).unwrap_or_default()) {
            Err(e) => break Err(e),
            Ok((n, Event::Head(h))) => break Ok(Some((consumed + n, h))),
            Ok((_, Event::NeedInput)) => break Ok(None),
            Ok((n, _)) => consumed += n,
        }
    };
    // Byte by byte: the same input, presented in growing prefixes.
    let mut r = ResponseReader::new(info, Limits::default());
    let mut start = 0;
    let mut split = Ok(None);
    for end in 1..=data.len() {
        match r.read(data.get(start..end).unwrap_or_default()) {
            Err(e) => {
                split = Err(e);
                break;
            }
            Ok((n, Event::Head(h))) => {
                split = Ok(Some((start + n, h)));
                break;
            }
            Ok((n, _)) => start += n,
        }
    }
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "head differs between splits"),
        (Err(a), Err(b)) => assert_eq!(a, b, "error differs between splits"),
        _ => panic!("whole {whole:?} vs split {split:?}"),
    }
}

/// Fuzz target `chunked`: decode a chunked body from arbitrary bytes, whole
/// and split, with small limits so the limits are reachable.
pub fn chunked(data: &[u8]) {
    let limits = Limits {
        max_chunk_line: 64,
        max_trailer_bytes: 256,
        ..Limits::default()
    };
    let run = |pieces: &[&[u8]]| -> (Vec<u8>, Option<HeaderMap>, Result<(), ResponseError>) {
        let mut dec = ChunkedDecoder::new(&limits);
        let (mut body, mut trailers, mut buf, mut next) = (Vec::new(), None, Vec::new(), 0);
        let max_turns = 2 * data.len() + pieces.len() + 8;
        for _ in 0..max_turns {
            let (n, ev) = match dec.decode(&buf) {
                Ok(step) => step,
                Err(e) => return (body, trailers, Err(e)),
            };
            let mut need = false;
            match ev {
                ChunkedEvent::Data(d) => body.extend_from_slice(d),
                ChunkedEvent::Trailers(t) => trailers = Some(t),
                ChunkedEvent::End => return (body, trailers, Ok(())),
                ChunkedEvent::NeedInput => need = true,
            }
            buf.drain(..n);
            if need && n == 0 {
                assert!(buf.len() <= 256, "pending chunked input beyond limits");
                match pieces.get(next) {
                    Some(p) => {
                        buf.extend_from_slice(p);
                        next += 1;
                    }
                    None => return (body, trailers, dec.eof().map(|_| ())),
                }
            }
        }
        panic!("chunked decoder looped");
    };
    let whole = run(&[data]);
    assert_eq!(whole, run(&split(data, 0)), "byte-by-byte differs");
    assert_eq!(
        whole,
        run(&split(data, data.len() as u8 | 1)),
        "split differs"
    );
}

/// Fuzz target `exchange`: byte 0 picks the request (method, `Connection:
/// close`, tight limits), byte 1 seeds the split; the rest is what the
/// server sends before closing. Split and whole runs must agree.
pub fn exchange(data: &[u8]) {
    let [flags, seed, wire @ ..] = data else {
        return;
    };
    let method = match flags & 3 {
        0 => http::Method::GET,
        1 => http::Method::HEAD,
        2 => http::Method::CONNECT,
        _ => http::Method::POST,
    };
    let info = RequestInfo {
        connection_close: flags & 4 != 0,
        ..RequestInfo::new(&method)
    };
    let limits = if flags & 8 != 0 {
        Limits {
            max_head_bytes: 128,
            max_headers: 4,
            max_chunk_line: 16,
            max_trailer_bytes: 64,
        }
    } else {
        Limits::default()
    };
    let eof = flags & 16 == 0;
    let whole = drive(info, limits, &[wire], eof);
    let pieces = split(wire, *seed);
    let split_run = drive(info, limits, &pieces, eof);
    assert_eq!(whole, split_run, "exchange differs between splits");
    if whole.reusable {
        assert!(whole.result.is_ok() && whole.events.last() == Some(&OwnedEvent::Done));
    }
}
