//! A table of response vectors, valid and hostile. Each row is driven whole,
//! byte by byte and in uneven pieces, and must give the same expected result.

mod fuzz_support;

use fuzz_support::h1::{Outcome, OwnedEvent, drive, split};
use hawser_core::ErrorKind;
use hawser_core::h1::{Limits, RequestInfo, ResponseError};
use http::Method;

enum Expect {
    Ok {
        status: u16,
        headers: &'static [(&'static str, &'static str)],
        body: &'static [u8],
        reuse: bool,
    },
    Err(ResponseError, ErrorKind),
}

struct Row {
    name: &'static str,
    method: Method,
    request_close: bool,
    wire: &'static [u8],
    expect: Expect,
}

fn ok(
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    reuse: bool,
) -> Expect {
    Expect::Ok {
        status,
        headers,
        body,
        reuse,
    }
}

fn err(e: ResponseError, kind: ErrorKind) -> Expect {
    Expect::Err(e, kind)
}

fn row(name: &'static str, method: Method, wire: &'static [u8], expect: Expect) -> Row {
    Row {
        name,
        method,
        request_close: false,
        wire,
        expect,
    }
}

fn rows() -> Vec<Row> {
    use ErrorKind::{Body, Protocol};
    use ResponseError as E;
    vec![
        row("content-length", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\n\r\nhello", ok(200, &[("server", "t")], b"hello", true)),
        row("no reason phrase", Method::GET, b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", ok(200, &[], b"", true)),
        row("identical duplicate CL", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", ok(200, &[], b"abc", true)),
        row("CL list 5, 5", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", ok(200, &[], b"hello", true)),
        row("chunked with ext and trailers", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nX-Sum: 9\r\n\r\n", ok(200, &[("transfer-encoding", "chunked")], b"hello!", true)),
        row("gzip, chunked", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", ok(200, &[], b"", true)),
        row("close-delimited", Method::GET, b"HTTP/1.1 200 OK\r\n\r\nall of it", ok(200, &[], b"all of it", false)),
        row("HEAD ignores CL", Method::HEAD, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", ok(200, &[("content-length", "1000")], b"", true)),
        row("204 has no body", Method::GET, b"HTTP/1.1 204 No Content\r\n\r\n", ok(204, &[], b"", true)),
        row("304 has no body", Method::GET, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", ok(304, &[], b"", true)),
        row("100 then 200", Method::POST, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ok(200, &[], b"ok", true)),
        row("103 skipped", Method::GET, b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ok(200, &[], b"", true)),
        row("101 upgrade", Method::GET, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n", ok(101, &[("upgrade", "ws")], b"", false)),
        row("CONNECT 200 tunnel", Method::CONNECT, b"HTTP/1.1 200 Connection established\r\n\r\n", ok(200, &[], b"", false)),
        row("server close", Method::GET, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", ok(200, &[], b"", false)),
        row("HTTP/1.0 default close", Method::GET, b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", ok(200, &[], b"x", false)),
        row("HTTP/1.0 keep-alive", Method::GET, b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", ok(200, &[], b"x", true)),
        row("LF line ends", Method::GET, b"HTTP/1.1 200 OK\nContent-Length: 1\n\nx", ok(200, &[], b"x", true)),
        Row { request_close: true, ..row("request close", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ok(200, &[], b"", false)) },
        // Hostile or broken.
        row("stale: closed before any byte", Method::GET, b"", err(E::ClosedBeforeResponse, Protocol)),
        row("eof mid head", Method::GET, b"HTTP/1.1 200 OK\r\nConte", err(E::IncompleteHead, Protocol)),
        row("eof after 100", Method::POST, b"HTTP/1.1 100 Continue\r\n\r\n", err(E::IncompleteHead, Protocol)),
        row("CL + TE", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", err(E::ContentLengthWithTransferEncoding, Protocol)),
        row("differing CL", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", err(E::ConflictingContentLength, Protocol)),
        row("differing CL in list", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!", err(E::ConflictingContentLength, Protocol)),
        row("negative CL", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err(E::InvalidContentLength, Protocol)),
        row("CL overflow", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", err(E::InvalidContentLength, Protocol)),
        row("TE last not chunked", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", err(E::UnsupportedTransferEncoding, Protocol)),
        row("TE chunked twice", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", err(E::UnsupportedTransferEncoding, Protocol)),
        row("chunk size overflow", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", err(E::ChunkSizeOverflow, Protocol)),
        row("bad hex", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5g\r\nhello\r\n", err(E::InvalidChunkSize, Protocol)),
        row("missing CRLF after data", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", err(E::MissingChunkCrlf, Protocol)),
        row("truncated CL body", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", err(E::Truncated { expected: 10, received: 5 }, Body)),
        row("truncated chunked body", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", err(E::TruncatedChunked { received: 3 }, Body)),
        row("bad status", Method::GET, b"HTTP/1.1 2x0 OK\r\n\r\n", err(E::InvalidHead(httparse::Error::Status), Protocol)),
        row("bad version", Method::GET, b"HTTP/2.0 200 OK\r\n\r\n", err(E::InvalidHead(httparse::Error::Version), Protocol)),
        row("space in header name", Method::GET, b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", err(E::InvalidHead(httparse::Error::HeaderName), Protocol)),
    ]
}

fn check(row: &Row, outcome: &Outcome, how: &str) {
    let name = format!("{} ({how})", row.name);
    match &row.expect {
        Expect::Ok {
            status,
            headers,
            body,
            reuse,
        } => {
            assert_eq!(outcome.result, Ok(()), "{name}");
            let head = outcome.events.iter().find_map(|e| match e {
                OwnedEvent::Head(h) => Some(h),
                _ => None,
            });
            let head = head.unwrap_or_else(|| panic!("{name}: no head"));
            assert_eq!(head.status.as_u16(), *status, "{name}");
            for (k, v) in *headers {
                assert_eq!(
                    head.headers.get(*k).map(|v| v.as_bytes()),
                    Some(v.as_bytes()),
                    "{name}: header {k}"
                );
            }
            let got: Vec<u8> = outcome
                .events
                .iter()
                .filter_map(|e| match e {
                    OwnedEvent::Body(b) => Some(b.as_slice()),
                    _ => None,
                })
                .flatten()
                .copied()
                .collect();
            assert_eq!(got, *body, "{name}: body");
            assert_eq!(outcome.events.last(), Some(&OwnedEvent::Done), "{name}");
            assert_eq!(outcome.reusable, *reuse, "{name}: reuse");
        }
        Expect::Err(e, kind) => {
            assert_eq!(outcome.result.as_ref().err(), Some(e), "{name}");
            assert_eq!(
                hawser_core::Error::from(e.clone()).kind(),
                *kind,
                "{name}: kind"
            );
            assert!(!outcome.reusable, "{name}: an error never reuses");
        }
    }
}

#[test]
fn response_vectors() {
    for row in rows() {
        let info = RequestInfo {
            connection_close: row.request_close,
            ..RequestInfo::new(&row.method)
        };
        // For reusable responses the server keeps the connection open, so no
        // EOF follows; everything else is read until the server closes.
        let eof = !matches!(row.expect, Expect::Ok { reuse: true, .. });
        let whole = drive(info, Limits::default(), &[row.wire], eof);
        check(&row, &whole, "whole");
        for seed in [0u8, 3, 77] {
            let split = drive(info, Limits::default(), &split(row.wire, seed), eof);
            assert_eq!(split, whole, "{}: split seed {seed}", row.name);
        }
    }
}

#[test]
fn upgrade_and_tunnel_leave_bytes_unread() {
    let wire = b"HTTP/1.1 101 Switching Protocols\r\n\r\nNEXT-PROTOCOL";
    let out = drive(
        RequestInfo::new(&Method::GET),
        Limits::default(),
        &[wire],
        false,
    );
    assert_eq!(out.leftover, b"NEXT-PROTOCOL".len());
    assert!(!out.reusable);
}

#[test]
fn limits_are_enforced_with_typed_errors() {
    let tight = Limits {
        max_head_bytes: 64,
        max_headers: 2,
        max_chunk_line: 8,
        max_trailer_bytes: 16,
    };
    let get = RequestInfo::new(&Method::GET);
    let cases: [(&[u8], ResponseError); 4] = [
        (b"HTTP/1.1 200 OK\r\nX-Long: 0123456789012345678901234567890123456789\r\n\r\n", ResponseError::HeadTooLarge { limit: 64 }),
        (b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", ResponseError::TooManyHeaders { limit: 2 }),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;aaaaaaaaaa\r\n", ResponseError::ChunkLineTooLong { limit: 8 }),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 0123456789\r\n\r\n", ResponseError::TrailersTooLarge { limit: 16 }),
    ];
    for (wire, want) in cases {
        for seed in [0u8, 5] {
            let out = drive(get, tight, &split(wire, seed), true);
            assert_eq!(
                out.result,
                Err(want.clone()),
                "{}",
                String::from_utf8_lossy(wire)
            );
        }
    }
}
