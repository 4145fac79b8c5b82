//! The `fetch` command line: argument parsing, the session it builds, the
//! transfer, and the mapping from hawser's error kinds to exit codes.
//!
//! Arguments are parsed by hand: the grammar is small (curl-style short
//! options with attached or separate values, `--long value` and
//! `--long=value`), and it keeps hawser-std free of an extra dependency.

use std::fs::File;
use std::io::{self, Read, Write};
use std::time::Duration;

use hawser_std::{
    Auth, Error, ErrorKind, Proxy, ProxyConfig, Response, Retry, Session, Timeouts, TlsConfig,
};
use http::Method;

/// Success.
pub const EXIT_OK: i32 = 0;
/// Any failure without a code of its own.
pub const EXIT_OTHER: i32 = 1;
/// Bad arguments (including an invalid URL or header).
pub const EXIT_USAGE: i32 = 2;
/// Could not connect.
pub const EXIT_CONNECT: i32 = 3;
/// A timeout of any phase, or the overall deadline.
pub const EXIT_TIMEOUT: i32 = 4;
/// TLS or certificate failure.
pub const EXIT_TLS: i32 = 5;
/// Malformed or truncated response.
pub const EXIT_PROTOCOL: i32 = 6;
/// More redirects than allowed.
pub const EXIT_REDIRECTS: i32 = 7;
/// Retries exhausted, or the retry budget was empty.
pub const EXIT_RETRIES: i32 = 8;
/// The proxy refused or failed.
pub const EXIT_PROXY: i32 = 9;
/// HTTP status >= 400 with `--fail`.
pub const EXIT_HTTP_ERROR: i32 = 22;

/// The exit code for a hawser error, by its kind.
pub fn exit_code(e: &Error) -> i32 {
    match e.kind() {
        ErrorKind::InvalidRequest => EXIT_USAGE,
        ErrorKind::Connect => EXIT_CONNECT,
        ErrorKind::Timeout => EXIT_TIMEOUT,
        ErrorKind::Tls | ErrorKind::Certificate => EXIT_TLS,
        ErrorKind::Protocol | ErrorKind::Body => EXIT_PROTOCOL,
        ErrorKind::TooManyRedirects => EXIT_REDIRECTS,
        ErrorKind::RetriesExhausted | ErrorKind::RetryBudgetExhausted => EXIT_RETRIES,
        ErrorKind::Proxy => EXIT_PROXY,
        ErrorKind::Status => EXIT_HTTP_ERROR,
        _ => EXIT_OTHER,
    }
}

fn help() -> String {
    let d = Timeouts::default();
    format!(
        "fetch: a curl-like HTTP/1.1 client built on hawser

Usage: fetch [OPTIONS] URL

Request:
  -X, --request METHOD      method (default GET; POST with -d or --json)
  -H, --header 'Name: v'    add a header (repeatable)
  -d, --data DATA           request body; @FILE reads FILE (Content-Type
                            defaults to application/x-www-form-urlencoded)
      --json JSON           JSON body (Content-Type and Accept: application/json)
Auth:
  -u, --user USER:PASS      Basic credentials
      --digest              answer Digest challenges with the -u credentials
      --bearer TOKEN        Bearer token
Network:
      --proxy URL           proxy for every request (credentials in the URL:
                            http://user:pass@host:port)
      --no-proxy            ignore HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY
      --cacert FILE         also trust the CA certificates in FILE (PEM)
      --insecure            do not verify TLS certificates (testing only)
Retries and time:
      --retries N           retry up to N times (default 0: no retries)
      --backoff SECONDS     backoff factor: sleeps 0, 2f, 4f, ... (needs --retries)
      --retry-status CODES  also retry these statuses, e.g. 502,503,504 (needs --retries)
      --retry-methods LIST  methods whose read errors and statuses are retried,
                            e.g. GET,PUT,POST (default: the idempotent ones)
      --connect-timeout S   connect timeout in seconds (default {})
      --read-timeout S      longest silence while reading, in seconds (default {})
      --deadline S          bound on the whole call, retries included (default {})
      --max-redirects N     follow at most N redirects; 0 does not follow
      --repeat N            send N times on one session, then print how many
                            connections were opened
Output:
  -o, --output FILE         write the body to FILE instead of stdout
  -i, --include             print the status line and headers before the body
  -v, --verbose             print the per-call report on stderr: attempts,
                            sleeps, redirects, connection reuse, phase timings
      --fail                exit 22 on HTTP status >= 400, without the body
  -h, --help                print this help

Exit codes:
   0  success
   1  anything else
   2  usage (bad option, URL or header; unreadable -d @FILE or --cacert FILE)
   3  connect error
   4  timeout (any phase, or the deadline)
   5  TLS or certificate error
   6  protocol error (malformed or truncated response)
   7  too many redirects
   8  retries exhausted or retry budget empty
   9  proxy error
  22  HTTP status >= 400 with --fail
",
        d.connect().as_secs_f64(),
        d.read().as_secs_f64(),
        d.deadline().as_secs_f64()
    )
}

/// Why `run` stops: the exit code and the one line for stderr.
struct Failure {
    code: i32,
    message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: format!("{} (try --help)", message.into()),
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            code: exit_code(&e),
            message: format!("{}: {}", e.kind(), e),
        }
    }
}

