//! A whole call over real TLS, driven by an op script: the fuzz entry point
//! shared by the cargo-fuzz target `fuzz/fuzz_targets/call_tls.rs` and the
//! stable corpus replay (`core/tests/call_fuzz_corpus.rs`). Not a stable API.
//!
//! The server is a rustls `ServerConnection` with an rcgen certificate the
//! client trusts, so handshakes complete and the script reaches HTTP inside
//! TLS: its bytes choose the plaintext responses (whatever bytes follow,
//! after each request head the server reads), how the ciphertext is cut
//! into reads, when a record byte is flipped (a corrupt or truncated
//! record), when the peer closes, and timer firings. It panics (a finding)
//! when the core panics, loops, hands out two heads, or comes back to life
//! after a failure.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
use hawser_core::request::Request;
use hawser_core::retry::Retry;
use hawser_core::tls::TlsConfig;

/// The server's config and the PEM of the CA the client trusts, made once.
struct Pki {
    server: Arc<rustls::ServerConfig>,
    ca_pem: String,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("CA");
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let ca = ca_cert;
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf = rcgen::CertificateParams::new(vec!["h.test".to_string()])
            .expect("leaf params")
            .signed_by(&key, &issuer)
            .expect("leaf");
        let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key_der)
            .expect("server config");
        Pki {
            server: Arc::new(server),
            ca_pem: ca.pem(),
        }
    })
}

struct Script<'a> {
    data: &'a [u8],
}

impl<'a> Script<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }
}

/// One server side connection.
struct Peer {
    tls: rustls::ServerConnection,
    /// Plaintext request bytes not yet answered.
    request: Vec<u8>,
    /// Ciphertext waiting to be read by the client.
    out: VecDeque<u8>,
    closed: bool,
}

impl Peer {
    fn new() -> Peer {
        let mut tls = rustls::ServerConnection::new(pki().server.clone()).expect("server conn");
        tls.set_buffer_limit(None);
        Peer {
            tls,
            request: Vec::new(),
            out: VecDeque::new(),
            closed: false,
        }
    }

    fn flush(&mut self) {
        let mut v = Vec::new();
        while self.tls.wants_write() {
            if self.tls.write_tls(&mut v).is_err() {
                break;
            }
        }
        self.out.extend(v);
    }
}

/// Drive one whole call over TLS from the op script `data`, on a fake clock
/// starting at `base`; panics on a finding. Returns the final status when
/// the call ended with `Done`.
pub fn call_tls(data: &[u8], base: Instant) -> Option<u16> {
    let mut s = Script { data };
    let flags = s.byte().unwrap_or(0);
    let mut cfg = Config::default();
    cfg.retry = Retry::new(u32::from(flags & 3));
    cfg.max_drain = 1024;
    cfg.max_decompressed = 64 * 1024;
    cfg.tls = TlsConfig::new()
        .add_root_certificate_pem(pki().ca_pem.as_bytes())
        .expect("CA")
        .only_custom_roots()
        .fixed_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .build()
        .expect("tls config");
    let Ok(agent) = Agent::<usize>::new(cfg) else {
        return None;
    };
    let method = if flags & 4 != 0 { "HEAD" } else { "GET" };
    let Ok(req) = Request::builder(method.parse().expect("method"), "https://h.test/x").build()
    else {
        return None;
    };
    let opts = CallOptions {
        seed: u64::from(flags),
        ..Default::default()
    };
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let Ok(mut call) = agent.start(req, opts, base, wall) else {
        return None;
    };
    let mut status = None;
    let mut now = base;
    let mut peers: Vec<Peer> = Vec::new();
    let mut attempt = None;
    let mut heads = 0;
    let max_steps = data.len() * 16 + 10_000;
    for _ in 0..max_steps {
        let out = match call.poll_output(now) {
            Ok(o) => o,
            Err(_) => {
                assert!(
                    call.poll_output(now).is_err(),
                    "a failed call came back to life"
                );
                return None;
            }
        };
        let input = match out {
            Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 443).into()]),
            Output::Connect { id, .. } => {
                attempt = Some(id);
                continue;
            }
            Output::AwaitConnect { .. } => {
                let id = attempt.take().expect("an attempt");
                peers.push(Peer::new());
                Input::Connected {
                    id,
                    conn: peers.len() - 1,
                }
            }
            Output::Check { conn } => match peers[*conn].closed {
                true => Input::Eof,
                false => Input::Quiet,
            },
            Output::Transmit { conn, data, .. } => {
                let p = &mut peers[*conn];
                let mut rd = data;
                if p.tls.read_tls(&mut rd).is_err() || p.tls.process_new_packets().is_err() {
                    p.flush();
                    p.closed = true;
                } else {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = p.tls.reader().read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        p.request.extend_from_slice(&buf[..n]);
                    }
                    // After each request head, the script's next bytes are
                    // the answer (as plaintext, encrypted by the server).
                    while let Some(end) = p.request.windows(4).position(|w| w == b"\r\n\r\n") {
                        p.request.drain(..end + 4);
                        let n = usize::from(s.byte().unwrap_or(0)) * 2;
                        let answer = s.take(n);
                        let _ = p.tls.writer().write_all(answer);
                        if s.byte().is_some_and(|b| b & 7 == 7) {
                            p.tls.send_close_notify();
                        }
                    }
                    p.flush();
                }
                Input::Written(data.len() - rd.len().min(data.len()))
            }
            Output::Receive { conn, buf, until } => {
                let p = &mut peers[*conn];
                if p.out.is_empty() {
                    if p.closed || s.byte().is_none_or(|b| b & 1 == 1) {
                        Input::Eof
                    } else {
                        now = now.max(until);
                        Input::Timeout
                    }
                } else {
                    let op = s.byte().unwrap_or(0);
                    let k = match op >> 6 {
                        0 => p.out.len(),
                        1 => 1,
                        _ => usize::from(op & 0x3f) + 1,
                    };
                    let n = k.min(p.out.len()).min(buf.len());
                    for (dst, src) in buf.iter_mut().zip(p.out.drain(..n)) {
                        *dst = src;
                    }
                    if op == 0xff && n > 0 {
                        buf[n - 1] ^= 0x5a; // a corrupt record
                    }
                    Input::Read(n)
                }
            }
            Output::SendBody { .. } => Input::BodyEnd,
            Output::Sleep { until } => {
                now = now.max(until);
                continue;
            }
            Output::Close(_) => continue,
            Output::AwaitSlot { .. } => panic!("a lone call waited for a pool slot"),
            Output::Head(h) => {
                status = Some(h.status.as_u16());
                heads += 1;
                assert_eq!(heads, 1, "two final heads");
                continue;
            }
            Output::Body(b) => {
                assert!(b.len() <= 1 << 20, "a body piece of {} bytes", b.len());
                let n = b.len();
                call.consume(n);
                continue;
            }
            Output::Done => {
                assert!(
                    matches!(call.poll_output(now), Ok(Output::Done)),
                    "Done is not sticky"
                );
                return status;
            }
            _ => return None,
        };
        if let Err(e) = call.handle_input(input, now) {
            panic!("handle_input refused a valid answer: {e:?}");
        }
        if s.data.is_empty() {
            now += Duration::from_millis(5);
        }
    }
    panic!("the call did not end within {max_steps} driver steps");
}
