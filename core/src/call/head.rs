//! The final response head a call delivers, and the redirects behind it.

use http::{HeaderMap, Method, StatusCode, Version};
use url::Url;

use crate::{Error, ErrorKind};

/// A final response head, with what the call learnt on the way.
#[derive(Debug, Clone)]
pub struct Head {
    /// The status code.
    pub status: StatusCode,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The headers (when the body is decoded, `Content-Encoding` and
    /// `Content-Length` are removed, as they no longer describe it).
    pub headers: HeaderMap,
    /// The final URL, after redirects.
    pub url: Url,
    /// The responses that were followed to get here (redirects), oldest first.
    pub history: Vec<HistoryItem>,
    /// The server's reason phrase when it is not the canonical one (see
    /// [`Head::reason`]).
    pub reason_phrase: Option<String>,
}

impl Head {
    /// The reason phrase: the server's (`NOT FOUND`), or the status's
    /// canonical one when the server sent that or none.
    ///
    /// ```
    /// # let mut r = hawser_core::call::Head {
    /// #     status: http::StatusCode::NOT_FOUND, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/x").unwrap(),
    /// #     history: Vec::new(), reason_phrase: None };
    /// assert_eq!(r.reason(), "Not Found");
    /// r.reason_phrase = Some("NOT FOUND".into());
    /// assert_eq!(r.reason(), "NOT FOUND");
    /// ```
    pub fn reason(&self) -> &str {
        match &self.reason_phrase {
            Some(r) => r,
            None => self.status.canonical_reason().unwrap_or(""),
        }
    }

    /// The first value of header `name` as text, if it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Content-Length`, if present (absent when hawser decodes the body).
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    }

    /// For a 4xx or 5xx status, the error backends return from
    /// `error_for_status()`, worded like requests' `raise_for_status` (with
    /// the server's reason phrase, as requests does).
    ///
    /// ```
    /// # let mut r = hawser_core::call::Head {
    /// #     status: http::StatusCode::NOT_FOUND, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/x").unwrap(),
    /// #     history: Vec::new(), reason_phrase: None };
    /// let e = r.status_error().unwrap();
    /// assert_eq!(e.to_string(), "404 Client Error: Not Found for url: http://h.test/x");
    /// r.status = http::StatusCode::OK;
    /// assert!(r.status_error().is_none());
    /// ```
    pub fn status_error(&self) -> Option<Error> {
        let class = match self.status.as_u16() {
            400..=499 => "Client",
            500..=599 => "Server",
            _ => return None,
        };
        Some(
            Error::new(
                ErrorKind::Status,
                format!(
                    "{} {class} Error: {} for url: {}",
                    self.status.as_u16(),
                    self.reason(),
                    self.url
                ),
            )
            .with_head(self.clone()),
        )
    }

    /// Decode a body as text, like reqwest: the `charset` parameter of
    /// `Content-Type` (parsed as a media type, quoted or not, any case) names
    /// the encoding, decoded with `encoding_rs` by its WHATWG label
    /// (`iso-8859-1` and `latin1` are windows-1252, as in browsers); without
    /// one, or with an unknown one, UTF-8. Invalid bytes become U+FFFD; a
    /// byte-order mark wins over the label.
    ///
    /// ```
    /// # let mut r = hawser_core::call::Head {
    /// #     status: http::StatusCode::OK, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/").unwrap(),
    /// #     history: Vec::new(), reason_phrase: None };
    /// r.headers.insert("content-type", "text/plain; charset=\"ISO-8859-1\"".parse().unwrap());
    /// assert_eq!(r.decode_text(vec![0x63, 0x61, 0x66, 0xe9]), "café");
    /// r.headers.insert("content-type", "text/html; Charset=windows-1252".parse().unwrap());
    /// assert_eq!(r.decode_text(vec![0x93, 0x68, 0x69, 0x94]), "\u{201c}hi\u{201d}");
    /// r.headers.insert("content-type", "text/plain; charset=shift_jis".parse().unwrap());
    /// assert_eq!(r.decode_text(vec![0x82, 0xa0]), "あ");
    /// r.headers.remove("content-type");
    /// assert_eq!(r.decode_text("ok ✓".as_bytes().to_vec()), "ok ✓");
    /// ```
    pub fn decode_text(&self, body: Vec<u8>) -> String {
        let encoding = self
            .header("content-type")
            .and_then(|ct| ct.parse::<mime::Mime>().ok())
            .and_then(|m| {
                let label = m.get_param(mime::CHARSET)?;
                encoding_rs::Encoding::for_label(label.as_str().as_bytes())
            })
            .unwrap_or(encoding_rs::UTF_8);
        if encoding == encoding_rs::UTF_8 {
            // The common case without a copy when the bytes are valid.
            return match String::from_utf8(body) {
                Ok(s) => s.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(s),
                Err(e) => encoding_rs::UTF_8.decode(e.as_bytes()).0.into_owned(),
            };
        }
        encoding.decode(&body).0.into_owned()
    }
}

/// A response that was followed (a redirect) on the way to the final one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    /// Its status.
    pub status: StatusCode,
    /// The URL that answered it.
    pub url: Url,
    /// The method that was sent.
    pub method: Method,
}
