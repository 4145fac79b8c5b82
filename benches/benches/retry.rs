//! Micro-benchmarks of one retry decision (target: under 200 ns each).
//!
//! Run: `cargo bench -p hawser-benches --bench retry -- --warm-up-time 1 --measurement-time 3`
// `criterion_group!` generates a public fn without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hawser_core::retry::{
    jitter_rng, Clock, FailureKind, Outcome, ResponseOutcome, Retry, RetryBudget, RetryState,
};
use http::Method;

fn bench_decisions(c: &mut Criterion) {
    let start = Instant::now();
    let clock = Clock {
        now: start,
        wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        deadline: Some(start + Duration::from_secs(60)),
    };
    let mut rng = jitter_rng(1);

    // A 503 with `Retry-After: 2` on a fresh request (implicit rule).
    let policy = Retry::new(3);
    let fresh = RetryState::new(&policy, Method::GET, "http://bench.test/");
    let r503: Outcome = ResponseOutcome::new(503).retry_after("2").into();
    c.bench_function("retry/decide 503 Retry-After", |b| {
        b.iter_batched_ref(
            || fresh.clone(),
            |st| black_box(policy.decide(st, black_box(&r503), &clock, &mut rng, None)),
            BatchSize::SmallInput,
        )
    });

    // The third connect error of a run: exponential backoff + additive
    // jitter, with a session retry budget.
    let policy = Retry::new(5)
        .backoff_factor(Duration::from_millis(100))
        .backoff_jitter(Duration::from_millis(50));
    let ce = Outcome::error(FailureKind::Refused);
    let mut warm = RetryState::new(&policy, Method::GET, "http://bench.test/");
    policy.decide(&mut warm, &ce, &clock, &mut rng, None);
    let mut budget = RetryBudget::new(0.2, 1e9, 1e12);
    budget.advance(Duration::from_secs(1000));
    c.bench_function("retry/decide connect error backoff+jitter+budget", |b| {
        b.iter_batched_ref(
            || warm.clone(),
            |st| black_box(policy.decide(st, black_box(&ce), &clock, &mut rng, Some(&mut budget))),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench_decisions);
criterion_main!(benches);
