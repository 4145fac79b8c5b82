//! A production `ApiClient`: one configured session, a base URL, and
//! `get_json` / `post_json` helpers returning typed values, with HTTP errors
//! turned into `Err` by `error_for_status`.
//!
//! Run: `cargo run -p hawser-std --example api_client`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hawser_std::{Retry, Session, Url, url};
use hawser_testkit::{Behaviour, RecordedRequest, Reply, TestServer};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// A JSON API client. Cheap to clone (the session inside is shared).
#[derive(Clone, Debug)]
pub struct ApiClient {
    session: Session,
    base: Url,
}

/// Why an API call failed.
#[derive(Debug)]
pub enum ApiError {
    /// The base URL joined with a path is not a URL.
    BadPath(url::ParseError),
    /// Transport, timeout, status (via `error_for_status`) or JSON errors.
    Http(hawser_std::Error),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::BadPath(e) => write!(f, "bad API path: {e}"),
            ApiError::Http(e) => write!(f, "{} ({})", e, e.kind()),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<hawser_std::Error> for ApiError {
    fn from(e: hawser_std::Error) -> Self {
        ApiError::Http(e)
    }
}

impl ApiClient {
    /// A client for the API at `base_url`, authenticated with `token`.
    pub fn new(base_url: &str, token: &str) -> Result<ApiClient, ApiError> {
        // A trailing slash makes `join("users/1")` append instead of replace.
        let mut base = Url::parse(base_url).map_err(ApiError::BadPath)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let session = Session::builder()
            .header("User-Agent", "acme-api-client/1.0")
            .header("Accept", "application/json")
            .bearer_auth(token)
            .retry(
                Retry::new(3)
                    .backoff_factor(Duration::from_millis(100))
                    .status_forcelist([429, 500, 502, 503, 504]),
            )
            .timeout(Duration::from_secs(5))
            .deadline(Duration::from_secs(30))
            .build()?;
        Ok(ApiClient { session, base })
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(ApiError::BadPath)
    }

    /// `GET path`, decoded from JSON.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let resp = self.session.get(self.url(path)?).send()?;
        Ok(resp.error_for_status()?.json()?)
    }

    /// `POST path` with `body` as JSON, the answer decoded from JSON.
    pub fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let resp = self.session.post(self.url(path)?).json(body).send()?;
        Ok(resp.error_for_status()?.json()?)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    email: String,
}

#[derive(Debug, Serialize)]
struct NewUser<'a> {
    name: &'a str,
    email: &'a str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = start_fake_api()?;
    let api = ApiClient::new(&srv.url("/api/v1"), "t0ken")?;

    let user: User = api.get_json("users/1")?;
    println!("GET  users/1   -> {user:?}");

    let created: User = api.post_json(
        "users",
        &NewUser {
            name: "Grace Hopper",
            email: "grace@example.invalid",
        },
    )?;
    println!("POST users     -> {created:?}");

    match api.get_json::<User>("users/999") {
        Ok(u) => println!("GET  users/999 -> unexpectedly found {u:?}"),
        Err(e) => println!("GET  users/999 -> error: {e}"),
    }
    match api.get_json::<User>("broken") {
        Ok(u) => println!("GET  broken    -> unexpectedly parsed {u:?}"),
        Err(e) => println!("GET  broken    -> error: {e}"),
    }
    println!(
        "\n{} requests, {} connection(s) accepted by the server",
        srv.requests().len(),
        srv.connections_accepted()
    );
    Ok(())
}

/// A tiny JSON API: users/1, POST users, 404 for unknown users, and an
/// endpoint that returns invalid JSON.
fn start_fake_api() -> Result<TestServer, Box<dyn std::error::Error>> {
    let next_id = Arc::new(AtomicU64::new(2));
    let handler = move |req: &RecordedRequest| -> Reply {
        if req.header("authorization") != Some("Bearer t0ken") {
            return Reply::new(401);
        }
        let json = |status: u16, v: serde_json::Value| {
            Reply::new(status)
                .header("Content-Type", "application/json")
                .body(v.to_string())
        };
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/api/v1/users/1") => json(
                200,
                serde_json::json!({"id": 1, "name": "Ada Lovelace", "email": "ada@example.invalid"}),
            ),
            ("POST", "/api/v1/users") => {
                match serde_json::from_slice::<serde_json::Value>(&req.body) {
                    Ok(mut v) => {
                        v["id"] = next_id.fetch_add(1, Ordering::SeqCst).into();
                        json(201, v)
                    }
                    Err(_) => json(400, serde_json::json!({"error": "invalid JSON"})),
                }
            }
            ("GET", "/api/v1/broken") => Reply::new(200)
                .header("Content-Type", "application/json")
                .body("{\"id\": oops"),
            _ => json(404, serde_json::json!({"error": "not found"})),
        }
    };
    Ok(TestServer::builder()
        .route_prefix("/api/v1/", Behaviour::Custom(Arc::new(handler)))
        .start()?)
}
