//! The markdown tables: ratios first, then the absolute medians.

use std::collections::BTreeMap;

use crate::runner::Outcome;
use crate::Spec;

type Results<'a> = BTreeMap<(&'a str, &'a str), Vec<Outcome>>;

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// The median over trials of `f` for one (workload, client).
fn med(r: &Results<'_>, w: &str, c: &str, f: impl Fn(&Outcome) -> f64) -> Option<f64> {
    median(r.get(&(w, c))?.iter().map(f).collect())
}

fn rps(o: &Outcome) -> f64 {
    o.reqs as f64 / o.secs
}
fn cpu_us(o: &Outcome) -> f64 {
    o.cpu_secs / o.reqs as f64 * 1e6
}
fn mib_s(o: &Outcome) -> f64 {
    o.bytes as f64 / o.secs / f64::from(1 << 20)
}
fn cpu_ms_gib(o: &Outcome) -> f64 {
    o.cpu_secs * 1e3 / (o.bytes as f64 / f64::from(1 << 30))
}
fn rss_mib(o: &Outcome) -> f64 {
    o.maxrss_kib as f64 / 1024.0
}
fn server_busy(o: &Outcome) -> f64 {
    o.server_cpu_secs / o.secs * 100.0
}
fn opened_per_req(o: &Outcome) -> f64 {
    o.opened as f64 / o.reqs as f64
}

struct Row {
    label: String,
    cells: Vec<String>,
}

fn table(title: &str, clients: &[&str], rows: &[Row]) {
    println!("\n{title}\n");
    println!("| workload | {} |", clients.join(" | "));
    println!(
        "|---|{}|",
        clients.iter().map(|_| "---:").collect::<Vec<_>>().join("|")
    );
    for r in rows {
        println!("| {} | {} |", r.label, r.cells.join(" | "));
    }
}

pub fn print(specs: &[Spec], clients: &[&str], r: &Results<'_>, upload: u64) {
    let has = |w: &str| specs.iter().any(|s| s.name == w);
    let label = |w: &str| match w {
        "seq" => "sequential keep-alive, 13 B".to_owned(),
        "close" => "new connection per request (`Connection: close`)".to_owned(),
        "fresh" => "new client per request (one-off)".to_owned(),
        "c8" => "8 concurrent, keep-alive".to_owned(),
        "c64" => "64 concurrent, keep-alive".to_owned(),
        "download" => "streamed download".to_owned(),
        "upload" => format!("{} KiB upload (POST)", upload >> 10),
        _ => w.to_owned(),
    };

    // Ratios: "how many times the baseline's cost", so 1.00 is the
    // baseline and 2.00 twice as slow (or twice the CPU).
    let ratio_row = |w: &str, what: &str, base: &str, f: fn(&Outcome) -> f64, inverse: bool| {
        let b = med(r, w, base, f);
        let cells = clients
            .iter()
            .map(|c| match (med(r, w, c, f), b) {
                (Some(x), Some(b)) if x > 0.0 && b > 0.0 => {
                    format!("{:.2}", if inverse { b / x } else { x / b })
                }
                (None, _) if r.contains_key(&(w, *c)) => "err".into(),
                (None, _) => "–".into(),
                _ => "?".into(),
            })
            .collect();
        Row {
            label: format!("{} — {what} vs {base}", label(w)),
            cells,
        }
    };
    let mut rows = Vec::new();
    for (w, base) in [("seq", "raw"), ("close", "raw"), ("fresh", "raw")] {
        if has(w) {
            rows.push(ratio_row(w, "time/req", base, rps, true));
            rows.push(ratio_row(w, "CPU/req", base, cpu_us, false));
        }
    }
    for w in ["c8", "c64"] {
        if has(w) {
            rows.push(ratio_row(w, "time/req", "hyper", rps, true));
            rows.push(ratio_row(w, "CPU/req", "hyper", cpu_us, false));
        }
    }
    if has("download") {
        rows.push(ratio_row("download", "time/byte", "hyper", mib_s, true));
        rows.push(ratio_row(
            "download", "CPU/byte", "hyper", cpu_ms_gib, false,
        ));
        rows.push(ratio_row("download", "peak RSS", "hyper", rss_mib, false));
    }
    if has("upload") {
        rows.push(ratio_row("upload", "time/req", "hyper", rps, true));
        rows.push(ratio_row("upload", "CPU/req", "hyper", cpu_us, false));
    }
    table(
        "## Ratios (median of the trials; 1.00 = the baseline named in the row, higher = slower / more)",
        clients,
        &rows,
    );

    let abs_row = |w: &str, what: &str, f: &dyn Fn(&Outcome) -> f64, prec: usize| {
        let cells = clients
            .iter()
            .map(|c| match med(r, w, c, f) {
                Some(x) => format!("{x:.prec$}"),
                None if r.contains_key(&(w, *c)) => "err".into(),
                None => "–".into(),
            })
            .collect();
        Row {
            label: format!("{} — {what}", label(w)),
            cells,
        }
    };
    let mut rows = Vec::new();
    for w in ["seq", "close", "fresh", "c8", "c64"] {
        if has(w) {
            rows.push(abs_row(w, "req/s", &rps, 0));
            rows.push(abs_row(w, "client CPU µs/req", &cpu_us, 1));
        }
    }
    if has("download") {
        rows.push(abs_row("download", "MiB/s", &mib_s, 0));
        rows.push(abs_row("download", "client CPU ms/GiB", &cpu_ms_gib, 0));
        rows.push(abs_row("download", "client peak RSS MiB", &rss_mib, 1));
    }
    if has("upload") {
        rows.push(abs_row("upload", "req/s", &rps, 0));
        let up = move |o: &Outcome| o.reqs as f64 * upload as f64 / o.secs / f64::from(1 << 20);
        rows.push(abs_row("upload", "MiB/s", &up, 0));
        rows.push(abs_row("upload", "client CPU µs/req", &cpu_us, 1));
    }
    for (w, want) in [
        ("seq", 0),
        ("close", 1),
        ("fresh", 1),
        ("c8", 0),
        ("c64", 0),
    ] {
        if has(w) {
            let what = format!("connections opened per request while timed (want {want})");
            rows.push(abs_row(w, &what, &opened_per_req, 3));
        }
    }
    for w in ["c8", "c64", "download", "upload"] {
        if has(w) {
            rows.push(abs_row(
                w,
                "server CPU busy % while timed (its own CPU; far from 100 = not the bottleneck)",
                &server_busy,
                0,
            ));
        }
    }
    table("## Absolute numbers (medians)", clients, &rows);
}
