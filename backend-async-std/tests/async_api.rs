//! The async-std runtime glue in use: streaming through async-std's own
//! `ReadExt`, tasks on async-std's executor waiting for a pool slot, and a
//! request cancelled by `async_std::future::timeout` freeing its slot.

use std::time::Duration;

use async_std::io::ReadExt;
use hawser_async_std::{PoolConfig, Session, WhenFull};
use hawser_testkit::{Behaviour, TestServer, pattern};

const LEN: usize = 200_000;

fn server() -> TestServer {
    TestServer::start(vec![
        (
            "/big",
            Behaviour::Stream {
                len: LEN as u64,
                chunked: true,
            },
        ),
        (
            "/plain",
            Behaviour::Stream {
                len: LEN as u64,
                chunked: false,
            },
        ),
        (
            "/slow",
            Behaviour::StallBeforeHead(Duration::from_millis(100)),
        ),
    ])
    .expect("test server")
}

fn one_per_host(when_full: WhenFull) -> Session {
    Session::builder()
        .pool(PoolConfig {
            max_active_per_host: 1,
            when_full,
            ..PoolConfig::default()
        })
        .build()
        .expect("session")
}

#[test]
fn read_to_end_streams_the_body_and_pools_the_connection() {
    let srv = server();
    let s = Session::new();
    async_std::task::block_on(async {
        for _ in 0..2 {
            let mut resp = s.get(srv.url("/big")).send().await.expect("send");
            let mut body = Vec::new();
            resp.read_to_end(&mut body).await.expect("read");
            assert_eq!(body, pattern(LEN));
        }
    });
    let stats = s.pool_stats();
    assert_eq!((stats.opened, stats.reused, stats.idle), (1, 1, 1));
}

/// A `Content-Length` body read through async-std's `ReadExt` with a large
/// buffer comes straight from the socket, whole, and the connection is
/// pooled after it.
#[test]
fn a_plain_body_read_in_large_pieces_arrives_whole() {
    let srv = server();
    let s = Session::new();
    async_std::task::block_on(async {
        let mut resp = s.get(srv.url("/plain")).send().await.expect("send");
        let mut body = Vec::new();
        let mut buf = vec![0u8; 100 * 1024];
        loop {
            let n = resp.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buf[..n]);
        }
        assert_eq!(body, pattern(LEN));
    });
    assert_eq!(s.pool_stats().idle, 1);
}

#[test]
fn tasks_waiting_for_the_one_connection_each_get_it() {
    let srv = server();
    let s = one_per_host(WhenFull::Wait);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (s, url) = (s.clone(), srv.url("/slow"));
            async_std::task::spawn(async move { s.get(url).send().await?.text().await })
        })
        .collect();
    for h in handles {
        assert_eq!(
            async_std::task::block_on(h).expect("served in turn"),
            "late"
        );
    }
    let stats = s.pool_stats();
    assert_eq!((stats.opened, stats.reused, stats.waited), (1, 3, 3));
    assert_eq!(srv.connections_accepted(), 1);
}

#[test]
fn a_timed_out_future_frees_its_pool_slot() {
    let srv = server();
    let s = one_per_host(WhenFull::Error);
    async_std::task::block_on(async {
        let r =
            async_std::future::timeout(Duration::from_millis(30), s.get(srv.url("/slow")).send())
                .await;
        assert!(r.is_err(), "cancelled before the head");
        assert_eq!(s.pool_stats().active, 0);
        let resp = s
            .get(srv.url("/big"))
            .send()
            .await
            .expect("slot free again");
        assert_eq!(resp.bytes().await.expect("bytes").len(), LEN);
    });
}
