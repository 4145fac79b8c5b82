//! End-to-end loopback comparison of hawser with another Rust client, in
//! one run: `hawser-std` (one reused `Session`), `hawser-smol` (under
//! `smol::block_on`), `ureq` 3 (one reused `Agent`) and a raw baseline (a
//! hand-written GET over a std `TcpStream`, parsed with httparse) fetch
//! from the same in-process server ([`hawser_benches::loopback::Server`]):
//!
//! - `e2e_small_keepalive`: a 13-byte body over a kept-alive connection
//!   (latency per request);
//! - `e2e_1mib_download`: a 1 MiB body over a kept-alive connection
//!   (throughput);
//! - `e2e_oneoff_small`: a one-off request without a session, so a fresh
//!   client and connection per request (`hawser_std::get`, `ureq::get`),
//!   plus `raw_smol`, the raw GET over `smol::net` under `smol::block_on`,
//!   which tells smol's own per-connection cost from hawser-smol's.
//!
//! The process pins itself to one CPU first (`HAWSER_E2E_NO_PIN=1` turns
//! that off; see `pin_to_one_cpu`), and small requests and 1 MiB downloads
//! use separate connections (see `Clients::check`): both keep the kernel's
//! scheduling and TCP behaviour from deciding the ratios.
//! `HAWSER_E2E_CRITERION_ONLY=1` skips everything after criterion, for
//! profiling one benchmark alone (`perf stat ... -- --bench NAME`).
//!
//! Every client reads the body through the same 64 KiB buffer and only
//! counts it, so the comparison is of the clients, not of what is done with
//! the bytes. After criterion, an interleaved manual timing loop measures
//! the medians again over several sets of fresh connections and prints the
//! ratios hawser/ureq and hawser/raw (the design asks for ratios, not
//! absolute times alone), plus a breakdown of where hawser's time goes per
//! request.
//!
//! Run: `cargo bench -p hawser-benches --bench e2e -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use hawser_benches::loopback::{RawClient, Server, BIG_LEN, BIG_PATH, SMALL_PATH};
use hawser_benches::BODY;
use smol::io::AsyncReadExt;

/// The body buffer every client reads through.
const SCRATCH: usize = 64 * 1024;

/// Read `r` to the end through `buf`; the number of bytes.
fn drain(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut total = 0;
    loop {
        match r.read(buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) => panic!("reading the body: {e}"),
        }
    }
}

/// The clients under test, each set up once and reused.
struct Clients {
    small: String,
    big: String,
    hawser: hawser_std::Session,
    smol: hawser_smol::Session,
    ureq: ureq::Agent,
    raw: RawClient,
    raw_once: RawClient,
    scratch: Vec<u8>,
}

impl Clients {
    fn new(server: &Server) -> Clients {
        // ureq reads proxy settings from the environment by default; the
        // benchmark talks to loopback directly, as hawser does.
        let ureq = ureq::Agent::new_with_config(ureq::Agent::config_builder().proxy(None).build());
        Clients {
            small: server.url(SMALL_PATH),
            big: server.url(BIG_PATH),
            hawser: hawser_std::Session::new(),
            smol: hawser_smol::Session::new(),
            ureq,
            raw: RawClient::keep_alive(server.addr()),
            raw_once: RawClient::one_off(server.addr()),
            scratch: vec![0; SCRATCH],
        }
    }

    fn hawser_get(&mut self, big: bool) -> usize {
        let url = if big { &self.big } else { &self.small };
        let mut resp = self
            .hawser
            .get(url)
            .send()
            .unwrap_or_else(|e| panic!("hawser-std GET {url}: {e}"));
        drain(&mut resp, &mut self.scratch)
    }

    fn smol_get(&mut self, big: bool) -> usize {
        let url = if big { &self.big } else { &self.small };
        let (session, buf) = (&self.smol, &mut self.scratch);
        smol::block_on(async {
            let mut resp = session
                .get(url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("hawser-smol GET {url}: {e}"));
            let mut total = 0;
            loop {
                match resp.read(buf).await {
                    Ok(0) => return total,
                    Ok(n) => total += n,
                    Err(e) => panic!("hawser-smol body: {e}"),
                }
            }
        })
    }

    fn ureq_get(&mut self, big: bool) -> usize {
        let url = if big { &self.big } else { &self.small };
        let mut resp = self
            .ureq
            .get(url.as_str())
            .call()
            .unwrap_or_else(|e| panic!("ureq GET {url}: {e}"));
        drain(&mut resp.body_mut().as_reader(), &mut self.scratch)
    }

