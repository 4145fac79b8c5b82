//! Criterion micro-benchmark of the pool's hot path: checkout of an idle
//! connection and checkin of it again (target: under 200 ns per pair).
//!
//! The pool holds a few keys so the lookup is not a one-entry map. The clock
//! is a base `Instant` advanced by a fixed step per iteration (the core takes
//! time as an argument), so expiry checks run but never fire.

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use hawser_core::pool::{Checkout, Pool, PoolConfig, PoolKey};

fn checkout_checkin(c: &mut Criterion) {
    let mut pool: Pool<u64> = match Pool::new(PoolConfig::default()) {
        Ok(p) => p,
        Err(e) => panic!("default config is valid: {e}"),
    };
    let keys: Vec<PoolKey> = (0..8)
        .map(|i| PoolKey::https(&format!("host{i}.example.com"), 443))
        .collect();
    let t0 = Instant::now();
    for (i, k) in keys.iter().enumerate() {
        if let Ok(Checkout::Open(lease)) = pool.checkout(k, t0) {
            let done = pool.checkin(lease, i as u64, true, None, t0);
            assert!(matches!(done, Ok(ref c) if c.close.is_none()));
        }
    }
    let key = keys[3].clone();
    let mut now = t0;
    let step = Duration::from_nanos(1);

    c.bench_function("pool checkout+checkin (idle reuse)", |b| {
        b.iter(|| {
            now += step;
            match pool.checkout(black_box(&key), now) {
                Ok(Checkout::Reuse(lease, conn)) => {
                    let done = pool.checkin(lease, conn, true, None, now);
                    black_box(done.is_ok());
                }
                other => panic!("expected an idle connection, got {other:?}"),
            }
        })
    });
    assert_eq!(pool.stats().idle, keys.len());
}

criterion_group!(benches, checkout_checkin);
criterion_main!(benches);
