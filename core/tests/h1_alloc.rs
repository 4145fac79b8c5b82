//! A steady-state keep-alive exchange allocates nothing but the response's
//! `HeaderMap` (and the values in it), measured with a counting allocator.
//!
//! The workspace forbids `unsafe`, so the counting allocator comes from the
//! `stats_alloc` crate. Its counters are global, so this file holds a single
//! test: no other test thread allocates while it measures.

use std::alloc::System;

use bytes::Bytes;
use hawser_core::h1::{
    self, Event, Limits, RequestFraming, RequestInfo, ResponseReader, TargetForm,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations plus reallocations made while `f` runs.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let region = Region::new(GLOBAL);
    let out = f();
    let stats = region.change();
    (stats.allocations + stats.reallocations, out)
}

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Fri, 27 Nov 2026 05:00:00 GMT\r\n\
Server: hawser-test\r\n\
Content-Type: text/plain\r\n\
Cache-Control: no-cache\r\n\
X-Request-Id: 0123456789abcdef\r\n\
Vary: Accept-Encoding\r\n\
Connection: keep-alive\r\n\
Content-Length: 13\r\n\
\r\n\
Hello, world!";

const FIELDS: [(&str, &str); 8] = [
    ("date", "Fri, 27 Nov 2026 05:00:00 GMT"),
    ("server", "hawser-test"),
    ("content-type", "text/plain"),
    ("cache-control", "no-cache"),
    ("x-request-id", "0123456789abcdef"),
    ("vary", "Accept-Encoding"),
    ("connection", "keep-alive"),
    ("content-length", "13"),
];

/// One exchange on reused buffers; returns the body length it saw.
fn exchange(
    req: &http::Request<()>,
    out: &mut Vec<u8>,
    reader: &mut ResponseReader,
    inbuf: &mut Vec<u8>,
) -> usize {
    out.clear();
    let info =
        h1::encode_request(req, TargetForm::Origin, RequestFraming::None, out).expect("encode");
    reader.reset(info);
    inbuf.clear();
    inbuf.extend_from_slice(RESPONSE);
    let mut pos = 0;
    let mut body = 0;
    loop {
        let (n, ev) = reader.read(&inbuf[pos..]).expect("read");
        pos += n;
        match ev {
            Event::Head(head) => assert_eq!(head.headers.len(), 8),
            Event::Body(b) => body += b.len(),
            Event::Done => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(reader.reusable());
    body
}

#[test]
fn steady_state_exchange_allocates_only_the_header_map() {
    let req = http::Request::get("http://example.com/hello")
        .header("accept", "*/*")
        .header("user-agent", "hawser")
        .body(())
        .expect("request");
    let mut out = Vec::with_capacity(1024);
    let mut inbuf = Vec::with_capacity(1024);
    let mut reader = ResponseReader::new(RequestInfo::new(&Method::GET), Limits::default());
    // Warm up: the first exchange sizes the reader's scratch space.
    assert_eq!(exchange(&req, &mut out, &mut reader, &mut inbuf), 13);

    let (exchange_allocs, body) = allocations(|| exchange(&req, &mut out, &mut reader, &mut inbuf));
    assert_eq!(body, 13);

    // The same HeaderMap built alone, the way the reader builds it: the head
    // copied once into a shared block, each value a slice of that block.
    let head = &RESPONSE[..RESPONSE.len() - 13];
    let (map_allocs, map) = allocations(|| {
        let block = Bytes::copy_from_slice(head);
        let mut map = HeaderMap::with_capacity(FIELDS.len());
        let mut at = 0;
        for (n, v) in FIELDS {
            let start = at
                + head[at..]
                    .windows(v.len())
                    .position(|w| w == v.as_bytes())
                    .expect("value in head");
            at = start + v.len();
            let value = HeaderValue::from_maybe_shared(block.slice(start..at)).expect("value");
            map.append(HeaderName::from_bytes(n.as_bytes()).expect("name"), value);
        }
        map
    });
    assert_eq!(map[http::header::SERVER], "hawser-test");
    assert_eq!(map.len(), 8);
    assert!(
        map_allocs > 0,
        "the counter must see the HeaderMap's allocations"
    );
    println!("exchange: {exchange_allocs} allocations; the HeaderMap alone: {map_allocs}");
    // The reader remembers header names from the warm-up exchange, so its
    // map skips the one allocation the map built alone makes for the
    // non-standard `X-Request-Id`; nothing else is allocated.
    assert_eq!(
        exchange_allocs + 1,
        map_allocs,
        "exchange allocated beyond its HeaderMap (less the remembered name)"
    );

    // The counter itself works: one Vec is one allocation.
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert_eq!((n, v.len()), (1, 10));
}
