#!/bin/sh
# The peer comparison in one go: build (release, niced), then every client
# through every workload (markdown tables of ratios and absolute medians),
# then syscalls per request for sequential keep-alive under strace.
#
#   benches-peers/run.sh                 # the full run (~6-7 minutes)
#   QUICK=1 benches-peers/run.sh         # smoke run (under a minute)
#   benches-peers/run.sh --clients raw,hyper,hawser-std --workloads seq,c64
#
# Extra arguments go to `compare` (see `--help`); SYSCALL_REQUESTS sets the
# strace run length (default 2000; QUICK uses 300); NO_STRACE=1 skips it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nice -n 15 cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/hawser-benches-peers"
quick=
n=${SYSCALL_REQUESTS:-2000}
if [ -n "${QUICK:-}" ]; then
    quick=--quick
    n=${SYSCALL_REQUESTS:-300}
fi
echo "# hawser-benches-peers, $(date -u +%Y-%m-%d), $(uname -srm), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# hawser $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$here/.." diff --quiet -- core backend-std backend-async backend-smol backend-async-std backend-tokio 2>/dev/null || echo ' (uncommitted changes)')"
"$bin" compare $quick "$@"
if [ -z "${NO_STRACE:-}" ]; then
    echo
    "$here/strace.sh" "$n"
fi
