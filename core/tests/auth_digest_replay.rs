//! Replay of the requests `HTTPDigestAuth` scenarios D1–D17 of
//! shared/reference/urllib3-requests-semantics.md §4.4, adapted where hawser
//! does better (each such test says how). Response hashes are checked
//! against an independent computation with the hash crates directly.

use hawser_core::auth::{
    Auth, AuthDecision, AuthError, AuthState, Challenge, OutgoingRequest, Unanswered,
};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use md5::Md5;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256, Sha512, Sha512_256};
use url::Url;

const USER: &str = "user";
const PASS: &str = "pass";

/// One client (a session's auth) talking to scripted servers.
struct Client {
    auth: Auth,
    rng: StdRng,
}

impl Client {
    fn new() -> Self {
        Client {
            auth: Auth::digest(USER, PASS),
            rng: StdRng::seed_from_u64(9),
        }
    }

    /// Headers of the next attempt of `method url`.
    fn send(&mut self, st: &mut AuthState, method: &Method, url: &Url) -> HeaderMap {
        let (mut m, mut u, mut h) = (method.clone(), url.clone(), HeaderMap::new());
        self.auth
            .authorize(
                &mut OutgoingRequest::new(&mut m, &mut u, &mut h),
                st,
                &mut self.rng,
            )
            .expect("authorize");
        h
    }

    fn respond(&self, st: &mut AuthState, url: &Url, status: u16, www: &[&str]) -> AuthDecision {
        let mut h = HeaderMap::new();
        for v in www {
            h.append(
                WWW_AUTHENTICATE,
                HeaderValue::from_str(v).expect("test header"),
            );
        }
        self.auth
            .on_response(url, StatusCode::from_u16(status).expect("status"), &h, st)
    }
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL")
}

fn digest_params(h: &HeaderMap) -> Challenge {
    let v = h.get(AUTHORIZATION).expect("an Authorization header");
    let all = Challenge::parse_all(v.as_bytes());
    assert_eq!(all.len(), 1);
    assert!(all[0].scheme_is("Digest"));
    all[0].clone()
}

