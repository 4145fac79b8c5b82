//! End-to-end tests of the `fetch` example against loopback servers.
//!
//! Cargo builds no binary path for examples that a test could run, so the
//! example's logic (`examples/fetch/cli.rs`) is compiled into this test and
//! driven in process, with the same arguments, environment and output
//! streams `main` would pass. Exit codes are written as the numbers the
//! `--help` text promises, not as the CLI's constants, so a wrong constant
//! fails here too.

#[path = "../examples/fetch/cli.rs"]
mod cli;

use std::sync::Arc;
use std::time::Duration;

use hawser_testkit::{Behaviour, ProxyServer, Reply, TestCa, TestServer, TlsVariant};

/// Runs fetch with `args` and `env`; returns (exit code, stdout, stderr).
fn fetch_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let code = cli::run(args.iter().copied(), env, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn fetch(args: &[&str]) -> (i32, String, String) {
    fetch_env(args, &[])
}

/// A loopback address nothing listens on: connects are refused.
fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}/")
}

/// Diagnostics are one line.
fn assert_one_line(err: &str) {
    assert_eq!(err.lines().count(), 1, "stderr: {err:?}");
    assert!(err.starts_with("fetch: "), "stderr: {err:?}");
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hawser-fetch-{}-{name}", std::process::id()))
}

#[test]
fn success_writes_the_body_to_stdout_and_exits_0() {
    let srv = TestServer::start(vec![(
        "/hello",
        Behaviour::Reply(Reply::text("hello, world")),
    )])
    .unwrap();
    let (code, out, err) = fetch(&[&srv.url("/hello")]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "hello, world");
    assert_eq!(err, "");
}

#[test]
fn include_prints_the_status_line_and_headers_before_the_body() {
    let srv = TestServer::start(vec![(
        "/h",
        Behaviour::Reply(Reply::text("body").header("X-Trace", "abc 123")),
    )])
    .unwrap();
    let (code, out, _) = fetch(&["-i", &srv.url("/h")]);
    assert_eq!(code, 0);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out:?}");
    assert!(out.contains("\r\nx-trace: abc 123\r\n"), "{out:?}");
    assert!(out.contains("\r\ncontent-length: 4\r\n"), "{out:?}");
    assert!(out.ends_with("\r\n\r\nbody"), "{out:?}");
}

#[test]
fn refused_connection_exits_3() {
    let (code, out, err) = fetch(&[&closed_port_url()]);
    assert_eq!(code, 3, "stderr: {err}");
    assert_eq!(out, "");
    assert_one_line(&err);
    assert!(err.contains("connect error"), "{err}");
}

#[test]
fn read_timeout_exits_4_and_names_the_phase() {
    let srv = TestServer::start(vec![(
        "/slow",
        Behaviour::StallBeforeHead(Duration::from_secs(5)),
    )])
    .unwrap();
    let (code, _, err) = fetch(&["--read-timeout", "0.2", &srv.url("/slow")]);
    assert_eq!(code, 4, "stderr: {err}");
    assert_one_line(&err);
    assert!(err.contains("waiting for the response head"), "{err}");
}

#[test]
fn deadline_during_the_body_exits_4() {
    let srv = TestServer::start(vec![(
        "/drip",
        Behaviour::Drip {
            total: 100,
            chunk: 1,
            every: Duration::from_millis(50),
        },
    )])
    .unwrap();
    let (code, out, err) = fetch(&["--deadline", "0.4", &srv.url("/drip")]);
    assert_eq!(code, 4, "stderr: {err}");
    assert!(out.len() < 100, "the body was cut: {} bytes", out.len());
    assert!(err.contains("deadline"), "{err}");
}

#[test]
fn redirect_limit_exits_7_and_zero_does_not_follow() {
    let srv = TestServer::builder()
        .route_prefix("/r/", Behaviour::RedirectChain { status: 302 })
        .start()
        .unwrap();
    let (code, _, err) = fetch(&["--max-redirects", "2", &srv.url("/r/5")]);
    assert_eq!(code, 7, "stderr: {err}");
    assert_one_line(&err);

    let (code, out, _) = fetch(&["-i", "--max-redirects", "0", &srv.url("/r/5")]);
    assert_eq!(code, 0);
    assert!(out.starts_with("HTTP/1.1 302 Found\r\n"), "{out:?}");

    let (code, out, _) = fetch(&["--max-redirects", "5", &srv.url("/r/5")]);
    assert_eq!((code, out.as_str()), (0, "done"));
}

