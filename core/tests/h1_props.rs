//! Property tests of the wire layer: split invariance, robustness on
//! arbitrary bytes, and encoder output checked by a server-side parser.

mod fuzz_support;

use fuzz_support::h1::{self as fuzzing, OwnedEvent, drive};
use hawser_core::h1::{self, ChunkedEncoder, Limits, RequestFraming, RequestInfo, TargetForm};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Framing {
    Length,
    Chunked(Vec<usize>),
    Close,
}

fn token() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9!#$%&'*+.^_`|~-]{0,12}"
}

fn value() -> impl Strategy<Value = String> {
    "[ -~]{0,24}".prop_map(|s| s.trim().to_string())
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("x-[a-z0-9-]{1,10}", value()), 0..12)
}

/// A well-formed response and the body it carries.
fn response() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, bool)> {
    let framing = prop_oneof![
        Just(Framing::Length),
        prop::collection::vec(1usize..40, 0..6).prop_map(Framing::Chunked),
        Just(Framing::Close),
    ];
    (
        prop::sample::select(vec![200u16, 201, 404, 500]),
        headers(),
        prop::collection::vec(any::<u8>(), 0..200),
        framing,
        any::<bool>(),
    )
        .prop_map(|(status, headers, body, framing, interim)| {
            let mut wire = Vec::new();
            if interim {
                wire.extend_from_slice(
                    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n",
                );
            }
            wire.extend_from_slice(format!("HTTP/1.1 {status} Whatever\r\n").as_bytes());
            for (n, v) in &headers {
                wire.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
            }
            let close = matches!(framing, Framing::Close);
            match framing {
                Framing::Length => {
                    wire.extend_from_slice(
                        format!("content-length: {}\r\n\r\n", body.len()).as_bytes(),
                    );
                    wire.extend_from_slice(&body);
                }
                Framing::Chunked(sizes) => {
                    wire.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
                    let mut enc = ChunkedEncoder::new();
                    let mut rest = &body[..];
                    for s in sizes.into_iter().chain(std::iter::once(usize::MAX)) {
                        let (a, b) = rest.split_at(s.min(rest.len()));
                        enc.chunk(a, &mut wire).expect("chunk");
                        rest = b;
                    }
                    enc.finish(None, &mut wire).expect("finish");
                }
                Framing::Close => {
                    wire.extend_from_slice(b"\r\n");
                    wire.extend_from_slice(&body);
                }
            }
            (wire, body, close)
        })
}