enum Data {
    Raw(Vec<u8>),
    Json(String),
}

#[derive(Default)]
struct Options {
    url: Option<String>,
    method: Option<Method>,
    headers: Vec<(String, String)>,
    data: Option<Data>,
    user: Option<(String, String)>,
    digest: bool,
    bearer: Option<String>,
    proxy: Option<String>,
    no_proxy: bool,
    cacert: Option<String>,
    insecure: bool,
    retries: Option<u32>,
    backoff: Option<Duration>,
    retry_status: Option<Vec<u16>>,
    retry_methods: Option<Vec<Method>>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    deadline: Option<Duration>,
    max_redirects: Option<u32>,
    repeat: Option<u32>,
    output: Option<String>,
    include: bool,
    verbose: bool,
    fail: bool,
}

enum Command {
    Help,
    Run(Box<Options>),
}

/// Short options that take a value, and their long names.
const SHORT_WITH_VALUE: [(char, &str); 5] = [
    ('X', "--request"),
    ('H', "--header"),
    ('d', "--data"),
    ('u', "--user"),
    ('o', "--output"),
];
/// Short flags, and their long names.
const SHORT_FLAGS: [(char, &str); 3] = [('i', "--include"), ('v', "--verbose"), ('h', "--help")];

fn parse(args: Vec<String>) -> Result<Command, Failure> {
    let mut o = Options::default();
    let mut args = args.into_iter();
    let mut positional_only = false;
    while let Some(arg) = args.next() {
        if positional_only || !arg.starts_with('-') || arg == "-" {
            if o.url.replace(arg).is_some() {
                return Err(usage("more than one URL given"));
            }
            continue;
        }
        if arg == "--" {
            positional_only = true;
            continue;
        }
        // Normalise to (long name, inline value).
        let (name, mut inline) = match arg.strip_prefix("--") {
            Some(long) => match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (arg.clone(), None),
            },
            None => {
                let short = &arg[1..]; // `arg` starts with the one-byte '-'
                let Some(first) = short.chars().next() else {
                    return Err(usage(format!("unknown option {arg}")));
                };
                if let Some((_, long)) = SHORT_WITH_VALUE.iter().find(|(c, _)| *c == first) {
                    let rest = &short[first.len_utf8()..];
                    (
                        long.to_string(),
                        (!rest.is_empty()).then(|| rest.to_string()),
                    )
                } else {
                    // A cluster of flags such as -iv.
                    for c in short.chars() {
                        match SHORT_FLAGS.iter().find(|(f, _)| *f == c) {
                            Some((_, long)) => {
                                if apply_flag(&mut o, long)? {
                                    return Ok(Command::Help);
                                }
                            }
                            None => return Err(usage(format!("unknown option -{c}"))),
                        }
                    }
                    continue;
                }
            }
        };
        let mut value = || {
            inline
                .take()
                .or_else(|| args.next())
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        match name.as_str() {
            "--request" => {
                let v = value()?;
                let m = Method::from_bytes(v.as_bytes())
                    .map_err(|_| usage(format!("invalid method {v:?}")))?;
                o.method = Some(m);
            }
            "--header" => {
                let v = value()?;
                let Some((n, val)) = v.split_once(':') else {
                    return Err(usage(format!("header {v:?} is not 'Name: value'")));
                };
                o.headers
                    .push((n.trim().to_string(), val.trim().to_string()));
            }
            "--data" => {
                let v = value()?;
                let bytes = match v.strip_prefix('@') {
                    Some(path) => std::fs::read(path)
                        .map_err(|e| usage(format!("cannot read {path}: {e}")))?,
                    None => v.into_bytes(),
                };
                set_data(&mut o, Data::Raw(bytes))?;
            }
            "--json" => {
                let v = value()?;
                set_data(&mut o, Data::Json(v))?;
            }
            "--user" => {
                let v = value()?;
                let Some((u, p)) = v.split_once(':') else {
                    return Err(usage("-u needs USER:PASS"));
                };
                o.user = Some((u.to_string(), p.to_string()));
            }
            "--bearer" => o.bearer = Some(value()?),
            "--proxy" => o.proxy = Some(value()?),
            "--cacert" => o.cacert = Some(value()?),
            "--retries" => o.retries = Some(number(&name, &value()?)?),
            "--backoff" => o.backoff = Some(seconds(&name, &value()?, true)?),
            "--retry-status" => {
                let v = value()?;
                let codes = list(&v, |s| {
                    s.parse::<u16>().ok().filter(|c| (100..=599).contains(c))
                })
                .ok_or_else(|| {
                    usage(format!(
                        "--retry-status: {v:?} is not a list of status codes"
                    ))
                })?;
                o.retry_status = Some(codes);
            }
            "--retry-methods" => {
                let v = value()?;
                let methods = list(&v, |s| {
                    Method::from_bytes(s.to_ascii_uppercase().as_bytes()).ok()
                })
                .ok_or_else(|| usage(format!("--retry-methods: {v:?} is not a list of methods")))?;
                o.retry_methods = Some(methods);
            }
            "--connect-timeout" => o.connect_timeout = Some(seconds(&name, &value()?, false)?),
            "--read-timeout" => o.read_timeout = Some(seconds(&name, &value()?, false)?),
            "--deadline" => o.deadline = Some(seconds(&name, &value()?, false)?),
            "--max-redirects" => o.max_redirects = Some(number(&name, &value()?)?),
            "--repeat" => match number(&name, &value()?)? {
                0 => return Err(usage("--repeat needs N >= 1")),
                n => o.repeat = Some(n),
            },
            "--output" => o.output = Some(value()?),
            flag => {
                if inline.is_some() {
                    return Err(usage(format!("{flag} takes no value")));
                }
                if apply_flag(&mut o, flag)? {
                    return Ok(Command::Help);
                }
            }
        }
    }
    check(&o)?;
    Ok(Command::Run(Box::new(o)))
}

