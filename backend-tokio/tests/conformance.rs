//! hawser-tokio runs the shared conformance suite from hawser-testkit on a
//! multi-thread tokio runtime (the suite's concurrency scenario calls `send`
//! from many threads at once; each blocks on the shared runtime).

use std::future::Future;
use std::sync::LazyLock;

use hawser_testkit::conformance::{ClientConfig, ConformanceClient, ConformanceSession};
use hawser_tokio::Tokio;

#[path = "../../testkit/adapters/hawser.rs"]
mod adapter;
#[path = "../../testkit/adapters/hawser_async.rs"]
mod async_adapter;

use async_adapter::{AsyncSession, BlockOn};

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
});

struct TokioExec;

impl BlockOn for TokioExec {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        RUNTIME.block_on(f)
    }
}

struct TokioClient;

impl ConformanceClient for TokioClient {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        let _guard = RUNTIME.enter();
        let (session, log) = adapter::session(cfg);
        Box::new(AsyncSession::<Tokio, _> {
            session,
            log,
            exec: TokioExec,
        })
    }
}

hawser_testkit::conformance_tests!(TokioClient);
