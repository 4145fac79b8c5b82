//! hawser-smol runs the shared conformance suite from hawser-testkit
//! (each blocking `send` runs the future with `smol::block_on`).

use hawser_smol::Session;
use hawser_testkit::conformance::{
    ClientConfig, ConformanceClient, ConformanceSession, TestError, TestRequest, TestResponse,
};

#[path = "../../testkit/adapters/hawser.rs"]
mod adapter;

struct SmolClient;

struct SmolSession(Session);

impl ConformanceClient for SmolClient {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        Box::new(SmolSession(adapter::session(cfg)))
    }
}

impl ConformanceSession for SmolSession {
    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        let err = |e: hawser_smol::Error| adapter::test_error(&e);
        let b = adapter::request(&self.0, req, |bytes| {
            Box::new(futures_lite::io::Cursor::new(bytes))
        });
        smol::block_on(async {
            let resp = b.send().await.map_err(err)?;
            let (head, report) = (resp.head().clone(), resp.report());
            let body = resp.bytes().await.map_err(err)?;
            let opened = self.0.pool_stats().opened;
            Ok(adapter::response(&head, &report, body, opened))
        })
    }
}

hawser_testkit::conformance_tests!(SmolClient);
