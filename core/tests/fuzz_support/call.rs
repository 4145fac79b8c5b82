//! The whole-call fuzz entry point, shared by the cargo-fuzz target
//! `fuzz/fuzz_targets/call.rs` and the stable corpus replay
//! (`core/tests/call_fuzz_corpus.rs`). Not a stable API.
//!
//! The fuzz input is a little op script. Its first four bytes choose the
//! request and the session settings; every later byte answers one
//! [`Output`] the way a driver could (connected or refused, a partial
//! write, `n` server bytes taken from the script itself, EOF, a reset, a
//! timer firing, a partial consume, ...). When the script runs out, the
//! driver gives ending answers (write all, EOF, refuse, consume all), so
//! every run must end.
//!
//! [`call`] panics, which is how a fuzzer reports a finding, when the core
//! panics, when the loop runs longer than the script can justify, when a
//! buffer the core lends or hands out grows past its bound, or when the
//! call breaks its contract (two heads, a `Done` that does not stay done).

use std::io;
use std::time::{Duration, Instant, SystemTime};

use http::Method;

use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
use hawser_core::deadline::Timeouts;
use hawser_core::redirect::RedirectPolicy;
use hawser_core::request::{Body, Request};
use hawser_core::retry::Retry;

/// Driver steps allowed per script byte, plus a fixed allowance for the
/// ending answers. Each step either uses a script byte, or is an ending
/// answer; ending answers make progress (EOF ends an attempt, refusals use
/// retries, waits move the clock toward the deadline).
const STEPS_PER_BYTE: usize = 8;
const ENDING_STEPS: usize = 20_000;
/// Largest buffer the call may lend or hand out.
const BUFFER_BOUND: usize = 1 << 20;

struct Script<'a> {
    data: &'a [u8],
}

impl Script<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
}

/// Builds the request and agent from the script's first bytes.
// Field by field, as code outside the crate must (`Config` is non_exhaustive).
#[allow(clippy::field_reassign_with_default)]
fn setup(s: &mut Script<'_>) -> Option<(Agent<u32>, Request, CallOptions, Vec<u8>)> {
    let kind = s.byte().unwrap_or(0);
    let flags = s.byte().unwrap_or(0);
    let limits = s.byte().unwrap_or(0);
    let seed = s.byte().unwrap_or(0);

    let mut cfg = Config::default();
    cfg.retry = Retry::new(u32::from(flags & 3)).backoff_factor(Duration::from_millis(100));
    cfg.redirect = match (flags >> 2) & 3 {
        0 => RedirectPolicy::none(),
        n => RedirectPolicy::limited(u32::from(n)),
    };
    cfg.cookie_store = flags & 0x10 != 0;
    cfg.expect_continue_min = (flags & 0x20 != 0).then_some(1);
    cfg.expect_continue_wait = Duration::from_millis(200);
    cfg.max_decompressed = 64 * 1024;
    cfg.max_drain = 1024;
    cfg.limits.max_head_bytes = 256 + usize::from(limits) * 64;
    cfg.limits.max_headers = 8 + usize::from(limits & 31);
    cfg.timeouts = Timeouts::default()
        .with_connect(Duration::from_secs(1))
        .ok()?
        .with_read(Duration::from_secs(2))
        .ok()?
        .with_deadline(Duration::from_secs(30))
        .ok()?;
    if flags & 0x40 != 0 {
        cfg.proxies = hawser_core::proxy::ProxyConfig::new()
            .with_http(hawser_core::proxy::Proxy::parse("http://u:p@proxy.test:3128").ok()?);
    }
    if flags & 0x80 != 0 {
        cfg.auth = Some(if kind & 0x80 != 0 {
            hawser_core::auth::Auth::digest("user", "pass")
        } else {
            hawser_core::auth::Auth::basic("user", "pass")
        });
    }

    // Bit 6 of the first byte: an https origin, so server bytes reach the
    // TLS record layer (in builds with hawser-core's `rustls` feature).
    let url = if kind & 0x40 != 0 {
        "https://h.test/a/b?q=1"
    } else {
        "http://h.test/a/b?q=1"
    };
    let (method, body) = match kind & 7 {
        0 => (Method::GET, Body::empty()),
        1 => (Method::HEAD, Body::empty()),
        2 => (Method::POST, Body::from("form=data")),
        3 => (Method::PUT, Body::stream(None)),
        4 => (Method::PUT, Body::stream(Some(6))),
        5 => (Method::DELETE, Body::empty()),
        6 => (Method::OPTIONS, Body::from(vec![b'x'; 100])),
        _ => (Method::PATCH, Body::empty()),
    };
    let req = Request::builder(method, url).body(body).build().ok()?;
    let opts = CallOptions {
        seed: u64::from(seed),
        ..Default::default()
    };
    // The streamed body pieces, when the request streams.
    let stream = b"abcdef".to_vec();
    Some((Agent::new(cfg).ok()?, req, opts, stream))
}

