//! Request head encoding.

use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request, Uri};

use super::error::EncodeError;
use super::list_items;

/// Which request-target form to write (RFC 9112 §3.2).
///
/// ```
/// use hawser_core::h1::{encode_request_head, RequestFraming, TargetForm};
/// let uri: http::Uri = "http://example.com:8080/a?b=c".parse().unwrap();
/// let mut out = Vec::new();
/// encode_request_head(&http::Method::GET, &uri, &http::HeaderMap::new(),
///     TargetForm::Absolute, RequestFraming::None, &mut out).unwrap();
/// assert!(out.starts_with(b"GET http://example.com:8080/a?b=c HTTP/1.1\r\n"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`: the usual form for a direct connection.
    Origin,
    /// `http://host:port/path?query`: for a plain HTTP proxy.
    Absolute,
    /// `host:port`: for `CONNECT`.
    Authority,
}

/// How the request body is framed; the encoder writes the matching header.
///
/// ```
/// use hawser_core::h1::{encode_request_head, RequestFraming, TargetForm};
/// let uri: http::Uri = "http://example.com/upload".parse().unwrap();
/// let mut out = Vec::new();
/// encode_request_head(&http::Method::POST, &uri, &http::HeaderMap::new(),
///     TargetForm::Origin, RequestFraming::Length(5), &mut out).unwrap();
/// assert!(out.ends_with(b"content-length: 5\r\n\r\n"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFraming {
    /// No body and no framing header (GET, HEAD, DELETE without content).
    None,
    /// A body of exactly this many bytes: writes `Content-Length`
    /// (also for 0, e.g. an empty POST).
    Length(u64),
    /// A streamed body of unknown length: writes
    /// `Transfer-Encoding: chunked`; frame it with a [`ChunkedEncoder`](super::ChunkedEncoder).
    Chunked,
}

/// What the response reader must know about the request that was sent.
///
/// Returned by the encoder; can also be built by hand.
///
/// ```
/// use hawser_core::h1::RequestInfo;
/// let info = RequestInfo::new(&http::Method::HEAD);
/// assert!(info.head && !info.connection_close);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestInfo {
    /// The request was `HEAD`: the response has no body whatever it says.
    pub head: bool,
    /// The request was `CONNECT`: a 2xx answer turns the connection into a tunnel.
    pub connect: bool,
    /// The request carried `Connection: close`.
    pub connection_close: bool,
    /// The request carried `Expect: 100-continue`.
    pub expect_continue: bool,
}

impl RequestInfo {
    /// Info for a request with `method` and no special headers.
    pub fn new(method: &Method) -> Self {
        RequestInfo {
            head: method == Method::HEAD,
            connect: method == Method::CONNECT,
            connection_close: false,
            expect_continue: false,
        }
    }
}

/// Encodes the head of `req` into `out`; see [`encode_request_head`].
///
/// ```
/// use hawser_core::h1::{encode_request, RequestFraming, TargetForm};
/// let req = http::Request::get("http://[::1]:8080/").header("accept", "*/*").body(()).unwrap();
/// let mut out = Vec::new();
/// encode_request(&req, TargetForm::Origin, RequestFraming::None, &mut out).unwrap();
/// assert_eq!(out, b"GET / HTTP/1.1\r\nhost: [::1]:8080\r\naccept: */*\r\n\r\n");
/// ```
pub fn encode_request<B>(
    req: &Request<B>,
    form: TargetForm,
    framing: RequestFraming,
    out: &mut Vec<u8>,
) -> Result<RequestInfo, EncodeError> {
    encode_request_head(req.method(), req.uri(), req.headers(), form, framing, out)
}

