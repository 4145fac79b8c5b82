//! Pool bookkeeping on a fake clock: limits, WhenFull modes, FIFO waiters,
//! expiry rules and counters.

use std::time::{Duration, Instant};

use crate::ErrorKind;
use crate::pool::engine::{
    Checkin, Checkout, EvictReason, KeepAlive, Lease, Pool, PoolConfig, PoolError, PoolKey,
    WaiterTicket, WhenFull,
};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn pool(config: PoolConfig) -> Pool<u32> {
    Pool::new(config).expect("valid config")
}

fn open(p: &mut Pool<u32>, key: &PoolKey, now: Instant) -> Lease {
    match p.checkout(key, now) {
        Ok(Checkout::Open(l)) => l,
        other => panic!("expected Open, got {other:?}"),
    }
}

fn reuse(p: &mut Pool<u32>, key: &PoolKey, now: Instant) -> (Lease, u32) {
    match p.checkout(key, now) {
        Ok(Checkout::Reuse(l, c)) => (l, c),
        other => panic!("expected Reuse, got {other:?}"),
    }
}

fn wait(p: &mut Pool<u32>, key: &PoolKey, now: Instant) -> WaiterTicket {
    match p.checkout(key, now) {
        Ok(Checkout::Wait(t)) => t,
        other => panic!("expected Wait, got {other:?}"),
    }
}

fn kept(c: Result<Checkin<u32>, PoolError>) {
    assert_eq!(
        c.expect("checkin"),
        Checkin {
            close: None,
            wake: None
        }
    );
}

#[test]
fn reuse_is_lifo() {
    let mut p = pool(PoolConfig::default());
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l1 = open(&mut p, &k, t0);
    let l2 = open(&mut p, &k, t0);
    kept(p.checkin(l1, 1, true, None, t0 + s(1)));
    kept(p.checkin(l2, 2, true, None, t0 + s(2)));
    let (_l, c) = reuse(&mut p, &k, t0 + s(3));
    assert_eq!(c, 2, "most recently returned first");
}

#[test]
fn keys_are_separate() {
    let mut p = pool(PoolConfig::default());
    let t0 = Instant::now();
    let a = PoolKey::http("a", 80);
    let l = open(&mut p, &a, t0);
    kept(p.checkin(l, 1, true, None, t0));
    let other_keys = [
        PoolKey::https("a", 80),
        PoolKey::http("a", 81),
        PoolKey::http("b", 80),
        PoolKey::http("a", 80).with_proxy(9),
        PoolKey::http("a", 80).with_tls_identity(3),
    ];
    for k in &other_keys {
        let l = open(&mut p, k, t0);
        kept(p.release(l));
    }
    let (_l, c) = reuse(&mut p, &PoolKey::http("A", 80), t0);
    assert_eq!(c, 1, "host compares case-insensitively");
}

