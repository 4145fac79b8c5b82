//! hawser beside the HTTP/1.1 clients users would pick instead, in one
//! run: a raw httparse client (the floor), ureq 3, hyper-util's pooled
//! legacy client, reqwest (async and blocking), and hawser's four backends,
//! all against one loopback server. See `benches/README.md` for what each
//! workload measures, and `--help` for the options.
//!
//! Modes (the first argument):
//! - `compare` (the default): start the servers, run every (workload,
//!   client) pair in a worker process of its own, `--trials` times
//!   interleaved (A B C A B C ...), print medians and ratios as markdown;
//! - `syscalls`: per client, `strace -f -c` a worker doing N sequential
//!   keep-alive requests and one doing 3N, and print the difference per
//!   request (so start-up and connection set-up cancel out);
//! - `serve`: the server alone (prints `ADDR host:port`; runs until killed,
//!   or with `--watch-stdin` until its stdin closes);
//! - `worker`: one client, one workload (prints a `RESULT` line).

mod clients;
mod report;
mod runner;
mod server;
mod sys;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use runner::{Job, Outcome, Span, Workload};

const HELP: &str = "\
usage: hawser-benches-peers [compare|syscalls|serve|worker] [options]

compare / worker options (each also read from the environment as PEERS_<NAME>,
upper-cased with '-' as '_'; flags win):
  --secs S          timed seconds per worker run (default 1.0)
  --warm S          warm-up seconds per worker run (default 0.25)
  --trials N        interleaved runs per (workload, client) (default 3)
  --bulk BYTES      download size (default 104857600 = 100 MiB)
  --upload BYTES    upload size (default 1048576 = 1 MiB)
  --clients a,b     subset of raw,ureq,reqwest-blocking,hawser-std,hyper,reqwest,
                    hawser-tokio,hawser-smol,hawser-async-std (default: all)
  --workloads a,b   subset of seq,close,fresh,c8,c64,download,upload (default: all)
  --quick           smoke run: --secs 0.12 --warm 0.03 --trials 3
                    --bulk 33554432 (well under a minute)
  --no-pin          do not pin server and client to CPUs
syscalls options:
  --requests N      requests of the short run (the long one does 3N; default 2000)
  --workload W      seq (default), close, fresh, conc (with --conc N), download, upload
  --bulk, --upload  sizes, as for compare
  --clients a,b     subset of clients
worker options (internal): --addr A --client C --workload W --conc N --cpu K
  --requests N (fixed count instead of --secs)
";

struct Args {
    map: BTreeMap<String, String>,
    flags: Vec<String>,
}

impl Args {
    fn parse(v: &[String]) -> Args {
        let mut map = BTreeMap::new();
        let mut flags = Vec::new();
        let mut i = 0;
        while i < v.len() {
            let a = v[i].trim_start_matches("--").to_owned();
            match a.as_str() {
                "quick" | "no-pin" | "help" | "watch-stdin" => flags.push(a),
                _ => {
                    let val = v
                        .get(i + 1)
                        .cloned()
                        .unwrap_or_else(|| die(&format!("--{a} needs a value")));
                    map.insert(a, val);
                    i += 1;
                }
            }
            i += 1;
        }
        Args { map, flags }
    }
    fn flag(&self, f: &str) -> bool {
        self.flags.iter().any(|x| x == f)
            || std::env::var(env_name(f)).is_ok_and(|v| !v.is_empty() && v != "0")
    }
    fn get(&self, k: &str) -> Option<String> {
        self.map
            .get(k)
            .cloned()
            .or_else(|| std::env::var(env_name(k)).ok())
    }
    fn num<T: std::str::FromStr>(&self, k: &str, default: T) -> T {
        match self.get(k) {
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| die(&format!("--{k}: bad value {v:?}"))),
            None => default,
        }
    }
}

fn env_name(k: &str) -> String {
    format!("PEERS_{}", k.to_uppercase().replace('-', "_"))
}

