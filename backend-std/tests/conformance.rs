//! hawser-std runs the shared conformance suite from hawser-testkit.

use std::io::{Cursor, Read};

use hawser_std::Session;
use hawser_testkit::conformance::{
    AbandonAt, Abandoned, ClientConfig, ConformanceClient, ConformanceSession, TestError,
    TestRequest, TestResponse,
};

#[path = "../../testkit/adapters/hawser.rs"]
mod adapter;

struct StdClient;

struct StdSession(Session, adapter::HookLog);

impl ConformanceClient for StdClient {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        let (session, log) = adapter::session(cfg);
        Box::new(StdSession(session, log))
    }
}

impl ConformanceSession for StdSession {
    fn hook_log(&self) -> Vec<String> {
        adapter::hook_log(&self.1)
    }

    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        let err = |e: hawser_std::Error| adapter::test_error(&e);
        let b = adapter::request(&self.0, req, |bytes| Box::new(Cursor::new(bytes)));
        let resp = b.send().map_err(err)?;
        let (head, report) = (resp.head().clone(), resp.report());
        let body = resp.bytes().map_err(err)?;
        let opened = self.0.pool_stats().opened;
        Ok(adapter::response(&head, &report, body, opened))
    }

    /// A blocking call cannot be abandoned mid-wait; a response can be
    /// dropped part-way through its body.
    fn abandon(&self, req: &TestRequest, at: AbandonAt) -> Abandoned {
        let AbandonAt::AfterBodyBytes(n) = at else {
            return Abandoned::Unsupported;
        };
        let b = adapter::request(&self.0, req, |bytes| Box::new(Cursor::new(bytes)));
        let mut resp = match b.send() {
            Ok(r) => r,
            Err(e) => return Abandoned::Failed(adapter::test_error(&e)),
        };
        let mut buf = vec![0; n];
        match resp.read_exact(&mut buf) {
            Ok(()) => Abandoned::Done,
            Err(e) => match e
                .into_inner()
                .and_then(|e| e.downcast::<hawser_std::Error>().ok())
            {
                Some(e) => Abandoned::Failed(adapter::test_error(&e)),
                None => Abandoned::Done,
            },
        }
    }
}

hawser_testkit::conformance_tests!(StdClient);
