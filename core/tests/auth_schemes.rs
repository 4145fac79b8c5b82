//! Basic, Bearer, custom hooks, proxy auth, scope, the re-send bound,
//! redaction, and the RFC 7616 / RFC 7617 vectors.

use hawser_core::ErrorKind;
use hawser_core::auth::{
    Algorithm, Auth, AuthDecision, AuthError, AuthHook, AuthState, AuthTarget, Challenge,
    ChallengeContext, DigestAuth, DigestChallenge, DigestHash, HookDecision, OutgoingRequest,
    ResponseInputs, Unanswered,
};
use http::header::{AUTHORIZATION, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use url::Url;

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL")
}

/// Run `authorize` for `method url` and return the headers it produced.
fn send(
    auth: &Auth,
    state: &mut AuthState,
    method: Method,
    u: &Url,
) -> Result<HeaderMap, AuthError> {
    let (mut m, mut u, mut h) = (method, u.clone(), HeaderMap::new());
    let mut rng = StdRng::seed_from_u64(42);
    auth.authorize(
        &mut OutgoingRequest::new(&mut m, &mut u, &mut h),
        state,
        &mut rng,
    )?;
    Ok(h)
}

fn challenge(name: http::HeaderName, v: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.append(name, HeaderValue::from_static(v));
    h
}

#[test]
fn basic_ascii_header_bytes() {
    let u = url("http://example.com/");
    let h = send(
        &Auth::basic("Aladdin", "open sesame"),
        &mut AuthState::for_origin(&u),
        Method::GET,
        &u,
    )
    .unwrap();
    assert_eq!(
        h[AUTHORIZATION].as_bytes(),
        b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
}

#[test]
fn basic_utf8_header_bytes_rfc7617_example() {
    // RFC 7617 §2.1: user "test", password "123£" with charset UTF-8.
    let u = url("http://example.com/");
    let h = send(
        &Auth::basic("test", "123£"),
        &mut AuthState::for_origin(&u),
        Method::GET,
        &u,
    )
    .unwrap();
    assert_eq!(h[AUTHORIZATION].as_bytes(), b"Basic dGVzdDoxMjPCow==");
    assert!(h[AUTHORIZATION].is_sensitive());
}

#[test]
fn basic_rejects_colon_in_user_and_control_chars_without_leaking() {
    let u = url("http://example.com/");
    let err = send(
        &Auth::basic("a:b", "pw"),
        &mut AuthState::for_origin(&u),
        Method::GET,
        &u,
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials(_)));
    let err = send(
        &Auth::basic("user", "sec\nret-pw"),
        &mut AuthState::for_origin(&u),
        Method::GET,
        &u,
    )
    .unwrap_err();
    assert!(!err.to_string().contains("ret-pw"));
    let e: hawser_core::Error = err.into();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
    assert!(!format!("{e:?}").contains("ret-pw"));
}

#[test]
fn bearer_header_and_invalid_token() {
    let u = url("https://api.example/");
    let h = send(
        &Auth::bearer("abc.def-ghi"),
        &mut AuthState::for_origin(&u),
        Method::GET,
        &u,
    )
    .unwrap();
    assert_eq!(h[AUTHORIZATION], "Bearer abc.def-ghi");
    let err = send(
        &Auth::bearer("abc\r\nX-Evil: 1"),
        &mut AuthState::for_origin(&u),
        Method::GET,
        &u,
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials(_)));
    assert!(!err.to_string().contains("Evil"));
}

#[test]
fn basic_401_after_sending_is_credentials_rejected_not_resent() {
    let u = url("http://example.com/");
    let auth = Auth::basic("u", "p");
    let mut st = AuthState::for_origin(&u);
    send(&auth, &mut st, Method::GET, &u).unwrap();
    let d = auth.on_response(
        &u,
        StatusCode::UNAUTHORIZED,
        &challenge(WWW_AUTHENTICATE, "Basic realm=x"),
        &mut st,
    );
    assert_eq!(d, AuthDecision::Deliver(Unanswered::CredentialsRejected));
    assert_eq!(
        auth.on_response(&u, StatusCode::OK, &HeaderMap::new(), &mut st),
        AuthDecision::NotChallenged
    );
}