#[test]
fn fail_exits_22_on_4xx_without_printing_the_body() {
    let srv = TestServer::start(vec![(
        "/missing",
        Behaviour::Reply(Reply::new(404).body("no such thing")),
    )])
    .unwrap();
    let (code, out, err) = fetch(&["--fail", &srv.url("/missing")]);
    assert_eq!(code, 22);
    assert_eq!(out, "");
    assert_one_line(&err);
    assert!(
        err.contains("404 Client Error: Not Found for url: "),
        "{err}"
    );

    // No output file is left behind for a failed call.
    let output = temp_path("fail-out");
    let (code, _, _) = fetch(&[
        "--fail",
        "-o",
        output.to_str().unwrap(),
        &srv.url("/missing"),
    ]);
    assert_eq!(code, 22);
    assert!(!output.exists(), "{} was created", output.display());

    // Without --fail a 404 is a successful transfer.
    let (code, out, _) = fetch(&[&srv.url("/missing")]);
    assert_eq!((code, out.as_str()), (0, "no such thing"));
}

#[test]
fn exhausted_retries_exit_8_after_the_allowed_attempts() {
    let srv = TestServer::start(vec![("/busy", Behaviour::Reply(Reply::new(503)))]).unwrap();
    let (code, _, err) = fetch(&[
        "--retries",
        "2",
        "--backoff",
        "0",
        "--retry-status",
        "503",
        &srv.url("/busy"),
    ]);
    assert_eq!(code, 8, "stderr: {err}");
    assert_one_line(&err);
    assert_eq!(srv.hits("/busy"), 3, "1 attempt + 2 retries");
}

#[test]
fn truncated_body_exits_6() {
    let srv = TestServer::start(vec![(
        "/short",
        Behaviour::ShortBody {
            declared: 100,
            sent: 10,
        },
    )])
    .unwrap();
    let (code, _, err) = fetch(&[&srv.url("/short")]);
    assert_eq!(code, 6, "stderr: {err}");
    assert_one_line(&err);
}

#[test]
fn proxy_refusing_connect_exits_9() {
    let srv = TestServer::start(vec![("/", Behaviour::Echo)]).unwrap();
    let proxy = ProxyServer::start(Some(("u", "p"))).unwrap();
    // https goes through a CONNECT tunnel; without credentials the proxy answers 407.
    let target = format!("https://{}/", srv.addr());
    let (code, _, err) = fetch(&["--proxy", &proxy.url(), &target]);
    assert_eq!(code, 9, "stderr: {err}");
    assert_one_line(&err);
    assert_eq!(proxy.records()[0].method, "CONNECT");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let srv = TestServer::start(vec![("/", Behaviour::Echo)]).unwrap();
    let url = srv.url("/");
    for args in [
        vec![],
        vec!["--frobnicate", url.as_str()],
        vec!["-X"],
        vec!["--digest", url.as_str()],
        vec!["--read-timeout", "-1", url.as_str()],
        vec!["--read-timeout", "soon", url.as_str()],
        vec!["--backoff", "1", url.as_str()],
        vec!["--retries", "2", "--retry-status", "200,abc", url.as_str()],
        vec!["-d", "a", "--json", "{}", url.as_str()],
        vec!["-H", "no colon", url.as_str()],
        vec!["-H", "Bad\u{7f}Name: v", url.as_str()],
        vec!["not a url"],
        vec![url.as_str(), url.as_str()],
        vec!["--insecure=yes", url.as_str()],
    ] {
        let (code, out, err) = fetch(&args);
        assert_eq!(code, 2, "args {args:?}, stderr: {err}");
        assert_eq!(out, "", "args {args:?}");
        assert_one_line(&err);
    }
    assert_eq!(srv.requests().len(), 0, "no usage error sent anything");
}

#[test]
fn help_lists_options_and_exit_codes() {
    let (code, out, err) = fetch(&["--help"]);
    assert_eq!((code, err.as_str()), (0, ""));
    for needle in [
        "-X, --request",
        "--retry-methods",
        "--repeat N",
        "--fail",
        "Exit codes",
        "3  connect error",
        "4  timeout",
        "7  too many redirects",
        "8  retries exhausted",
        "9  proxy error",
        "22  HTTP status",
    ] {
        assert!(out.contains(needle), "help lacks {needle:?}");
    }
}

