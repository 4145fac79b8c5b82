//! Turning rustls errors into hawser errors a person understands.

use std::time::{Duration, SystemTime};

use rustls::{AlertDescription, CertificateError};
use rustls_pki_types::UnixTime;

use crate::{Error, ErrorKind};

/// Map a rustls error seen while talking to `server` to a hawser error:
/// certificate problems are [`ErrorKind::Certificate`], everything else is
/// [`ErrorKind::Tls`]. The rustls error stays reachable as the source.
pub(super) fn from_rustls(err: rustls::Error, server: &str) -> Error {
    let (kind, message) = match &err {
        rustls::Error::InvalidCertificate(cert) => {
            (ErrorKind::Certificate, certificate_message(cert, server))
        }
        rustls::Error::NoCertificatesPresented => (
            ErrorKind::Certificate,
            format!("{server} presented no certificate"),
        ),
        rustls::Error::AlertReceived(alert) => {
            let hint = match alert {
                AlertDescription::CertificateRequired => {
                    " (the server requires a client certificate)"
                }
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateRevoked => {
                    " (the server rejected the client certificate)"
                }
                _ => "",
            };
            (
                ErrorKind::Tls,
                format!("TLS with {server} failed: the server sent the alert {alert:?}{hint}"),
            )
        }
        rustls::Error::FailedToGetCurrentTime => (
            ErrorKind::Tls,
            format!(
                "TLS with {server} failed: the time provider gave no current time to check the certificate against"
            ),
        ),
        other => (ErrorKind::Tls, format!("TLS with {server} failed: {other}")),
    };
    Error::new(kind, message).with_source(err)
}

fn certificate_message(err: &CertificateError, server: &str) -> String {
    match err {
        CertificateError::UnknownIssuer => format!(
            "certificate for {server} was not issued by a trusted certificate authority (unknown issuer)"
        ),
        CertificateError::NotValidForName => {
            format!("the certificate presented is not valid for {server}")
        }
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let names: Vec<&str> = presented.iter().map(|n| readable_name(n)).collect();
            if names.is_empty() {
                format!(
                    "the certificate presented names no host, so it is not valid for {}",
                    expected.to_str()
                )
            } else {
                format!(
                    "certificate for {} is not valid for {}",
                    names.join(", "),
                    expected.to_str()
                )
            }
        }
        CertificateError::Expired => format!("certificate for {server} has expired"),
        CertificateError::ExpiredContext { time, not_after } => format!(
            "certificate for {server} expired at {} (checked at {})",
            http_date(*not_after),
            http_date(*time)
        ),
        CertificateError::NotValidYet => format!("certificate for {server} is not valid yet"),
        CertificateError::NotValidYetContext { time, not_before } => format!(
            "certificate for {server} is not valid until {} (checked at {})",
            http_date(*not_before),
            http_date(*time)
        ),
        CertificateError::BadSignature => {
            format!("certificate for {server} has an invalid signature")
        }
        CertificateError::BadEncoding => format!("certificate for {server} is malformed"),
        CertificateError::Revoked => format!("certificate for {server} has been revoked"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            format!("certificate for {server} is not meant for TLS servers")
        }
        other => format!("certificate for {server} was rejected: {other}"),
    }
}

/// webpki reports names as `DnsName("x")` / `IpAddress(1.2.3.4)`; show just the name.
fn readable_name(name: &str) -> &str {
    name.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(name)
}

/// An instant as an RFC 7231 date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(t: UnixTime) -> String {
    match SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(t.as_secs())) {
        Some(at) => httpdate::fmt_http_date(at),
        None => format!("{}s after the Unix epoch", t.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_name_strips_webpki_debug_wrappers() {
        assert_eq!(readable_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(readable_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(readable_name("DirectoryName"), "DirectoryName");
    }

    #[test]
    fn expired_message_names_host_and_dates() {
        let err = rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(86_400 * 2)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(86_400)),
        });
        let e = from_rustls(err, "example.com");
        assert_eq!(e.kind(), ErrorKind::Certificate);
        assert_eq!(
            e.to_string(),
            "certificate for example.com expired at Fri, 02 Jan 1970 00:00:00 GMT (checked at Sat, 03 Jan 1970 00:00:00 GMT)"
        );
    }

    #[test]
    fn non_certificate_errors_are_tls() {
        let e = from_rustls(rustls::Error::DecryptError, "example.com");
        assert_eq!(e.kind(), ErrorKind::Tls);
        assert!(e.to_string().contains("example.com"), "{e}");
    }
}