/// Appends an HTTP/1.1 request head to `out`.
///
/// Writes the request line in `form`, a `Host` header (the caller's, or one
/// derived from the URI with the default port left out), the caller's
/// headers in order, and the framing header for `framing`. Every byte is
/// validated; on error `out` is restored to its previous length, so nothing
/// unsafe ever reaches the wire. Appending to a reused `Vec` with enough
/// capacity does not allocate.
///
/// ```
/// use hawser_core::h1::{encode_request_head, EncodeError, RequestFraming, TargetForm};
/// // A relative URI and no Host header: refused, nothing written.
/// let uri: http::Uri = "/relative".parse().unwrap();
/// let mut out = Vec::new();
/// let err = encode_request_head(&http::Method::GET, &uri, &http::HeaderMap::new(),
///     TargetForm::Origin, RequestFraming::None, &mut out).unwrap_err();
/// assert_eq!(err, EncodeError::MissingHost);
/// assert!(out.is_empty());
/// ```
pub fn encode_request_head(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    form: TargetForm,
    framing: RequestFraming,
    out: &mut Vec<u8>,
) -> Result<RequestInfo, EncodeError> {
    encode_head(method, &Target::of_uri(uri), headers, form, framing, out)
}

/// The parts of a request target the head is written from: an `http::Uri`
/// (the public API) or a `url::Url` (the call, without a round trip
/// through a string and a second parse).
pub(crate) struct Target<'a> {
    scheme: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<u16>,
    path_and_query: Option<&'a str>,
}

