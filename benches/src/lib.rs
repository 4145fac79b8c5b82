//! Shared fixtures for hawser's criterion benchmarks (see `benches/`).
#![forbid(unsafe_code)]

/// A keep-alive `200 OK` with 8 headers and a 13-byte body: the response of
/// the h1 exchange benchmark.
pub const RESPONSE_200: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Fri, 27 Nov 2026 05:00:00 GMT\r\n\
Server: hawser-bench\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Cache-Control: no-cache\r\n\
X-Request-Id: 0123456789abcdef\r\n\
Vary: Accept-Encoding\r\n\
Connection: keep-alive\r\n\
Content-Length: 13\r\n\
\r\n\
Hello, world!";

/// The body inside [`RESPONSE_200`].
pub const BODY: &[u8] = b"Hello, world!";

/// The GET request of the h1 exchange benchmark.
pub fn get_request() -> http::Request<()> {
    http::Request::get("http://example.com/hello")
        .header("accept", "*/*")
        .header("user-agent", "hawser-bench")
        .body(())
        .unwrap_or_else(|e| panic!("static request is valid: {e}"))
}

pub mod loopback;
