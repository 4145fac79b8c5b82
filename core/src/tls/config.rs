//! Client TLS settings ([`TlsConfig`]) and the connector they build ([`TlsConnector`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use sha2::{Digest, Sha256};

use super::verify::NoVerification;
use crate::{Error, ErrorKind};

/// The only ALPN protocol hawser offers: it speaks HTTP/1.1 and nothing else.
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// The ring crypto provider, always chosen explicitly so that whatever
/// process-wide default another crate installed never changes hawser's TLS.
fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A [`TimeProvider`] that always answers the same instant.
///
/// Certificate validity is then checked against this time instead of the
/// system clock. Tests use it to make an otherwise valid certificate expired
/// (or not yet valid); programs use it to make a run reproducible.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use hawser_core::tls::{FixedTime, TimeProvider};
///
/// let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let fixed = FixedTime::new(t);
/// assert_eq!(fixed.current_time().map(|u| u.as_secs()), Some(1_700_000_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedTime(UnixTime);

impl FixedTime {
    /// The fixed instant `at`. A time before 1970 is clamped to 1970-01-01,
    /// which no certificate's validity period can contain either way.
    pub fn new(at: SystemTime) -> Self {
        let since_epoch = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        FixedTime(UnixTime::since_unix_epoch(since_epoch))
    }

    /// The fixed instant `secs` seconds after the Unix epoch.
    pub fn from_unix_secs(secs: u64) -> Self {
        FixedTime(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
    }
}

impl TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(self.0)
    }
}

/// Where certificate validity checks get "now" from.
#[derive(Clone)]
enum TimeSource {
    /// rustls' `DefaultTimeProvider` (the system clock, read inside rustls).
    System,
    Fixed(FixedTime),
    /// A caller's provider plus a process-unique number, because an
    /// arbitrary trait object cannot be compared with another one.
    Custom(Arc<dyn TimeProvider>, u64),
}

