//! One worker run: one client, one workload, in a process of its own (so
//! its `getrusage` and peak RSS are the client's alone). A warm-up of the
//! same workload opens the connections, then the timed section runs until
//! its deadline (or for a fixed number of requests, for strace).

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::clients::{self, Async, Blocking, Req};
use crate::sys;

pub const SCRATCH: usize = 64 * 1024;

/// A zeroed [`SCRATCH`]-byte read buffer that starts on a page boundary.
/// Where a buffer starts changes how fast the kernel copies into it: on
/// AMD Zen, `rep movsb` (which the kernel's copy to user space uses) runs
/// several times slower when the destination sits a few bytes past the
/// source modulo 4 KiB, and socket data lives in page fragments. A 64 KiB
/// `vec!` starts wherever malloc put it (a fresh mmap'd one 16 bytes into
/// a page, the worst case), which made download numbers a lottery of
/// heap layout: 1.3 vs 3.6 GiB/s for the same reads. Every client that
/// reads into this buffer gets the same start.
pub struct Scratch {
    store: Vec<u8>,
    start: usize,
}

impl Scratch {
    pub fn new() -> Scratch {
        let store = vec![0u8; SCRATCH + 4096];
        let start = (4096 - store.as_ptr() as usize % 4096) % 4096;
        Scratch { store, start }
    }

    pub fn buf(&mut self) -> &mut [u8] {
        &mut self.store[self.start..self.start + SCRATCH]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Sequential keep-alive GETs of the 13-byte body.
    Seq,
    /// Sequential GETs with `Connection: close`: a new connection each.
    Close,
    /// Sequential GETs, each by a new client (so a new connection, which
    /// the client closes when it is dropped after the body).
    Fresh,
    /// `conc` requests in flight at once (threads or tasks), keep-alive.
    Conc,
    /// Streamed download of `bulk` bytes per request.
    Download,
    /// POST of `upload` bytes per request.
    Upload,
}

impl Workload {
    pub fn parse(s: &str) -> Option<Workload> {
        Some(match s {
            "seq" => Workload::Seq,
            "close" => Workload::Close,
            "fresh" => Workload::Fresh,
            "conc" => Workload::Conc,
            "download" => Workload::Download,
            "upload" => Workload::Upload,
            _ => return None,
        })
    }
}

/// How long (or how many requests) to run.
#[derive(Clone, Copy, Debug)]
pub enum Span {
    Secs(f64),
    Requests(u64),
}

#[derive(Clone, Debug)]
pub struct Job {
    pub addr: SocketAddr,
    pub workload: Workload,
    pub conc: usize,
    pub warm: Span,
    pub run: Span,
    pub bulk: u64,
    pub upload: usize,
}

/// What one worker run measured (the timed section only).
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    pub reqs: u64,
    pub bytes: u64,
    pub secs: f64,
    pub cpu_secs: f64,
    pub maxrss_kib: u64,
    pub rss_before_kib: u64,
    /// Connections the server accepted during the timed section.
    pub opened: u64,
    /// The server's CPU time during the timed section.
    pub server_cpu_secs: f64,
}

impl Outcome {
    pub fn line(&self) -> String {
        format!(
            "RESULT reqs={} bytes={} secs={:.6} cpu={:.6} maxrss={} rss0={} opened={} scpu={:.6}",
            self.reqs,
            self.bytes,
            self.secs,
            self.cpu_secs,
            self.maxrss_kib,
            self.rss_before_kib,
            self.opened,
            self.server_cpu_secs
        )
    }

    pub fn parse(line: &str) -> Option<Outcome> {
        let rest = line.strip_prefix("RESULT ")?;
        let mut o = Outcome::default();
        for kv in rest.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            match k {
                "reqs" => o.reqs = v.parse().ok()?,
                "bytes" => o.bytes = v.parse().ok()?,
                "secs" => o.secs = v.parse().ok()?,
                "cpu" => o.cpu_secs = v.parse().ok()?,
                "maxrss" => o.maxrss_kib = v.parse().ok()?,
                "rss0" => o.rss_before_kib = v.parse().ok()?,
                "opened" => o.opened = v.parse().ok()?,
                "scpu" => o.server_cpu_secs = v.parse().ok()?,
                _ => {}
            }
        }
        Some(o)
    }
}