/// How a scripted call ended (so the corpus replay can check that seeds
/// reach the paths they were written for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The script's settings could not make a call.
    Setup,
    /// [`Output::Done`], after a head with this status and this many body bytes.
    Done {
        /// Status of the final head, if one was delivered.
        status: Option<u16>,
        /// Body bytes consumed.
        body: u64,
    },
    /// The call failed with this kind.
    Failed(hawser_core::ErrorKind),
}

/// Drive one whole call from the op script `data`, on a fake clock that
/// starts at `base` (the core reads no clock: callers pass `Instant::now()`);
/// panics on a finding.
pub fn call(data: &[u8], base: Instant) -> Ending {
    let mut s = Script { data };
    let Some((agent, req, opts, stream)) = setup(&mut s) else {
        return Ending::Setup;
    };
    let mut now = base;
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let Ok(mut call) = agent.start(req, opts, now, wall) else {
        return Ending::Setup;
    };
    // Head and in-memory body as one vectored write on about half the
    // inputs (a bit of the seed byte, the script's fourth).
    call.accept_vectored(data.get(3).is_some_and(|b| b & 0x40 != 0));
    let max_steps = data.len() * STEPS_PER_BYTE + ENDING_STEPS;
    // Connection attempts started and not yet reported, and transports.
    let mut attempts = Vec::new();
    let mut next_conn: u32 = 0;
    let v4: std::net::SocketAddr = ([127, 0, 0, 1], 80).into();
    let v6: std::net::SocketAddr = (std::net::Ipv6Addr::LOCALHOST, 80).into();
    let mut heads = 0;
    let mut status = None;
    let mut stream_pos = 0;
    let mut body_total: u64 = 0;
    let deadline = base + Duration::from_secs(30);

    for _ in 0..max_steps {
        // After the head, offer a buffer of our own for body bytes on about
        // half the polls (sizes vary with progress), so direct body reads
        // (`Output::ReceiveBody`) mix with reads through the core.
        let room = if heads == 1 && body_total.is_multiple_of(2) {
            1 + (body_total as usize * 7919) % 5000
        } else {
            0
        };
        call.offer_body_room(room);
        let out = match call.poll_output(now) {
            Ok(o) => o,
            Err(e) => {
                // Sticky: a failed call keeps failing, never panics.
                assert!(
                    call.poll_output(now).is_err(),
                    "a failed call came back to life"
                );
                return Ending::Failed(e.kind());
            }
        };
        let input = match out {
            Output::Resolve { until, .. } => match s.byte() {
                Some(b) if b & 0x0f == 0x0f => {
                    now = now.max(until);
                    Input::Timeout
                }
                Some(b) if b & 0x0f == 0x0e => {
                    Input::Failed(io::Error::from(io::ErrorKind::NotFound))
                }
                Some(b) if b & 1 == 1 => Input::Resolved(vec![v6, v4]),
                _ => Input::Resolved(vec![v4]),
            },
            Output::Connect { id, .. } => {
                attempts.push(id);
                continue;
            }
            Output::AwaitConnect { until } => {
                assert!(!attempts.is_empty(), "AwaitConnect with no attempt started");
                match s.byte() {
                    Some(b) if b % 4 == 3 => {
                        // Nothing finished in time: the stagger or the bound.
                        assert!(until >= now, "AwaitConnect until in the past");
                        now = now.max(until);
                        continue;
                    }
                    Some(b) if b % 4 == 2 => {
                        let id = attempts.remove(0);
                        let error = io::Error::from(io::ErrorKind::ConnectionRefused);
                        Input::ConnectFailed { id, error }
                    }
                    None => {
                        let id = attempts.remove(0);
                        let error = io::Error::from(io::ErrorKind::ConnectionRefused);
                        Input::ConnectFailed { id, error }
                    }
                    Some(_) => {
                        let Some(id) = attempts.pop() else {
                            panic!("AwaitConnect with no attempt started");
                        };
                        attempts.clear();
                        next_conn += 1;
                        Input::Connected {
                            id,
                            conn: next_conn,
                        }
                    }
                }
            }
            Output::Check { .. } => match s.byte() {
                Some(b) if b & 3 == 1 => Input::Eof,
                Some(b) if b & 3 == 2 => Input::Read(1),
                _ => Input::Quiet,
            },
            Output::Close(_) => continue,
            Output::AwaitSlot { until, .. } => {
                // A single call on a fresh agent never queues.
                panic!("a lone call waited for a pool slot until {until:?}");
            }
            Output::Transmit { data, until, .. } => {
                assert!(
                    data.len() <= BUFFER_BOUND,
                    "transmit of {} bytes",
                    data.len()
                );
                match s.byte() {
                    Some(0xff) => Input::Failed(io::Error::from(io::ErrorKind::BrokenPipe)),
                    Some(0xfe) => {
                        now = now.max(until);
                        Input::Timeout
                    }
                    Some(0xfd) => Input::from_write(Err(io::ErrorKind::Interrupted.into())),
                    Some(b) if b & 0x80 != 0 => {
                        Input::from_write(Ok(data.len().min(usize::from(b & 0x7f))))
                    }
                    _ => Input::Written(data.len()),
                }
            }
            Output::TransmitVectored { bufs, until, .. } => {
                let total = bufs[0].len() + bufs[1].len();
                assert!(!bufs[0].is_empty(), "a vectored write without a head");
                assert!(total <= 2 * BUFFER_BOUND, "transmit of {total} bytes");
                match s.byte() {
                    Some(0xff) => Input::Failed(io::Error::from(io::ErrorKind::BrokenPipe)),
                    Some(0xfe) => {
                        now = now.max(until);
                        Input::Timeout
                    }
                    Some(b) if b & 0x80 != 0 => {
                        // Partial: inside the head, at its end, or into the body.
                        Input::from_write(Ok(total.min(usize::from(b & 0x7f))))
                    }
                    _ => Input::Written(total),
                }
            }
            Output::Receive { until, buf, .. } => {
                assert!(until >= base, "a read deadline before the call started");
                assert!(
                    buf.len() <= BUFFER_BOUND,
                    "read buffer of {} bytes",
                    buf.len()
                );
                match s.byte() {
                    None => Input::Eof,
                    Some(b) => match b >> 6 {
                        0 | 1 => {
                            let n = usize::from(b & 0x7f) + 1;
                            let bytes = s.take(n);
                            if bytes.is_empty() {
                                Input::Eof
                            } else {
                                let n = bytes.len().min(buf.len());
                                buf[..n].copy_from_slice(&bytes[..n]);
                                Input::Read(n)
                            }
                        }
                        2 if b & 1 == 1 => {
                            // A timer that fires early must be a no-op.
                            Input::Timeout
                        }
                        2 => {
                            now = now.max(until);
                            Input::Timeout
                        }
                        _ if b & 1 == 0 => Input::Eof,
                        _ => Input::Failed(io::Error::from(io::ErrorKind::ConnectionReset)),
                    },
                }
            }
            Output::ReceiveBody { max, until, .. } => {
                assert!(max > 0 && max <= room, "asked {max} with {room} offered");
                assert!(until >= base, "a read deadline before the call started");
                assert_eq!(heads, 1, "a body read without a head");
                match s.byte() {
                    None => Input::Eof,
                    Some(b) => match b >> 6 {
                        0 | 1 => {
                            let bytes = s.take(usize::from(b & 0x7f) + 1);
                            if bytes.is_empty() {
                                Input::Eof
                            } else {
                                let n = bytes.len().min(max);
                                body_total += n as u64;
                                assert!(
                                    body_total <= 64 * 1024 + data.len() as u64,
                                    "more body than possible"
                                );
                                Input::Read(n)
                            }
                        }
                        2 if b & 1 == 1 => Input::Timeout,
                        2 => {
                            now = now.max(until);
                            Input::Timeout
                        }
                        _ if b & 1 == 0 => Input::Eof,
                        _ => Input::Failed(io::Error::from(io::ErrorKind::ConnectionReset)),
                    },
                }
            }
            Output::SendBody { max, .. } => {
                let left = &stream[stream_pos..];
                match s.byte() {
                    Some(b) if !left.is_empty() && b & 1 == 0 => {
                        let n = (usize::from(b >> 1) % left.len() + 1).min(max);
                        stream_pos += n;
                        Input::BodyData(&stream[stream_pos - n..stream_pos])
                    }
                    Some(b) if b & 3 == 3 => Input::BodyEnd,
                    _ if !left.is_empty() => {
                        stream_pos = stream.len();
                        Input::BodyData(left)
                    }
                    _ => Input::BodyEnd,
                }
            }
            Output::Sleep { until } => {
                assert!(until <= deadline, "a backoff past the deadline");
                // Sometimes wake early: the call must wait again, not act.
                match s.byte() {
                    Some(b) if b & 1 == 1 && until > now => {
                        now += (until - now) / 2;
                    }
                    _ => now = now.max(until),
                }
                continue;
            }
            Output::Head(h) => {
                status = Some(h.status.as_u16());
                heads += 1;
                assert_eq!(heads, 1, "two final heads");
                continue;
            }
            Output::Body(b) => {
                assert!(b.len() <= BUFFER_BOUND, "a body piece of {} bytes", b.len());
                assert_eq!(heads, 1, "body bytes without a head");
                let n = match s.byte() {
                    Some(x) if x & 0x80 != 0 => b.len().min(usize::from(x & 0x7f)),
                    _ => b.len(),
                };
                body_total += n as u64;
                assert!(
                    body_total <= 64 * 1024 + data.len() as u64,
                    "more body than possible"
                );
                call.consume(n);
                continue;
            }
            Output::Done => {
                assert!(
                    matches!(call.poll_output(now), Ok(Output::Done)),
                    "Done is not sticky"
                );
                return Ending::Done {
                    status,
                    body: body_total,
                };
            }
            // Output is non_exhaustive for users; the core's own outputs are all above.
            #[allow(unreachable_patterns)]
            _ => return Ending::Setup,
        };
        if let Err(e) = call.handle_input(input, now) {
            // Only misuse is returned here, and this driver answers every
            // output as documented: anything else is a contract break.
            panic!("handle_input refused a valid answer: {e:?}");
        }
        // A driver whose timer fires reports it; the clock never runs past the deadline by much.
        if s.data.is_empty() {
            now += Duration::from_millis(1);
        }
    }
    panic!("the call did not end within {max_steps} driver steps");
}