/// Sets a boolean option; `Ok(true)` means "print the help".
fn apply_flag(o: &mut Options, long: &str) -> Result<bool, Failure> {
    match long {
        "--help" => return Ok(true),
        "--include" => o.include = true,
        "--verbose" => o.verbose = true,
        "--fail" => o.fail = true,
        "--digest" => o.digest = true,
        "--no-proxy" => o.no_proxy = true,
        "--insecure" => o.insecure = true,
        other => return Err(usage(format!("unknown option {other}"))),
    }
    Ok(false)
}

fn set_data(o: &mut Options, data: Data) -> Result<(), Failure> {
    if o.data.replace(data).is_some() {
        return Err(usage("give one body: -d or --json, once"));
    }
    Ok(())
}

fn number(name: &str, v: &str) -> Result<u32, Failure> {
    v.parse()
        .map_err(|_| usage(format!("{name}: {v:?} is not a whole number")))
}

fn seconds(name: &str, v: &str, zero_ok: bool) -> Result<Duration, Failure> {
    let bad = || usage(format!("{name}: {v:?} is not a positive number of seconds"));
    let secs: f64 = v.parse().map_err(|_| bad())?;
    if !(secs > 0.0 || (zero_ok && secs == 0.0)) {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// A comma list where every item parses; `None` if any does not or it is empty.
fn list<T>(v: &str, item: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    let items: Option<Vec<T>> = v.split(',').map(|s| item(s.trim())).collect();
    items.filter(|i| !i.is_empty())
}

fn check(o: &Options) -> Result<(), Failure> {
    if o.url.is_none() {
        return Err(usage("no URL given"));
    }
    if o.digest && o.user.is_none() {
        return Err(usage("--digest needs -u USER:PASS"));
    }
    if o.bearer.is_some() && o.user.is_some() {
        return Err(usage("give either -u or --bearer, not both"));
    }
    let retry_tuning = o.backoff.is_some() || o.retry_status.is_some() || o.retry_methods.is_some();
    if retry_tuning && o.retries.is_none() {
        return Err(usage(
            "--backoff, --retry-status and --retry-methods need --retries N",
        ));
    }
    Ok(())
}

fn build_session(o: &Options, env: Vec<(String, String)>) -> Result<Session, Failure> {
    let mut b = Session::builder();
    if let Some((user, pass)) = &o.user {
        b = b.auth(if o.digest {
            Auth::digest(user.as_str(), pass.as_str())
        } else {
            Auth::basic(user.as_str(), pass.as_str())
        });
    }
    if let Some(token) = &o.bearer {
        b = b.bearer_auth(token);
    }
    let proxies = match (&o.proxy, o.no_proxy) {
        (Some(p), _) => {
            let proxy = Proxy::parse(p).map_err(|e| usage(format!("--proxy: {e}")))?;
            ProxyConfig::new().with_all(proxy)
        }
        (None, true) => ProxyConfig::new(),
        (None, false) => ProxyConfig::from_env(env).map_err(|e| {
            usage(format!(
                "proxy settings in the environment: {e} (--no-proxy ignores them)"
            ))
        })?,
    };
    b = b.proxies(proxies);
    if o.cacert.is_some() || o.insecure {
        let mut tls = TlsConfig::new();
        if let Some(path) = &o.cacert {
            let pem = std::fs::read(path).map_err(|e| usage(format!("cannot read {path}: {e}")))?;
            tls = tls.add_root_certificate_pem(&pem)?;
        }
        if o.insecure {
            tls = tls.dangerous_disable_certificate_verification();
        }
        b = b.tls(tls);
    }
    b = b.retry(match o.retries {
        // No retries, and errors come back as they are (not "retries exhausted").
        None | Some(0) => Retry::disabled(),
        Some(n) => {
            let mut r = Retry::new(n);
            if let Some(f) = o.backoff {
                r = r.backoff_factor(f);
            }
            if let Some(codes) = &o.retry_status {
                r = r.status_forcelist(codes.iter().copied());
            }
            if let Some(methods) = &o.retry_methods {
                r = r.allowed_methods(methods.iter().cloned());
            }
            r
        }
    });
    if let Some(d) = o.connect_timeout {
        b = b.connect_timeout(d);
    }
    if let Some(d) = o.read_timeout {
        b = b.read_timeout(d);
    }
    if let Some(d) = o.deadline {
        b = b.deadline(d);
    }
    if let Some(n) = o.max_redirects {
        b = b.max_redirects(n);
    }
    Ok(b.build()?)
}

fn send(
    session: &Session,
    o: &Options,
    url: &str,
    stderr: &mut dyn Write,
) -> Result<Response, Failure> {
    let has = |name: &str| o.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let method = o.method.clone().unwrap_or(match o.data {
        Some(_) => Method::POST,
        None => Method::GET,
    });
    let mut req = session.request(method, url);
    match &o.data {
        Some(Data::Raw(bytes)) => {
            if !has("content-type") {
                req = req.header("Content-Type", "application/x-www-form-urlencoded");
            }
            req = req.body(bytes.clone());
        }
        Some(Data::Json(text)) => {
            if !has("content-type") {
                req = req.header("Content-Type", "application/json");
            }
            if !has("accept") {
                req = req.header("Accept", "application/json");
            }
            req = req.body(text.clone());
        }
        None => {}
    }
    for (n, v) in &o.headers {
        req = req.header(n, v);
    }
    req.send().map_err(|e| {
        if o.verbose
            && let Some(report) = e.report()
        {
            let _ = write!(stderr, "{report}");
        }
        Failure::from(e)
    })
}

/// Writes the status line, headers and body of `resp` to `out`.
fn transfer(resp: &mut Response, include: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let write_failed = |e: io::Error| Failure {
        code: EXIT_OTHER,
        message: format!("writing the output failed: {e}"),
    };
    if include {
        let mut head = format!("{:?} {}\r\n", resp.version(), resp.status());
        for (name, value) in resp.headers() {
            head.push_str(&format!(
                "{}: {}\r\n",
                name,
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes()).map_err(write_failed)?;
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The io::Error wraps the hawser error; keep its kind for the exit code.
            Err(e) => {
                return Err(match e.get_ref().and_then(|s| s.downcast_ref::<Error>()) {
                    Some(err) => Failure {
                        code: exit_code(err),
                        message: format!("{}: {}", err.kind(), err),
                    },
                    None => Failure {
                        code: EXIT_OTHER,
                        message: format!("reading the response failed: {e}"),
                    },
                });
            }
        };
        out.write_all(&buf[..n]).map_err(write_failed)?;
    }
    out.flush().map_err(write_failed)
}

/// Runs `fetch` with `args` (without the program name) and the process
/// environment `env` (for proxy variables). The body goes to `stdout`
/// (or `-o FILE`), diagnostics to `stderr`. Returns the exit code.
pub fn run<A, E>(args: A, env: E, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32
where
    A: IntoIterator,
    A::Item: Into<std::ffi::OsString>,
    E: IntoIterator<Item = (String, String)>,
{
    let args: Option<Vec<String>> = args
        .into_iter()
        .map(|a| a.into().into_string().ok())
        .collect();
    let result = match args {
        None => Err(usage("arguments must be valid UTF-8")),
        Some(args) => parse(args).and_then(|cmd| match cmd {
            Command::Help => stdout.write_all(help().as_bytes()).map_err(|e| Failure {
                code: EXIT_OTHER,
                message: format!("writing the output failed: {e}"),
            }),
            Command::Run(o) => execute(&o, env.into_iter().collect(), stdout, stderr),
        }),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(f) => {
            let _ = writeln!(stderr, "fetch: {}", f.message);
            f.code
        }
    }
}

fn execute(
    o: &Options,
    env: Vec<(String, String)>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), Failure> {
    let Some(url) = o.url.as_deref() else {
        return Err(usage("no URL given"));
    };
    let session = build_session(o, env)?;
    // The output file is created with the first response worth writing, so
    // a failed call (or --fail on an error status) leaves no empty file.
    let mut file: Option<File> = None;
    let repeat = o.repeat.unwrap_or(1);
    for _ in 0..repeat {
        let mut resp = send(&session, o, url, stderr)?;
        if o.fail && resp.status().as_u16() >= 400 {
            if o.verbose {
                let _ = write!(stderr, "{}", resp.report());
            }
            return Err(match resp.error_for_status() {
                Err(e) => Failure {
                    code: EXIT_HTTP_ERROR,
                    message: e.to_string(),
                },
                Ok(r) => Failure {
                    code: EXIT_HTTP_ERROR,
                    message: format!("HTTP status {}", r.status()),
                },
            });
        }
        if let (Some(path), None) = (&o.output, &file) {
            file = Some(File::create(path).map_err(|e| Failure {
                code: EXIT_OTHER,
                message: format!("cannot create {path}: {e}"),
            })?);
        }
        let out: &mut dyn Write = match &mut file {
            Some(f) => f,
            None => &mut *stdout,
        };
        transfer(&mut resp, o.include, out)?;
        if o.verbose {
            let _ = write!(stderr, "{}", resp.report());
        }
    }
    if o.repeat.is_some() {
        let stats = session.pool_stats();
        let _ = writeln!(
            stderr,
            "* {repeat} request(s) on one session: {} connection(s) opened, {} reused",
            stats.opened + stats.opened_extra,
            stats.reused
        );
    }
    Ok(())
}