/// Ask the server how many connections it has accepted (this one
/// included) and how much CPU it has used (µs).
pub fn server_stats(addr: SocketAddr) -> (u64, u64) {
    let mut s = TcpStream::connect(addr).expect("stats: connect");
    s.write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("stats: write");
    let mut got = String::new();
    s.read_to_string(&mut got).expect("stats: read");
    let body = got.rsplit("\r\n\r\n").next().unwrap_or("");
    let mut it = body.split_whitespace().map(|v| v.parse::<u64>().ok());
    match (it.next().flatten(), it.next().flatten()) {
        (Some(a), Some(c)) => (a, c),
        _ => panic!("stats: body {body:?}"),
    }
}

struct Urls {
    small: String,
    big: String,
    big_path: String,
    upload: String,
}

impl Urls {
    fn new(job: &Job) -> Urls {
        let base = format!("http://{}", job.addr);
        let big_path = format!("/big/{}", job.bulk);
        Urls {
            small: format!("{base}/small"),
            big: format!("{base}{big_path}"),
            big_path,
            upload: format!("{base}/upload"),
        }
    }
    fn req(&self, w: Workload) -> Req<'_> {
        match w {
            Workload::Seq | Workload::Conc | Workload::Fresh => Req {
                url: &self.small,
                path: "/small",
                close: false,
            },
            Workload::Close => Req {
                url: &self.small,
                path: "/small",
                close: true,
            },
            Workload::Download => Req {
                url: &self.big,
                path: &self.big_path,
                close: false,
            },
            Workload::Upload => Req {
                url: &self.upload,
                path: "/upload",
                close: false,
            },
        }
    }
}

/// The body length every request of the workload must return.
fn expected(job: &Job) -> u64 {
    match job.workload {
        Workload::Download => job.bulk,
        _ => crate::server::BODY_LEN,
    }
}

/// When a loop stops: a deadline or a request budget (shared by threads).
struct Stop {
    deadline: Option<Instant>,
    left: AtomicU64,
}