/// A client certificate chain and its private key.
struct ClientAuth {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for ClientAuth {
    fn clone(&self) -> Self {
        ClientAuth {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// Client TLS settings; [`build`](TlsConfig::build) turns them into a [`TlsConnector`].
///
/// Defaults: the Mozilla root certificates from the `webpki-roots` crate,
/// certificate verification on, no client certificate, ALPN `http/1.1`,
/// TLS 1.2 and 1.3 with rustls' safe defaults on the `ring` provider, and
/// rustls' system-clock time source for validity checks (see
/// [`fixed_time`](TlsConfig::fixed_time)).
///
/// Everything comes from the caller as bytes: this type never reads
/// `SSL_CERT_FILE`, `SSLKEYLOGFILE`, any other environment variable, the OS
/// trust store, or a file.
///
/// ```
/// use hawser_core::tls::TlsConfig;
///
/// # fn ca_pem() -> Vec<u8> {
/// #     let key = rcgen::KeyPair::generate().unwrap();
/// #     let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
/// #     p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
/// #     p.self_signed(&key).unwrap().pem().into_bytes()
/// # }
/// // Trust only a private CA, e.g. for an internal service.
/// let connector = TlsConfig::new()
///     .add_root_certificate_pem(&ca_pem())?
///     .only_custom_roots()
///     .build()?;
/// assert!(connector.verifies_certificates());
/// # Ok::<(), hawser_core::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    webpki_roots: bool,
    custom_roots: Vec<CertificateDer<'static>>,
    client_auth: Option<ClientAuth>,
    verify: bool,
    time: TimeSource,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsConfig {
    /// The default settings: webpki roots, verification on, no client certificate.
    ///
    /// ```
    /// let connector = hawser_core::tls::TlsConfig::new().build()?;
    /// assert!(connector.verifies_certificates());
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn new() -> Self {
        TlsConfig {
            webpki_roots: true,
            custom_roots: Vec::new(),
            client_auth: None,
            verify: true,
            time: TimeSource::System,
        }
    }

    /// Trust every CA certificate in `pem` (one or more `CERTIFICATE`
    /// sections), in addition to the webpki roots unless
    /// [`only_custom_roots`](TlsConfig::only_custom_roots) is set.
    ///
    /// Fails with [`ErrorKind::InvalidRequest`] if the PEM is malformed,
    /// holds no certificate, or a certificate cannot serve as a trust anchor.
    ///
    /// ```
    /// use hawser_core::{tls::TlsConfig, ErrorKind};
    /// let err = TlsConfig::new().add_root_certificate_pem(b"not pem").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// ```
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let certs = parse_pem_certs(pem, "CA certificate")?;
        for cert in certs {
            check_trust_anchor(&cert)?;
            self.custom_roots.push(cert);
        }
        Ok(self)
    }

    /// Trust one DER-encoded CA certificate, like
    /// [`add_root_certificate_pem`](TlsConfig::add_root_certificate_pem).
    ///
    /// ```
    /// use hawser_core::{tls::TlsConfig, ErrorKind};
    /// let err = TlsConfig::new().add_root_certificate_der(&[0x30, 0x03, 0x01]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// ```
    pub fn add_root_certificate_der(mut self, der: &[u8]) -> Result<Self, Error> {
        let cert = CertificateDer::from(der.to_vec());
        check_trust_anchor(&cert)?;
        self.custom_roots.push(cert);
        Ok(self)
    }

    /// Trust only the CA certificates added with `add_root_certificate_*`,
    /// not the webpki roots.
    pub fn only_custom_roots(mut self) -> Self {
        self.webpki_roots = false;
        self
    }

    /// Present a client certificate when the server asks for one.
    ///
    /// `chain_pem` holds the leaf certificate first, then any intermediates;
    /// `key_pem` holds the leaf's private key (PKCS#8, PKCS#1 or SEC1). The
    /// key must belong to the leaf certificate. Fails with
    /// [`ErrorKind::InvalidRequest`] otherwise, or if either PEM is malformed.
    /// The key is never printed by `Debug`.
    pub fn client_certificate_pem(
        mut self,
        chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, Error> {
        let chain = parse_pem_certs(chain_pem, "client certificate")?;
        // The PEM error may quote a line of the input, so it is not kept as
        // a source: it could carry key material into logs.
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                "invalid client private key: expected a PEM private key (PKCS#8, PKCS#1 or SEC1)",
            )
        })?;
        // Load it once now so a bad key or a key that does not match the
        // certificate is reported here, not at the first connection.
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &ring_provider()).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("client certificate or key rejected: {e}"),
            )
            .with_source(e)
        })?;
        self.client_auth = Some(ClientAuth { chain, key });
        Ok(self)
    }

    /// Check certificate validity periods against a fixed instant instead
    /// of the system clock.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use hawser_core::tls::TlsConfig;
    /// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    /// let a = TlsConfig::new().fixed_time(at).build()?;
    /// let b = TlsConfig::new().build()?;
    /// assert_ne!(a.id(), b.id());
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn fixed_time(mut self, at: SystemTime) -> Self {
        self.time = TimeSource::Fixed(FixedTime::new(at));
        self
    }

    /// Take "now" for certificate validity checks from `provider`.
    ///
    /// Each call makes a connector identity of its own (see [`ConnectorId`]),
    /// because two providers cannot be compared.
    pub fn time_provider(mut self, provider: Arc<dyn TimeProvider>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        self.time = TimeSource::Custom(provider, NEXT.fetch_add(1, Ordering::Relaxed));
        self
    }

    /// **DANGER: accept ANY server certificate. For tests only.**
    ///
    /// With this set, hawser does **not** check that the certificate was
    /// issued by a trusted CA, that it names the host you asked for, or that
    /// it is within its validity period. Anyone on the network path can then
    /// impersonate any server and read and alter all traffic. The handshake
    /// signature is still checked against the presented certificate, which
    /// protects nothing when the certificate itself is not verified.
    ///
    /// Use it for a test server with a throw-away certificate; for a private
    /// CA use [`add_root_certificate_pem`](TlsConfig::add_root_certificate_pem)
    /// instead.
    pub fn dangerous_disable_certificate_verification(mut self) -> Self {
        self.verify = false;
        self
    }

    /// Build the rustls configuration and wrap it in a [`TlsConnector`].
    ///
    /// Fails with [`ErrorKind::InvalidRequest`] if verification is on but no
    /// root certificate is trusted at all.
    pub fn build(&self) -> Result<TlsConnector, Error> {
        let provider = ring_provider();
        let builder = match &self.time {
            TimeSource::System => ClientConfig::builder_with_provider(provider.clone()),
            TimeSource::Fixed(t) => {
                ClientConfig::builder_with_details(provider.clone(), Arc::new(*t))
            }
            TimeSource::Custom(p, _) => {
                ClientConfig::builder_with_details(provider.clone(), p.clone())
            }
        };
        let builder = builder
            .with_safe_default_protocol_versions()
            .map_err(config_error)?;

        let builder = if self.verify {
            let mut roots = RootCertStore::empty();
            if self.webpki_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            for cert in &self.custom_roots {
                roots.add(cert.clone()).map_err(config_error)?;
            }
            if roots.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    "no root certificates to verify servers with: add one or keep the webpki roots",
                ));
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification::new(&provider)))
        };

        let mut config = match &self.client_auth {
            Some(auth) => builder
                .with_client_auth_cert(auth.chain.clone(), auth.key.clone_key())
                .map_err(config_error)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];

        Ok(TlsConnector {
            config: Arc::new(config),
            id: self.fingerprint(),
            verify: self.verify,
        })
    }

    /// A digest of every setting that changes what a connection may be used
    /// for. The client's private key is not hashed: rustls has already
    /// checked that it belongs to the leaf certificate, which is hashed.
    fn fingerprint(&self) -> ConnectorId {
        let mut h = Sha256::new();
        let mut field = |tag: &[u8], bytes: &[u8]| {
            h.update((tag.len() as u64).to_be_bytes());
            h.update(tag);
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(b"hawser-tls", b"v1 ring safe-default-versions");
        field(b"alpn", ALPN_HTTP11);
        field(b"verify", &[u8::from(self.verify)]);
        field(b"webpki-roots", &[u8::from(self.webpki_roots)]);
        for cert in &self.custom_roots {
            field(b"root", cert.as_ref());
        }
        if let Some(auth) = &self.client_auth {
            for cert in &auth.chain {
                field(b"client-cert", cert.as_ref());
            }
        }
        match &self.time {
            TimeSource::System => field(b"time", b"system"),
            TimeSource::Fixed(t) => field(b"time-fixed", &t.0.as_secs().to_be_bytes()),
            TimeSource::Custom(_, n) => field(b"time-custom", &n.to_be_bytes()),
        }
        ConnectorId(h.finalize().into())
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = match &self.time {
            TimeSource::System => "system clock (inside rustls)".to_string(),
            TimeSource::Fixed(t) => format!("fixed at {}s after the Unix epoch", t.0.as_secs()),
            TimeSource::Custom(p, _) => format!("custom: {p:?}"),
        };
        f.debug_struct("TlsConfig")
            .field("webpki_roots", &self.webpki_roots)
            .field("custom_roots", &self.custom_roots.len())
            .field(
                "client_certificate",
                &self
                    .client_auth
                    .as_ref()
                    .map(|a| ClientAuthSummary(a.chain.len())),
            )
            .field("verify_certificates", &self.verify)
            .field("time", &time)
            .finish()
    }
}