#[test]
fn idle_per_host_limit_closes_the_surplus() {
    let mut p = pool(PoolConfig {
        max_idle_per_host: 1,
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l1 = open(&mut p, &k, t0);
    let l2 = open(&mut p, &k, t0);
    kept(p.checkin(l1, 1, true, None, t0));
    let c = p.checkin(l2, 2, true, None, t0).unwrap();
    assert_eq!(c.close, Some(2));
    assert_eq!(p.idle_count(&k), 1);
    assert_eq!(p.stats().closed_full, 1);
}

#[test]
fn idle_total_limit_retires_the_least_recently_used() {
    let mut p = pool(PoolConfig {
        max_idle_total: 2,
        ..PoolConfig::default()
    });
    let t0 = Instant::now();
    let keys = [
        PoolKey::http("a", 80),
        PoolKey::http("b", 80),
        PoolKey::http("c", 80),
    ];
    let leases: Vec<Lease> = keys.iter().map(|k| open(&mut p, k, t0)).collect();
    let mut closed = Vec::new();
    for (i, l) in leases.into_iter().enumerate() {
        let n = i as u32;
        let c = p.checkin(l, n, true, None, t0 + s(n.into())).unwrap();
        closed.extend(c.close);
    }
    assert_eq!(closed, vec![0], "a was used longest ago");
    assert_eq!(p.stats().idle, 2);
    assert_eq!(p.idle_count(&keys[0]), 0);
}

#[test]
fn zero_idle_keeps_nothing() {
    let mut p = pool(PoolConfig {
        max_idle_total: 0,
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    assert_eq!(p.checkin(l, 1, true, None, t0).unwrap().close, Some(1));
    assert_eq!(p.stats().idle, 0);
}

#[test]
fn when_full_error_fails_at_once() {
    let mut p = pool(PoolConfig {
        max_active_per_host: 1,
        when_full: WhenFull::Error,
        ..PoolConfig::default()
    });
    let k = PoolKey::https("a.example", 443);
    let t0 = Instant::now();
    let _l = open(&mut p, &k, t0);
    let err = p.checkout(&k, t0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "connection pool for https://a.example:443 is full (1 active connections) and configured not to wait"
    );
    let err: crate::Error = err.into();
    assert_eq!(err.kind(), ErrorKind::PoolFull);
    assert_eq!(p.stats().rejected_full, 1);
    assert_eq!(p.active_count(&k), 1);
}

#[test]
fn when_full_open_extra_is_closed_on_return() {
    let mut p = pool(PoolConfig {
        max_active_per_host: 1,
        when_full: WhenFull::OpenExtra,
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l1 = open(&mut p, &k, t0);
    let extra = open(&mut p, &k, t0);
    assert!(extra.is_extra() && !l1.is_extra());
    assert_eq!(p.active_count(&k), 1, "extras do not count as active");
    assert_eq!(p.checkin(extra, 2, true, None, t0).unwrap().close, Some(2));
    kept(p.checkin(l1, 1, true, None, t0));
    let st = p.stats();
    assert_eq!(
        (st.opened, st.opened_extra, st.closed_full, st.idle),
        (1, 1, 1, 1)
    );
}

#[test]
fn when_full_wait_serves_waiters_in_fifo_order() {
    let mut p = pool(PoolConfig {
        max_active_per_host: 1,
        when_full: WhenFull::Wait,
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    let w1 = wait(&mut p, &k, t0);
    let w2 = wait(&mut p, &k, t0);
    let w3 = wait(&mut p, &k, t0);
    assert_eq!(p.waiting_count(&k), 3);
    // Not woken yet: claim gives the ticket back.
    let w1 = match p.claim(w1, t0).unwrap() {
        Checkout::Wait(t) => t,
        other => panic!("{other:?}"),
    };
    // Returning the connection hands it to the first waiter.
    let c = p.checkin(l, 7, true, None, t0 + s(1)).unwrap();
    assert_eq!(c.wake, Some(w1.id()));
    assert_eq!(c.close, None);
    let (l1, conn) = match p.claim(w1, t0 + s(1)).unwrap() {
        Checkout::Reuse(l, c) => (l, c),
        other => panic!("{other:?}"),
    };
    assert_eq!(conn, 7);
    // A newcomer queues behind w2 and w3 even though it asks now.
    let w4 = wait(&mut p, &k, t0 + s(1));
    // Closing the connection frees the slot for w2: it opens a new one.
    assert_eq!(p.release(l1).unwrap().wake, Some(w2.id()));
    let l2 = match p.claim(w2, t0 + s(2)).unwrap() {
        Checkout::Open(l) => l,
        other => panic!("{other:?}"),
    };
    // w3 gives up; the next slot goes to w4.
    kept(p.cancel(w3, t0 + s(3)));
    assert_eq!(p.release(l2).unwrap().wake, Some(w4.id()));
    assert_eq!(p.active_count(&k), 1);
    let st = p.stats();
    assert_eq!((st.waited, st.wait_cancelled, st.waiting), (4, 1, 0));
    let l4 = match p.claim(w4, t0 + s(4)).unwrap() {
        Checkout::Open(l) => l,
        other => panic!("{other:?}"),
    };
    kept(p.release(l4));
    assert_eq!(p.stats().active, 0);
}

#[test]
fn cancelling_a_granted_waiter_passes_the_connection_on() {
    let mut p = pool(PoolConfig {
        max_active_per_host: 1,
        when_full: WhenFull::Wait,
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    let w1 = wait(&mut p, &k, t0);
    let w2 = wait(&mut p, &k, t0);
    assert_eq!(p.checkin(l, 5, true, None, t0).unwrap().wake, Some(w1.id()));
    // w1 timed out right as it was woken: w2 gets the connection.
    assert_eq!(p.cancel(w1, t0).unwrap().wake, Some(w2.id()));
    let (l2, c) = match p.claim(w2, t0).unwrap() {
        Checkout::Reuse(l, c) => (l, c),
        other => panic!("{other:?}"),
    };
    assert_eq!(c, 5);
    kept(p.checkin(l2, c, true, None, t0));
    assert_eq!(p.idle_count(&k), 1);
}

#[test]
fn idle_timeout_evicts_and_checkout_never_hands_out_expired() {
    let mut p = pool(PoolConfig {
        idle_timeout: s(10),
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    kept(p.checkin(l, 1, true, None, t0));
    assert_eq!(p.poll_timeout(), Some(t0 + s(10)));
    assert!(p.evict(t0 + s(9)).is_empty());
    // At expiry, checkout opens a new connection and the old one is
    // handed over by the next evict.
    let _l = open(&mut p, &k, t0 + s(10));
    let ev = p.evict(t0 + s(10));
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].handle, ev[0].reason), (1, EvictReason::IdleTimeout));
    assert_eq!(p.stats().evicted_idle, 1);
    assert_eq!(p.poll_timeout(), None);
}

#[test]
fn evict_returns_expired_handles() {
    let mut p = pool(PoolConfig {
        idle_timeout: s(10),
        ..PoolConfig::default()
    });
    let t0 = Instant::now();
    let a = PoolKey::http("a", 80);
    let b = PoolKey::http("b", 80);
    let la = open(&mut p, &a, t0);
    let lb = open(&mut p, &b, t0);
    kept(p.checkin(la, 1, true, None, t0));
    kept(p.checkin(lb, 2, true, None, t0 + s(5)));
    let ev = p.evict(t0 + s(12));
    assert_eq!(ev.iter().map(|e| e.handle).collect::<Vec<_>>(), vec![1]);
    assert_eq!(p.poll_timeout(), Some(t0 + s(15)));
    assert_eq!(p.stats().idle, 1);
}

#[test]
fn max_lifetime_counts_from_opening() {
    let mut p = pool(PoolConfig {
        idle_timeout: s(100),
        max_lifetime: Some(s(30)),
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    kept(p.checkin(l, 1, true, None, t0 + s(20)));
    let (l, c) = reuse(&mut p, &k, t0 + s(25));
    kept(p.checkin(l, c, true, None, t0 + s(26)));
    assert_eq!(p.poll_timeout(), Some(t0 + s(30)));
    let ev = p.evict(t0 + s(30));
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].reason, EvictReason::MaxLifetime);
    // Returned after its lifetime: closed at once.
    let l = open(&mut p, &k, t0 + s(30));
    let c = p.checkin(l, 2, true, None, t0 + s(61)).unwrap();
    assert_eq!(c.close, Some(2));
    assert_eq!(p.stats().evicted_lifetime, 2);
}

#[test]
fn keep_alive_hint_evicts_a_little_before_the_server() {
    let mut p = pool(PoolConfig::default());
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    let hint = KeepAlive::parse("timeout=5, max=99");
    kept(p.checkin(l, 1, true, Some(hint), t0));
    assert_eq!(p.poll_timeout(), Some(t0 + s(4)));
    let _fresh = open(&mut p, &k, t0 + s(4));
    let ev = p.evict(t0 + s(4));
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].handle, ev[0].reason), (1, EvictReason::KeepAlive));
    assert_eq!(p.stats().evicted_keep_alive, 1);
}

#[test]
fn keep_alive_max_zero_or_not_reusable_closes() {
    let mut p = pool(PoolConfig::default());
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    let c = p
        .checkin(l, 1, true, Some(KeepAlive::parse("max=0")), t0)
        .unwrap();
    assert_eq!(c.close, Some(1));
    let l = open(&mut p, &k, t0);
    assert_eq!(p.checkin(l, 2, false, None, t0).unwrap().close, Some(2));
    let st = p.stats();
    assert_eq!((st.closed_not_reusable, st.active, st.idle), (2, 0, 0));
}

#[test]
fn foreign_leases_are_rejected() {
    let mut p1 = pool(PoolConfig::default());
    let mut p2 = pool(PoolConfig::default());
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p1, &k, t0);
    assert_eq!(
        p2.checkin(l, 1, true, None, t0).unwrap_err(),
        PoolError::ForeignToken
    );
    assert_eq!(p1.active_count(&k), 1, "the lease was not counted back");
}

#[test]
fn invalid_config_is_rejected() {
    let bad = [
        PoolConfig {
            max_active_per_host: 0,
            ..PoolConfig::default()
        },
        PoolConfig {
            idle_timeout: Duration::ZERO,
            ..PoolConfig::default()
        },
        PoolConfig {
            max_lifetime: Some(Duration::ZERO),
            ..PoolConfig::default()
        },
    ];
    for c in bad {
        let err = Pool::<u32>::new(c).unwrap_err();
        let err: crate::Error = err.into();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    }
}

#[test]
fn stats_count_each_event() {
    let mut p = pool(PoolConfig::default());
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let l = open(&mut p, &k, t0);
    kept(p.checkin(l, 1, true, None, t0));
    for i in 1..=3 {
        let (l, c) = reuse(&mut p, &k, t0 + s(i));
        kept(p.checkin(l, c, true, None, t0 + s(i)));
    }
    let (l, c) = reuse(&mut p, &k, t0 + s(4));
    let l2 = open(&mut p, &k, t0 + s(4));
    let st = p.stats();
    assert_eq!((st.opened, st.reused, st.active, st.idle), (2, 4, 2, 0));
    kept(p.checkin(l, c, true, None, t0 + s(5)));
    kept(p.release(l2));
    assert_eq!(p.clear(), vec![1]);
    assert_eq!(p.stats().active, 0);
    assert_eq!(p.stats().idle, 0);
}

#[test]
fn keep_alive_parse_ignores_garbage() {
    assert_eq!(KeepAlive::parse(""), KeepAlive::default());
    let ka = KeepAlive::parse("TIMEOUT = 7 , max=x, foo=1, max=3");
    assert_eq!(ka.timeout, Some(s(7)));
    assert_eq!(ka.max, Some(3));
    assert_eq!(KeepAlive::parse("timeout=-1").timeout, None);
    assert_eq!(
        KeepAlive::parse("timeout=99999999999").timeout,
        Some(s(86_400))
    );
}

#[test]
fn a_waiter_is_bounded_by_its_call_tracker() {
    use crate::TimeoutPhase;
    use crate::deadline::{Phase, Timeouts, Tracker};

    let mut p = pool(PoolConfig {
        max_active_per_host: 1,
        when_full: WhenFull::Wait,
        ..PoolConfig::default()
    });
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let _busy = open(&mut p, &k, t0);
    let timeouts = Timeouts::default().with_pool_wait(s(2)).unwrap();
    let mut call = Tracker::start(&timeouts, t0);
    call.begin(Phase::PoolWait, t0);
    let ticket = wait(&mut p, &k, t0);
    // Nobody returns a connection: the driver wakes at the tracker's bound.
    let wake_at = call.poll_timeout().at;
    assert_eq!(wake_at, t0 + s(2));
    let err = call.check(wake_at).unwrap_err();
    assert_eq!(err.timeout_phase(), Some(TimeoutPhase::PoolWait));
    kept(p.cancel(ticket, wake_at));
    assert_eq!(p.waiting_count(&k), 0);
    assert_eq!(p.stats().wait_cancelled, 1);
}

#[test]
fn foreign_tickets_are_rejected() {
    let mut p1 = pool(PoolConfig {
        max_active_per_host: 1,
        when_full: WhenFull::Wait,
        ..PoolConfig::default()
    });
    let mut p2 = pool(PoolConfig::default());
    let k = PoolKey::http("a", 80);
    let t0 = Instant::now();
    let _l = open(&mut p1, &k, t0);
    let t = wait(&mut p1, &k, t0);
    assert_eq!(p2.claim(t, t0).unwrap_err(), PoolError::ForeignToken);
    assert_eq!(
        p1.waiting_count(&k),
        1,
        "the queue of the owner is untouched"
    );
}

#[test]
fn unused_keys_are_forgotten() {
    let mut p = pool(PoolConfig {
        max_idle_per_host: 0,
        ..PoolConfig::default()
    });
    let t0 = Instant::now();
    for i in 0..1000u16 {
        let k = PoolKey::http("h", i);
        let l = open(&mut p, &k, t0);
        assert_eq!(
            p.checkin(l, u32::from(i), true, None, t0).unwrap().close,
            Some(u32::from(i))
        );
    }
    let st = p.stats();
    assert_eq!(
        (st.opened, st.active, st.idle, st.closed_full, st.keys),
        (1000, 0, 0, 1000, 0)
    );
    assert_eq!(p.poll_timeout(), None);
}