impl Stop {
    fn new(span: Span) -> Stop {
        match span {
            Span::Secs(s) => Stop {
                deadline: Some(Instant::now() + Duration::from_secs_f64(s)),
                left: AtomicU64::new(u64::MAX),
            },
            Span::Requests(n) => Stop {
                deadline: None,
                left: AtomicU64::new(n),
            },
        }
    }
    /// Whether to start one more request (at least one per caller with a
    /// deadline, so a slow bulk request is still measured).
    fn more(&self, done_here: u64) -> bool {
        match self.deadline {
            Some(d) => done_here == 0 || Instant::now() < d,
            None => self
                .left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// Measures around the timed section.
struct Meter {
    t0: Instant,
    u0: sys::Usage,
    rss0: u64,
    acc0: u64,
    scpu0: u64,
    addr: SocketAddr,
}

impl Meter {
    fn start(addr: SocketAddr) -> Meter {
        let (acc0, scpu0) = server_stats(addr);
        let rss0 = sys::rss_now_kib();
        Meter {
            t0: Instant::now(),
            u0: sys::usage(),
            rss0,
            acc0,
            scpu0,
            addr,
        }
    }
    fn stop(self, reqs: u64, bytes: u64) -> Outcome {
        let secs = self.t0.elapsed().as_secs_f64();
        let u1 = sys::usage();
        let (acc1, scpu1) = server_stats(self.addr);
        Outcome {
            reqs,
            bytes,
            secs,
            cpu_secs: (u1.cpu - self.u0.cpu).as_secs_f64(),
            maxrss_kib: u1.maxrss_kib,
            rss_before_kib: self.rss0,
            opened: acc1.saturating_sub(self.acc0 + 1),
            server_cpu_secs: scpu1.saturating_sub(self.scpu0) as f64 / 1e6,
        }
    }
}

// ------------------------------------------------------------ blocking

fn one_blocking<C: Blocking>(
    c: &C,
    l: &mut C::Local,
    job: &Job,
    r: &Req<'_>,
    buf: &mut [u8],
    body: &Bytes,
) -> u64 {
    let n = match job.workload {
        Workload::Upload => c.post(l, r, body),
        Workload::Fresh => {
            let c = c.fresh();
            let mut l = c.local();
            c.get(&mut l, r, buf)
        }
        _ => c.get(l, r, buf),
    };
    assert_eq!(n, expected(job), "body length");
    n
}

pub fn run_blocking<C: Blocking>(c: C, job: &Job) -> Outcome {
    let urls = Urls::new(job);
    let body = Bytes::from(vec![b'u'; job.upload]);
    let threads = if job.workload == Workload::Conc {
        job.conc
    } else {
        1
    };
    if threads == 1 {
        let r = urls.req(job.workload);
        let mut l = c.local();
        let mut scratch = Scratch::new();
        let buf = scratch.buf();
        let warm = Stop::new(job.warm);
        let mut i = 0;
        while warm.more(i) {
            one_blocking(&c, &mut l, job, &r, buf, &body);
            i += 1;
        }
        let m = Meter::start(job.addr);
        let stop = Stop::new(job.run);
        let (mut reqs, mut bytes) = (0, 0);
        while stop.more(reqs) {
            bytes += one_blocking(&c, &mut l, job, &r, buf, &body);
            reqs += 1;
        }
        return m.stop(reqs, bytes);
    }
    // Threads sharing the client: warm up, meet at a barrier while the
    // meter starts, run, join.
    let c = Arc::new(c);
    let urls = Arc::new(urls);
    let job2 = Arc::new(job.clone());
    let gate = Arc::new(Barrier::new(threads + 1));
    let stop: Arc<Mutex<Option<Arc<Stop>>>> = Arc::new(Mutex::new(None));
    let total = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let (c, urls, job, gate, stop, total, body) = (
                c.clone(),
                urls.clone(),
                job2.clone(),
                gate.clone(),
                stop.clone(),
                total.clone(),
                body.clone(),
            );
            std::thread::spawn(move || {
                let r = urls.req(job.workload);
                let mut l = c.local();
                let mut scratch = Scratch::new();
                let buf = scratch.buf();
                let warm = Stop::new(job.warm);
                let mut i = 0;
                while warm.more(i) {
                    one_blocking(&*c, &mut l, &job, &r, buf, &body);
                    i += 1;
                }
                gate.wait(); // warmed up
                gate.wait(); // meter started
                let st = stop.lock().expect("stop").clone().expect("set");
                let (mut reqs, mut bytes) = (0, 0);
                while st.more(reqs) {
                    bytes += one_blocking(&*c, &mut l, &job, &r, buf, &body);
                    reqs += 1;
                }
                total.0.fetch_add(reqs, Ordering::Relaxed);
                total.1.fetch_add(bytes, Ordering::Relaxed);
            })
        })
        .collect();
    gate.wait();
    let m = Meter::start(job.addr);
    *stop.lock().expect("stop") = Some(Arc::new(Stop::new(job.run)));
    gate.wait();
    for h in hs {
        h.join().expect("worker thread");
    }
    m.stop(
        total.0.load(Ordering::Relaxed),
        total.1.load(Ordering::Relaxed),
    )
}

// ------------------------------------------------------------ async

/// How a runtime runs one future, and many tasks at once.
pub trait Rt {
    fn block_on<F: Future>(&self, f: F) -> F::Output;
    fn run_tasks<F>(&self, tasks: Vec<F>) -> Vec<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
}

/// tokio's current_thread runtime; tasks via `tokio::spawn`.
pub struct TokioRt(pub tokio::runtime::Runtime);

impl TokioRt {
    pub fn new() -> TokioRt {
        TokioRt(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
        )
    }
}

impl Rt for TokioRt {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    fn run_tasks<F>(&self, tasks: Vec<F>) -> Vec<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.block_on(async {
            let hs: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
            let mut out = Vec::with_capacity(hs.len());
            for h in hs {
                out.push(h.await.expect("task"));
            }
            out
        })
    }
}

/// `smol::block_on`; tasks on a `LocalExecutor` driven by it (one thread).
pub struct SmolRt;

impl Rt for SmolRt {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        smol::block_on(f)
    }
    fn run_tasks<F>(&self, tasks: Vec<F>) -> Vec<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let ex = smol::LocalExecutor::new();
        smol::block_on(ex.run(async {
            let hs: Vec<_> = tasks.into_iter().map(|t| ex.spawn(t)).collect();
            let mut out = Vec::with_capacity(hs.len());
            for h in hs {
                out.push(h.await);
            }
            out
        }))
    }
}

