//! Captures what hawser tells `tracing` as text (tracing-subscriber's fmt
//! layer, no colours, every span's fields on each line), for the tracing
//! tests of each backend (included with `#[path]`).

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Where the captured lines go.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Run `f` with a debug-level subscriber on this thread; what it logged.
pub fn capture(f: impl FnOnce()) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    out.text()
}

/// What every backend's trace of the scripted call must show: a retried
/// 503, a followed redirect, a reused connection; spans with the method,
/// host and attempt numbers; no password anywhere.
pub fn check(log: &str) {
    let lines: Vec<&str> = log.lines().collect();
    let has = |needles: &[&str]| lines.iter().any(|l| needles.iter().all(|n| l.contains(n)));
    assert!(
        has(&["hawser.call{method=GET host=127.0.0.1"]),
        "call span:\n{log}"
    );
    assert!(
        has(&["hawser.attempt{attempt=1", "hawser: opening a connection"]),
        "attempt 1 opens a connection:\n{log}"
    );
    assert!(
        has(&[
            "hawser.attempt{attempt=1",
            "hawser: attempt ended",
            "Status(503)",
            "sleep_ms="
        ]),
        "attempt 1 ends on a 503 with a retry decision and its sleep:\n{log}"
    );
    assert!(
        has(&["hawser retry decision"]),
        "the retry decision:\n{log}"
    );
    assert!(
        has(&[
            "hawser.attempt{attempt=2",
            "hawser: following a redirect",
            "status=302"
        ]),
        "attempt 2 follows the redirect:\n{log}"
    );
    assert!(
        has(&[
            "hawser.attempt{attempt=3",
            "hawser: response head",
            "status=200"
        ]),
        "attempt 3 gets the 200:\n{log}"
    );
    assert!(
        has(&["hawser: reusing a pooled connection"]),
        "a pooled connection is reused:\n{log}"
    );
    assert!(
        !log.contains("secret") && !log.contains("user:"),
        "credentials reached the trace:\n{log}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("hawser.attempt{attempt=1") && l.contains("reusing")),
        "the first attempt opened its connection:\n{log}"
    );
}

/// The scripted server for [`check`]: `/flaky` answers 503, then 302 to
/// `/done`, which answers 200.
pub fn server() -> hawser_testkit::TestServer {
    use hawser_testkit::{Behaviour, Reply, TestServer};
    TestServer::builder()
        .route(
            "/flaky",
            Behaviour::Sequence(vec![
                Behaviour::Reply(Reply::new(503).body("busy")),
                Behaviour::Redirect {
                    status: 302,
                    location: "/done".into(),
                },
            ]),
        )
        .route("/done", Behaviour::Reply(Reply::new(200).body("ok")))
        .start()
        .expect("test server")
}

/// The URL of `/flaky` with credentials in it.
pub fn url_with_password(srv: &hawser_testkit::TestServer) -> String {
    srv.url("/flaky").replace("http://", "http://user:secret@")
}