fn die(msg: &str) -> ! {
    eprintln!("hawser-benches-peers: {msg}\n\n{HELP}");
    std::process::exit(2)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (mode, rest) = match argv.first().map(String::as_str) {
        Some(m @ ("compare" | "syscalls" | "serve" | "worker")) => (m.to_owned(), &argv[1..]),
        _ => ("compare".to_owned(), &argv[..]),
    };
    let args = Args::parse(rest);
    if args.flags.iter().any(|f| f == "help") {
        print!("{HELP}");
        return;
    }
    match mode.as_str() {
        "serve" => serve_main(&args),
        "worker" => worker_main(&args),
        "syscalls" => syscalls_main(&args),
        _ => compare_main(&args),
    }
}

fn serve_main(args: &Args) {
    if let Some(cpu) = args.get("cpu") {
        sys::pin_to(cpu.parse().unwrap_or_else(|_| die("--cpu")));
    }
    let (listener, addr) = server::bind().expect("bind 127.0.0.1:0");
    println!("ADDR {addr}");
    std::io::stdout().flush().expect("stdout");
    // Started by `compare`/`syscalls`: exit when the parent goes away
    // (stdin closes). Started by hand: run until killed.
    if args.flag("watch-stdin") {
        std::thread::spawn(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
            std::process::exit(0);
        });
    }
    server::serve(listener).expect("serve");
}

fn worker_main(args: &Args) {
    if let Some(cpu) = args.get("cpu") {
        sys::pin_to(cpu.parse().unwrap_or_else(|_| die("--cpu")));
    }
    let addr: SocketAddr = args
        .get("addr")
        .unwrap_or_else(|| die("worker needs --addr"))
        .parse()
        .unwrap_or_else(|_| die("--addr"));
    let client = args
        .get("client")
        .unwrap_or_else(|| die("worker needs --client"));
    let workload = args
        .get("workload")
        .and_then(|w| Workload::parse(&w))
        .unwrap_or_else(|| die("worker needs --workload seq|close|fresh|conc|download|upload"));
    let (warm, run) = match args.get("requests") {
        Some(n) => (
            Span::Requests(args.num("warm-requests", 10)),
            Span::Requests(n.parse().unwrap_or_else(|_| die("--requests"))),
        ),
        None => (
            Span::Secs(args.num("warm", 0.25)),
            Span::Secs(args.num("secs", 1.0)),
        ),
    };
    let job = Job {
        addr,
        workload,
        conc: args.num("conc", 8),
        warm,
        run,
        bulk: args.num("bulk", 100 << 20),
        upload: args.num("upload", 1 << 20),
    };
    let out =
        runner::run(&client, &job).unwrap_or_else(|| die(&format!("unknown client {client}")));
    println!("{}", out.line());
}

/// A server child process.
struct ServerProc {
    child: Child,
    addr: SocketAddr,
}