/// `async_std::task::block_on`; tasks via `async_std::task::spawn` (its
/// global executor, whose threads share the one CPU the worker is pinned to).
pub struct AsyncStdRt;

impl Rt for AsyncStdRt {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        async_std::task::block_on(f)
    }
    fn run_tasks<F>(&self, tasks: Vec<F>) -> Vec<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        async_std::task::block_on(async {
            let hs: Vec<_> = tasks.into_iter().map(async_std::task::spawn).collect();
            let mut out = Vec::with_capacity(hs.len());
            for h in hs {
                out.push(h.await);
            }
            out
        })
    }
}

async fn one_async<C: Async>(c: &C, job: &Job, r: &Req<'_>, buf: &mut [u8], body: &Bytes) -> u64 {
    let n = match job.workload {
        Workload::Upload => c.post(r, body).await,
        Workload::Fresh => c.fresh().get(r, buf).await,
        _ => c.get(r, buf).await,
    };
    assert_eq!(n, expected(job), "body length");
    n
}

async fn task_loop<C: Async>(
    c: C,
    job: Arc<Job>,
    urls: Arc<Urls>,
    body: Bytes,
    stop: Arc<Stop>,
) -> (u64, u64) {
    let r = urls.req(job.workload);
    let mut scratch = Scratch::new();
    let buf = scratch.buf();
    let (mut reqs, mut bytes) = (0, 0);
    while stop.more(reqs) {
        bytes += one_async(&c, &job, &r, buf, &body).await;
        reqs += 1;
    }
    (reqs, bytes)
}

/// `make` builds the client (inside the runtime: hyper and reqwest need
/// one to exist when they are made).
pub fn run_async<R: Rt, C: Async>(rt: &R, make: impl FnOnce() -> C, job: &Job) -> Outcome {
    let c = rt.block_on(async { make() });
    let urls = Arc::new(Urls::new(job));
    let body = Bytes::from(vec![b'u'; job.upload]);
    let job = Arc::new(job.clone());
    if job.workload != Workload::Conc {
        let stop = Arc::new(Stop::new(job.warm));
        rt.block_on(task_loop(
            c.clone(),
            job.clone(),
            urls.clone(),
            body.clone(),
            stop,
        ));
        let m = Meter::start(job.addr);
        let stop = Arc::new(Stop::new(job.run));
        let (reqs, bytes) = rt.block_on(task_loop(c, job.clone(), urls, body, stop));
        return m.stop(reqs, bytes);
    }
    let tasks = |span: Span| {
        let stop = Arc::new(Stop::new(span));
        (0..job.conc)
            .map(|_| {
                task_loop(
                    c.clone(),
                    job.clone(),
                    urls.clone(),
                    body.clone(),
                    stop.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    rt.run_tasks(tasks(job.warm));
    let m = Meter::start(job.addr);
    let out = rt.run_tasks(tasks(job.run));
    let (reqs, bytes) = out.iter().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    m.stop(reqs, bytes)
}

/// Every client's name, in table order.
pub const CLIENTS: &[&str] = &[
    "raw",
    "ureq",
    "reqwest-blocking",
    "hawser-std",
    "hyper",
    "reqwest",
    "hawser-tokio",
    "hawser-smol",
    "hawser-async-std",
];

/// Run `job` with the named client.
pub fn run(client: &str, job: &Job) -> Option<Outcome> {
    Some(match client {
        "raw" => run_blocking(clients::Raw { addr: job.addr }, job),
        "ureq" => run_blocking(clients::Ureq::new(), job),
        "reqwest-blocking" => run_blocking(clients::ReqwestBlocking::new(), job),
        "hawser-std" => run_blocking(clients::HawserStd::new(), job),
        "hyper" => run_async(&TokioRt::new(), clients::Hyper::new, job),
        "reqwest" => run_async(&TokioRt::new(), clients::Reqwest::new, job),
        "hawser-tokio" => run_async(&TokioRt::new(), clients::HawserTokio::new, job),
        "hawser-smol" => run_async(&SmolRt, clients::HawserSmol::new, job),
        "hawser-async-std" => run_async(&AsyncStdRt, clients::HawserAsyncStd::new, job),
        _ => return None,
    })
}