fn hex_of<D: Digest>(s: &str) -> String {
    D::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Independent response computation from the sent parameters.
fn expected(alg: &str, method: &str, p: &Challenge) -> String {
    let upper = alg.to_ascii_uppercase();
    let (base, sess) = match upper.strip_suffix("-SESS") {
        Some(b) => (b.to_owned(), true),
        None => (upper.clone(), false),
    };
    let h = |s: &str| match base.as_str() {
        "MD5" => hex_of::<Md5>(s),
        "SHA" => hex_of::<sha1::Sha1>(s),
        "SHA-256" => hex_of::<Sha256>(s),
        "SHA-512-256" => hex_of::<Sha512_256>(s),
        "SHA-512" => hex_of::<Sha512>(s),
        other => panic!("test does not know {other}"),
    };
    let realm = p.param("realm").expect("realm");
    let nonce = p.param("nonce").expect("nonce");
    let uri = p.param("uri").expect("uri");
    let mut ha1 = h(&format!("{USER}:{realm}:{PASS}"));
    if sess {
        ha1 = h(&format!(
            "{ha1}:{nonce}:{}",
            p.param("cnonce").expect("cnonce")
        ));
    }
    let ha2 = h(&format!("{method}:{uri}"));
    match p.param("qop") {
        Some(qop) => h(&format!(
            "{ha1}:{nonce}:{}:{}:{qop}:{ha2}",
            p.param("nc").expect("nc"),
            p.param("cnonce").expect("cnonce")
        )),
        None => h(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

fn assert_correct(alg: &str, method: &str, h: &HeaderMap) -> Challenge {
    let p = digest_params(h);
    assert_eq!(
        p.param("response"),
        Some(expected(alg, method, &p).as_str())
    );
    p
}

const CH_N1: &str = r#"Digest realm="R", nonce="N1", qop="auth", opaque="O""#;

/// D1 then D2 then D3 on one session.
fn session_after_d1(c: &mut Client, u: &Url) {
    let mut st = AuthState::for_origin(u);
    assert!(
        c.send(&mut st, &Method::GET, u)
            .get(AUTHORIZATION)
            .is_none()
    );
    assert_eq!(
        c.respond(&mut st, u, 401, &[CH_N1]),
        AuthDecision::Resend { stale: false }
    );
    let h = c.send(&mut st, &Method::GET, u);
    let p = assert_correct("MD5", "GET", &h);
    assert_eq!(p.param("uri"), Some("/p?q=1"));
    assert_eq!(p.param("opaque"), Some("O"));
    assert_eq!(p.param("qop"), Some("auth"));
    assert_eq!(p.param("nc"), Some("00000001"));
    assert_eq!(p.param("cnonce").map(str::len), Some(32));
    assert_eq!(c.respond(&mut st, u, 200, &[]), AuthDecision::NotChallenged);
}

#[test]
fn d01_first_request_challenged_then_answered() {
    let u = url("http://h.example/p?q=1");
    session_after_d1(&mut Client::new(), &u);
}

#[test]
fn d02_next_request_preemptive_with_counted_nonce() {
    let u = url("http://h.example/p?q=1");
    let mut c = Client::new();
    session_after_d1(&mut c, &u);
    let mut st = AuthState::for_origin(&u);
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u));
    assert_eq!(
        (p.param("nonce"), p.param("nc")),
        (Some("N1"), Some("00000002"))
    );
    assert_eq!(
        c.respond(&mut st, &u, 200, &[]),
        AuthDecision::NotChallenged
    );
}

#[test]
fn d03_stale_nonce_resent_with_new_nonce() {
    let u = url("http://h.example/p?q=1");
    let mut c = Client::new();
    session_after_d1(&mut c, &u);
    let mut st = AuthState::for_origin(&u);
    c.send(&mut st, &Method::GET, &u);
    let p = digest_params(&c.send(&mut st, &Method::GET, &u));
    assert_eq!(p.param("nc"), Some("00000003"));
    let d = c.respond(
        &mut st,
        &u,
        401,
        &[r#"Digest realm="R", nonce="N2", qop="auth", stale=true"#],
    );
    assert_eq!(d, AuthDecision::Resend { stale: true });
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u));
    assert_eq!(
        (p.param("nonce"), p.param("nc")),
        (Some("N2"), Some("00000001"))
    );
    assert_eq!(p.param("opaque"), None, "the new challenge had no opaque");
    // The stale re-send did not use up the hop's one re-send for a real challenge.
    assert_eq!(
        c.respond(
            &mut st,
            &u,
            401,
            &[r#"Digest realm="R", nonce="N3", qop="auth""#]
        ),
        AuthDecision::Resend { stale: false }
    );
}

#[test]
fn d04_second_401_after_the_resend_is_delivered() {
    let u = url("http://h.example/p");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.send(&mut st, &Method::GET, &u);
    c.respond(
        &mut st,
        &u,
        401,
        &[r#"Digest realm="R", nonce="N2", qop=auth"#],
    );
    c.send(&mut st, &Method::GET, &u);
    c.respond(&mut st, &u, 200, &[]);

    let mut st = AuthState::for_origin(&u);
    assert_eq!(
        digest_params(&c.send(&mut st, &Method::GET, &u)).param("nonce"),
        Some("N2")
    );
    assert_eq!(
        c.respond(
            &mut st,
            &u,
            401,
            &[r#"Digest realm="R", nonce="N3", qop=auth"#]
        ),
        AuthDecision::Resend { stale: false }
    );
    assert_eq!(
        digest_params(&c.send(&mut st, &Method::GET, &u)).param("nonce"),
        Some("N3")
    );
    assert_eq!(
        c.respond(
            &mut st,
            &u,
            401,
            &[r#"Digest realm="R", nonce="N4", qop=auth"#]
        ),
        AuthDecision::Deliver(Unanswered::ResendSpent)
    );
    // Better than requests: refused credentials are not sent preemptively again.
    assert!(
        c.send(&mut AuthState::for_origin(&u), &Method::GET, &u)
            .get(AUTHORIZATION)
            .is_none()
    );
}

#[test]
fn d05_auth_int_only_is_unanswerable_but_lists_with_spaces_and_case_work() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    // requests re-sends without credentials; hawser delivers with a reason.
    assert_eq!(
        c.respond(
            &mut st,
            &u,
            401,
            &[r#"Digest realm="R", nonce="N", qop="auth-int""#]
        ),
        AuthDecision::Deliver(Unanswered::Unanswerable(AuthError::UnsupportedQop(
            "auth-int".into()
        )))
    );
    // requests gives up on these two; hawser trims and ignores case.
    for qop in ["auth-int, auth", "AUTH"] {
        let mut st = AuthState::for_origin(&u);
        let ch = format!(r#"Digest realm="R", nonce="N-{qop}", qop="{qop}""#);
        assert_eq!(
            c.respond(&mut st, &u, 401, &[&ch]),
            AuthDecision::Resend { stale: false }
        );
        let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u));
        assert_eq!(p.param("qop"), Some("auth"));
    }
}

#[test]
fn d05b_auth_chosen_from_auth_comma_auth_int() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.respond(
        &mut st,
        &u,
        401,
        &[r#"Digest realm="R", nonce="N", qop="auth,auth-int""#],
    );
    assert_eq!(
        assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u)).param("qop"),
        Some("auth")
    );
}

#[test]
fn d07_algorithms_hash_correctly_and_are_echoed_in_the_servers_case() {
    let u = url("http://h.example/x");
    for alg in ["SHA-256", "MD5-sess", "SHA-512", "SHA", "sha-256", "md5"] {
        let mut c = Client::new();
        let mut st = AuthState::for_origin(&u);
        let ch = format!(r#"Digest realm="R", nonce="N", qop=auth, algorithm={alg}"#);
        assert_eq!(
            c.respond(&mut st, &u, 401, &[&ch]),
            AuthDecision::Resend { stale: false },
            "{alg}"
        );
        let p = assert_correct(alg, "GET", &c.send(&mut st, &Method::GET, &u));
        assert_eq!(p.param("algorithm"), Some(alg));
    }
}

#[test]
fn d07b_sha512_256_and_sha256_sess_are_supported() {
    // requests cannot answer these and re-sends without credentials.
    let u = url("http://h.example/x");
    for alg in ["SHA-512-256", "SHA-256-sess", "SHA-512-256-sess"] {
        let mut c = Client::new();
        let mut st = AuthState::for_origin(&u);
        let ch = format!(r#"Digest realm="R", nonce="N", qop=auth, algorithm={alg}"#);
        assert_eq!(
            c.respond(&mut st, &u, 401, &[&ch]),
            AuthDecision::Resend { stale: false },
            "{alg}"
        );
        assert_correct(alg, "GET", &c.send(&mut st, &Method::GET, &u));
    }
    let mut st = AuthState::for_origin(&u);
    assert_eq!(
        Client::new().respond(
            &mut st,
            &u,
            401,
            &[r#"Digest realm="R", nonce="N", algorithm=SHA3-256"#]
        ),
        AuthDecision::Deliver(Unanswered::Unanswerable(AuthError::UnsupportedAlgorithm(
            "SHA3-256".into()
        )))
    );
}

#[test]
fn d08_403_with_a_digest_challenge_is_not_answered() {
    // RFC 9110: only 401 carries a challenge to answer; requests re-sends on any 4xx.
    let u = url("http://h.example/");
    let mut st = AuthState::for_origin(&u);
    assert_eq!(
        Client::new().respond(&mut st, &u, 403, &[CH_N1]),
        AuthDecision::NotChallenged
    );
}

#[test]
fn d09_post_resend_signs_the_post_method() {
    // Body replay is the orchestrator's job (a non-replayable body turns the
    // re-send into ErrorKind::BodyNotReplayable there); auth signs the method.
    let u = url("http://h.example/upload");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.send(&mut st, &Method::POST, &u);
    assert_eq!(
        c.respond(&mut st, &u, 401, &[CH_N1]),
        AuthDecision::Resend { stale: false }
    );
    assert_correct("MD5", "POST", &c.send(&mut st, &Method::POST, &u));
}

#[test]
fn d10_no_qop_is_rfc2069_style() {
    let u = url("http://h.example/old");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.respond(&mut st, &u, 401, &[r#"Digest realm="R", nonce="N""#]);
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u));
    assert_eq!(
        (p.param("qop"), p.param("nc"), p.param("cnonce")),
        (None, None, None)
    );
}

#[test]
fn d11_basic_and_digest_in_one_field() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.respond(
        &mut st,
        &u,
        401,
        &[r#"Basic realm="B", Digest realm="R", nonce="N", qop=auth"#],
    );
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u));
    assert_eq!(p.param("realm"), Some("R"));
}

#[test]
fn d12_only_basic_offered_to_digest_credentials() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    assert_eq!(
        c.respond(&mut st, &u, 401, &[r#"Basic realm="B""#]),
        AuthDecision::Deliver(Unanswered::NoUsableChallenge)
    );
    assert!(
        c.send(&mut st, &Method::GET, &u)
            .get(AUTHORIZATION)
            .is_none()
    );
}

#[test]
fn d13_same_origin_redirect_is_preemptive_and_may_reauthenticate() {
    let p1 = url("http://h.example/p");
    let other = url("http://h.example/other");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&p1);
    c.send(&mut st, &Method::GET, &p1);
    c.respond(
        &mut st,
        &p1,
        401,
        &[r#"Digest realm="R", nonce="N1", qop=auth"#],
    );
    c.send(&mut st, &Method::GET, &p1);
    assert_eq!(
        c.respond(&mut st, &p1, 302, &[]),
        AuthDecision::NotChallenged
    );
    st.next_hop();
    // requests sends /other bare; hawser reuses the same-origin challenge.
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &other));
    assert_eq!(
        (p.param("uri"), p.param("nc")),
        (Some("/other"), Some("00000002"))
    );
    // If the server still wants a new nonce, this hop may re-authenticate once.
    assert_eq!(
        c.respond(
            &mut st,
            &other,
            401,
            &[r#"Digest realm="R", nonce="N5", qop=auth"#]
        ),
        AuthDecision::Resend { stale: false }
    );
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &other));
    assert_eq!(
        (p.param("nonce"), p.param("nc")),
        (Some("N5"), Some("00000001"))
    );
}

#[test]
fn d15_other_host_gets_no_digest_and_its_challenge_is_not_answered() {
    let a = url("http://a.example/p");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&a);
    c.respond(&mut st, &a, 401, &[CH_N1]);
    c.send(&mut st, &Method::GET, &a);
    st.next_hop();
    for other in ["http://b.example/p", "http://a.example:81/p"] {
        let o = url(other);
        assert!(
            c.send(&mut st, &Method::GET, &o)
                .get(AUTHORIZATION)
                .is_none(),
            "{other}"
        );
        assert_eq!(
            c.respond(&mut st, &o, 401, &[CH_N1]),
            AuthDecision::Deliver(Unanswered::OutOfScope)
        );
    }
    // A separate logical request to b.example: no preemptive header, the
    // challenge cache is per origin (requests reuses it for any host).
    let b = url("http://b.example/p");
    assert!(
        c.send(&mut AuthState::for_origin(&b), &Method::GET, &b)
            .get(AUTHORIZATION)
            .is_none()
    );
}

