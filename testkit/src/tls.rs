//! A test certificate authority generated at run time, and server
//! certificates that are good, for the wrong host, expired, or signed by a
//! CA the client does not know.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Which server certificate a TLS test server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVariant {
    /// Valid, signed by the test CA, for `localhost`, `127.0.0.1` and `::1`.
    Good,
    /// Signed by the test CA but only for `wrong.host.invalid`.
    WrongHost,
    /// Signed by the test CA, right names, validity ended in 2001.
    Expired,
    /// Right names and dates, signed by another CA the client was not given.
    UnknownIssuer,
}

/// Errors while generating certificates or building the rustls config.
#[derive(Debug)]
pub struct TlsSetupError(pub String);

impl std::fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "test TLS setup failed: {}", self.0)
    }
}

impl std::error::Error for TlsSetupError {}

fn err(e: impl std::fmt::Display) -> TlsSetupError {
    TlsSetupError(e.to_string())
}

/// A certificate authority made at run time for one test run.
///
/// ```
/// use hawser_testkit::{TestCa, TlsVariant};
/// let ca = TestCa::new().unwrap();
/// assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// let _cfg = ca.server_config(TlsVariant::Good).unwrap();
/// ```
pub struct TestCa {
    cert: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// Generates a fresh CA key and self-signed CA certificate.
    pub fn new() -> Result<TestCa, TlsSetupError> {
        Self::named("hawser-testkit CA")
    }

    fn named(cn: &str) -> Result<TestCa, TlsSetupError> {
        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(3000, 1, 1);
        let cert = params.self_signed(&key).map_err(err)?;
        let issuer = Issuer::new(params, key);
        Ok(TestCa { cert, issuer })
    }

    /// The CA certificate as PEM, for the client's trust store.
    pub fn ca_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate as DER.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// Issues a leaf certificate and returns (chain, key).
    fn leaf(
        &self,
        names: &[&str],
        expired: bool,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsSetupError> {
        let key = KeyPair::generate().map_err(err)?;
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .map_err(err)?;
        params.distinguished_name.push(DnType::CommonName, names[0]);
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        } else {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2999, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer).map_err(err)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((vec![cert.der().clone()], key_der))
    }

    /// A rustls server configuration presenting a certificate of `variant`.
    pub fn server_config(&self, variant: TlsVariant) -> Result<Arc<ServerConfig>, TlsSetupError> {
        let good = ["localhost", "127.0.0.1", "::1"];
        let (chain, key) = match variant {
            TlsVariant::Good => self.leaf(&good, false)?,
            TlsVariant::WrongHost => self.leaf(&["wrong.host.invalid"], false)?,
            TlsVariant::Expired => self.leaf(&good, true)?,
            TlsVariant::UnknownIssuer => {
                TestCa::named("hawser-testkit unknown CA")?.leaf(&good, false)?
            }
        };
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(err)?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(err)?;
        Ok(Arc::new(config))
    }

    /// A rustls client configuration trusting only this CA (for self-tests).
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der()).map_err(err)?;
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Arc::new(config))
    }
}