impl<'a> Target<'a> {
    fn of_uri(uri: &'a Uri) -> Target<'a> {
        let (host, port) = uri
            .authority()
            .map_or((None, None), |a| split_authority(a.as_str()));
        Target {
            scheme: uri.scheme_str(),
            host,
            port,
            path_and_query: uri.path_and_query().map(|pq| pq.as_str()),
        }
    }

    /// `url`'s scheme, host, port and `path?query` (never its userinfo
    /// or fragment).
    pub(crate) fn of_url(url: &'a url::Url) -> Target<'a> {
        Target {
            scheme: Some(url.scheme()),
            host: url.host_str(),
            port: url.port(),
            path_and_query: Some(&url[url::Position::BeforePath..url::Position::AfterQuery]),
        }
    }
}

/// [`encode_request_head`] from a [`Target`].
pub(crate) fn encode_head(
    method: &Method,
    uri: &Target<'_>,
    headers: &HeaderMap,
    form: TargetForm,
    framing: RequestFraming,
    out: &mut Vec<u8>,
) -> Result<RequestInfo, EncodeError> {
    let start = out.len();
    let result = write_head(method, uri, headers, form, framing, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn write_head(
    method: &Method,
    uri: &Target<'_>,
    headers: &HeaderMap,
    form: TargetForm,
    framing: RequestFraming,
    out: &mut Vec<u8>,
) -> Result<RequestInfo, EncodeError> {
    let mut info = RequestInfo::new(method);

    let m = method.as_str().as_bytes();
    if m.is_empty() || !m.iter().all(|&b| is_tchar(b)) {
        return Err(EncodeError::InvalidMethod);
    }
    out.extend_from_slice(m);
    out.push(b' ');
    let target_start = out.len();
    write_target(uri, form, out)?;
    let target = target_start..out.len();
    out.extend_from_slice(b" HTTP/1.1\r\n");

    // Host comes first. Requests almost never carry their own, so the one
    // derived from the target is written without asking the map (a lookup
    // per request); if the map turns out to have one, the fields are
    // written again after the request line, with the caller's Host in its
    // place and none derived.
    let line_end = out.len();
    let derived = match write_derived_host(uri, form, target, out) {
        Ok(()) => true,
        Err(_) if headers.contains_key(HOST) => {
            out.truncate(line_end);
            false
        }
        Err(e) => return Err(e),
    };
    if !write_fields(headers, framing, derived, &mut info, out)? {
        out.truncate(line_end);
        write_fields(headers, framing, false, &mut info, out)?;
    }

    match framing {
        RequestFraming::None => {}
        RequestFraming::Length(len) => {
            out.extend_from_slice(b"content-length: ");
            write_decimal(len, out);
            out.extend_from_slice(b"\r\n");
        }
        RequestFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
    Ok(info)
}

/// `host: ...` from the target, as the first field.
fn write_derived_host(
    uri: &Target<'_>,
    form: TargetForm,
    target: std::ops::Range<usize>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let host = uri.host.ok_or(EncodeError::MissingHost)?;
    let start = out.len();
    out.extend_from_slice(b"host: ");
    if form == TargetForm::Authority {
        // For CONNECT, Host repeats the target, port included (RFC 9110 §9.3.6).
        out.extend_from_within(target);
    } else {
        write_authority(uri, host, out)?;
    }
    if !out
        .get(start + 6..)
        .is_some_and(|v| v.iter().all(|&b| is_target_byte(b)))
    {
        return Err(EncodeError::InvalidTarget("host has invalid bytes"));
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// The caller's fields, in order (framing fields only when they agree with
/// `framing`, and then not written: the encoder writes framing itself).
/// `Ok(false)`, stopping early, when `derived_host` is set and the map has a
/// Host after all.
fn write_fields(
    headers: &HeaderMap,
    framing: RequestFraming,
    derived_host: bool,
    info: &mut RequestInfo,
    out: &mut Vec<u8>,
) -> Result<bool, EncodeError> {
    for (name, value) in headers {
        let (n, v) = (name.as_str().as_bytes(), value.as_bytes());
        // A `HeaderName` is a lower-case token by construction (http has no
        // unchecked constructor), so only the value is checked again: its
        // unchecked constructor (`unsafe`) promises only UTF-8, and a CR or
        // LF here would split the head.
        if !v.iter().all(|&b| is_field_byte(b)) {
            return Err(EncodeError::InvalidHeaderValue(name.clone()));
        }
        if derived_host && name == HOST {
            return Ok(false);
        }
        if name == CONTENT_LENGTH {
            // The encoder writes framing itself; a caller's copy is accepted
            // only when it says the same thing, and then written once.
            match framing {
                RequestFraming::Length(len) if parse_u64(v) == Some(len) => continue,
                _ => {
                    return Err(EncodeError::FramingConflict(
                        "Content-Length disagrees with the body",
                    ));
                }
            }
        }
        if name == TRANSFER_ENCODING {
            match framing {
                RequestFraming::Chunked if v.eq_ignore_ascii_case(b"chunked") => continue,
                _ => {
                    return Err(EncodeError::FramingConflict(
                        "Transfer-Encoding disagrees with the body",
                    ));
                }
            }
        }
        if name == CONNECTION && list_items(v).any(|t| t.eq_ignore_ascii_case(b"close")) {
            info.connection_close = true;
        }
        if name == EXPECT && v.eq_ignore_ascii_case(b"100-continue") {
            info.expect_continue = true;
        }
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    Ok(true)
}

fn write_target(uri: &Target<'_>, form: TargetForm, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    match form {
        TargetForm::Origin => {
            let pq = uri.path_and_query.unwrap_or("/");
            // An absolute URI with an empty path still needs "/" on the wire.
            out.extend_from_slice(if pq.is_empty() { b"/" } else { pq.as_bytes() });
            if !out
                .get(start..)
                .is_some_and(|t| t.starts_with(b"/") || t == b"*")
            {
                return Err(EncodeError::InvalidTarget(
                    "origin-form must start with `/`",
                ));
            }
        }
        TargetForm::Absolute => {
            let scheme = uri
                .scheme
                .ok_or(EncodeError::InvalidTarget("absolute-form needs a scheme"))?;
            let host = uri
                .host
                .ok_or(EncodeError::InvalidTarget("absolute-form needs a host"))?;
            out.extend_from_slice(scheme.as_bytes());
            out.extend_from_slice(b"://");
            // Userinfo is never sent (RFC 9110 §4.2.4): rebuild host[:port].
            write_authority(uri, host, out)?;
            match uri.path_and_query {
                Some(pq) if pq.starts_with('/') => out.extend_from_slice(pq.as_bytes()),
                Some(pq) if pq.starts_with('?') => {
                    out.push(b'/');
                    out.extend_from_slice(pq.as_bytes());
                }
                _ => out.push(b'/'),
            }
        }
        TargetForm::Authority => {
            let host = uri
                .host
                .ok_or(EncodeError::InvalidTarget("authority-form needs a host"))?;
            let port = uri
                .port
                .or_else(|| default_port(uri.scheme))
                .ok_or(EncodeError::InvalidTarget("authority-form needs a port"))?;
            out.extend_from_slice(host.as_bytes());
            out.push(b':');
            write_decimal(u64::from(port), out);
        }
    }
    if out
        .get(start..)
        .is_some_and(|t| !t.is_empty() && t.iter().all(|&b| is_target_byte(b)))
    {
        Ok(())
    } else {
        Err(EncodeError::InvalidTarget(
            "target contains a space, control or non-ASCII byte",
        ))
    }
}

/// Writes `host[:port]`, leaving out the scheme's default port.
/// The host and port of an authority `http` has already validated, as
/// `Authority::host` and `Authority::port_u16` give them, in one pass: those
/// two each search the string again, which was half the cost of encoding a
/// small GET from an `http::Uri`.
fn split_authority(a: &str) -> (Option<&str>, Option<u16>) {
    let b = a.as_bytes();
    let host_start = b.iter().rposition(|&c| c == b'@').map_or(0, |i| i + 1);
    let hostport = &a[host_start..];
    // A colon after an IPv6 literal's `]` (or in a name) starts the port.
    let colon = hostport
        .bytes()
        .rposition(|c| c == b':')
        .filter(|&i| !hostport[i..].contains(']'));
    match colon {
        Some(i) => (Some(&hostport[..i]), hostport[i + 1..].parse().ok()),
        None => (Some(hostport), None),
    }
}

fn write_authority(uri: &Target<'_>, host: &str, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if host.is_empty() {
        return Err(EncodeError::MissingHost);
    }
    out.extend_from_slice(host.as_bytes());
    if let Some(port) = uri.port
        && Some(port) != default_port(uri.scheme)
    {
        out.push(b':');
        write_decimal(u64::from(port), out);
    }
    Ok(())
}

fn default_port(scheme: Option<&str>) -> Option<u16> {
    match scheme {
        Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
        Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
        _ => None,
    }
}

/// Decimal formatting into the output without `fmt` machinery (hot path).
pub(super) fn write_decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Strict decimal `u64` (digits only), as Content-Length requires.
pub(super) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Which half of a header field failed validation.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum BadField {
    Name,
    Value,
}

/// Validates one field before it is written. `http` validates on its safe
/// constructors, but its `*_unchecked` ones let anything through, so the
/// wire layer checks again (defence in depth against header injection).
pub(super) fn check_field(name: &[u8], value: &[u8]) -> Result<(), BadField> {
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(BadField::Name);
    }
    if !value.iter().all(|&b| is_field_byte(b)) {
        return Err(BadField::Value);
    }
    Ok(())
}

/// A 256-entry table of which bytes satisfy the predicate, built at compile
/// time (a `const` cannot call a closure, so the loop is spelt out here once).
macro_rules! byte_table {
    (|$b:ident| $pred:expr) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            t[i] = $pred;
            i += 1;
        }
        t
    }};
}

/// RFC 9110 `tchar`: one table lookup, since every byte of every header
/// name of every request goes through it.
pub(super) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

const TCHAR: [bool; 256] = byte_table!(|b| b.is_ascii_alphanumeric()
    || matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ));

/// Bytes allowed in a request target: visible ASCII.
fn is_target_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// Bytes allowed in a field value: HTAB, SP, visible ASCII, obs-text.
/// Everything else (CR, LF, NUL, other controls, DEL) could inject or confuse.
pub(super) fn is_field_byte(b: u8) -> bool {
    FIELD[usize::from(b)]
}

/// [`is_field_byte`] as a table: every byte of every header value of every
/// request goes through it.
const FIELD: [bool; 256] = byte_table!(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));