#[test]
fn d16_missing_realm_or_nonce_is_a_typed_outcome() {
    let u = url("http://h.example/");
    for (ch, param) in [
        (r#"Digest nonce="N", qop=auth"#, "realm"),
        (r#"Digest realm="R""#, "nonce"),
    ] {
        let mut st = AuthState::for_origin(&u);
        assert_eq!(
            Client::new().respond(&mut st, &u, 401, &[ch]),
            AuthDecision::Deliver(Unanswered::Unanswerable(AuthError::MissingParam { param }))
        );
    }
    let e: hawser_core::Error = AuthError::MissingParam { param: "realm" }.into();
    assert_eq!(e.kind(), hawser_core::ErrorKind::Protocol);
    assert_eq!(e.to_string(), "Digest challenge without realm");
}

#[test]
fn d17_unquoted_parameters() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    assert_eq!(
        c.respond(
            &mut st,
            &u,
            401,
            &["Digest realm=R, nonce=N, qop=auth, algorithm=MD5"]
        ),
        AuthDecision::Resend { stale: false }
    );
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u));
    assert_eq!(
        (p.param("realm"), p.param("nonce"), p.param("algorithm")),
        (Some("R"), Some("N"), Some("MD5"))
    );
}

#[test]
fn wrong_password_for_the_current_nonce_is_not_tried_again() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.respond(&mut st, &u, 401, &[CH_N1]);
    c.send(&mut st, &Method::GET, &u);
    st.next_hop();
    c.send(&mut st, &Method::GET, &u);
    assert_eq!(
        c.respond(&mut st, &u, 401, &[CH_N1]),
        AuthDecision::Deliver(Unanswered::CredentialsRejected)
    );
}

