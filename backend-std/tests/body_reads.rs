//! A plain body read through `Read` goes from the socket straight into the
//! caller's buffer (`Output::ReceiveBody`): whole, in reads as large as the
//! buffer, with a short body still failing as truncated.

use std::io::Read;

use hawser_std::{ErrorKind, Retry, Session};
use hawser_testkit::{Behaviour, TestServer, pattern};

const LEN: usize = 400_000;

fn server() -> TestServer {
    TestServer::start(vec![
        (
            "/big",
            Behaviour::Stream {
                len: LEN as u64,
                chunked: false,
            },
        ),
        (
            "/short",
            Behaviour::ShortBody {
                declared: LEN,
                sent: LEN / 4,
            },
        ),
    ])
    .expect("test server")
}

#[test]
fn large_reads_get_the_body_straight_and_whole() {
    let srv = server();
    let s = Session::new();
    let mut resp = s.get(srv.url("/big")).send().expect("send");
    let (mut body, mut buf, mut largest) = (Vec::new(), vec![0u8; 128 * 1024], 0);
    loop {
        let n = resp.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        largest = largest.max(n);
        body.extend_from_slice(&buf[..n]);
    }
    assert_eq!(body, pattern(LEN));
    // The core's own buffer is 16 KiB: a larger read came straight.
    assert!(largest > 16 * 1024, "largest read {largest}");
    assert_eq!(s.pool_stats().idle, 1, "read to the end: pooled");
    // And the pooled connection carries the next request.
    assert_eq!(
        s.get(srv.url("/big"))
            .send()
            .expect("again")
            .bytes()
            .expect("bytes")
            .len(),
        LEN
    );
    assert_eq!(srv.connections_accepted(), 1);
}

#[test]
fn a_short_body_read_straight_fails_after_what_arrived() {
    let srv = server();
    let s = Session::builder()
        .retry(Retry::disabled())
        .build()
        .expect("session");
    let mut resp = s.get(srv.url("/short")).send().expect("send");
    let (mut body, mut buf) = (Vec::new(), vec![0u8; 64 * 1024]);
    let err = loop {
        match resp.read(&mut buf) {
            Ok(0) => panic!("a short body ended without an error"),
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) => break e,
        }
    };
    assert_eq!(body, pattern(LEN)[..LEN / 4]);
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<hawser_std::Error>())
        .expect("the hawser error inside");
    assert_eq!(inner.kind(), ErrorKind::Body, "{inner}");
    let stats = s.pool_stats();
    assert_eq!((stats.idle, stats.active), (0, 0), "{stats:?}");
}
