//! Property tests: random sequences of pool operations over a few keys,
//! checked against an independent model.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::pool::engine::{
    Checkin, Checkout, KeepAlive, Lease, Pool, PoolConfig, PoolKey, WaiterId, WaiterTicket,
    WhenFull, keep_alive_expiry,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Checkout(usize),
    Checkin(usize, bool, Option<u8>),
    Release(usize),
    Claim(usize),
    Cancel(usize),
    Evict,
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..3).prop_map(Op::Checkout),
        3 => (any::<usize>(), proptest::bool::weighted(0.8), proptest::option::of(0u8..6))
            .prop_map(|(i, r, h)| Op::Checkin(i, r, h)),
        1 => any::<usize>().prop_map(Op::Release),
        2 => any::<usize>().prop_map(Op::Claim),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => Just(Op::Evict),
        2 => (0u64..4_000).prop_map(Op::Advance),
    ]
}

fn config() -> impl Strategy<Value = PoolConfig> {
    (
        0usize..3,
        0usize..5,
        1usize..3,
        prop_oneof![
            Just(WhenFull::Wait),
            Just(WhenFull::Error),
            Just(WhenFull::OpenExtra)
        ],
        1u64..6,
        proptest::option::of(1u64..10),
    )
        .prop_map(|(iph, it, act, wf, idle, life)| PoolConfig {
            max_idle_per_host: iph,
            max_idle_total: it,
            max_active_per_host: act,
            when_full: wf,
            idle_timeout: Duration::from_secs(idle),
            max_lifetime: life.map(Duration::from_secs),
        })
}

/// What the test knows about a connection it opened.
struct Conn {
    created: Instant,
    /// Latest instant it may be handed out (exclusive), set at checkin.
    expires: Option<Instant>,
}

struct Model {
    conns: HashMap<u32, Conn>,
    next_handle: u32,
    held: Vec<(Lease, Option<u32>)>,
    tickets: Vec<WaiterTicket>,
    /// Per key: waiter ids in the order they queued, not yet woken.
    queues: HashMap<PoolKey, VecDeque<WaiterId>>,
    woken: HashSet<WaiterId>,
    closed: HashSet<u32>,
    pooled_leases_issued: u64,
}

impl Model {
    fn close(&mut self, h: u32) -> Result<(), TestCaseError> {
        prop_assert!(self.closed.insert(h), "handle {} closed twice", h);
        Ok(())
    }

    fn absorb(&mut self, key: &PoolKey, c: Checkin<u32>) -> Result<(), TestCaseError> {
        if let Some(h) = c.close {
            self.close(h)?;
        }
        if let Some(id) = c.wake {
            let q = self.queues.entry(key.clone()).or_default();
            prop_assert_eq!(
                q.pop_front(),
                Some(id),
                "waiters must be woken in FIFO order"
            );
            self.woken.insert(id);
        }
        Ok(())
    }

