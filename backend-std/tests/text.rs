//! `text()` decodes with the Content-Type charset through encoding_rs.

use hawser_testkit::{Behaviour, Reply, TestServer};

#[test]
fn text_decodes_the_declared_charset() {
    let srv = TestServer::start(vec![
        (
            "/latin1",
            Behaviour::Reply(
                Reply::new(200)
                    .header("Content-Type", "text/plain; charset=\"ISO-8859-1\"")
                    .body(vec![0x63, 0x61, 0x66, 0xe9]),
            ),
        ),
        (
            "/cp1252",
            Behaviour::Reply(
                Reply::new(200)
                    .header("Content-Type", "text/html; Charset=windows-1252")
                    .body(vec![0x93, 0x68, 0x69, 0x94]),
            ),
        ),
        (
            "/utf8",
            Behaviour::Reply(Reply::new(200).body("ok \u{2713}")),
        ),
    ])
    .unwrap();
    let s = hawser_std::Session::new();
    let text = |p: &str| s.get(srv.url(p)).send().unwrap().text().unwrap();
    assert_eq!(text("/latin1"), "caf\u{e9}");
    assert_eq!(text("/cp1252"), "\u{201c}hi\u{201d}");
    assert_eq!(text("/utf8"), "ok \u{2713}");
}