    fn raw_get(&mut self, big: bool) -> usize {
        let path = if big { BIG_PATH } else { SMALL_PATH };
        let n = self
            .raw
            .get(path, &mut self.scratch, |_| ())
            .unwrap_or_else(|e| panic!("raw GET {path}: {e}"));
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    fn hawser_oneoff(&mut self) -> usize {
        let mut resp =
            hawser_std::get(&self.small).unwrap_or_else(|e| panic!("hawser_std::get: {e}"));
        drain(&mut resp, &mut self.scratch)
    }

    fn smol_oneoff(&mut self) -> usize {
        let (url, buf) = (&self.small, &mut self.scratch);
        smol::block_on(async {
            let mut resp = hawser_smol::get(url)
                .await
                .unwrap_or_else(|e| panic!("hawser_smol::get: {e}"));
            let mut total = 0;
            loop {
                match resp.read(buf).await {
                    Ok(0) => return total,
                    Ok(n) => total += n,
                    Err(e) => panic!("hawser-smol body: {e}"),
                }
            }
        })
    }

    fn ureq_oneoff(&mut self) -> usize {
        let mut resp = ureq::get(self.small.as_str())
            .call()
            .unwrap_or_else(|e| panic!("ureq::get: {e}"));
        drain(&mut resp.body_mut().as_reader(), &mut self.scratch)
    }

    fn raw_smol_oneoff(&mut self) -> usize {
        raw_smol_oneoff(self.raw_once.addr(), &mut self.scratch)
    }

    fn raw_oneoff(&mut self) -> usize {
        let n = self
            .raw_once
            .get(SMALL_PATH, &mut self.scratch, |_| ())
            .unwrap_or_else(|e| panic!("raw one-off GET: {e}"));
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    /// Keep-alive really was kept: each session opened one connection.
    fn assert_kept_alive(&self) {
        let opened = (
            self.hawser.pool_stats().opened,
            self.smol.pool_stats().opened,
        );
        assert_eq!(
            opened,
            (1, 1),
            "a hawser session opened more than one connection"
        );
    }

    /// Every client fetches a body whole (the 1 MiB one when `big`, else
    /// the small one) before anything is timed, so a broken client fails
    /// loudly instead of measuring an error path. A connection carries one
    /// kind of request only: on one CPU, a 1 MiB download over a connection
    /// that has served small request/response pairs ran 2x slower or faster
    /// depending on that history (TCP's ACK and window behaviour), which
    /// would measure the kernel, not the client.
    fn check(&mut self, big: bool) {
        let want = if big { BIG_LEN } else { BODY.len() };
        assert_eq!(self.hawser_get(big), want, "hawser-std");
        assert_eq!(self.smol_get(big), want, "hawser-smol");
        assert_eq!(self.ureq_get(big), want, "ureq");
        assert_eq!(self.raw_get(big), want, "raw");
        assert_eq!(self.hawser_oneoff(), BODY.len(), "hawser_std::get");
        assert_eq!(self.smol_oneoff(), BODY.len(), "hawser_smol::get");
        assert_eq!(self.ureq_oneoff(), BODY.len(), "ureq::get");
        assert_eq!(self.raw_oneoff(), BODY.len(), "raw one-off");
        assert_eq!(self.raw_smol_oneoff(), BODY.len(), "raw smol one-off");
    }
}

fn bench_small(c: &mut Criterion, cl: &mut Clients) {
    let mut g = c.benchmark_group("e2e_small_keepalive");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hawser_std", |b| b.iter(|| cl.hawser_get(false)));
    g.bench_function("hawser_smol", |b| b.iter(|| cl.smol_get(false)));
    g.bench_function("ureq", |b| b.iter(|| cl.ureq_get(false)));
    g.bench_function("raw", |b| b.iter(|| cl.raw_get(false)));
    g.finish();
}

fn bench_big(c: &mut Criterion, cl: &mut Clients) {
    let mut g = c.benchmark_group("e2e_1mib_download");
    g.throughput(Throughput::Bytes(BIG_LEN as u64));
    g.bench_function("hawser_std", |b| b.iter(|| cl.hawser_get(true)));
    g.bench_function("hawser_smol", |b| b.iter(|| cl.smol_get(true)));
    g.bench_function("ureq", |b| b.iter(|| cl.ureq_get(true)));
    g.bench_function("raw", |b| b.iter(|| cl.raw_get(true)));
    g.finish();
}

fn bench_oneoff(c: &mut Criterion, cl: &mut Clients) {
    let mut g = c.benchmark_group("e2e_oneoff_small");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hawser_std", |b| b.iter(|| cl.hawser_oneoff()));
    g.bench_function("hawser_smol", |b| b.iter(|| cl.smol_oneoff()));
    g.bench_function("ureq", |b| b.iter(|| cl.ureq_oneoff()));
    g.bench_function("raw", |b| b.iter(|| cl.raw_oneoff()));
    g.bench_function("raw_smol", |b| b.iter(|| cl.raw_smol_oneoff()));
    g.finish();
}

/// Time per call of each function: `trials` times, fresh clients (so fresh
/// connections) are made and warmed up, then `rounds` batches of each
/// function run interleaved, so that machine noise hits them alike; the
/// order rotates between trials. Each trial gives a median per function;
/// the result is, per function, the median and the best of those trial
/// medians. Fresh connections per trial keep one connection's luck (its
/// socket buffers, its server thread) from deciding a client's result; the
/// best trial shows the client's cost when the kernel cooperates.
fn medians(server: &Server, plan: Plan, sc: &Scenario, fns: &[Fetch]) -> Vec<(Duration, Duration)> {
    let mut per_trial = vec![Vec::with_capacity(plan.trials); fns.len()];
    for trial in 0..plan.trials {
        let mut cl = Clients::new(server);
        cl.check(sc.bytes.is_some());
        let accepted = server.connections_accepted();
        let mut samples = vec![Vec::with_capacity(plan.rounds); fns.len()];
        for _ in 0..plan.rounds {
            for k in 0..fns.len() {
                let i = (k + trial) % fns.len();
                let t = Instant::now();
                for _ in 0..sc.batch {
                    black_box(fns[i](&mut cl));
                }
                samples[i].push(t.elapsed() / sc.batch);
            }
        }
        for (out, v) in per_trial.iter_mut().zip(samples) {
            out.push(median(v));
        }
        cl.assert_kept_alive();
        if sc.keep_alive {
            // check() opened every client's connection; none opened more.
            assert_eq!(
                server.connections_accepted(),
                accepted,
                "a client did not keep its connection alive"
            );
        }
    }
    per_trial
        .into_iter()
        .map(|v| {
            let best = v.iter().min().copied().unwrap_or_default();
            (median(v), best)
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// How many times the interleaved loop is repeated and how large it is.
#[derive(Clone, Copy)]
struct Plan {
    trials: usize,
    rounds: usize,
}

/// One request by one client; the body length.
type Fetch = fn(&mut Clients) -> usize;

/// One line of the manual comparison.
#[derive(Clone, Copy)]
struct Scenario {
    title: &'static str,
    /// The body length, for a throughput column.
    bytes: Option<usize>,
    /// Requests per timed batch.
    batch: u32,
    /// Whether the clients must not open connections while measured.
    keep_alive: bool,
}

/// Prints one scenario's medians and the hawser ratios. `fns` are, in
/// order: hawser-std, hawser-smol, ureq, raw.
fn report(server: &Server, plan: Plan, sc: Scenario, fns: &[(&str, Fetch)]) {
    let (names, fns): (Vec<&str>, Vec<Fetch>) = fns.iter().copied().unzip();
    let m = medians(server, plan, &sc, &fns);
    println!(
        "{} (per request: median over {} trials [best trial]; each trial {} interleaved batches of {}):",
        sc.title, plan.trials, plan.rounds, sc.batch
    );
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    for (name, &(med, best)) in names.iter().zip(&m) {
        let rate = sc.bytes.map_or(String::new(), |b| {
            format!(
                "  {:7.0} MiB/s",
                b as f64 / med.as_secs_f64().max(1e-12) / f64::from(1 << 20)
            )
        });
        println!("  {name:<12} {:9.1} us [{:7.1}]{rate}", us(med), us(best));
    }
    let find = |n: &str| names.iter().position(|&x| x == n).and_then(|i| m.get(i));
    let pairs = [
        ("hawser-std", "ureq"),
        ("hawser-std", "raw"),
        ("hawser-smol", "ureq"),
        ("hawser-smol", "raw"),
        ("hawser-smol", "raw-smol"),
    ];
    for (label, pick) in [
        (
            "medians",
            (|p: &(Duration, Duration)| p.0) as fn(&(Duration, Duration)) -> Duration,
        ),
        ("best trials", |p| p.1),
    ] {
        let line: Vec<String> = pairs
            .iter()
            .filter_map(|&(a, b)| {
                let (x, y) = (pick(find(a)?), pick(find(b)?));
                Some(format!(
                    "{a}/{b} {:.2}x",
                    x.as_secs_f64() / y.as_secs_f64().max(1e-12)
                ))
            })
            .collect();
        println!("  ratio ({label}) {}", line.join(", "));
    }
}

fn mid(v: &mut [Duration]) -> f64 {
    v.sort();
    v.get(v.len() / 2)
        .copied()
        .unwrap_or_default()
        .as_secs_f64()
        * 1e6
}

/// Where a hawser-std keep-alive request spends its time: up to the head
/// (`send()`), then the body to the end; medians over `n` requests.
fn breakdown_keepalive(cl: &mut Clients, n: usize, big: bool) {
    let url = if big {
        cl.big.clone()
    } else {
        cl.small.clone()
    };
    let (mut to_head, mut to_end) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t0 = Instant::now();
        let mut resp = cl
            .hawser
            .get(&url)
            .send()
            .unwrap_or_else(|e| panic!("hawser-std GET {url}: {e}"));
        let t1 = Instant::now();
        black_box(drain(&mut resp, &mut cl.scratch));
        to_head.push(t1 - t0);
        to_end.push(t1.elapsed());
    }
    println!(
        "  hawser-std keep-alive {}: send() to head {:.1} us, body to end {:.1} us",
        if big { "1 MiB" } else { "small" },
        mid(&mut to_head),
        mid(&mut to_end),
    );
}

/// The raw baseline on smol: a one-off GET over `smol::net::TcpStream`
/// under `smol::block_on`, the head parsed with httparse. It shows what
/// smol itself costs per connection, apart from hawser.
fn raw_smol_oneoff(addr: std::net::SocketAddr, buf: &mut [u8]) -> usize {
    use smol::io::AsyncWriteExt;
    smol::block_on(async {
        let mut s = smol::net::TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("raw smol connect: {e}"));
        s.set_nodelay(true)
            .unwrap_or_else(|e| panic!("raw smol nodelay: {e}"));
        let req = format!(
            "GET {SMALL_PATH} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: raw\r\nAccept: */*\r\n\r\n"
        );
        s.write_all(req.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("raw smol write: {e}"));
        let mut got: Vec<u8> = Vec::with_capacity(512);
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(n)) = resp.parse(&got) {
                let len = resp
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    })
                    .unwrap_or_else(|| panic!("raw smol: no Content-Length"));
                if got.len() >= n + len {
                    return len;
                }
            }
            let k = s
                .read(buf)
                .await
                .unwrap_or_else(|e| panic!("raw smol read: {e}"));
            assert!(k > 0, "raw smol: early EOF");
            got.extend_from_slice(buf.get(..k).unwrap_or_default());
        }
    })
}

