//! The session-wide retry budget stops a retry storm against a failing
//! upstream, end to end over loopback.

use std::time::Duration;

use hawser_std::{ErrorKind, Retry, RetryBudget, Session};
use hawser_testkit::{Behaviour, Reply, TestServer};

#[test]
fn empty_budget_ends_retries_with_a_typed_error() {
    let server = TestServer::start(vec![(
        "/down",
        Behaviour::Reply(Reply::new(503).body("down")),
    )])
    .expect("server");
    // Half a token per request, no time-based refill: ten requests may retry
    // about five times in total, however many retries each policy allows.
    let session = Session::builder()
        .retry(Retry::new(3).status_forcelist([503]))
        .retry_budget(RetryBudget::new(0.5, 0.0, 100.0))
        .build()
        .expect("session");
    let mut budget_errors = 0;
    for _ in 0..10 {
        let err = session
            .get(server.url("/down"))
            .deadline(Duration::from_secs(5))
            .send()
            .expect_err("503s are retried until a limit");
        if err.kind() == ErrorKind::RetryBudgetExhausted {
            budget_errors += 1;
        } else {
            assert_eq!(err.kind(), ErrorKind::RetriesExhausted, "{err:?}");
        }
    }
    // Without the budget the server would see 10 * 4 = 40 requests.
    let hits = server.hits("/down");
    assert!(hits <= 10 + 5, "the budget allowed {hits} requests");
    assert!(hits > 10, "some retries were allowed ({hits})");
    assert!(
        budget_errors >= 8,
        "most calls ended on the budget ({budget_errors})"
    );
}
