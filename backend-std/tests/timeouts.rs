//! A timeout is one failed attempt: it spends one retry and no more.

use std::time::Duration;

use hawser_std::{ErrorKind, Retry, Session, TimeoutPhase};
use hawser_testkit::{Behaviour, TestServer};

#[test]
fn a_read_timeout_spends_exactly_one_retry() {
    let server = TestServer::start(vec![(
        "/stall",
        Behaviour::StallBeforeHead(Duration::from_secs(3)),
    )])
    .expect("server");
    let session = Session::builder()
        .retry(Retry::new(1))
        .read_timeout(Duration::from_millis(150))
        .build()
        .expect("session");
    let err = session
        .get(server.url("/stall"))
        .send()
        .expect_err("the server never answers");
    assert_eq!(err.kind(), ErrorKind::RetriesExhausted, "{err:?}");
    assert_eq!(
        err.root_cause().timeout_phase(),
        Some(TimeoutPhase::ResponseHead)
    );
    // Retry::new(1): the first attempt and one retry both reached the server.
    assert_eq!(server.hits("/stall"), 2);
}