#[test]
fn rfc7616_3_9_1_md5_and_sha256_vectors() {
    let base = ResponseInputs {
        algorithm: Algorithm::MD5,
        username: "Mufasa",
        realm: "http-auth@example.org",
        password: "Circle of Life",
        method: "GET",
        uri: "/dir/index.html",
        nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        qop_auth: true,
        nc: 1,
        cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    };
    assert_eq!(base.response(), "8ca523f5e9506fed4657c9700eebdbec");
    let sha = ResponseInputs {
        algorithm: Algorithm {
            hash: DigestHash::Sha256,
            session: false,
        },
        ..base
    };
    assert_eq!(
        sha.response(),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );

    // The same through the challenge text of the RFC and the header builder.
    for (alg, want) in [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        (
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ] {
        let text = format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={alg}, \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
        let c = &Challenge::parse_all(text.as_bytes())[0];
        let d = DigestChallenge::from_challenge(c).unwrap();
        let v = d
            .authorization(
                "Mufasa",
                "Circle of Life",
                "GET",
                "/dir/index.html",
                1,
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            )
            .unwrap();
        let sent = &Challenge::parse_all(v.as_bytes())[0];
        assert_eq!(sent.param("response"), Some(want));
        assert_eq!(sent.param("algorithm"), Some(alg));
        assert_eq!(sent.param("qop"), Some("auth"));
        assert_eq!(sent.param("nc"), Some("00000001"));
        assert_eq!(
            sent.param("opaque"),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );
    }
}

#[test]
fn rfc7616_3_9_2_userhash_sha512_256() {
    // Values recomputed independently (Python hashlib); the RFC's printed
    // ones are known to be wrong (see its errata).
    let c = &Challenge::parse_all(
        "Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, \
         nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", \
         opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, userhash=true"
            .as_bytes(),
    )[0];
    let d = DigestChallenge::from_challenge(c).unwrap();
    let v = d
        .authorization(
            "Jäsøn Doe",
            "Secret, or not?",
            "GET",
            "/doe.json",
            1,
            "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        )
        .unwrap();
    let sent = &Challenge::parse_all(v.as_bytes())[0];
    assert_eq!(
        sent.param("username"),
        Some("793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b")
    );
    assert_eq!(sent.param("userhash"), Some("true"));
    assert_eq!(
        sent.param("response"),
        Some("3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5")
    );
}

#[test]
fn non_ascii_username_without_userhash_uses_username_star() {
    let c = &Challenge::parse_all(b"Digest realm=r, nonce=n, qop=auth")[0];
    let d = DigestChallenge::from_challenge(c).unwrap();
    let v = d
        .authorization("Jäsøn \"Doe\"", "pw", "GET", "/", 1, "c")
        .unwrap();
    let s = std::str::from_utf8(v.as_bytes()).unwrap();
    assert!(
        s.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20%22Doe%22, "),
        "{s}"
    );
    let q = d
        .authorization("a\"b\\c", "pw", "GET", "/", 1, "c")
        .unwrap();
    let sent = &Challenge::parse_all(q.as_bytes())[0];
    assert_eq!(sent.param("username"), Some("a\"b\\c"));
}

#[test]
fn at_most_one_resend_per_hop_for_custom_hooks_and_again_after_next_hop() {
    struct Always(AtomicUsize);
    impl AuthHook for Always {
        fn apply(
            &self,
            target: AuthTarget,
            req: &mut OutgoingRequest<'_>,
        ) -> Result<(), AuthError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            let v = HeaderValue::from_str(&format!("Token n{n}"))
                .map_err(|e| AuthError::Hook(e.to_string()))?;
            req.headers.insert(target.authorization_header(), v);
            Ok(())
        }
        fn on_challenge(&self, ctx: &ChallengeContext<'_>) -> HookDecision {
            assert_eq!(ctx.status, StatusCode::UNAUTHORIZED);
            HookDecision::Resend
        }
    }
    let hook = Arc::new(Always(AtomicUsize::new(0)));
    let auth = Auth::Custom(hook.clone());
    let u = url("http://example.com/a");
    let mut st = AuthState::for_origin(&u);
    let h401 = challenge(WWW_AUTHENTICATE, "Token realm=t");
    assert_eq!(
        send(&auth, &mut st, Method::GET, &u).unwrap()[AUTHORIZATION],
        "Token n0"
    );
    assert_eq!(
        auth.on_response(&u, StatusCode::UNAUTHORIZED, &h401, &mut st),
        AuthDecision::Resend { stale: false }
    );
    assert_eq!(
        send(&auth, &mut st, Method::GET, &u).unwrap()[AUTHORIZATION],
        "Token n1"
    );
    assert_eq!(
        auth.on_response(&u, StatusCode::UNAUTHORIZED, &h401, &mut st),
        AuthDecision::Deliver(Unanswered::ResendSpent)
    );
    st.next_hop();
    send(&auth, &mut st, Method::GET, &u).unwrap();
    assert_eq!(
        auth.on_response(&u, StatusCode::UNAUTHORIZED, &h401, &mut st),
        AuthDecision::Resend { stale: false }
    );
    assert_eq!(st.resends(), 2);
    assert_eq!(hook.0.load(Ordering::SeqCst), 3);
}

#[test]
fn custom_hook_default_declines_and_errors_propagate() {
    struct Failing;
    impl AuthHook for Failing {
        fn apply(&self, _: AuthTarget, _: &mut OutgoingRequest<'_>) -> Result<(), AuthError> {
            Err(AuthError::Hook("signing key missing".into()))
        }
    }
    let u = url("http://example.com/");
    let auth = Auth::custom(Failing);
    let mut st = AuthState::for_origin(&u);
    assert_eq!(
        send(&auth, &mut st, Method::GET, &u).unwrap_err(),
        AuthError::Hook("signing key missing".into())
    );
    assert_eq!(
        auth.on_response(&u, StatusCode::UNAUTHORIZED, &HeaderMap::new(), &mut st),
        AuthDecision::Deliver(Unanswered::DeclinedByHook)
    );
    assert_eq!(format!("{auth:?}"), "Custom(..)");
}

#[test]
fn proxy_basic_uses_proxy_authorization_and_407() {
    let proxy = url("http://proxy.local:3128");
    let u = url("http://origin.example/x");
    let auth = Auth::basic("pu", "pp");
    let mut st = AuthState::for_proxy(&proxy);
    let h = send(&auth, &mut st, Method::GET, &u).unwrap();
    assert_eq!(h[PROXY_AUTHORIZATION], "Basic cHU6cHA=");
    assert!(h.get(AUTHORIZATION).is_none());
    // A 401 is the origin's business, not the proxy's.
    let d = auth.on_response(
        &u,
        StatusCode::UNAUTHORIZED,
        &challenge(WWW_AUTHENTICATE, "Basic realm=o"),
        &mut st,
    );
    assert_eq!(d, AuthDecision::NotChallenged);
    let d = auth.on_response(
        &u,
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        &challenge(PROXY_AUTHENTICATE, "Basic realm=p"),
        &mut st,
    );
    assert_eq!(d, AuthDecision::Deliver(Unanswered::CredentialsRejected));
}

#[test]
fn proxy_digest_signs_the_request_target_as_sent() {
    let proxy = url("http://proxy.local:3128");
    let u = url("http://origin.example/x?y=1");
    let auth = Auth::digest("pu", "pp");
    let mut st = AuthState::for_proxy(&proxy);
    let mut rng = StdRng::seed_from_u64(3);
    let (mut m, mut uu, mut h) = (Method::GET, u.clone(), HeaderMap::new());
    auth.authorize(
        &mut OutgoingRequest::new(&mut m, &mut uu, &mut h).with_request_target(u.as_str()),
        &mut st,
        &mut rng,
    )
    .unwrap();
    assert!(h.is_empty());
    let ch = challenge(
        PROXY_AUTHENTICATE,
        "Digest realm=\"proxy\", nonce=\"pn\", qop=auth",
    );
    assert_eq!(
        auth.on_response(&u, StatusCode::PROXY_AUTHENTICATION_REQUIRED, &ch, &mut st),
        AuthDecision::Resend { stale: false }
    );
    auth.authorize(
        &mut OutgoingRequest::new(&mut m, &mut uu, &mut h).with_request_target(u.as_str()),
        &mut st,
        &mut rng,
    )
    .unwrap();
    let sent = &Challenge::parse_all(h[PROXY_AUTHORIZATION].as_bytes())[0];
    assert_eq!(sent.param("uri"), Some("http://origin.example/x?y=1"));
    let want = ResponseInputs {
        algorithm: Algorithm::MD5,
        username: "pu",
        realm: "proxy",
        password: "pp",
        method: "GET",
        uri: "http://origin.example/x?y=1",
        nonce: "pn",
        qop_auth: true,
        nc: 1,
        cnonce: sent.param("cnonce").unwrap(),
    };
    assert_eq!(sent.param("response"), Some(want.response().as_str()));
}

#[test]
fn credentials_stay_on_the_first_origin() {
    let first = url("http://a.example/");
    let auth = Auth::basic("u", "p");
    let mut st = AuthState::for_origin(&first);
    // Other host, other port, https -> http downgrade: removed.
    for other in [
        "http://b.example/",
        "http://a.example:8080/",
        "https://b.example/",
    ] {
        let (mut m, mut u, mut h) = (Method::GET, url(other), HeaderMap::new());
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic stale"));
        auth.authorize(
            &mut OutgoingRequest::new(&mut m, &mut u, &mut h),
            &mut st,
            &mut StdRng::seed_from_u64(0),
        )
        .unwrap();
        assert!(h.get(AUTHORIZATION).is_none(), "{other}");
        let d = auth.on_response(
            &u,
            StatusCode::UNAUTHORIZED,
            &challenge(WWW_AUTHENTICATE, "Basic realm=x"),
            &mut st,
        );
        assert_eq!(d, AuthDecision::Deliver(Unanswered::OutOfScope));
    }
    // The http -> https upgrade on default ports keeps them (requests does too).
    assert!(
        send(&auth, &mut st, Method::GET, &url("https://a.example/"))
            .unwrap()
            .contains_key(AUTHORIZATION)
    );
    let mut st = AuthState::for_origin(&url("https://a.example/"));
    assert!(
        !send(&auth, &mut st, Method::GET, &url("http://a.example/"))
            .unwrap()
            .contains_key(AUTHORIZATION)
    );
    // Opt-in trust follows redirects anywhere.
    let mut st = AuthState::for_origin(&first).trust_redirects(true);
    assert!(
        send(&auth, &mut st, Method::GET, &url("http://b.example/"))
            .unwrap()
            .contains_key(AUTHORIZATION)
    );
}

#[test]
fn debug_and_errors_never_show_secrets() {
    let secret = "s3cr3t-Pa55";
    let u = url("http://example.com/");
    let digest = Auth::digest("user", secret);
    let mut st = AuthState::for_origin(&u);
    send(&digest, &mut st, Method::GET, &u).unwrap();
    let ch = challenge(WWW_AUTHENTICATE, "Digest realm=r, nonce=n, qop=auth");
    let _ = digest.on_response(&u, StatusCode::UNAUTHORIZED, &ch, &mut st);
    let headers = send(&digest, &mut st, Method::GET, &u).unwrap();
    let sent = &Challenge::parse_all(headers[AUTHORIZATION].as_bytes())[0];
    let response = sent.param("response").unwrap().to_owned();

    let basic_headers = send(
        &Auth::basic("user", secret),
        &mut AuthState::for_origin(&u),
        Method::GET,
        &u,
    )
    .unwrap();
    let b64 = basic_headers[AUTHORIZATION].to_str().unwrap().to_owned();
    let dumps = [
        format!("{:?}", Auth::basic("user", secret)),
        format!("{:?}", Auth::bearer(secret)),
        format!("{digest:?}"),
        format!("{st:?}"),
        format!("{headers:?}"),
        format!("{basic_headers:?}"),
        format!("{sent:?}"),
        format!("{:?}", DigestAuth::new("user", secret)),
    ];
    for d in &dumps {
        assert!(!d.contains(secret), "{d}");
        assert!(!d.contains(&response), "{d}");
        assert!(!d.contains(&b64[6..]), "{d}");
    }
    assert!(dumps[0].contains("***") && dumps[1].contains("***") && dumps[2].contains("***"));
}

#[test]
fn challenge_from_several_header_fields() {
    let mut h = HeaderMap::new();
    h.append(WWW_AUTHENTICATE, HeaderValue::from_static("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\""));
    h.append(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Digest realm=R, nonce=\"a,b\""),
    );
    let all = Challenge::from_headers(&h, &WWW_AUTHENTICATE);
    let schemes: Vec<&str> = all.iter().map(Challenge::scheme).collect();
    assert_eq!(schemes, ["Newauth", "Basic", "Digest"]);
    assert_eq!(all[0].param("title"), Some("Login to \"apps\""));
    assert_eq!(all[0].param("TYPE"), Some("1"));
    assert_eq!(all[2].param("nonce"), Some("a,b"));
}

#[test]
fn auth_is_send_sync_and_clones_share_learned_challenges() {
    fn shareable<T: Send + Sync + Clone + 'static>(_: &T) {}
    let a = Auth::digest("u", "p");
    shareable(&a);
    shareable(&AuthState::for_origin(&url("http://x/")));
    let u = url("http://x.example/");
    let mut st = AuthState::for_origin(&u);
    let b = a.clone();
    let ch = challenge(WWW_AUTHENTICATE, "Digest realm=r, nonce=n, qop=auth");
    assert_eq!(
        b.on_response(&u, StatusCode::UNAUTHORIZED, &ch, &mut st),
        AuthDecision::Resend { stale: false }
    );
    let Auth::Digest(d) = &a else {
        unreachable!("made as Digest")
    };
    assert!(d.has_challenge_for(&u.origin()));
}
