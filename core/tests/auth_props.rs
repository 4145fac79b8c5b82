//! Properties of the challenge parser and of `on_response`.

use hawser_core::auth::{Auth, AuthDecision, AuthState, Challenge, OutgoingRequest};
use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,10}"
}

fn quoted_value() -> impl Strategy<Value = String> {
    // Printable ASCII including quote, backslash and comma.
    "[ -~]{0,20}"
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let all = Challenge::parse_all(&bytes);
        // Every challenge has a non-empty scheme, and output is bounded by input.
        prop_assert!(all.iter().all(|c| !c.scheme().is_empty()));
        prop_assert!(all.len() <= bytes.len());
    }

    #[test]
    fn parser_never_panics_on_challenge_like_text(s in "([A-Za-z]{1,6}|[ ,=\"\\\\]|[a-z0-9/+]{1,4}){0,40}") {
        let all = Challenge::parse_all(s.as_bytes());
        prop_assert!(all.len() <= s.len());
    }

    #[test]
    fn formatted_challenges_parse_back(
        chs in proptest::collection::vec(
            (token(), proptest::collection::vec((token(), quoted_value(), any::<bool>()), 1..5)),
            1..4,
        )
    ) {
        let text = chs
            .iter()
            .map(|(scheme, params)| {
                let ps: Vec<String> = params
                    .iter()
                    .map(|(k, v, quoted)| {
                        let bare = !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric());
                        if *quoted || !bare { format!("{k}={}", quote(v)) } else { format!("{k} = {v}") }
                    })
                    .collect();
                format!("{scheme} {}", ps.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" ,  ");
        let parsed = Challenge::parse_all(text.as_bytes());
        prop_assert_eq!(parsed.len(), chs.len(), "{}", text);
        for (p, (scheme, params)) in parsed.iter().zip(&chs) {
            prop_assert_eq!(p.scheme(), scheme.as_str());
            let got: Vec<(&str, &str)> = p.params().collect();
            let want: Vec<(&str, &str)> = params.iter().map(|(k, v, _)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(got, want, "{}", text);
        }
    }

    #[test]
    fn on_response_never_panics_and_resends_at_most_twice_per_hop(
        values in proptest::collection::vec(proptest::collection::vec(32u8..127, 0..120), 1..6),
        stale in proptest::collection::vec(any::<bool>(), 6),
    ) {
        let u = url::Url::parse("http://h.example/p").expect("url");
        let auth = Auth::digest("u", "p");
        let mut st = AuthState::for_origin(&u);
        let mut rng = StdRng::seed_from_u64(0);
        let mut resends = 0;
        for (i, v) in values.iter().enumerate() {
            let (mut m, mut uu, mut h) = (Method::GET, u.clone(), HeaderMap::new());
            auth.authorize(&mut OutgoingRequest::new(&mut m, &mut uu, &mut h), &mut st, &mut rng).expect("authorize");
            let mut resp = HeaderMap::new();
            if let Ok(hv) = HeaderValue::from_bytes(v) {
                resp.append(WWW_AUTHENTICATE, hv);
            }
            let nonce = format!("Digest realm=r, nonce=n{i}, qop=auth, stale={}", stale[i]);
            resp.append(WWW_AUTHENTICATE, HeaderValue::from_str(&nonce).expect("value"));
            if let AuthDecision::Resend { .. } = auth.on_response(&u, StatusCode::UNAUTHORIZED, &resp, &mut st) {
                resends += 1;
            }
        }
        prop_assert!(resends <= 2, "{} re-sends on one hop", resends);
    }
}
