//! Basic, Digest and Bearer auth, per session and per request.
//!
//! Basic and Bearer are sent with every request. Digest (RFC 7616) answers
//! the server's `401` challenge once, then reuses the challenge for later
//! requests to the same origin, so only the first request pays the extra
//! round trip.
//!
//! Run: `cargo run -p hawser-std --example auth`

use std::sync::Arc;

use hawser_std::{Auth, Session};
use hawser_testkit::{Behaviour, DigestAlgorithm, Reply, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = TestServer::builder()
        .route(
            "/basic",
            Behaviour::BasicAuth {
                user: "alice".into(),
                pass: "wonderland".into(),
            },
        )
        .route(
            "/digest",
            Behaviour::DigestAuth {
                user: "mufasa".into(),
                pass: "Circle of Life".into(),
                algorithm: DigestAlgorithm::Sha256,
                stale_once: false,
            },
        )
        .route(
            "/bearer",
            Behaviour::Custom(Arc::new(|req| match req.header("authorization") {
                Some("Bearer s3cr3t-t0ken") => Reply::text("welcome, token holder"),
                _ => Reply::new(401).header("WWW-Authenticate", "Bearer realm=\"api\""),
            })),
        )
        .start()?;

    println!("== Basic ==");
    let anonymous = hawser_std::get(srv.url("/basic"))?;
    println!("no credentials:    {}", anonymous.status());
    let resp = Session::new()
        .get(srv.url("/basic"))
        .basic_auth("alice", "wonderland")
        .send()?;
    println!("per-request Basic: {}", resp.status());
    let wrong = Session::new()
        .get(srv.url("/basic"))
        .basic_auth("alice", "guess")
        .send()?;
    println!(
        "wrong password:    {} -> {}",
        wrong.status(),
        describe(wrong.error_for_status())
    );

    println!("\n== Digest (SHA-256, qop=auth) ==");
    let session = Session::builder()
        .digest_auth("mufasa", "Circle of Life")
        .build()?;
    for i in 1..=3 {
        let resp = session.get(srv.url("/digest")).send()?;
        let report = resp.report();
        println!(
            "request {i}: {} after {} attempt(s): {}",
            resp.status(),
            report.attempts.len(),
            report
                .attempts
                .iter()
                .map(|a| a.next.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let sent = srv.requests_to("/digest");
    if let Some(last) = sent.last() {
        let auth = last.header("authorization").unwrap_or("(none)");
        println!(
            "last Authorization sent: {}...",
            auth.chars().take(72).collect::<String>()
        );
    }
    println!(
        "(the password itself never crosses the wire; the server saw {} requests for 3 calls)",
        sent.len()
    );

    println!("\n== Bearer ==");
    let api = Session::builder()
        .auth(Auth::bearer("s3cr3t-t0ken"))
        .build()?;
    let resp = api.get(srv.url("/bearer")).send()?;
    println!("session-wide token: {} {:?}", resp.status(), resp.text()?);
    let resp = Session::new()
        .get(srv.url("/bearer"))
        .bearer_auth("expired")
        .send()?;
    println!(
        "per-request token:  {} (challenge: {})",
        resp.status(),
        resp.header("www-authenticate").unwrap_or("-")
    );
    Ok(())
}

fn describe(r: hawser_std::Result<hawser_std::Response>) -> String {
    match r {
        Ok(resp) => resp.status().to_string(),
        Err(e) => e.to_string(),
    }
}
