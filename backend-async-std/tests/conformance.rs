//! hawser-async-std runs the shared conformance suite from hawser-testkit
//! (each blocking `send` runs the future with `async_std::task::block_on`).

use hawser_async_std::Session;
use hawser_testkit::conformance::{
    ClientConfig, ConformanceClient, ConformanceSession, TestError, TestRequest, TestResponse,
};

#[path = "../../testkit/adapters/hawser.rs"]
mod adapter;

struct AsyncStdClient;

struct AsyncStdSession(Session);

impl ConformanceClient for AsyncStdClient {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        Box::new(AsyncStdSession(adapter::session(cfg)))
    }
}

impl ConformanceSession for AsyncStdSession {
    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        let err = |e: hawser_async_std::Error| adapter::test_error(&e);
        let b = adapter::request(&self.0, req, |bytes| {
            Box::new(futures_lite::io::Cursor::new(bytes))
        });
        async_std::task::block_on(async {
            let resp = b.send().await.map_err(err)?;
            let (head, report) = (resp.head().clone(), resp.report());
            let body = resp.bytes().await.map_err(err)?;
            let opened = self.0.pool_stats().opened;
            Ok(adapter::response(&head, &report, body, opened))
        })
    }
}

hawser_testkit::conformance_tests!(AsyncStdClient);