/// Prints a client certificate's shape without any key material.
struct ClientAuthSummary(usize);

impl fmt::Debug for ClientAuthSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} certificate(s), private key <redacted>", self.0)
    }
}

fn parse_pem_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        let cert = item.map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("invalid {what} PEM: {e}"),
            )
            .with_source(e)
        })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid {what} PEM: no CERTIFICATE section found"),
        ));
    }
    Ok(certs)
}

fn check_trust_anchor(cert: &CertificateDer<'static>) -> Result<(), Error> {
    RootCertStore::empty().add(cert.clone()).map_err(|e| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("CA certificate cannot be used as a trust anchor: {e}"),
        )
        .with_source(e)
    })
}

fn config_error(e: rustls::Error) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        format!("invalid TLS configuration: {e}"),
    )
    .with_source(e)
}

/// The identity of a connector's TLS settings, for connection-pool keys.
///
/// It is a SHA-256 digest over every setting that decides which servers a
/// connection may talk to and as whom: the webpki-roots switch, each custom
/// root certificate, the client certificate chain, whether verification is
/// on, the ALPN list, and the time source. So two connectors built from
/// equal settings share an id (and may share pooled connections), and
/// connectors with different settings never do. A custom
/// [`TimeProvider`](TlsConfig::time_provider) always yields a new id,
/// because two providers cannot be compared. No key material is hashed.
///
/// ```
/// use hawser_core::tls::TlsConfig;
/// let a = TlsConfig::new().build()?;
/// let b = TlsConfig::new().build()?;
/// let c = TlsConfig::new().dangerous_disable_certificate_verification().build()?;
/// assert_eq!(a.id(), b.id());
/// assert_ne!(a.id(), c.id());
/// # Ok::<(), hawser_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectorId([u8; 32]);

impl ConnectorId {
    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for ConnectorId {
    /// The first 8 bytes in hex: enough to tell connectors apart in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ConnectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectorId({self})")
    }
}

/// Built TLS settings, ready to start [`TlsSession`](super::TlsSession)s.
///
/// Cloning is cheap (an `Arc`); clones share the rustls configuration,
/// including its TLS session-resumption cache. Put [`id`](TlsConnector::id)
/// into connection-pool keys.
///
/// ```
/// use hawser_core::tls::{TlsConfig, TlsSession};
/// let connector = TlsConfig::new().build()?;
/// let copy = connector.clone();
/// assert_eq!(copy.id(), connector.id());
/// let session = TlsSession::new(&copy, "example.com")?;
/// assert!(session.is_handshaking());
/// # Ok::<(), hawser_core::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    id: ConnectorId,
    verify: bool,
}

impl TlsConnector {
    /// The identity of these settings (see [`ConnectorId`]).
    pub fn id(&self) -> ConnectorId {
        self.id
    }

    /// False when built with
    /// [`dangerous_disable_certificate_verification`](TlsConfig::dangerous_disable_certificate_verification).
    pub fn verifies_certificates(&self) -> bool {
        self.verify
    }

    /// The rustls configuration underneath, for inspection.
    pub fn client_config(&self) -> &Arc<ClientConfig> {
        &self.config
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("id", &self.id)
            .field("verify_certificates", &self.verify)
            .finish_non_exhaustive()
    }
}
