//! `fetch`: a small curl-like client on hawser-std.
//!
//! Run: `cargo run -p hawser-std --example fetch -- [OPTIONS] URL`
//! (`--help` lists the options and exit codes).
//!
//! The logic lives in `cli.rs` so that `tests/fetch_cli.rs` can run it in
//! process against a loopback server; this file only wires it to the real
//! arguments, environment and standard streams.

mod cli;

use std::io::Write;

fn main() {
    let args = std::env::args_os().skip(1);
    // Non-UTF-8 variables cannot name a proxy; skip them rather than panic
    // as `std::env::vars` would.
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = cli::run(args, env, &mut stdout.lock(), &mut stderr.lock());
    let _ = stdout.lock().flush();
    std::process::exit(code);
}