/// Where a one-off request spends its time, for hawser-std and hawser-smol
/// (under `smol::block_on`): building the session, `send()` (connect,
/// request, head), the body, and dropping it all; medians over `n`.
fn breakdown_oneoff(cl: &mut Clients, n: usize) {
    let url = cl.small.clone();
    let mut std_t: [Vec<Duration>; 4] = Default::default();
    let mut smol_t: [Vec<Duration>; 4] = Default::default();
    let (mut smol_whole, mut raw_smol_whole) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let addr = cl.raw_once.addr();
    for _ in 0..n {
        let t0 = Instant::now();
        let session = hawser_std::Session::new();
        let t1 = Instant::now();
        let mut resp = session
            .get(&url)
            .send()
            .unwrap_or_else(|e| panic!("hawser-std GET {url}: {e}"));
        let t2 = Instant::now();
        black_box(drain(&mut resp, &mut cl.scratch));
        let t3 = Instant::now();
        drop((resp, session));
        let t4 = Instant::now();
        for (v, d) in std_t.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
            v.push(d);
        }

        let buf = &mut cl.scratch;
        let whole = Instant::now();
        let d = smol::block_on(async {
            let t0 = Instant::now();
            let session = hawser_smol::Session::new();
            let t1 = Instant::now();
            let mut resp = session
                .get(&url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("hawser-smol GET {url}: {e}"));
            let t2 = Instant::now();
            while resp
                .read(buf)
                .await
                .unwrap_or_else(|e| panic!("hawser-smol body: {e}"))
                > 0
            {}
            let t3 = Instant::now();
            drop((resp, session));
            [t1 - t0, t2 - t1, t3 - t2, t3.elapsed()]
        });
        smol_whole.push(whole.elapsed());
        for (v, d) in smol_t.iter_mut().zip(d) {
            v.push(d);
        }
        let t = Instant::now();
        assert_eq!(raw_smol_oneoff(addr, &mut cl.scratch), BODY.len());
        raw_smol_whole.push(t.elapsed());
    }
    for (name, t) in [("hawser-std", &mut std_t), ("hawser-smol", &mut smol_t)] {
        let [a, b, c, d] = t;
        println!(
            "  {name} one-off: Session::new {:.1} us, send() to head {:.1} us, body {:.1} us, drop {:.1} us",
            mid(a),
            mid(b),
            mid(c),
            mid(d),
        );
    }
    let (h, r) = (mid(&mut smol_whole), mid(&mut raw_smol_whole));
    println!(
        "  one-off under smol::block_on, whole call: hawser-smol {h:.1} us, raw smol::net {r:.1} us, ratio {:.2}x",
        h / r.max(1e-9)
    );
}