fn cut(wire: &[u8], mut points: Vec<usize>) -> Vec<&[u8]> {
    points.iter_mut().for_each(|p| *p %= wire.len() + 1);
    points.sort_unstable();
    let mut pieces = Vec::new();
    let mut last = 0;
    for p in points.into_iter().chain(std::iter::once(wire.len())) {
        pieces.push(&wire[last..p]);
        last = p;
    }
    pieces
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) Any split of a valid response gives the same events as the whole.
    #[test]
    fn any_split_parses_identically((wire, body, close) in response(), points in prop::collection::vec(any::<usize>(), 0..20)) {
        let info = RequestInfo::new(&Method::POST);
        let whole = drive(info, Limits::default(), &[&wire], close);
        prop_assert_eq!(&whole.result, &Ok(()));
        let got: Vec<u8> = whole.events.iter().filter_map(|e| match e {
            OwnedEvent::Body(b) => Some(b.clone()),
            _ => None,
        }).flatten().collect();
        prop_assert_eq!(&got, &body);
        prop_assert_eq!(whole.reusable, !close);
        let split = drive(info, Limits::default(), &cut(&wire, points), close);
        prop_assert_eq!(split, whole);
    }

    /// (a2) Heads that are not valid, or not whole, read the same whole as
    /// one byte at a time: a head that arrives in one piece is parsed
    /// straight away, and everything that parse does not accept goes the
    /// careful way (blank-line search first), with the same events and the
    /// same error.
    #[test]
    fn junk_reads_the_same_whole_and_byte_by_byte(
        prefix in any::<bool>(),
        junk in prop::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), any::<u8>(), 0x61u8..0x7b], 0..300),
        fields in 0usize..40,
        close in any::<bool>(),
    ) {
        let mut wire = Vec::new();
        if prefix {
            wire.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        }
        for i in 0..fields {
            wire.extend_from_slice(format!("x-{i}: v\r\n").as_bytes());
        }
        wire.extend_from_slice(&junk);
        wire.extend_from_slice(b"\r\n\r\n");
        let limits = Limits { max_headers: 30, ..Limits::default() };
        let info = RequestInfo::new(&Method::GET);
        let whole = drive(info, limits, &[&wire], close);
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        let split = drive(info, limits, &bytes, close);
        prop_assert_eq!(split, whole);
    }

    /// (b) Arbitrary bytes never panic, never loop, never buffer past the
    /// limits (the fuzzing drivers assert all three), with and without a
    /// plausible status line in front.
    #[test]
    fn arbitrary_bytes_are_handled(flags in any::<u8>(), seed in any::<u8>(), prefix in any::<bool>(), junk in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut data = vec![flags, seed];
        if prefix {
            data.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        }
        data.extend_from_slice(&junk);
        fuzzing::exchange(&data);
        fuzzing::response_head(&junk);
        fuzzing::chunked(&junk);
    }

    /// (c) What the encoder writes, a server-side httparse parse reads back
    /// identically: method, target, every header, and the body framing.
    #[test]
    fn encoder_output_parses_back(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::DELETE), token().prop_map(|t| Method::from_bytes(t.to_uppercase().as_bytes()).expect("token method"))],
        path in "(/[a-zA-Z0-9._~%!$&'()*+,;=:@-]{0,8}){1,4}",
        query in proptest::option::of("[a-zA-Z0-9=&%._-]{0,16}"),
        port in proptest::option::of(1u16..),
        hdrs in prop::collection::vec((token(), value()), 0..10),
        framing in prop_oneof![Just(RequestFraming::None), any::<u32>().prop_map(|n| RequestFraming::Length(u64::from(n))), Just(RequestFraming::Chunked)],
        form in prop_oneof![Just(TargetForm::Origin), Just(TargetForm::Absolute)],
    ) {
        let authority = match port { Some(p) => format!("example.com:{p}"), None => "example.com".to_string() };
        let q = query.map(|q| format!("?{q}")).unwrap_or_default();
        let uri: http::Uri = format!("http://{authority}{path}{q}").parse().expect("uri");
        let mut map = HeaderMap::new();
        for (n, v) in &hdrs {
            let name = HeaderName::from_bytes(n.as_bytes()).expect("name");
            if matches!(name.as_str(), "host" | "content-length" | "transfer-encoding") {
                continue;
            }
            map.append(name, HeaderValue::from_str(v).expect("value"));
        }
        let mut out = Vec::new();
        h1::encode_request_head(&method, &uri, &map, form, framing, &mut out).expect("valid request encodes");

        let mut slots = vec![httparse::EMPTY_HEADER; map.len() + 4];
        let mut req = httparse::Request::new(&mut slots);
        prop_assert_eq!(req.parse(&out).expect("server parses"), httparse::Status::Complete(out.len()));
        prop_assert_eq!(req.method, Some(method.as_str()));
        let origin = format!("{path}{q}");
        let want_target = match form {
            TargetForm::Origin => origin,
            _ => format!("http://{}{origin}", if port == Some(80) { "example.com".to_string() } else { authority.clone() }),
        };
        prop_assert_eq!(req.path, Some(want_target.as_str()));
        let parsed: Vec<(String, Vec<u8>)> = req.headers.iter().map(|h| (h.name.to_string(), h.value.to_vec())).collect();
        let want_host = if port == Some(80) { "example.com".to_string() } else { authority };
        prop_assert_eq!(&parsed[0], &("host".to_string(), want_host.into_bytes()));
        let mut want: Vec<(String, Vec<u8>)> = map.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect();
        match framing {
            RequestFraming::None => {}
            RequestFraming::Length(n) => want.push(("content-length".into(), n.to_string().into_bytes())),
            RequestFraming::Chunked => want.push(("transfer-encoding".into(), b"chunked".to_vec())),
        }
        prop_assert_eq!(&parsed[1..], &want[..]);
    }
}
