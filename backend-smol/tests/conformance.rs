//! hawser-smol runs the shared conformance suite from hawser-testkit
//! (each blocking `send` runs the future with `smol::block_on`).

use std::future::Future;

use hawser_smol::Smol;
use hawser_testkit::conformance::{ClientConfig, ConformanceClient, ConformanceSession};

#[path = "../../testkit/adapters/hawser.rs"]
mod adapter;
#[path = "../../testkit/adapters/hawser_async.rs"]
mod async_adapter;

use async_adapter::{AsyncSession, BlockOn};

struct SmolExec;

impl BlockOn for SmolExec {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        smol::block_on(f)
    }
}

struct SmolClient;

impl ConformanceClient for SmolClient {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        let (session, log) = adapter::session(cfg);
        Box::new(AsyncSession::<Smol, _> {
            session,
            log,
            exec: SmolExec,
        })
    }
}

hawser_testkit::conformance_tests!(SmolClient);