#[test]
fn json_body_headers_and_basic_auth_reach_the_server() {
    let srv = TestServer::start(vec![("/api", Behaviour::Echo)]).unwrap();
    let (code, _, err) = fetch(&[
        "--json",
        r#"{"a":1}"#,
        "-H",
        "X-One: 1",
        "-HX-Two:2",
        "-u",
        "ann:pw",
        &srv.url("/api"),
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    let req = &srv.requests_to("/api")[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.body, br#"{"a":1}"#);
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("x-one"), Some("1"));
    assert_eq!(req.header("x-two"), Some("2"));
    assert_eq!(req.header("authorization"), Some("Basic YW5uOnB3"));
}

#[test]
fn data_from_a_file_and_output_to_a_file() {
    let srv = TestServer::start(vec![("/up", Behaviour::EchoText)]).unwrap();
    let input = temp_path("in");
    let output = temp_path("out");
    std::fs::write(&input, b"x=1&y=2").unwrap();
    let data = format!("@{}", input.display());
    let (code, out, err) = fetch(&[
        "-X",
        "PUT",
        "-d",
        &data,
        "-o",
        output.to_str().unwrap(),
        &srv.url("/up"),
    ]);
    let written = std::fs::read_to_string(&output);
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "", "the body went to the file");
    let written = written.unwrap();
    assert!(written.starts_with("PUT /up HTTP/1.1\r\n"), "{written:?}");
    assert!(
        written
            .to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded")
    );
    assert!(written.ends_with("\r\n\r\nx=1&y=2"), "{written:?}");
}

#[test]
fn repeat_reuses_one_connection_and_says_so() {
    let srv = TestServer::start(vec![("/r", Behaviour::Reply(Reply::text("ok")))]).unwrap();
    let (code, out, err) = fetch(&["--repeat", "3", &srv.url("/r")]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "okokok");
    assert!(
        err.contains("3 request(s) on one session: 1 connection(s) opened, 2 reused"),
        "{err}"
    );
    assert_eq!(srv.connections_accepted(), 1);
}

#[test]
fn verbose_prints_the_call_report_on_stderr() {
    let srv = TestServer::start(vec![(
        "/flaky",
        Behaviour::Sequence(vec![
            Behaviour::Reply(Reply::new(503)),
            Behaviour::Reply(Reply::text("ok")),
        ]),
    )])
    .unwrap();
    let url = srv.url("/flaky");
    let (code, out, err) = fetch(&["-v", "--retries", "1", "--retry-status", "503", &url]);
    assert_eq!((code, out.as_str()), (0, "ok"), "stderr: {err}");
    assert!(
        err.contains(&format!("* attempt 1 GET {url} (new connection): 503")),
        "{err}"
    );
    assert!(err.contains(&format!("* attempt 2 GET {url}")), "{err}");
    assert!(err.contains("* connections:"), "{err}");
}

#[test]
fn environment_proxy_is_used_unless_no_proxy() {
    let srv = TestServer::start(vec![("/p", Behaviour::Reply(Reply::text("via")))]).unwrap();
    let proxy = ProxyServer::start(None).unwrap();
    let env = [("HTTP_PROXY", proxy.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let (code, out, _) = fetch_env(&[&srv.url("/p")], &env);
    assert_eq!((code, out.as_str()), (0, "via"));
    assert_eq!(proxy.records().len(), 1);

    let (code, _, _) = fetch_env(&["--no-proxy", &srv.url("/p")], &env);
    assert_eq!(code, 0);
    assert_eq!(proxy.records().len(), 1, "--no-proxy went direct");
}

#[test]
fn server_sees_the_method_given_with_attached_short_value() {
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let s2 = seen.clone();
    let srv = TestServer::start(vec![(
        "/m",
        Behaviour::Custom(Arc::new(move |r| {
            if let Ok(mut g) = s2.lock() {
                *g = r.method.clone();
            }
            Reply::new(204)
        })),
    )])
    .unwrap();
    let (code, _, _) = fetch(&["-XDELETE", &srv.url("/m")]);
    assert_eq!(code, 0);
    assert_eq!(seen.lock().unwrap().as_str(), "DELETE");
}

#[test]
fn tls_needs_the_ca_exits_5_without_it_and_insecure_skips_verification() {
    let ca = Arc::new(TestCa::new().unwrap());
    let srv = TestServer::builder()
        .route("/s", Behaviour::Reply(Reply::text("secret")))
        .tls(ca.clone(), TlsVariant::Good)
        .start()
        .unwrap();
    let url = srv.url("/s");
    assert!(url.starts_with("https://"));

    let (code, out, err) = fetch(&[&url]);
    assert_eq!(code, 5, "unknown issuer; stderr: {err}");
    assert_eq!(out, "");
    assert_one_line(&err);

    let pem = temp_path("ca.pem");
    std::fs::write(&pem, ca.ca_pem()).unwrap();
    let result = fetch(&["--cacert", pem.to_str().unwrap(), &url]);
    let _ = std::fs::remove_file(&pem);
    assert_eq!(
        (result.0, result.1.as_str()),
        (0, "secret"),
        "stderr: {}",
        result.2
    );

    let (code, out, _) = fetch(&["--insecure", &url]);
    assert_eq!((code, out.as_str()), (0, "secret"));

    let (code, _, err) = fetch(&["--cacert", "/nonexistent/ca.pem", &url]);
    assert_eq!(code, 2, "unreadable --cacert is a usage error: {err}");
}

#[test]
fn verbose_prints_the_report_of_a_failed_call_too() {
    let url = closed_port_url();
    let (code, _, err) = fetch(&["-v", "--retries", "2", &url]);
    assert_eq!(code, 8, "retries exhausted: {err}");
    // Three refused attempts, each in the report, before the one-line error.
    assert!(err.contains("* attempt 1 GET"), "{err}");
    assert!(err.contains("* attempt 3 GET"), "{err}");
    assert!(err.contains("* connections: 0 opened"), "{err}");
}
