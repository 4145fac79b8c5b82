#!/bin/sh
# Syscalls per request of each client, sequential keep-alive: for every
# client, `strace -f -c` one worker process doing N requests and one doing
# 3N (after the same 10-request warm-up), and print (calls(3N) - calls(N)) / 2N,
# so process start-up and connection set-up cancel out. The server runs in
# its own process, outside strace.
#
#   benches-peers/strace.sh [N] [--clients a,b] [--workload W [--conc N]]
#
# (W defaults to seq; close, fresh, conc, download and upload also work.)
#
# Builds first if the binary is missing. Under strace the client runs slower
# than the server answers, so async clients find the response already there
# more often than in the timed runs: their epoll_wait counts are a floor.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/target/release/hawser-benches-peers"
[ -x "$bin" ] || nice -n 15 cargo build --release --quiet --manifest-path "$here/Cargo.toml"
command -v strace >/dev/null || { echo "strace.sh: strace is not installed" >&2; exit 1; }
n=2000
case "${1:-}" in [0-9]*) n=$1; shift ;; esac
exec "$bin" syscalls --requests "$n" "$@"
