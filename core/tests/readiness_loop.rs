//! The core driven by a one-thread mio readiness loop from its public API
//! alone (`examples/readiness.rs`): 1,000 concurrent calls to the testkit
//! server through one agent whose pool allows 32 connections, so most
//! calls queue for a slot and are woken one at a time.

#[path = "../examples/readiness.rs"]
mod readiness;

use hawser_core::call::Config;
use hawser_core::pool::WhenFull;
use hawser_testkit::{Behaviour, Reply, TestServer};

#[test]
fn a_thousand_concurrent_calls_on_one_thread_leave_the_pool_at_zero_active() {
    let srv = TestServer::start(vec![("/", Behaviour::Reply(Reply::text("hello")))]).unwrap();
    let urls: Vec<String> = (0..1000).map(|i| srv.url(&format!("/?n={i}"))).collect();
    let mut config = Config::default();
    config.pool.max_active_per_host = 32;
    config.pool.when_full = WhenFull::Wait;
    let out = readiness::run(&urls, config).unwrap();
    assert!(
        out.failed.is_empty(),
        "{:?}",
        &out.failed[..out.failed.len().min(5)]
    );
    assert_eq!(out.ok, 1000);
    let st = out.stats;
    assert_eq!((st.active, st.waiting), (0, 0), "{st:?}");
    assert!(st.opened <= 32, "the cap held: {st:?}");
    assert_eq!(st.opened + st.reused, 1000, "{st:?}");
    assert!(st.waited > 0, "calls queued for a slot: {st:?}");
    assert_eq!(srv.hits("/"), 1000);
    assert!(srv.connections_accepted() <= 32);
}
