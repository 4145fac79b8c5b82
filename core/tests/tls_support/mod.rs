//! Shared helpers for the TLS integration tests: a run-time PKI made with
//! rcgen, an in-process rustls server, and a pump that moves bytes between
//! client and server through memory (no sockets).
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;

use hawser_core::Error;
use hawser_core::tls::{TlsConfig, TlsConnector, TlsRead, TlsSession};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

/// A certificate authority that can issue leaves.
pub struct Ca {
    pub cert: Certificate,
    pub issuer: Issuer<'static, KeyPair>,
}

/// An issued certificate with its key.
pub struct Leaf {
    pub cert: Certificate,
    pub key: KeyPair,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

impl Ca {
    /// A self-signed CA; distinct names so two CAs never look alike.
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("generate CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name = dn(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("self-sign CA");
        let issuer = Issuer::new(params, key);
        Ca { cert, issuer }
    }

    pub fn pem(&self) -> Vec<u8> {
        self.cert.pem().into_bytes()
    }

    pub fn der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// A leaf for `names` (DNS names or IP addresses), valid 1975..4096.
    pub fn issue(&self, names: &[&str]) -> Leaf {
        self.issue_with(names, |_| {})
    }

    /// A leaf for `names` valid between the given years (Jan 1st).
    pub fn issue_valid(&self, names: &[&str], from_year: i32, to_year: i32) -> Leaf {
        self.issue_with(names, |p| {
            p.not_before = date_time_ymd(from_year, 1, 1);
            p.not_after = date_time_ymd(to_year, 1, 1);
        })
    }

    pub fn issue_with(&self, names: &[&str], edit: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let key = KeyPair::generate().expect("generate leaf key");
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name = dn("hawser test leaf");
        edit(&mut params);
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        Leaf { cert, key }
    }
}

impl Leaf {
    pub fn cert_pem(&self) -> Vec<u8> {
        self.cert.pem().into_bytes()
    }

    pub fn key_pem(&self) -> Vec<u8> {
        self.key.serialize_pem().into_bytes()
    }

    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        vec![self.cert.der().clone()]
    }

    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config presenting `chain` + `key`, offering ALPN http/1.1.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .expect("server versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server cert");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A server config that requires a client certificate issued by `client_ca`.
pub fn server_config_requiring_client_cert(leaf: &Leaf, client_ca: &Ca) -> Arc<ServerConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(client_ca.cert.der().clone()).expect("client CA");
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), ring())
        .build()
        .expect("client verifier");
    let config = ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .expect("server versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(leaf.chain(), leaf.private_key())
        .expect("server cert");
    Arc::new(config)
}

pub fn server_for(leaf: &Leaf) -> ServerConnection {
    ServerConnection::new(server_config(leaf.chain(), leaf.private_key()))
        .expect("server connection")
}

/// A connector trusting only `ca`.
pub fn connector_trusting(ca: &Ca) -> TlsConnector {
    TlsConfig::new()
        .add_root_certificate_pem(&ca.pem())
        .expect("CA PEM")
        .only_custom_roots()
        .build()
        .expect("build connector")
}

/// What happened on each side while pumping.
pub struct Pumped {
    pub client: Result<(), Error>,
    pub server: Result<(), rustls::Error>,
}

/// Drain everything the server wants to send.
pub fn server_output(server: &mut ServerConnection) -> Vec<u8> {
    let mut out = Vec::new();
    while server.wants_write() {
        match server.write_tls(&mut out) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

/// Give the server `bytes` and let it process them.
pub fn server_input(server: &mut ServerConnection, bytes: &[u8]) -> Result<(), rustls::Error> {
    let mut rest = bytes;
    while !rest.is_empty() {
        match server.read_tls(&mut rest) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => panic!("server read_tls: {e}"),
        }
        server.process_new_packets()?;
    }
    Ok(())
}

/// Feed `bytes` to the client, `chunk` bytes per call; every call must make
/// progress (partial input is never an error, and nothing is refused while
/// the plaintext is small).
pub fn client_input(client: &mut TlsSession, bytes: &[u8], chunk: usize) -> Result<(), Error> {
    for piece in bytes.chunks(chunk.max(1)) {
        let n = client.received(piece)?;
        assert_eq!(n, piece.len(), "client refused ciphertext it should accept");
    }
    Ok(())
}

/// Move bytes both ways until neither side has anything to say or one side
/// fails. Failures are recorded, and the failing side's last words (its
/// alert) are still delivered, as a real driver would.
pub fn pump_chunked(
    client: &mut TlsSession,
    server: &mut ServerConnection,
    chunk: usize,
) -> Pumped {
    let mut result = Pumped {
        client: Ok(()),
        server: Ok(()),
    };
    for _ in 0..64 {
        let mut to_server = Vec::new();
        client.transmit(&mut to_server);
        if !to_server.is_empty()
            && result.server.is_ok()
            && let Err(e) = server_input(server, &to_server)
        {
            result.server = Err(e);
        }
        let to_client = server_output(server);
        if !to_client.is_empty()
            && result.client.is_ok()
            && let Err(e) = client_input(client, &to_client, chunk)
        {
            result.client = Err(e);
        }
        if to_server.is_empty() && to_client.is_empty() {
            return result;
        }
    }
    panic!("pump did not settle: the client and server keep talking");
}

pub fn pump(client: &mut TlsSession, server: &mut ServerConnection) -> Pumped {
    pump_chunked(client, server, usize::MAX)
}

/// Read every plaintext byte the client has now.
pub fn client_plaintext(client: &mut TlsSession) -> (Vec<u8>, TlsRead) {
    let mut all = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match client.read_plaintext(&mut buf).expect("client read") {
            TlsRead::Data(n) => all.extend_from_slice(&buf[..n]),
            other => return (all, other),
        }
    }
}

/// Read every plaintext byte the server has now.
pub fn server_plaintext(server: &mut ServerConnection) -> Vec<u8> {
    use std::io::Read;
    let mut all = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match server.reader().read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(_) => return all,
        }
    }
}
