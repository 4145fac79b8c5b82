//! hawser-async-std runs the shared conformance suite from hawser-testkit
//! (each blocking `send` runs the future with `async_std::task::block_on`).

use std::future::Future;

use hawser_async_std::AsyncStd;
use hawser_testkit::conformance::{ClientConfig, ConformanceClient, ConformanceSession};

#[path = "../../testkit/adapters/hawser.rs"]
mod adapter;
#[path = "../../testkit/adapters/hawser_async.rs"]
mod async_adapter;

use async_adapter::{AsyncSession, BlockOn};

struct AsyncStdExec;

impl BlockOn for AsyncStdExec {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        async_std::task::block_on(f)
    }
}

struct AsyncStdClient;

impl ConformanceClient for AsyncStdClient {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        let (session, log) = adapter::session(cfg);
        Box::new(AsyncSession::<AsyncStd, _> {
            session,
            log,
            exec: AsyncStdExec,
        })
    }
}

hawser_testkit::conformance_tests!(AsyncStdClient);
