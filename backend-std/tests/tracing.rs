//! hawser-std with the `tracing` feature: the spans and events of a call
//! that is retried and redirected, seen through a real subscriber.

#[path = "../../testkit/adapters/tracing_capture.rs"]
mod tracing_capture;

use hawser_std::{Retry, Session};

#[test]
fn a_retried_redirected_call_is_traced_without_credentials() {
    let srv = tracing_capture::server();
    let log = tracing_capture::capture(|| {
        let session = Session::builder()
            .retry(Retry::new(Some(3)).status_forcelist([503]))
            .build()
            .unwrap();
        let resp = session
            .get(tracing_capture::url_with_password(&srv))
            .send()
            .unwrap();
        assert_eq!(resp.text().unwrap(), "ok");
    });
    tracing_capture::check(&log);
}