#[test]
fn stale_resends_are_bounded_too() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.respond(&mut st, &u, 401, &[CH_N1]);
    st.next_hop();
    c.send(&mut st, &Method::GET, &u);
    let stale = |n: &str| format!(r#"Digest realm="R", nonce="{n}", qop=auth, stale=TRUE"#);
    assert_eq!(
        c.respond(&mut st, &u, 401, &[&stale("S1")]),
        AuthDecision::Resend { stale: true }
    );
    c.send(&mut st, &Method::GET, &u);
    // A second stale on the same hop spends the ordinary re-send...
    assert_eq!(
        c.respond(&mut st, &u, 401, &[&stale("S2")]),
        AuthDecision::Resend { stale: false }
    );
    c.send(&mut st, &Method::GET, &u);
    // ...and then the hop is done.
    assert_eq!(
        c.respond(&mut st, &u, 401, &[&stale("S3")]),
        AuthDecision::Deliver(Unanswered::ResendSpent)
    );
}

#[test]
fn nextnonce_from_authentication_info_restarts_the_count() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut st = AuthState::for_origin(&u);
    c.respond(&mut st, &u, 401, &[CH_N1]);
    c.send(&mut st, &Method::GET, &u);
    let mut h = HeaderMap::new();
    h.insert(
        "authentication-info",
        HeaderValue::from_static(r#"qop=auth, rspauth="x", nextnonce="NX""#),
    );
    assert_eq!(
        c.auth.on_response(&u, StatusCode::OK, &h, &mut st),
        AuthDecision::NotChallenged
    );
    let p = assert_correct(
        "MD5",
        "GET",
        &c.send(&mut AuthState::for_origin(&u), &Method::GET, &u),
    );
    assert_eq!(
        (p.param("nonce"), p.param("nc")),
        (Some("NX"), Some("00000001"))
    );
}