    fn take(
        &mut self,
        now: Instant,
        c: Checkout<u32>,
        cfg: &PoolConfig,
    ) -> Result<(), TestCaseError> {
        match c {
            Checkout::Reuse(l, h) => {
                let conn = self
                    .conns
                    .get(&h)
                    .ok_or_else(|| TestCaseError::fail("unknown handle"))?;
                prop_assert!(!self.closed.contains(&h), "closed handle handed out");
                let exp = conn
                    .expires
                    .ok_or_else(|| TestCaseError::fail("reused before checkin"))?;
                prop_assert!(now < exp, "expired connection handed out");
                if let Some(life) = cfg.max_lifetime {
                    prop_assert!(now < conn.created + life);
                }
                prop_assert!(!l.is_extra());
                self.pooled_leases_issued += 1;
                self.held.push((l, Some(h)));
            }
            Checkout::Open(l) => {
                if !l.is_extra() {
                    self.pooled_leases_issued += 1;
                }
                let h = self.next_handle;
                self.next_handle += 1;
                self.conns.insert(
                    h,
                    Conn {
                        created: now,
                        expires: None,
                    },
                );
                self.held.push((l, Some(h)));
            }
            Checkout::Wait(t) => self.tickets.push(t),
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pool_invariants_hold(cfg in config(), ops in proptest::collection::vec(op(), 1..80)) {
        let keys = [PoolKey::http("a", 80), PoolKey::https("b", 443), PoolKey::http("a", 80).with_proxy(1)];
        let mut pool: Pool<u32> = Pool::new(cfg).unwrap();
        let t0 = Instant::now();
        let mut now = t0;
        let mut m = Model {
            conns: HashMap::new(), next_handle: 0, held: Vec::new(), tickets: Vec::new(),
            queues: HashMap::new(), woken: HashSet::new(), closed: HashSet::new(),
            pooled_leases_issued: 0,
        };
        for op in ops {
            match op {
                Op::Checkout(k) => match pool.checkout(&keys[k], now) {
                    Ok(c) => {
                        if let Checkout::Wait(t) = &c {
                            prop_assert_eq!(cfg.when_full, WhenFull::Wait);
                            m.queues.entry(keys[k].clone()).or_default().push_back(t.id());
                        }
                        m.take(now, c, &cfg)?;
                    }
                    Err(_) => {
                        prop_assert_eq!(cfg.when_full, WhenFull::Error);
                        prop_assert_eq!(pool.active_count(&keys[k]), cfg.max_active_per_host);
                    }
                },
                Op::Checkin(i, reusable, hint) if !m.held.is_empty() => {
                    let (l, h) = m.held.swap_remove(i % m.held.len());
                    let h = h.ok_or_else(|| TestCaseError::fail("no handle"))?;
                    let key = l.key().clone();
                    let ka = hint.map(|n| KeepAlive { timeout: Some(Duration::from_secs(n.into())), max: None });
                    if let Some(conn) = m.conns.get_mut(&h) {
                        let mut exp = now + cfg.idle_timeout;
                        if let Some(life) = cfg.max_lifetime { exp = exp.min(conn.created + life); }
                        if let Some(n) = hint { exp = exp.min(now + keep_alive_expiry(Duration::from_secs(n.into()))); }
                        conn.expires = Some(exp);
                    }
                    let c = pool.checkin(l, h, reusable, ka, now).unwrap();
                    if !reusable { prop_assert_eq!(c.close, Some(h)); }
                    m.absorb(&key, c)?;
                }
                Op::Release(i) if !m.held.is_empty() => {
                    let (l, h) = m.held.swap_remove(i % m.held.len());
                    let key = l.key().clone();
                    if let Some(h) = h { m.close(h)?; }
                    let c = pool.release(l).unwrap();
                    prop_assert_eq!(c.close, None);
                    m.absorb(&key, c)?;
                }
                Op::Claim(i) if !m.tickets.is_empty() => {
                    let t = m.tickets.swap_remove(i % m.tickets.len());
                    let id = t.id();
                    let was_woken = m.woken.remove(&id);
                    let c = pool.claim(t, now).unwrap();
                    if let Checkout::Wait(_) = &c {
                        prop_assert!(!was_woken, "a woken waiter must get a connection");
                    } else {
                        prop_assert!(was_woken, "an unwoken waiter got a connection");
                    }
                    m.take(now, c, &cfg)?;
                }
                Op::Cancel(i) if !m.tickets.is_empty() => {
                    let t = m.tickets.swap_remove(i % m.tickets.len());
                    let key = t.key().clone();
                    let id = t.id();
                    if !m.woken.remove(&id)
                        && let Some(q) = m.queues.get_mut(&key) { q.retain(|w| *w != id); }
                    let c = pool.cancel(t, now).unwrap();
                    m.absorb(&key, c)?;
                }
                Op::Evict => {
                    for e in pool.evict(now) {
                        let conn = m.conns.get(&e.handle).ok_or_else(|| TestCaseError::fail("unknown handle"))?;
                        let exp = conn.expires.ok_or_else(|| TestCaseError::fail("evicted before checkin"))?;
                        prop_assert!(now >= exp, "evicted early");
                        m.close(e.handle)?;
                    }
                    // Nothing left idle is past its timeout.
                    if let Some(next) = pool.poll_timeout() { prop_assert!(next > now); }
                }
                Op::Advance(ms) => now += Duration::from_millis(ms),
                _ => {}
            }
            // Limits.
            let st = pool.stats();
            prop_assert!(st.idle <= cfg.max_idle_total);
            let mut idle_sum = 0;
            for k in &keys {
                prop_assert!(pool.active_count(k) <= cfg.max_active_per_host);
                prop_assert!(pool.idle_count(k) <= cfg.max_idle_per_host);
                idle_sum += pool.idle_count(k);
            }
            // Counters.
            prop_assert_eq!(st.idle, idle_sum);
            let pooled_held = m.held.iter().filter(|(l, _)| !l.is_extra()).count();
            prop_assert_eq!(st.active, pooled_held + m.woken.len());
            prop_assert_eq!(st.waiting, m.queues.values().map(VecDeque::len).sum::<usize>());
            prop_assert_eq!(st.opened + st.reused, m.pooled_leases_issued);
        }
        // Conservation: wind down, every opened handle is closed exactly once.
        for t in std::mem::take(&mut m.tickets) {
            let key = t.key().clone();
            let id = t.id();
            if !m.woken.remove(&id)
                && let Some(q) = m.queues.get_mut(&key) { q.retain(|w| *w != id); }
            let c = pool.cancel(t, now).unwrap();
            m.absorb(&key, c)?;
        }
        prop_assert!(m.woken.is_empty());
        for (l, h) in std::mem::take(&mut m.held) {
            let key = l.key().clone();
            let c = pool.checkin(l, h.unwrap_or(u32::MAX), false, None, now).unwrap();
            m.absorb(&key, c)?;
        }
        for e in pool.evict(now) { m.close(e.handle)?; }
        for h in pool.clear() { m.close(h)?; }
        prop_assert_eq!(m.closed.len() as u32, m.next_handle);
        let st = pool.stats();
        prop_assert_eq!((st.idle, st.active, st.waiting, st.keys), (0, 0, 0, 0));
    }
}