impl ServerProc {
    fn start(cpu: Option<usize>) -> ServerProc {
        let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
        cmd.args(["serve", "--watch-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(c) = cpu {
            cmd.args(["--cpu", &c.to_string()]);
        }
        let mut child = cmd.spawn().expect("spawn server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("server address");
        let addr = line
            .trim()
            .strip_prefix("ADDR ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("server said {line:?}"));
        ServerProc { child, addr }
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// One row of the comparison.
#[derive(Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub workload: Workload,
    pub conc: usize,
    /// Client and server on the same CPU (sequential) or on two.
    pub same_cpu: bool,
}

pub const SPECS: &[Spec] = &[
    Spec {
        name: "seq",
        workload: Workload::Seq,
        conc: 1,
        same_cpu: true,
    },
    Spec {
        name: "close",
        workload: Workload::Close,
        conc: 1,
        same_cpu: true,
    },
    Spec {
        name: "fresh",
        workload: Workload::Fresh,
        conc: 1,
        same_cpu: true,
    },
    Spec {
        name: "c8",
        workload: Workload::Conc,
        conc: 8,
        same_cpu: false,
    },
    Spec {
        name: "c64",
        workload: Workload::Conc,
        conc: 64,
        same_cpu: false,
    },
    Spec {
        name: "download",
        workload: Workload::Download,
        conc: 1,
        same_cpu: false,
    },
    Spec {
        name: "upload",
        workload: Workload::Upload,
        conc: 1,
        same_cpu: false,
    },
];

fn list(args: &Args, key: &str, all: &[&'static str]) -> Vec<&'static str> {
    match args.get(key) {
        None => all.to_vec(),
        Some(v) => v
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                *all.iter().find(|a| **a == s).unwrap_or_else(|| {
                    die(&format!(
                        "--{key}: unknown {s:?} (known: {})",
                        all.join(",")
                    ))
                })
            })
            .collect(),
    }
}

fn run_worker(
    addr: SocketAddr,
    client: &str,
    spec: &Spec,
    cpu: Option<usize>,
    opts: &[(String, String)],
    timeout: std::time::Duration,
) -> Result<Outcome, String> {
    let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
    cmd.arg("worker")
        .args(["--addr", &addr.to_string(), "--client", client])
        .args([
            "--workload",
            match spec.workload {
                Workload::Seq => "seq",
                Workload::Close => "close",
                Workload::Fresh => "fresh",
                Workload::Conc => "conc",
                Workload::Download => "download",
                Workload::Upload => "upload",
            },
        ])
        .args(["--conc", &spec.conc.to_string()]);
    if let Some(c) = cpu {
        cmd.args(["--cpu", &c.to_string()]);
    }
    for (k, v) in opts {
        cmd.arg(format!("--{k}")).arg(v);
    }
    // A client that hangs (a deadlock, a lost wake-up) is killed and
    // reported, not waited for forever.
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(st) => break st,
            None if std::time::Instant::now() > deadline => {
                drop(child.kill());
                drop(child.wait());
                return Err(format!("killed after {timeout:?} (hung?)"));
            }
            None => std::thread::sleep(std::time::Duration::from_millis(5)),
        }
    };
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find_map(Outcome::parse) {
        Some(o) if status.success() => Ok(o),
        _ => {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(3)
                .collect::<Vec<_>>()
                .join(" | ");
            Err(format!("{status} ({last})"))
        }
    }
}

fn compare_main(args: &Args) {
    let quick = args.flag("quick");
    let secs: f64 = args.num("secs", if quick { 0.12 } else { 1.0 });
    let warm: f64 = args.num("warm", if quick { 0.03 } else { 0.25 });
    let trials: usize = args.num("trials", 3);
    let bulk: u64 = args.num("bulk", if quick { 32 << 20 } else { 100 << 20 });
    let upload: u64 = args.num("upload", 1 << 20);
    let clients = list(args, "clients", runner::CLIENTS);
    let names: Vec<&'static str> = SPECS.iter().map(|s| s.name).collect();
    let workloads = list(args, "workloads", &names);
    let specs: Vec<Spec> = SPECS
        .iter()
        .copied()
        .filter(|s| workloads.contains(&s.name))
        .collect();

    // The last allowed CPU for the client (the first tends to take more
    // interrupts); the server beside it for sequential runs, on the first
    // CPU for concurrent and bulk ones.
    let cpus = sys::allowed_cpus();
    let pin = !args.flag("no-pin") && cpus.len() >= 2;
    let (client_cpu, other_cpu) = if pin {
        (cpus.last().copied(), cpus.first().copied())
    } else {
        (None, None)
    };
    let same = ServerProc::start(client_cpu);
    let apart = ServerProc::start(other_cpu);
    let opts: Vec<(String, String)> = vec![
        ("secs".into(), secs.to_string()),
        ("warm".into(), warm.to_string()),
        ("bulk".into(), bulk.to_string()),
        ("upload".into(), upload.to_string()),
    ];
    println!(
        "# peers: {} clients x {} workloads x {trials} trials, {secs} s timed + {warm} s warm-up per run, download {} MiB, upload {} KiB",
        clients.len(),
        specs.len(),
        bulk >> 20,
        upload >> 10
    );
    match (client_cpu, other_cpu) {
        (Some(c), Some(o)) => println!(
            "# pinning: client on CPU {c}; server on CPU {c} for seq/close/fresh, on CPU {o} for c8/c64/download/upload"
        ),
        _ => println!("# pinning: off"),
    }
    let timeout = std::time::Duration::from_secs_f64(30.0 + 10.0 * (secs + warm));
    let mut results: BTreeMap<(&str, &str), Vec<Outcome>> = BTreeMap::new();
    let mut errors: Vec<String> = Vec::new();
    for spec in &specs {
        let server = if spec.same_cpu { &same } else { &apart };
        for trial in 0..trials {
            for &client in &clients {
                eprint!(
                    "\r{:<10} trial {}/{trials} {:<18}",
                    spec.name,
                    trial + 1,
                    client
                );
                match run_worker(server.addr, client, spec, client_cpu, &opts, timeout) {
                    Ok(o) => results.entry((spec.name, client)).or_default().push(o),
                    Err(e) => errors.push(format!("{} / {client}: {e}", spec.name)),
                }
            }
        }
    }
    eprintln!("\r{:<60}", "");
    report::print(&specs, &clients, &results, upload);
    if !errors.is_empty() {
        println!("\nerrors:");
        for e in &errors {
            println!("- {e}");
        }
    }
}

/// `strace -f -c -o FILE worker ...`: calls per syscall name.
fn strace_counts(
    addr: SocketAddr,
    client: &str,
    (workload, conc): (&str, usize),
    sizes: &[String],
    requests: u64,
) -> Result<BTreeMap<String, (u64, u64)>, String> {
    let file = std::env::temp_dir().join(format!(
        "peers-strace-{}-{client}-{requests}.txt",
        std::process::id()
    ));
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new("strace")
        .args(["-f", "-c", "-o"])
        .arg(&file)
        .arg(exe)
        .args([
            "worker",
            "--addr",
            &addr.to_string(),
            "--client",
            client,
            "--workload",
            workload,
            "--conc",
            &conc.to_string(),
        ])
        .args(["--requests", &requests.to_string(), "--warm-requests", "10"])
        .args(sizes)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("strace: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
    drop(std::fs::remove_file(&file));
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        // % time, seconds, usecs/call, calls, [errors], syscall
        if t.len() < 5 || t[0].starts_with('%') || t[0].starts_with('-') {
            continue;
        }
        let (Ok(calls), Some(name)) = (t[3].parse::<u64>(), t.last()) else {
            continue;
        };
        let errors = if t.len() == 6 {
            t[4].parse().unwrap_or(0)
        } else {
            0
        };
        m.insert((*name).to_owned(), (calls, errors));
    }
    Ok(m)
}

fn syscalls_main(args: &Args) {
    let workload = args.get("workload").unwrap_or_else(|| "seq".into());
    if Workload::parse(&workload).is_none() {
        die("--workload: seq|close|fresh|conc|download|upload");
    }
    let conc: usize = args.num("conc", 8);
    let mut sizes = Vec::new();
    for k in ["bulk", "upload"] {
        if let Some(v) = args.get(k) {
            sizes.extend([format!("--{k}"), v]);
        }
    }
    let title = match workload.as_str() {
        "seq" => "sequential keep-alive".to_owned(),
        "conc" => format!("{conc} concurrent"),
        w => w.to_owned(),
    };
    let n: u64 = args.num("requests", 2000);
    let clients = list(args, "clients", runner::CLIENTS);
    let server = ServerProc::start(None);
    println!(
        "## Syscalls per request, {title} (strace -f -c; (runs of {} - {n} requests) / {})\n",
        3 * n,
        2 * n
    );
    println!("| client | syscalls/req | of which errors | top calls per request |");
    println!("|---|---:|---:|---|");
    for &client in &clients {
        eprint!("\rstrace {client:<20}");
        let (a, b) = match (
            strace_counts(server.addr, client, (&workload, conc), &sizes, n),
            strace_counts(server.addr, client, (&workload, conc), &sizes, 3 * n),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                println!("| {client} | error: {e} | | |");
                continue;
            }
        };
        let per = |name: &str, f: fn(&(u64, u64)) -> u64| {
            let x = b.get(name).map_or(0, f) as f64;
            let y = a.get(name).map_or(0, f) as f64;
            (x - y) / (2 * n) as f64
        };
        let mut top: Vec<(String, f64)> = b
            .keys()
            .filter(|k| k.as_str() != "total")
            .map(|k| (k.clone(), per(k, |c| c.0)))
            .filter(|(_, v)| *v >= 0.05)
            .collect();
        top.sort_by(|x, y| y.1.total_cmp(&x.1));
        let top = top
            .iter()
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "| {client} | {:.2} | {:.2} | {top} |",
            per("total", |c| c.0),
            per("total", |c| c.1)
        );
    }
    eprintln!("\r{:<40}", "");
}