#[cfg(test)]
mod tests {
    use super::*;

    /// The field-value table allows HTAB, SP, visible ASCII and obs-text,
    /// and nothing else (no NUL, CR, LF, other controls or DEL).
    #[test]
    fn field_byte_table_is_the_rfc_set() {
        for b in 0..=255u8 {
            let rfc = b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80;
            assert_eq!(is_field_byte(b), rfc, "{b:#x}");
        }
    }

    /// The table is RFC 9110's `tchar`: DIGIT, ALPHA and `!#$%&'*+-.^_\`|~`.
    #[test]
    fn tchar_table_is_the_rfc_set() {
        for b in 0..=255u8 {
            let rfc = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), rfc, "{b:#x}");
        }
    }

    /// The one-pass split gives what `http`'s own accessors give, for every
    /// authority `http` accepts: names, IPv4, IPv6 literals with and
    /// without a port, userinfo, an empty port.
    #[test]
    fn split_authority_agrees_with_http() {
        let fixed = [
            "h.test",
            "h.test:8080",
            "H.Test:80",
            "127.0.0.1",
            "127.0.0.1:1",
            "[::1]",
            "[::1]:443",
            "[fe80::1:2]:65535",
            "u:p@h.test:81",
            "u@[::1]",
            "a@b@h:2",
            "h.test:",
        ];
        let mut runner = proptest::test_runner::TestRunner::default();
        let generated = proptest::string::string_regex(
            "([a-z:@]{0,4}@)?([a-z0-9.-]{1,12}|\\[[0-9a-f:]{2,12}\\])(:[0-9]{0,6})?",
        )
        .expect("valid regex");
        let mut checked = 0;
        let mut check = |a: &str| {
            let Ok(auth) = a.parse::<http::uri::Authority>() else {
                return;
            };
            assert_eq!(
                split_authority(auth.as_str()),
                (Some(auth.host()), auth.port_u16()),
                "{a}"
            );
            checked += 1;
        };
        for a in fixed {
            check(a);
        }
        for _ in 0..2000 {
            let tree =
                proptest::strategy::Strategy::new_tree(&generated, &mut runner).expect("a value");
            check(&proptest::strategy::ValueTree::current(&tree));
        }
        assert!(checked > 1000, "only {checked} authorities parsed");
    }

    fn encode(
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        form: TargetForm,
        framing: RequestFraming,
    ) -> Result<String, EncodeError> {
        let uri: Uri = uri.parse().expect("test uri");
        let mut map = HeaderMap::new();
        for (n, v) in headers {
            map.append(
                http::HeaderName::from_bytes(n.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        let mut out = b"prefix".to_vec();
        let r = encode_request_head(&method, &uri, &map, form, framing, &mut out);
        match r {
            Ok(_) => Ok(String::from_utf8(out[6..].to_vec()).expect("ascii")),
            Err(e) => {
                assert_eq!(out, b"prefix", "nothing written on error");
                Err(e)
            }
        }
    }

    #[test]
    fn origin_form_with_query_and_default_port_omitted() {
        let s = encode(
            Method::GET,
            "http://example.com:80/a/b?x=1",
            &[],
            TargetForm::Origin,
            RequestFraming::None,
        )
        .unwrap();
        assert_eq!(s, "GET /a/b?x=1 HTTP/1.1\r\nhost: example.com\r\n\r\n");
    }

    #[test]
    fn https_non_default_port_kept_in_host() {
        let s = encode(
            Method::GET,
            "https://example.com:8443",
            &[],
            TargetForm::Origin,
            RequestFraming::None,
        )
        .unwrap();
        assert_eq!(s, "GET / HTTP/1.1\r\nhost: example.com:8443\r\n\r\n");
    }

    #[test]
    fn absolute_form_drops_userinfo() {
        let s = encode(
            Method::GET,
            "http://user:pw@example.com:8080/p",
            &[],
            TargetForm::Absolute,
            RequestFraming::None,
        )
        .unwrap();
        assert_eq!(
            s,
            "GET http://example.com:8080/p HTTP/1.1\r\nhost: example.com:8080\r\n\r\n"
        );
    }

    #[test]
    fn authority_form_for_connect_uses_default_port() {
        let s = encode(
            Method::CONNECT,
            "https://example.com",
            &[],
            TargetForm::Authority,
            RequestFraming::None,
        )
        .unwrap();
        assert_eq!(
            s,
            "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n"
        );
        let e = encode(
            Method::CONNECT,
            "ftp://example.com",
            &[],
            TargetForm::Authority,
            RequestFraming::None,
        );
        assert!(matches!(e, Err(EncodeError::InvalidTarget(_))));
    }

    #[test]
    fn caller_host_header_wins() {
        let s = encode(
            Method::GET,
            "/x",
            &[("host", "virt.example")],
            TargetForm::Origin,
            RequestFraming::None,
        )
        .unwrap();
        assert_eq!(s, "GET /x HTTP/1.1\r\nhost: virt.example\r\n\r\n");
        // With an absolute target too, and the caller's Host among other
        // fields: written where the caller put it, and none derived.
        let s = encode(
            Method::GET,
            "http://a.test/x",
            &[("accept", "*/*"), ("host", "virt.example"), ("x-n", "1")],
            TargetForm::Origin,
            RequestFraming::Length(0),
        )
        .unwrap();
        assert_eq!(
            s,
            "GET /x HTTP/1.1\r\naccept: */*\r\nhost: virt.example\r\nx-n: 1\r\ncontent-length: 0\r\n\r\n"
        );
        assert_eq!(
            encode(
                Method::GET,
                "/x",
                &[],
                TargetForm::Origin,
                RequestFraming::None
            ),
            Err(EncodeError::MissingHost)
        );
    }

    #[test]
    fn framing_headers_written_once_and_checked() {
        let s = encode(
            Method::POST,
            "http://h/",
            &[("content-length", "3")],
            TargetForm::Origin,
            RequestFraming::Length(3),
        )
        .unwrap();
        assert_eq!(s.matches("content-length").count(), 1);
        assert!(matches!(
            encode(
                Method::POST,
                "http://h/",
                &[("content-length", "4")],
                TargetForm::Origin,
                RequestFraming::Length(3)
            ),
            Err(EncodeError::FramingConflict(_))
        ));
        assert!(matches!(
            encode(
                Method::POST,
                "http://h/",
                &[("transfer-encoding", "gzip")],
                TargetForm::Origin,
                RequestFraming::Chunked
            ),
            Err(EncodeError::FramingConflict(_))
        ));
        let s = encode(
            Method::POST,
            "http://h/",
            &[],
            TargetForm::Origin,
            RequestFraming::Chunked,
        )
        .unwrap();
        assert!(s.ends_with("transfer-encoding: chunked\r\n\r\n"));
    }

    #[test]
    fn connection_close_and_expect_are_reported() {
        let uri: Uri = "http://h/".parse().unwrap();
        let mut map = HeaderMap::new();
        map.insert(CONNECTION, "Keep-Alive, Close".parse().unwrap());
        map.insert(EXPECT, "100-continue".parse().unwrap());
        let mut out = Vec::new();
        let info = encode_request_head(
            &Method::PUT,
            &uri,
            &map,
            TargetForm::Origin,
            RequestFraming::Length(1),
            &mut out,
        )
        .unwrap();
        assert!(info.connection_close && info.expect_continue && !info.head);
    }

    #[test]
    fn field_validation_rejects_injection_bytes() {
        assert_eq!(check_field(b"x-ok", b"a value\twith tab \xff"), Ok(()));
        for bad in [
            &b"a\r\nx-injected: 1"[..],
            b"a\nb",
            b"a\0b",
            b"a\x7fb",
            b"a\x01b",
        ] {
            assert_eq!(check_field(b"x-a", bad), Err(BadField::Value), "{bad:?}");
        }
        for bad in [&b""[..], b"x a", b"x:a", b"x\r\n", b"caf\xc3\xa9"] {
            assert_eq!(check_field(bad, b"v"), Err(BadField::Name), "{bad:?}");
        }
    }

    #[test]
    fn target_bytes_are_visible_ascii_only() {
        assert!(b"/a?b=c&d=%20".iter().all(|&b| is_target_byte(b)));
        for b in [b' ', b'\r', b'\n', 0u8, 0x7f, 0x80] {
            assert!(!is_target_byte(b), "{b:#x}");
        }
    }

    #[test]
    fn decimal_and_parse_roundtrip() {
        for n in [0u64, 7, 10, 12345, u64::MAX] {
            let mut v = Vec::new();
            write_decimal(n, &mut v);
            assert_eq!(parse_u64(&v), Some(n));
        }
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"+5"), None);
        assert_eq!(parse_u64(b""), None);
    }
}
