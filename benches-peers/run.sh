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
# strace run length for sequential keep-alive (default 2000; QUICK uses 300),
# after which the 100 MiB download (4 requests; QUICK 2 of 32 MiB) and the 1 MiB upload
# (200; QUICK 50) are counted too. NO_STRACE=1 skips all three. Last come
# instructions per keep-alive request under callgrind (instructions.sh),
# when valgrind is installed; NO_CALLGRIND=1 skips them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nice -n 15 cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/hawser-benches-peers"
quick=
n=${SYSCALL_REQUESTS:-2000}
n_down=4
n_up=200
down_size=
if [ -n "${QUICK:-}" ]; then
    quick=--quick
    n=${SYSCALL_REQUESTS:-300}
    n_down=2
    n_up=50
    down_size="--bulk 33554432"
fi
echo "# hawser-benches-peers, $(date -u +%Y-%m-%d), $(uname -srm), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# hawser $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$here/.." diff --quiet -- core backend-std backend-async backend-smol backend-async-std backend-tokio 2>/dev/null || echo ' (uncommitted changes)')"
"$bin" compare $quick "$@"
if [ -z "${NO_STRACE:-}" ]; then
    echo
    "$here/strace.sh" "$n"
    echo
    "$here/strace.sh" "$n_down" --workload download $down_size
    echo
    "$here/strace.sh" "$n_up" --workload upload
fi
if [ -z "${NO_CALLGRIND:-}" ] && command -v valgrind >/dev/null; then
    echo
    "$here/instructions.sh"
fi
