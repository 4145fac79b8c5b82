//! The conformance session of every async hawser backend, generic over its
//! `hawser_async::Runtime` and how the test blocks on a future. Included
//! (with `#[path]`) beside `hawser.rs` by hawser-smol, hawser-async-std and
//! hawser-tokio, so the three run the suite through the same code.

use std::future::Future;
use std::time::Instant;

use futures_lite::{AsyncReadExt, future};
use hawser_async::{Runtime, Session};
use hawser_testkit::conformance::{
    AbandonAt, Abandoned, ConformanceSession, TestError, TestRequest, TestResponse,
};

use super::adapter;

/// How a test thread runs a future to completion on the backend's runtime.
pub trait BlockOn: Send + Sync {
    /// Run `f` to its end.
    fn block_on<F: Future>(&self, f: F) -> F::Output;
}

/// A session of an async backend, driven from blocking test code.
pub struct AsyncSession<R: Runtime, E: BlockOn> {
    pub session: Session<R>,
    pub log: adapter::HookLog,
    pub exec: E,
}

fn err(e: hawser_async::Error) -> TestError {
    adapter::test_error(&e)
}

impl<R: Runtime, E: BlockOn> ConformanceSession for AsyncSession<R, E> {
    fn hook_log(&self) -> Vec<String> {
        adapter::hook_log(&self.log)
    }

    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        let b = adapter::request(&self.session, req, |bytes| {
            Box::new(futures_lite::io::Cursor::new(bytes))
        });
        self.exec.block_on(async {
            let resp = b.send().await.map_err(err)?;
            let (head, report) = (resp.head().clone(), resp.report());
            let body = resp.bytes().await.map_err(err)?;
            let opened = self.session.pool_stats().opened;
            Ok(adapter::response(&head, &report, body, opened))
        })
    }

    /// Drops the request future wherever it is at `After(d)`, or the
    /// response after `AfterBodyBytes(n)`.
    fn abandon(&self, req: &TestRequest, at: AbandonAt) -> Abandoned {
        let b = adapter::request(&self.session, req, |bytes| {
            Box::new(futures_lite::io::Cursor::new(bytes))
        });
        self.exec.block_on(async {
            match at {
                AbandonAt::After(d) => {
                    let whole = async { b.send().await?.bytes().await };
                    let timer = R::sleep_until(Instant::now() + d);
                    match future::or(async { Some(whole.await) }, async {
                        timer.await;
                        None
                    })
                    .await
                    {
                        Some(Err(e)) => Abandoned::Failed(err(e)),
                        Some(Ok(_)) | None => Abandoned::Done,
                    }
                }
                AbandonAt::AfterBodyBytes(n) => {
                    let mut resp = match b.send().await {
                        Ok(r) => r,
                        Err(e) => return Abandoned::Failed(err(e)),
                    };
                    let mut buf = vec![0; n];
                    let read = resp.read_exact(&mut buf).await;
                    drop(resp);
                    match read.map_err(|e| {
                        e.into_inner()
                            .and_then(|e| e.downcast::<hawser_async::Error>().ok())
                    }) {
                        Err(Some(e)) => Abandoned::Failed(err(*e)),
                        _ => Abandoned::Done,
                    }
                }
            }
        })
    }
}
