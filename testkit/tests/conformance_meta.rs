//! The conformance suite cannot pass by accident: every scenario must fail
//! against clients that never touch the network (one that always errors,
//! one that always claims success), because each asserts server-side
//! evidence. This also runs every scenario's server setup.

use std::panic::{catch_unwind, AssertUnwindSafe};

use hawser_testkit::conformance::{
    all, ClientConfig, ConformanceClient, ConformanceSession, TestError, TestErrorKind,
    TestRequest, TestResponse,
};

/// Answers every request without sending anything.
struct Fake {
    ok: bool,
}

impl ConformanceSession for Fake {
    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        if self.ok {
            Ok(TestResponse {
                status: 200,
                reason: "OK".into(),
                headers: Vec::new(),
                body: Vec::new(),
                final_url: req.url.clone(),
                history: Vec::new(),
                connections_opened: Some(1),
            })
        } else {
            Err(TestError {
                kind: TestErrorKind::Other,
                message: "fake client".into(),
                cause: None,
                report: None,
            })
        }
    }
}

impl ConformanceClient for Fake {
    fn session(&self, _cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        Box::new(Fake { ok: self.ok })
    }
}

fn passing_scenarios(client: &Fake) -> Vec<&'static str> {
    let mut passed = Vec::new();
    for (name, scenario) in all() {
        if catch_unwind(AssertUnwindSafe(|| scenario(client))).is_ok() {
            passed.push(name);
        }
    }
    passed
}

#[test]
fn every_scenario_fails_against_a_client_that_always_errors() {
    let passed = passing_scenarios(&Fake { ok: false });
    assert!(
        passed.is_empty(),
        "scenarios passed without a client: {passed:?}"
    );
}

#[test]
fn every_scenario_fails_against_a_client_that_always_says_200() {
    let passed = passing_scenarios(&Fake { ok: true });
    assert!(
        passed.is_empty(),
        "scenarios passed without a client: {passed:?}"
    );
}

#[test]
fn scenario_names_are_unique() {
    let names: Vec<_> = all().into_iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    assert!(names.len() >= 100, "{} scenarios", names.len());
}
