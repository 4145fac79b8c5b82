//! A custom auth scheme (requests' `AuthBase`): sign every request with an
//! HMAC-SHA256 over method, path and a timestamp.
//!
//! The hook runs before each attempt, re-sends and retries included, so
//! every request carries a fresh signature. The server checks it with the
//! shared secret.
//!
//! Run: `cargo run -p hawser-std --example custom_auth`

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hawser_core::auth::{AuthError, AuthHook, AuthTarget, OutgoingRequest};
use hawser_std::{Auth, Session};
use hawser_testkit::{Behaviour, Reply, TestServer};
use hmac::{Hmac, Mac};
use http::HeaderValue;
use sha2::Sha256;

const KEY_ID: &str = "key-2024";
const SECRET: &[u8] = b"correct horse battery staple";

/// The string both sides sign: method, path with query, timestamp.
fn string_to_sign(method: &str, path: &str, timestamp: &str) -> String {
    format!("{method}\n{path}\n{timestamp}")
}

fn sign(secret: &[u8], data: &str) -> String {
    // new_from_slice only fails for key lengths a MAC cannot take; HMAC takes any.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(data.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Adds `X-Signature: keyId=..,ts=..,sig=..` to each outgoing request.
struct HmacSigner {
    key_id: String,
    secret: Vec<u8>,
}

impl AuthHook for HmacSigner {
    fn apply(&self, _target: AuthTarget, req: &mut OutgoingRequest<'_>) -> Result<(), AuthError> {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .to_string();
        let path = req.target_uri().to_string();
        let sig = sign(
            &self.secret,
            &string_to_sign(req.method.as_str(), &path, &ts),
        );
        let value = format!("keyId={},ts={ts},sig={sig}", self.key_id);
        // Only ASCII goes in, so this cannot fail; keep the error path anyway.
        if let Ok(v) = HeaderValue::from_str(&value) {
            req.headers.insert("x-signature", v);
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The server verifies the signature with the same secret.
    let verify = Arc::new(|req: &hawser_testkit::RecordedRequest| {
        let Some(header) = req.header("x-signature") else {
            return Reply::new(401).body("missing signature");
        };
        let field = |name: &str| {
            header
                .split(',')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or("")
        };
        let expected = sign(
            SECRET,
            &string_to_sign(&req.method, &req.target, field("ts")),
        );
        if field("keyId") == KEY_ID && field("sig") == expected {
            Reply::text(&format!("verified {} {}", req.method, req.target))
        } else {
            Reply::new(403).body("bad signature")
        }
    });
    let srv = TestServer::builder()
        .route_prefix("/", Behaviour::Custom(verify))
        .start()?;

    let session = Session::builder()
        .auth(Auth::custom(HmacSigner {
            key_id: KEY_ID.into(),
            secret: SECRET.to_vec(),
        }))
        .build()?;

    for (method, path) in [
        ("GET", "/v1/orders?status=open"),
        ("DELETE", "/v1/orders/42"),
    ] {
        let method = http::Method::from_bytes(method.as_bytes())?;
        let resp = session.request(method, srv.url(path)).send()?;
        println!("{:<3} {}", resp.status().as_u16(), resp.text()?);
    }
    if let Some(last) = srv.requests().last() {
        println!(
            "X-Signature sent: {}",
            last.header("x-signature").unwrap_or("-")
        );
    }

    // A client with the wrong secret is refused.
    let forged = Session::builder()
        .auth(Auth::custom(HmacSigner {
            key_id: KEY_ID.into(),
            secret: b"guess".to_vec(),
        }))
        .build()?;
    let resp = forged.get(srv.url("/v1/orders")).send()?;
    println!("wrong secret: {} {}", resp.status().as_u16(), resp.text()?);
    Ok(())
}
