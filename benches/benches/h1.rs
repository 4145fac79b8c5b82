//! One keep-alive exchange through hawser-core's h1 layer (encode a GET into
//! a reused buffer, read a 200 with 8 headers and a 13-byte body, ask about
//! reuse) beside bare `httparse` parsing the same response bytes into a
//! fixed header array. Both sit in one criterion group, so the report shows
//! them side by side; after criterion, a quick interleaved timing loop
//! prints the ratio of the two medians.
//!
//! Run: `cargo bench -p hawser-benches --bench h1 -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use hawser_benches::{get_request, BODY, RESPONSE_200};
use hawser_core::h1::{
    self, Event, Limits, RequestFraming, RequestInfo, ResponseReader, TargetForm,
};

/// The hawser side: everything a backend asks of h1 for one exchange.
struct Exchange {
    req: http::Request<()>,
    out: Vec<u8>,
    reader: ResponseReader,
}

impl Exchange {
    fn new() -> Self {
        Exchange {
            req: get_request(),
            out: Vec::with_capacity(512),
            reader: ResponseReader::new(RequestInfo::default(), Limits::default()),
        }
    }

    fn run(&mut self, wire: &[u8]) -> usize {
        self.out.clear();
        let info = h1::encode_request(
            &self.req,
            TargetForm::Origin,
            RequestFraming::None,
            &mut self.out,
        )
        .unwrap_or_else(|e| panic!("encode: {e}"));
        self.reader.reset(info);
        let mut pos = 0;
        let mut seen = 0;
        loop {
            match self.reader.read(&wire[pos..]) {
                Ok((n, Event::Head(head))) => {
                    pos += n;
                    seen += head.headers.len();
                }
                Ok((n, Event::Body(b))) => {
                    pos += n;
                    seen += b.len();
                }
                Ok((_, Event::Done)) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        seen + usize::from(self.reader.reusable()) + self.out.len()
    }
}

fn bare_httparse(wire: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(wire) {
        Ok(httparse::Status::Complete(n)) => n + resp.headers.len(),
        other => panic!("httparse: {other:?}"),
    }
}

fn bench_h1(c: &mut Criterion) {
    let mut group = c.benchmark_group("h1_keepalive_exchange");
    group.throughput(Throughput::Bytes(RESPONSE_200.len() as u64));
    let mut ex = Exchange::new();
    group.bench_function("hawser_core", |b| {
        b.iter(|| ex.run(black_box(RESPONSE_200)))
    });
    group.bench_function("bare_httparse", |b| {
        b.iter(|| bare_httparse(black_box(RESPONSE_200)))
    });
    group.finish();
}

/// Reading a head one 64-byte read at a time (`pieces` of `wire`), as a
/// slow or hostile peer delivers it; the bytes consumed.
fn read_in_pieces(wire: &[u8], piece: usize) -> usize {
    // Room for the 57 KB head's ~1,100 fields (the default allows 100).
    let limits = Limits {
        max_head_bytes: 128 * 1024,
        max_headers: 2_000,
        ..Limits::default()
    };
    let mut r = ResponseReader::new(RequestInfo::default(), limits);
    let (mut buf, mut used) = (Vec::new(), 0);
    for chunk in wire.chunks(piece) {
        buf.extend_from_slice(chunk);
        match r.read(&buf) {
            Ok((n, Event::Head(_))) => return used + n,
            Ok((n, _)) => {
                buf.drain(..n);
                used += n;
            }
            Err(e) => panic!("{e}"),
        }
    }
    used
}

/// Linear-time head parsing, whatever comes before or inside it: 32,000
/// empty lines before a small head cost about what an ordinary head of the
/// same size costs (a quadratic reader re-scanned every blank line: 0.2 s
/// against 4 ms), and so does a 57 KB head arriving 64 bytes at a time.
fn bench_head_shapes(c: &mut Criterion) -> (Vec<u8>, Vec<u8>) {
    let mut blank = b"\r\n".repeat(32_000);
    blank.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
    while big.len() < 57_000 {
        big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    big.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let mut group = c.benchmark_group("h1_head_shapes");
    group.bench_function("32000_empty_lines_then_head", |b| {
        b.iter(|| read_in_pieces(black_box(&blank), 64 * 1024))
    });
    group.bench_function("57kb_head_whole", |b| {
        b.iter(|| read_in_pieces(black_box(&big), 64 * 1024))
    });
    group.bench_function("57kb_head_in_64_byte_reads", |b| {
        b.iter(|| read_in_pieces(black_box(&big), 64))
    });
    group.finish();
    (blank, big)
}

/// Builds the response's `HeaderMap` from a bare httparse parse: the part of
/// the exchange that the `http` types cost, measured apart.
fn httparse_plus_header_map(wire: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut resp = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(n)) = resp.parse(wire) else {
        panic!("httparse")
    };
    let mut map = http::HeaderMap::with_capacity(resp.headers.len());
    for h in resp.headers.iter() {
        let name =
            http::HeaderName::from_bytes(h.name.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let value = http::HeaderValue::from_bytes(h.value).unwrap_or_else(|e| panic!("{e}"));
        map.append(name, value);
    }
    n + map.len()
}

/// Median nanoseconds per call of each function over `rounds` batches, the
/// functions interleaved so that machine noise hits them alike.
fn medians(rounds: usize, batch: u32, fns: &mut [&mut dyn FnMut() -> usize]) -> Vec<f64> {
    let mut samples = vec![Vec::with_capacity(rounds); fns.len()];
    for _ in 0..rounds {
        for (f, s) in fns.iter_mut().zip(samples.iter_mut()) {
            let t = Instant::now();
            for _ in 0..batch {
                black_box(f());
            }
            s.push(t.elapsed().as_nanos() as f64 / f64::from(batch));
        }
    }
    samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect()
}

fn main() {
    assert!(RESPONSE_200.ends_with(BODY));
    let mut criterion = Criterion::default().configure_from_args();
    bench_h1(&mut criterion);
    let (blank, big) = bench_head_shapes(&mut criterion);
    criterion.final_summary();
    // `cargo test --benches` runs this binary in test mode; keep that quick.
    let quick = std::env::args().any(|a| a == "--test");
    let (rounds, batch) = if quick { (3, 100) } else { (51, 20_000) };
    let mut ex = Exchange::new();
    let mut enc = Exchange::new();
    let m = medians(
        rounds,
        batch,
        &mut [
            &mut || ex.run(black_box(RESPONSE_200)),
            &mut || bare_httparse(black_box(RESPONSE_200)),
            &mut || httparse_plus_header_map(black_box(RESPONSE_200)),
            &mut || {
                enc.out.clear();
                h1::encode_request(
                    &enc.req,
                    TargetForm::Origin,
                    RequestFraming::None,
                    &mut enc.out,
                )
                .map_or(0, |_| enc.out.len())
            },
        ],
    );
    let (core, bare, with_map, encode) = (m[0], m[1], m[2], m[3]);
    println!("h1 keep-alive exchange (median ns per call, interleaved batches of {batch}):");
    println!("  hawser-core exchange        {core:8.0}");
    println!("  bare httparse               {bare:8.0}");
    println!("  httparse + http::HeaderMap  {with_map:8.0}");
    println!("  hawser-core encode only     {encode:8.0}");
    println!("  ratio hawser-core / bare httparse: {:.2}x", core / bare);
    println!(
        "  ratio hawser-core / (httparse + HeaderMap): {:.2}x (target <= 1.3x)",
        core / with_map
    );
    let h = medians(
        rounds.min(11),
        (batch / 1000).max(1),
        &mut [
            &mut || read_in_pieces(black_box(&blank), 64 * 1024),
            &mut || read_in_pieces(black_box(&big), 64 * 1024),
            &mut || read_in_pieces(black_box(&big), 64),
        ],
    );
    println!("head shapes (median ns per head):");
    println!("  32,000 empty lines, then a head  {:10.0}", h[0]);
    println!("  57 KB head, whole                {:10.0}", h[1]);
    println!("  57 KB head, 64-byte reads        {:10.0}", h[2]);
    println!(
        "  ratio empty-lines / whole head: {:.2}x, 64-byte reads / whole head: {:.2}x (linear: near 1x)",
        h[0] / h[1],
        h[2] / h[1]
    );
}
