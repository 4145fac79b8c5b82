//! Server side of Basic and Digest (RFC 7616) authentication.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use md5::Md5;
use sha2::{Digest as _, Sha256};

/// The hash a Digest challenge names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// `algorithm=MD5`
    Md5,
    /// `algorithm=SHA-256`
    Sha256,
}

impl DigestAlgorithm {
    /// The token used in the challenge.
    pub fn token(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    /// Lower-case hex digest of `data` with this algorithm.
    ///
    /// ```
    /// use hawser_testkit::DigestAlgorithm;
    /// assert_eq!(DigestAlgorithm::Md5.hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    /// ```
    pub fn hex(self, data: &[u8]) -> String {
        let bytes: Vec<u8> = match self {
            DigestAlgorithm::Md5 => Md5::digest(data).to_vec(),
            DigestAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `Basic` credentials check: true when `authorization` carries `user:pass`.
pub(crate) fn basic_ok(authorization: Option<&str>, user: &str, pass: &str) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    match base64::engine::general_purpose::STANDARD.decode(token.trim()) {
        Ok(decoded) => decoded == format!("{user}:{pass}").as_bytes(),
        Err(_) => false,
    }
}

/// Parses `Digest k=v, k="v", ...` into a map (keys lower-cased).
pub(crate) fn parse_digest_params(value: &str) -> Option<HashMap<String, String>> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        chars.next()?; // '='
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => val.push(chars.next()?),
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), val.trim().to_string());
    }
    Some(out)
}

/// Per-route Digest state: the nonces issued and the highest nc seen for each.
#[derive(Debug, Default)]
pub(crate) struct DigestState {
    nonces: HashMap<String, u64>,
    stale_sent: bool,
}

static NONCE_SEQ: AtomicU64 = AtomicU64::new(1);

/// What the Digest check decided.
pub(crate) enum DigestVerdict {
    Ok,
    /// Send a challenge (with `stale=true` if the flag is set).
    Challenge {
        stale: bool,
    },
}

impl DigestState {
    pub fn new_nonce(&mut self) -> String {
        let seq = NONCE_SEQ.fetch_add(1, Ordering::SeqCst);
        let nonce = DigestAlgorithm::Sha256.hex(format!("hawser-testkit-{seq}").as_bytes());
        self.nonces.insert(nonce.clone(), 0);
        nonce
    }

    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &mut self,
        authorization: Option<&str>,
        method: &str,
        target: &str,
        user: &str,
        pass: &str,
        realm: &str,
        alg: DigestAlgorithm,
        stale_once: bool,
    ) -> DigestVerdict {
        let Some(p) = authorization.and_then(parse_digest_params) else {
            return DigestVerdict::Challenge { stale: false };
        };
        let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
        if get("username") != user || get("realm") != realm || get("uri") != target {
            return DigestVerdict::Challenge { stale: false };
        }
        if !get("algorithm").is_empty() && !get("algorithm").eq_ignore_ascii_case(alg.token()) {
            return DigestVerdict::Challenge { stale: false };
        }
        if get("qop") != "auth" || get("cnonce").is_empty() {
            return DigestVerdict::Challenge { stale: false };
        }
        let nonce = get("nonce");
        let Some(&last_nc) = self.nonces.get(nonce) else {
            return DigestVerdict::Challenge { stale: false };
        };
        let Ok(nc) = u64::from_str_radix(get("nc"), 16) else {
            return DigestVerdict::Challenge { stale: false };
        };
        if nc <= last_nc {
            // A replayed or non-increasing nonce count.
            return DigestVerdict::Challenge { stale: false };
        }
        let ha1 = alg.hex(format!("{user}:{realm}:{pass}").as_bytes());
        let ha2 = alg.hex(format!("{method}:{target}").as_bytes());
        let expected =
            alg.hex(format!("{ha1}:{nonce}:{}:{}:auth:{ha2}", get("nc"), get("cnonce")).as_bytes());
        if expected != get("response") {
            return DigestVerdict::Challenge { stale: false };
        }
        self.nonces.insert(nonce.to_string(), nc);
        if stale_once && !self.stale_sent {
            self.stale_sent = true;
            self.nonces.remove(nonce);
            return DigestVerdict::Challenge { stale: true };
        }
        DigestVerdict::Ok
    }
}

/// Computes a Digest `Authorization` header value, for self-tests and for
/// conformance scenarios that check a server answer by hand.
///
/// ```
/// use hawser_testkit::{digest_authorization, DigestAlgorithm};
/// let v = digest_authorization("u", "p", "r", "n", "GET", "/x", 1, "c", DigestAlgorithm::Md5);
/// assert!(v.starts_with("Digest username=\"u\""));
/// assert!(v.contains("nc=00000001"));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn digest_authorization(
    user: &str,
    pass: &str,
    realm: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
    alg: DigestAlgorithm,
) -> String {
    let ha1 = alg.hex(format!("{user}:{realm}:{pass}").as_bytes());
    let ha2 = alg.hex(format!("{method}:{uri}").as_bytes());
    let nc = format!("{nc:08x}");
    let response = alg.hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes());
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm={}, qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{response}\"",
        alg.token()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_and_bare_params() {
        let p = parse_digest_params(r#"Digest realm="a, b", nonce="x\"y", qop=auth, nc=00000001"#)
            .expect("parses");
        assert_eq!(p["realm"], "a, b");
        assert_eq!(p["nonce"], "x\"y");
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["nc"], "00000001");
    }

    #[test]
    fn rejects_other_schemes_and_truncated_quotes() {
        assert!(parse_digest_params("Basic abc").is_none());
        assert!(parse_digest_params("Digest realm=\"open").is_none());
    }

    #[test]
    fn rfc7616_md5_vector() {
        // RFC 7616 section 3.9.1 (MD5 variant of the example).
        let v = digest_authorization(
            "Mufasa",
            "Circle of Life",
            "http-auth@example.org",
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "GET",
            "/dir/index.html",
            1,
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            DigestAlgorithm::Md5,
        );
        assert!(
            v.contains("response=\"8ca523f5e9506fed4657c9700eebdbec\""),
            "{v}"
        );
    }

    #[test]
    fn rfc7616_sha256_vector() {
        let v = digest_authorization(
            "Mufasa",
            "Circle of Life",
            "http-auth@example.org",
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "GET",
            "/dir/index.html",
            1,
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            DigestAlgorithm::Sha256,
        );
        assert!(
            v.contains(
                "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
            ),
            "{v}"
        );
    }

    #[test]
    fn basic_check() {
        assert!(basic_ok(Some("Basic dTpw"), "u", "p"));
        assert!(!basic_ok(Some("Basic dTpx"), "u", "p"));
        assert!(!basic_ok(Some("Bearer dTpw"), "u", "p"));
        assert!(!basic_ok(None, "u", "p"));
    }
}