/// Pin this thread, and so every thread it starts (the server's, the
/// clients'), to one CPU: loopback ping-pong then costs two context
/// switches per request instead of a cross-CPU wake-up whose price depends
/// on where the scheduler put each connection's thread (we saw 9 us vs
/// 70 us per request for the same client between runs). One CPU also makes
/// the time what the client and server spend, which is what the ratios are
/// about. `HAWSER_E2E_NO_PIN=1` turns it off.
fn pin_to_one_cpu() -> Option<usize> {
    if std::env::var_os("HAWSER_E2E_NO_PIN").is_some() {
        return None;
    }
    // The last allowed CPU: the first tends to take more interrupts.
    let core = core_affinity::get_core_ids()?.pop()?;
    core_affinity::set_for_current(core).then_some(core.id)
}

fn main() {
    match pin_to_one_cpu() {
        Some(cpu) => println!("e2e: pinned to CPU {cpu} (HAWSER_E2E_NO_PIN=1 to turn off)"),
        None => println!("e2e: not pinned to a CPU"),
    }
    let server = Server::start().unwrap_or_else(|e| panic!("loopback server: {e}"));
    // Small requests and 1 MiB downloads on separate connections; see
    // `Clients::check`.
    let mut cl = Clients::new(&server);
    cl.check(false);
    let mut cl_big = Clients::new(&server);
    cl_big.check(true);

    let mut criterion = Criterion::default().configure_from_args();
    bench_small(&mut criterion, &mut cl);
    bench_big(&mut criterion, &mut cl_big);
    bench_oneoff(&mut criterion, &mut cl);
    criterion.final_summary();
    cl.assert_kept_alive();
    cl_big.assert_kept_alive();

    // For profiling one criterion benchmark alone (e.g. under `perf`).
    if std::env::var_os("HAWSER_E2E_CRITERION_ONLY").is_some() {
        return;
    }
    // `cargo test --benches` runs this binary in test mode; keep that quick.
    let quick = std::env::args().any(|a| a == "--test");
    let plan = if quick {
        Plan {
            trials: 1,
            rounds: 3,
        }
    } else {
        Plan {
            trials: 9,
            rounds: 11,
        }
    };
    let (small, big, once) = if quick { (5, 1, 2) } else { (300, 10, 100) };
    report(
        &server,
        plan,
        Scenario {
            title: "small GET, keep-alive",
            bytes: None,
            batch: small,
            keep_alive: true,
        },
        &[
            ("hawser-std", |c| c.hawser_get(false)),
            ("hawser-smol", |c| c.smol_get(false)),
            ("ureq", |c| c.ureq_get(false)),
            ("raw", |c| c.raw_get(false)),
        ],
    );
    report(
        &server,
        plan,
        Scenario {
            title: "1 MiB GET, keep-alive",
            bytes: Some(BIG_LEN),
            batch: big,
            keep_alive: true,
        },
        &[
            ("hawser-std", |c| c.hawser_get(true)),
            ("hawser-smol", |c| c.smol_get(true)),
            ("ureq", |c| c.ureq_get(true)),
            ("raw", |c| c.raw_get(true)),
        ],
    );
    report(
        &server,
        plan,
        Scenario {
            title: "one-off small GET (new client and connection each)",
            bytes: None,
            batch: once,
            keep_alive: false,
        },
        &[
            ("hawser-std", Clients::hawser_oneoff),
            ("hawser-smol", Clients::smol_oneoff),
            ("ureq", Clients::ureq_oneoff),
            ("raw", Clients::raw_oneoff),
            ("raw-smol", Clients::raw_smol_oneoff),
        ],
    );
    println!("time split (median):");
    breakdown_keepalive(&mut cl, if quick { 3 } else { 2000 }, false);
    breakdown_keepalive(&mut cl_big, if quick { 1 } else { 100 }, true);
    breakdown_oneoff(&mut cl, if quick { 2 } else { 500 });
    println!(
        "connections accepted by the server: {}",
        server.connections_accepted()
    );
    drop((cl, cl_big));
    drop(server);
}