#[test]
fn clones_share_the_nonce_count_and_nc_is_hex() {
    let u = url("http://h.example/");
    let mut c = Client::new();
    let mut other = Client {
        auth: c.auth.clone(),
        rng: StdRng::seed_from_u64(1),
    };
    let mut st = AuthState::for_origin(&u);
    c.respond(&mut st, &u, 401, &[CH_N1]);
    for i in 1..=9 {
        let h = if i % 2 == 0 {
            other.send(&mut st, &Method::GET, &u)
        } else {
            c.send(&mut st, &Method::GET, &u)
        };
        assert_eq!(
            digest_params(&h).param("nc"),
            Some(format!("{i:08x}").as_str())
        );
    }
    // nc=10 is where hex and decimal differ: the hash must use the hex form.
    let p = assert_correct("MD5", "GET", &c.send(&mut st, &Method::GET, &u));
    assert_eq!(p.param("nc"), Some("0000000a"));
}

#[test]
fn digest_cache_is_bounded_per_origin() {
    let c = Client::new();
    let hawser_core::auth::Auth::Digest(d) = &c.auth else {
        unreachable!("Client::new makes Digest")
    };
    for i in 0..40 {
        let u = url(&format!("http://h{i}.example/"));
        let mut st = AuthState::for_origin(&u);
        c.respond(&mut st, &u, 401, &[CH_N1]);
    }
    assert!(!d.has_challenge_for(&url("http://h0.example/").origin()));
    assert!(d.has_challenge_for(&url("http://h39.example/").origin()));
    let kept = (0..40)
        .filter(|i| d.has_challenge_for(&url(&format!("http://h{i}.example/")).origin()))
        .count();
    assert_eq!(kept, 32);
}
