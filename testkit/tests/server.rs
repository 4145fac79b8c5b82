//! Self-tests of the loopback server with plain std TcpStream clients.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hawser_testkit::{
    digest_authorization, pattern, read_response, Behaviour, DigestAlgorithm, Reply, TestServer,
};

type Resp = (u16, Vec<(String, String)>, Vec<u8>);

fn connect(srv: &TestServer) -> TcpStream {
    let s = TcpStream::connect(srv.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s
}

fn get_on(s: &mut TcpStream, path: &str, extra: &str) -> std::io::Result<Resp> {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n").as_bytes())?;
    read_response(s)
}

fn get(srv: &TestServer, path: &str, extra: &str) -> std::io::Result<Resp> {
    let mut s = connect(srv);
    get_on(&mut s, path, &format!("Connection: close\r\n{extra}"))
}

fn header<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.1.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn raw_all(srv: &TestServer, path: &str) -> Vec<u8> {
    let mut s = connect(srv);
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn server(routes: Vec<(&str, Behaviour)>) -> TestServer {
    TestServer::start(routes).expect("server starts")
}

#[test]
fn echo_json_reports_method_target_headers_and_body() {
    let srv = server(vec![("/echo", Behaviour::Echo)]);
    let mut s = connect(&srv);
    s.write_all(
        b"POST /echo?q=1 HTTP/1.1\r\nHost: t\r\nX-Test: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .expect("write");
    let r = read_response(&mut s).expect("response");
    assert_eq!(r.0, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.2).expect("json");
    assert_eq!(v["method"], "POST");
    assert_eq!(v["target"], "/echo?q=1");
    assert_eq!(v["path"], "/echo");
    assert_eq!(v["body"], "hello");
    assert!(v["headers"]
        .as_array()
        .expect("array")
        .iter()
        .any(|h| h[0] == "X-Test" && h[1] == "yes"));
    let rec = &srv.requests_to("/echo")[0];
    assert_eq!(rec.body, b"hello");
    assert_eq!(rec.header("x-test"), Some("yes"));
}

#[test]
fn echo_text_decodes_a_chunked_request_body() {
    let srv = server(vec![("/t", Behaviour::EchoText)]);
    let mut s = connect(&srv);
    s.write_all(
        b"PUT /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n",
    )
    .expect("write");
    let r = read_response(&mut s).expect("response");
    let text = String::from_utf8(r.2).expect("utf8");
    assert!(text.starts_with("PUT /t HTTP/1.1\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nabcde"), "{text}");
}

#[test]
fn fixed_reply_counts_hits_per_id_and_404s_unknown_paths() {
    let srv = TestServer::builder()
        .route(
            "/fixed",
            Behaviour::Reply(Reply::new(201).header("X-A", "b").body("made")),
        )
        .route_prefix("/count/", Behaviour::Echo)
        .start()
        .expect("start");
    let r = get(&srv, "/fixed", "").expect("fixed");
    assert_eq!(
        (r.0, header(&r, "x-a"), r.2.as_slice()),
        (201, Some("b"), &b"made"[..])
    );
    for id in ["a", "a", "b"] {
        assert_eq!(
            get(&srv, &format!("/count/{id}"), "").expect("count").0,
            200
        );
    }
    assert_eq!(srv.hits("/count/a"), 2);
    assert_eq!(srv.hits("/count/b"), 1);
    assert_eq!(get(&srv, "/nope", "").expect("404").0, 404);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let srv = server(vec![("/k", Behaviour::Echo)]);
    let mut s = connect(&srv);
    for _ in 0..3 {
        assert_eq!(get_on(&mut s, "/k", "").expect("resp").0, 200);
    }
    let recs = srv.requests();
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| r.connection == recs[0].connection));
    assert_eq!(
        recs.iter()
            .map(|r| r.index_on_connection)
            .collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(srv.connections_accepted(), 1);
}

#[test]
fn close_after_head_sends_no_body() {
    let srv = server(vec![(
        "/c",
        Behaviour::CloseAfterHead { content_length: 10 },
    )]);
    let raw = raw_all(&srv, "/c");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("Content-Length: 10\r\n\r\n"), "{text}");
    let err = get(&srv, "/c", "").expect_err("body missing");
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn truncated_chunked_and_short_bodies_end_early() {
    let srv = server(vec![
        (
            "/tc",
            Behaviour::TruncatedChunked {
                chunks: vec![b"abc".to_vec()],
            },
        ),
        (
            "/sb",
            Behaviour::ShortBody {
                declared: 100,
                sent: 10,
            },
        ),
    ]);
    let raw = raw_all(&srv, "/tc");
    assert!(
        raw.ends_with(b"\r\n\r\n3\r\nabc\r\n"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(
        get(&srv, "/tc", "").expect_err("truncated").kind(),
        ErrorKind::UnexpectedEof
    );
    let raw = raw_all(&srv, "/sb");
    assert!(raw.ends_with(&[b"\r\n\r\n".as_slice(), &pattern(10)].concat()));
    assert_eq!(
        get(&srv, "/sb", "").expect_err("short").kind(),
        ErrorKind::UnexpectedEof
    );
}

#[test]
fn drip_sends_pieces_at_the_given_pace() {
    let every = Duration::from_millis(40);
    let srv = server(vec![(
        "/d",
        Behaviour::Drip {
            total: 12,
            chunk: 3,
            every,
        },
    )]);
    let start = Instant::now();
    let r = get(&srv, "/d", "").expect("drip");
    assert_eq!(r.2, pattern(12));
    assert!(start.elapsed() >= every * 4, "{:?}", start.elapsed());
}

#[test]
fn stall_before_head_delays_the_first_byte() {
    let srv = server(vec![(
        "/s",
        Behaviour::StallBeforeHead(Duration::from_millis(300)),
    )]);
    let mut s = connect(&srv);
    s.write_all(b"GET /s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("write");
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("t");
    let mut b = [0u8; 1];
    let e = s.read(&mut b).expect_err("nothing yet");
    assert!(matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    let r = read_response(&mut s).expect("late response");
    assert_eq!(r.2, b"late");
}

#[test]
fn stall_after_head_delays_the_body() {
    let srv = server(vec![(
        "/s",
        Behaviour::StallAfterHead(Duration::from_millis(300)),
    )]);
    let mut s = connect(&srv);
    s.write_all(b"GET /s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("write");
    let start = Instant::now();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).expect("head");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    assert!(!buf[..n].ends_with(b"late"));
    assert!(start.elapsed() < Duration::from_millis(250));
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("body");
    assert_eq!(rest, b"late");
    assert!(start.elapsed() >= Duration::from_millis(280));
}

#[test]
fn reset_before_and_after_request_give_connection_reset() {
    let srv = server(vec![
        ("/rb", Behaviour::ResetBeforeRequest),
        ("/ra", Behaviour::ResetAfterRequest),
    ]);
    for path in ["/rb", "/ra"] {
        let mut s = connect(&srv);
        s.write_all(
            format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc").as_bytes(),
        )
        .expect("write");
        let mut b = [0u8; 16];
        let e = s.read(&mut b).expect_err("reset");
        assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{path}");
    }
    let rb = &srv.requests_to("/rb")[0];
    assert!(rb.reset);
    assert!(rb.body.is_empty());
    let ra = &srv.requests_to("/ra")[0];
    assert!(!ra.reset);
    assert_eq!(ra.body, b"abc");
}

#[test]
fn close_idle_closes_a_keep_alive_connection_after_the_idle_time() {
    for hint in [None, Some(1)] {
        let srv = server(vec![(
            "/i",
            Behaviour::CloseIdle {
                idle: Duration::from_millis(100),
                hint,
            },
        )]);
        let mut s = connect(&srv);
        let r = get_on(&mut s, "/i", "").expect("first");
        assert_eq!(header(&r, "connection"), Some("keep-alive"));
        assert_eq!(header(&r, "keep-alive"), hint.map(|_| "timeout=1"));
        std::thread::sleep(Duration::from_millis(250));
        // The pooled connection is stale now: the server has closed it.
        let mut b = [0u8; 1];
        assert_eq!(s.read(&mut b).expect("eof"), 0);
        assert_eq!(srv.connections_accepted(), 1);
    }
}

#[test]
fn close_idle_keeps_serving_while_requests_come_in_time() {
    let srv = server(vec![(
        "/i",
        Behaviour::CloseIdle {
            idle: Duration::from_millis(500),
            hint: None,
        },
    )]);
    let mut s = connect(&srv);
    for _ in 0..3 {
        assert_eq!(get_on(&mut s, "/i", "").expect("resp").0, 200);
    }
    assert_eq!(srv.connections_accepted(), 1);
}

#[test]
fn huge_head_malformed_status_and_cl_with_te() {
    let srv = server(vec![
        ("/h", Behaviour::HugeHead { bytes: 70 * 1024 }),
        ("/m", Behaviour::MalformedStatusLine),
        ("/b", Behaviour::ContentLengthAndChunked),
    ]);
    let raw = raw_all(&srv, "/h");
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head end");
    assert!(head_end > 64 * 1024, "{head_end}");
    assert!(raw.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(raw_all(&srv, "/m").starts_with(b"HTTP/1.1 2x0 OK\r\n"));
    let both = String::from_utf8(raw_all(&srv, "/b")).expect("utf8");
    assert!(
        both.contains("Content-Length: 3\r\n") && both.contains("Transfer-Encoding: chunked\r\n")
    );
}

#[test]
fn redirects_resolve_placeholders_and_chain_down_to_zero() {
    let srv = TestServer::builder()
        .route(
            "/r",
            Behaviour::Redirect {
                status: 307,
                location: "{localhost}/x".into(),
            },
        )
        .route(
            "/loop",
            Behaviour::Redirect {
                status: 302,
                location: "/loop".into(),
            },
        )
        .route_prefix("/chain/", Behaviour::RedirectChain { status: 301 })
        .start()
        .expect("start");
    let r = get(&srv, "/r", "").expect("r");
    assert_eq!(r.0, 307);
    assert_eq!(
        header(&r, "location"),
        Some(srv.url_localhost("/x").as_str())
    );
    let l = get(&srv, "/loop", "").expect("loop");
    assert_eq!((l.0, header(&l, "location")), (302, Some("/loop")));
    let c = get(&srv, "/chain/3", "").expect("chain");
    assert_eq!((c.0, header(&c, "location")), (301, Some("/chain/2")));
    let z = get(&srv, "/chain/0", "").expect("end");
    assert_eq!((z.0, z.2.as_slice()), (200, &b"done"[..]));
}

#[test]
fn sequence_scripts_503_then_200_and_reset_then_200() {
    let srv = server(vec![
        (
            "/flaky",
            Behaviour::Sequence(vec![
                Behaviour::Reply(Reply::new(503).header("Retry-After", "1")),
                Behaviour::Reply(Reply::new(503).header("Retry-After", "1")),
                Behaviour::Reply(Reply::text("ok")),
            ]),
        ),
        (
            "/rs",
            Behaviour::Sequence(vec![
                Behaviour::ResetBeforeRequest,
                Behaviour::Reply(Reply::text("ok")),
            ]),
        ),
    ]);
    let statuses: Vec<u16> = (0..4)
        .map(|_| get(&srv, "/flaky", "").expect("r").0)
        .collect();
    assert_eq!(statuses, vec![503, 503, 200, 200]);
    assert!(get(&srv, "/rs", "").is_err());
    assert_eq!(get(&srv, "/rs", "").expect("second").0, 200);
}

#[test]
fn basic_auth_challenges_then_accepts() {
    let srv = server(vec![(
        "/b",
        Behaviour::BasicAuth {
            user: "u".into(),
            pass: "p".into(),
        },
    )]);
    let r = get(&srv, "/b", "").expect("challenge");
    assert_eq!(r.0, 401);
    assert_eq!(
        header(&r, "www-authenticate"),
        Some("Basic realm=\"testkit\"")
    );
    assert_eq!(
        get(&srv, "/b", "Authorization: Basic dTp4\r\n")
            .expect("bad")
            .0,
        401
    );
    assert_eq!(
        get(&srv, "/b", "Authorization: Basic dTpw\r\n")
            .expect("ok")
            .0,
        200
    );
}

fn challenge_param(r: &Resp, key: &str) -> String {
    let h = header(r, "www-authenticate").expect("challenge");
    let start = h.find(&format!("{key}=\"")).expect("param") + key.len() + 2;
    h[start..].split('"').next().expect("value").to_string()
}

#[test]
fn digest_auth_verifies_hash_and_nonce_count_for_md5_and_sha256() {
    for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
        let srv = server(vec![(
            "/d",
            Behaviour::DigestAuth {
                user: "u".into(),
                pass: "p".into(),
                algorithm: alg,
                stale_once: false,
            },
        )]);
        let r = get(&srv, "/d", "").expect("challenge");
        assert_eq!(r.0, 401);
        assert!(header(&r, "www-authenticate")
            .expect("h")
            .contains(&format!("algorithm={}", alg.token())));
        let realm = challenge_param(&r, "realm");
        let nonce = challenge_param(&r, "nonce");
        let auth = |nc, pass: &str| {
            format!(
                "Authorization: {}\r\n",
                digest_authorization("u", pass, &realm, &nonce, "GET", "/d", nc, "cn", alg)
            )
        };
        assert_eq!(get(&srv, "/d", &auth(1, "wrong")).expect("bad").0, 401);
        assert_eq!(get(&srv, "/d", &auth(1, "p")).expect("ok").0, 200);
        // The same nc again is a replay.
        assert_eq!(get(&srv, "/d", &auth(1, "p")).expect("replay").0, 401);
        assert_eq!(get(&srv, "/d", &auth(2, "p")).expect("next nc").0, 200);
    }
}

#[test]
fn digest_auth_can_issue_stale_once() {
    let alg = DigestAlgorithm::Md5;
    let srv = server(vec![(
        "/d",
        Behaviour::DigestAuth {
            user: "u".into(),
            pass: "p".into(),
            algorithm: alg,
            stale_once: true,
        },
    )]);
    let r = get(&srv, "/d", "").expect("challenge");
    let (realm, nonce) = (challenge_param(&r, "realm"), challenge_param(&r, "nonce"));
    let a = digest_authorization("u", "p", &realm, &nonce, "GET", "/d", 1, "c", alg);
    let stale = get(&srv, "/d", &format!("Authorization: {a}\r\n")).expect("stale");
    assert_eq!(stale.0, 401);
    assert!(header(&stale, "www-authenticate")
        .expect("h")
        .contains("stale=true"));
    let nonce2 = challenge_param(&stale, "nonce");
    assert_ne!(nonce, nonce2);
    let a2 = digest_authorization("u", "p", &realm, &nonce2, "GET", "/d", 1, "c", alg);
    assert_eq!(
        get(&srv, "/d", &format!("Authorization: {a2}\r\n"))
            .expect("ok")
            .0,
        200
    );
}

#[test]
fn cookies_are_set_and_echoed() {
    let srv = server(vec![(
        "/c",
        Behaviour::Cookies(vec!["a=1; Path=/".into(), "b=2".into()]),
    )]);
    let r = get(&srv, "/c", "Cookie: x=9\r\n").expect("c");
    let set: Vec<&str> =
        r.1.iter()
            .filter(|(n, _)| n == "Set-Cookie")
            .map(|(_, v)| v.as_str())
            .collect();
    assert_eq!(set, vec!["a=1; Path=/", "b=2"]);
    assert_eq!(r.2, b"x=9");
}

#[test]
fn expect_continue_is_honoured_or_rejected() {
    let srv = server(vec![
        ("/ok", Behaviour::Expect100 { reject: None }),
        ("/no", Behaviour::Expect100 { reject: Some(417) }),
    ]);
    let mut s = connect(&srv);
    s.write_all(b"POST /ok HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n")
        .expect("head");
    let mut buf = [0u8; 25];
    s.read_exact(&mut buf).expect("100");
    assert_eq!(&buf, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"data").expect("body");
    let r = read_response(&mut s).expect("final");
    assert_eq!(r.0, 200);
    assert_eq!(srv.requests_to("/ok")[0].body, b"data");

    let mut s = connect(&srv);
    s.write_all(
        b"POST /no HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    )
    .expect("head");
    let r = read_response(&mut s).expect("final");
    assert_eq!(r.0, 417);
    assert!(srv.requests_to("/no")[0].body.is_empty());
}

#[test]
fn gzip_only_when_accepted() {
    let body = b"hello hello hello hello".to_vec();
    let srv = server(vec![("/g", Behaviour::Gzip(body.clone()))]);
    let r = get(&srv, "/g", "Accept-Encoding: gzip, deflate\r\n").expect("gz");
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(r.2.as_slice())
        .read_to_end(&mut out)
        .expect("gunzip");
    assert_eq!(out, body);
    let p = get(&srv, "/g", "").expect("plain");
    assert_eq!(header(&p, "content-encoding"), None);
    assert_eq!(p.2, body);
}

#[test]
fn stream_large_bodies_with_length_and_chunked() {
    let len = 3 * 1024 * 1024 + 17;
    let srv = server(vec![
        (
            "/cl",
            Behaviour::Stream {
                len: len as u64,
                chunked: false,
            },
        ),
        (
            "/ch",
            Behaviour::Stream {
                len: len as u64,
                chunked: true,
            },
        ),
    ]);
    let a = get(&srv, "/cl", "").expect("cl");
    assert_eq!(header(&a, "content-length"), Some(len.to_string().as_str()));
    assert!(a.2 == pattern(len));
    let b = get(&srv, "/ch", "").expect("chunked");
    assert_eq!(header(&b, "transfer-encoding"), Some("chunked"));
    assert!(b.2 == pattern(len));
}

#[test]
fn localhost_and_ipv6_reach_the_same_server() {
    let srv = server(vec![("/e", Behaviour::Echo)]);
    let url = srv.url_localhost("/e");
    let port = srv.addr().port();
    assert_eq!(url, format!("http://localhost:{port}/e"));
    let mut s = TcpStream::connect(("localhost", port)).expect("localhost connects");
    assert_eq!(
        get_on(&mut s, "/e", "Connection: close\r\n").expect("r").0,
        200
    );
    if let Some(a6) = srv.addr_v6() {
        assert_eq!(a6.port(), port);
        let mut s = TcpStream::connect(a6).expect("v6");
        assert_eq!(
            get_on(&mut s, "/e", "Connection: close\r\n").expect("r").0,
            200
        );
    }
}

#[test]
fn request_head_over_the_limit_gets_400() {
    let srv = server(vec![("/e", Behaviour::Echo)]);
    let mut s = connect(&srv);
    let big = format!(
        "GET /e HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let _ = s.write_all(big.as_bytes());
    let r = read_response(&mut s).expect("answer");
    assert_eq!(r.0, 400);
}

#[test]
fn dropping_the_server_ends_stalled_connections_quickly() {
    let srv = server(vec![(
        "/s",
        Behaviour::StallBeforeHead(Duration::from_secs(30)),
    )]);
    let mut s = connect(&srv);
    s.write_all(b"GET /s HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("write");
    // Let the worker reach its stall.
    while srv.hits("/s") == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    drop(srv);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let mut b = [0u8; 1];
    assert!(matches!(s.read(&mut b), Ok(0) | Err(_)));
}

#[test]
fn hostile_chunk_sizes_get_400_not_a_panic() {
    let srv = server(vec![("/e", Behaviour::Echo)]);
    let mut s = connect(&srv);
    s.write_all(
        b"POST /e HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
    )
    .expect("write");
    assert_eq!(read_response(&mut s).expect("answer").0, 400);
    // The server is still healthy.
    assert_eq!(get(&srv, "/e", "").expect("after").0, 200);
}

#[test]
fn read_response_rejects_hostile_chunk_sizes() {
    let raw =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc".to_vec();
    let err = read_response(&mut raw.as_slice()).expect_err("hostile");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
}

#[test]
fn behaviours_debug_by_name() {
    let seq = Behaviour::Sequence(vec![Behaviour::ResetBeforeRequest, Behaviour::Echo]);
    assert_eq!(format!("{seq:?}"), "Sequence([ResetBeforeRequest, Echo])");
    assert_eq!(
        format!("{:?}", Behaviour::Reply(Reply::new(503))),
        "Reply(503)"
    );
    assert_eq!(
        Behaviour::Drip {
            total: 1,
            chunk: 1,
            every: Duration::ZERO
        }
        .name(),
        "Drip"
    );
}

const FAKE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nSet-Cookie: injected=1\r\n\r\ninjected";

#[test]
fn inject_writes_unsolicited_bytes_on_an_idle_connection_and_keeps_serving() {
    let srv = server(vec![
        (
            "/i",
            Behaviour::Inject {
                body: b"first".to_vec(),
                after: Duration::from_millis(50),
                bytes: FAKE.to_vec(),
            },
        ),
        ("/e", Behaviour::Echo),
    ]);
    let mut s = connect(&srv);
    let t = Instant::now();
    let r = get_on(&mut s, "/i", "").expect("genuine response");
    assert_eq!(r.0, 200);
    assert_eq!(r.2, b"first");
    assert_eq!(header(&r, "content-length"), Some("5"));
    assert_eq!(header(&r, "connection"), None, "a keep-alive response");
    // Nothing was asked for, yet the fake response arrives after the idle time.
    let mut unsolicited = vec![0u8; FAKE.len()];
    s.read_exact(&mut unsolicited).expect("unsolicited bytes");
    assert_eq!(unsolicited, FAKE);
    assert!(
        t.elapsed() >= Duration::from_millis(45),
        "{:?}",
        t.elapsed()
    );
    // The connection keeps serving requests normally.
    let r = get_on(&mut s, "/e", "").expect("after the injection");
    assert_eq!(r.0, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.2).expect("json");
    assert_eq!(v["target"], "/e");
    assert_eq!(srv.connections_accepted(), 1);
    let recs = srv.requests();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].connection, recs[1].connection);
}

#[test]
fn inject_is_skipped_when_the_next_request_comes_in_time() {
    let srv = server(vec![
        (
            "/i",
            Behaviour::Inject {
                body: b"first".to_vec(),
                after: Duration::from_millis(300),
                bytes: FAKE.to_vec(),
            },
        ),
        ("/e", Behaviour::Echo),
    ]);
    let mut s = connect(&srv);
    assert_eq!(get_on(&mut s, "/i", "").expect("first").2, b"first");
    let r = get_on(&mut s, "/e", "").expect("next request in time");
    let v: serde_json::Value = serde_json::from_slice(&r.2).expect("the genuine echo");
    assert_eq!(v["target"], "/e");
    // After the echo nothing more is injected.
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut b = [0u8; 1];
    let quiet = s.read(&mut b);
    assert!(
        matches!(&quiet, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{quiet:?}"
    );
    // A client that asks to close gets no injection either.
    let r = get(&srv, "/i", "").expect("close requested");
    assert_eq!(header(&r, "connection"), Some("close"));
    assert_eq!(r.2, b"first");
}

#[test]
fn raw_keep_alive_writes_bytes_verbatim_and_keeps_the_connection() {
    let stray: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let srv = server(vec![
        ("/raw", Behaviour::RawKeepAlive(stray.to_vec())),
        ("/e", Behaviour::Echo),
    ]);
    let mut s = connect(&srv);
    // Even for HEAD the bytes go out as given, body and all.
    s.write_all(b"HEAD /raw HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("write");
    let mut got = vec![0u8; stray.len()];
    s.read_exact(&mut got).expect("verbatim bytes");
    assert_eq!(got, stray);
    let r = get_on(&mut s, "/e", "").expect("the connection stays open");
    let v: serde_json::Value = serde_json::from_slice(&r.2).expect("json");
    assert_eq!(v["target"], "/e");
    assert_eq!(srv.connections_accepted(), 1);
    assert_eq!(Behaviour::RawKeepAlive(Vec::new()).name(), "RawKeepAlive");
    assert_eq!(
        Behaviour::Inject {
            body: Vec::new(),
            after: Duration::ZERO,
            bytes: Vec::new()
        }
        .name(),
        "Inject"
    );
}

/// Reads a response head from `s`; returns it and the body bytes read with it.
fn read_head_raw(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).into_owned();
            return (head, buf[i + 4..].to_vec());
        }
        let n = s.read(&mut tmp).expect("head");
        assert!(n > 0, "closed in the head");
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// Decodes the complete chunks at the front of `raw` (a chunked body that
/// may be cut anywhere), leaving the rest in `raw`; true once the
/// terminating zero-size chunk was seen.
fn take_chunks(raw: &mut Vec<u8>, body: &mut Vec<u8>) -> bool {
    loop {
        let Some(i) = raw.windows(2).position(|w| w == b"\r\n") else {
            return false;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..i]).expect("size"), 16).expect("hex");
        if size == 0 {
            return true;
        }
        if raw.len() < i + 2 + size + 2 {
            return false;
        }
        body.extend_from_slice(&raw[i + 2..i + 2 + size]);
        assert_eq!(&raw[i + 2 + size..i + 4 + size], b"\r\n", "chunk end");
        raw.drain(..i + 4 + size);
    }
}

#[test]
fn endless_body_keeps_coming_until_the_client_goes_and_counts_bytes() {
    let srv = server(vec![("/endless", Behaviour::Endless)]);
    let mut s = connect(&srv);
    s.write_all(b"GET /endless HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("write");
    let (head, mut raw) = read_head_raw(&mut s);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked"));
    let want = 3 * 1024 * 1024;
    let mut body = Vec::new();
    let mut tmp = vec![0u8; 64 * 1024];
    while body.len() < want {
        let n = s.read(&mut tmp).expect("body");
        assert!(n > 0, "the endless body ended after {} bytes", body.len());
        raw.extend_from_slice(&tmp[..n]);
        assert!(!take_chunks(&mut raw, &mut body), "a terminating chunk");
    }
    assert!(body == pattern(body.len()), "not the pattern");
    let before = srv.bytes_written("/endless");
    assert!(before >= body.len() as u64, "{before} < {}", body.len());
    assert_eq!(srv.open_connections(), 1);
    drop(s);
    // The server's writes fail once the client has gone; it stops.
    let t = Instant::now();
    while srv.open_connections() > 0 && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(srv.open_connections(), 0, "the server kept writing");
    let after = srv.bytes_written("/endless");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(srv.bytes_written("/endless"), after, "still counting");
    assert!(
        after < before + 16 * 1024 * 1024,
        "{after} bytes written (the client read {})",
        body.len()
    );
    assert_eq!(srv.bytes_written("/other"), 0);
    assert_eq!(Behaviour::Endless.name(), "Endless");
}

#[test]
fn gzip_bomb_decodes_to_zeros_and_is_small_on_the_wire() {
    let decoded = 8 * 1024 * 1024u64;
    let srv = server(vec![("/bomb", Behaviour::GzipBomb { decoded })]);
    let r = get(&srv, "/bomb", "Accept-Encoding: gzip\r\n").expect("bomb");
    assert_eq!(r.0, 200);
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    assert_eq!(header(&r, "transfer-encoding"), Some("chunked"));
    assert!(
        (r.2.len() as u64) < decoded / 200,
        "{} compressed bytes for {decoded}",
        r.2.len()
    );
    assert_eq!(srv.bytes_written("/bomb"), r.2.len() as u64);
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(r.2.as_slice())
        .read_to_end(&mut out)
        .expect("gunzip");
    assert_eq!(out.len() as u64, decoded);
    assert!(out.iter().all(|b| *b == 0));
    // Without gzip: the zeros themselves.
    let p = get(&srv, "/bomb", "").expect("plain");
    assert_eq!(header(&p, "content-encoding"), None);
    assert_eq!(p.2.len() as u64, decoded);
    assert!(p.2.iter().all(|b| *b == 0));
    assert_eq!(
        srv.bytes_written("/bomb"),
        r.2.len() as u64 + decoded,
        "both bodies counted"
    );
    assert_eq!(Behaviour::GzipBomb { decoded: 1 }.name(), "GzipBomb");
    assert_eq!(
        format!("{:?}", Behaviour::GzipBomb { decoded: 1 }),
        "GzipBomb"
    );
}

#[test]
fn gzip_bomb_of_64_mib_is_served_quickly_on_keep_alive() {
    let decoded = 64 * 1024 * 1024u64;
    let srv = server(vec![
        ("/bomb", Behaviour::GzipBomb { decoded }),
        ("/e", Behaviour::Echo),
    ]);
    let mut s = connect(&srv);
    let t = Instant::now();
    let r = get_on(&mut s, "/bomb", "Accept-Encoding: gzip\r\n").expect("bomb");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(r.0, 200);
    let mut d = flate2::read::GzDecoder::new(r.2.as_slice());
    let n = std::io::copy(&mut d, &mut std::io::sink()).expect("gunzip");
    assert_eq!(n, decoded);
    // The connection is kept for the next request.
    assert_eq!(get_on(&mut s, "/e", "").expect("after").0, 200);
    assert_eq!(srv.connections_accepted(), 1);
}

#[test]
fn stream_counts_bytes_written() {
    let srv = server(vec![(
        "/s",
        Behaviour::Stream {
            len: 100_000,
            chunked: true,
        },
    )]);
    get(&srv, "/s", "").expect("stream");
    assert_eq!(srv.bytes_written("/s"), 100_000);
}
