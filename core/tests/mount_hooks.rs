//! Per-prefix policies (`Mount`) and hooks, in the core: what the
//! conformance suite cannot reach through a backend (a mount's pool limit
//! under `WhenFull::Error`, how mounts are checked, a hook's refusals, how a
//! request's timeouts layer over its mount's).

mod call_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use call_support::*;
use hawser_core::call::{Agent, CallOptions, Config, Hooks, Mount};
use hawser_core::client::{Backend, RequestBuilder, SessionBuilder};
use hawser_core::deadline::Timeouts;
use hawser_core::pool::{PoolConfig, WhenFull};
use hawser_core::request::Request;
use hawser_core::{ErrorKind, Result};

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn strict_pool(n: usize) -> PoolConfig {
    PoolConfig {
        max_active_per_host: n,
        when_full: WhenFull::Error,
        ..PoolConfig::default()
    }
}

#[test]
fn a_mount_pool_limit_applies_to_its_urls_only() {
    let mut cfg = Config::default();
    cfg.mounts
        .push(Mount::new("http://h.test/m/").pool(strict_pool(1)));
    let mut s = Scenario::new(cfg);
    s.hold_slot("http://h.test/m/held");
    let full = s.run(get("http://h.test/m/other"));
    assert_eq!(full.err().kind(), ErrorKind::PoolFull, "{:?}", full.error);
    // The session's own pool (default limits) is not the mount's.
    s.answer(Answer::reply(OK));
    assert_eq!(s.run(get("http://h.test/a")).status(), 200);
    s.release_slot();
    s.answer(Answer::reply(OK));
    assert_eq!(s.run(get("http://h.test/m/other")).status(), 200);
}

#[test]
fn mounts_are_checked_when_the_agent_is_made() {
    let mut empty = Config::default();
    empty.mounts.push(Mount::new(""));
    let e = Agent::<()>::new(empty).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);

    let mut bad_pool = Config::default();
    bad_pool.mounts.push(Mount::new("http://").pool(PoolConfig {
        max_active_per_host: 0,
        ..PoolConfig::default()
    }));
    assert!(Agent::<()>::new(bad_pool).is_err());

    let mut bad_timeout = Config::default();
    bad_timeout
        .mounts
        .push(Mount::new("http://").read_timeout(Duration::ZERO));
    assert!(Agent::<()>::new(bad_timeout).is_err());
}

#[test]
fn mounting_a_prefix_again_replaces_it() {
    let mut cfg = Config::default();
    cfg.mounts
        .push(Mount::new("http://h.test/").read_timeout(Duration::from_secs(1)));
    cfg.mounts
        .push(Mount::new("HTTP://H.TEST/").read_timeout(Duration::from_secs(7)));
    let agent = Agent::<()>::new(cfg).unwrap();
    let url = "http://h.test/x".parse().unwrap();
    assert_eq!(agent.timeouts_for(&url).read(), Duration::from_secs(7));
}

/// A backend that only reports the options a request would run with.
#[derive(Clone)]
struct Options(Agent<()>);

impl Backend for Options {
    type Transport = ();
    type BodySource = Vec<u8>;
    type Send = Result<CallOptions>;
    fn from_agent(agent: Agent<()>) -> Result<Self> {
        Ok(Options(agent))
    }
    fn agent(&self) -> &Agent<()> {
        &self.0
    }
    fn execute(
        &self,
        req: Result<(Request, CallOptions)>,
        _body: Option<Vec<u8>>,
    ) -> Result<CallOptions> {
        req.map(|(_, o)| o)
    }
}

#[test]
fn a_request_timeout_layers_over_its_mounts() {
    let session: Options = SessionBuilder::new()
        .read_timeout(Duration::from_secs(30))
        .mount(
            Mount::new("http://slow.test/")
                .deadline(Duration::from_secs(600))
                .read_timeout(Duration::from_secs(120)),
        )
        .build()
        .unwrap();
    let opts = RequestBuilder::new(session.clone(), http::Method::GET, "http://slow.test/x")
        .connect_timeout(Duration::from_secs(2))
        .send()
        .unwrap();
    let t = opts.timeouts.expect("the request set a timeout");
    assert_eq!(t.connect(), Duration::from_secs(2), "the request's");
    assert_eq!(t.read(), Duration::from_secs(120), "the mount's");
    assert_eq!(t.deadline(), Duration::from_secs(600), "the mount's");
    // Outside the mount: over the session's.
    let opts = RequestBuilder::new(session.clone(), http::Method::GET, "http://other.test/")
        .connect_timeout(Duration::from_secs(2))
        .send()
        .unwrap();
    let t = opts.timeouts.unwrap();
    assert_eq!(t.read(), Duration::from_secs(30));
    assert_eq!(t.deadline(), Timeouts::default().deadline());
    // An invalid one is still an error, at send.
    let e = RequestBuilder::new(session, http::Method::GET, "http://slow.test/")
        .read_timeout(Duration::ZERO)
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn a_hook_adds_headers_but_cannot_touch_what_the_core_decides() {
    let results = Arc::new(Mutex::new(Vec::new()));
    let r = Arc::clone(&results);
    let mut cfg = Config::default();
    cfg.hooks = Hooks::new().on_request(move |req| {
        let mut r = r.lock().unwrap();
        for (name, value) in [
            ("host", "evil.test"),
            ("content-length", "0"),
            ("transfer-encoding", "chunked"),
            ("connection", "close"),
            ("user-agent", "hook"),
            ("x-bad", "a\r\nb"),
            ("x-added", "yes"),
        ] {
            r.push((name, req.add_header(name, value).is_ok()));
        }
    });
    let mut s = Scenario::new(cfg);
    s.answer(Answer::reply(OK));
    let out = s.run(
        Request::post("http://h.test/p")
            .body(&b"data"[..])
            .build()
            .unwrap(),
    );
    assert_eq!(out.status(), 200);
    let refused: Vec<_> = results.lock().unwrap().clone();
    assert_eq!(
        refused,
        vec![
            ("host", false),
            ("content-length", false),
            ("transfer-encoding", false),
            ("connection", false),
            ("user-agent", false),
            ("x-bad", false),
            ("x-added", true),
        ]
    );
    let got = &s.server.received[0];
    assert_eq!(got.header("host"), Some("h.test"));
    assert_eq!(got.header("content-length"), Some("4"));
    assert_eq!(got.header("connection"), None);
    assert!(got.header("user-agent").unwrap().starts_with("hawser/"));
    assert_eq!(got.header("x-added"), Some("yes"));
}

#[test]
fn a_response_hook_sees_a_challenge_and_the_answer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let mut cfg = Config::default();
    cfg.auth = Some(hawser_core::auth::Auth::digest("u", "p"));
    cfg.hooks = Hooks::new().on_response(move |resp| {
        log.lock().unwrap().push((
            resp.attempt(),
            resp.status().as_u16(),
            resp.reused_connection(),
        ));
    });
    let mut s = Scenario::new(cfg);
    s.answer(Answer::reply(
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n",
    ))
    .answer(Answer::reply(OK));
    assert_eq!(s.run(get("http://h.test/d")).status(), 200);
    assert_eq!(*seen.lock().unwrap(), vec![(1, 401, false), (2, 200, true)]);
}
