#!/bin/sh
# User-space instructions per request of each client (valgrind's callgrind),
# sequential keep-alive by default: one worker process doing N requests
# and one doing N + M under callgrind, and print (Ir(N + M) - Ir(N)) / M,
# so start-up and connection set-up cancel out. Unlike timings, the count
# is the same from run to run (within a few instructions), so it shows what
# a change to the client's code did even on a noisy host. It leaves out the
# kernel and the cost of cache misses.
#
#   benches-peers/instructions.sh [--clients a,b] [--workload seq|conc] [--conc N]
#
# Needs valgrind. The server runs in its own process, outside valgrind.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/target/release/hawser-benches-peers"
nice -n 15 cargo build --release --quiet --manifest-path "$here/Cargo.toml"
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
clients=raw,ureq,hawser-std,hyper,hawser-tokio,hawser-smol,hawser-async-std
workload=seq
conc=
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) clients=$2; shift 2 ;;
        --workload) workload=$2; shift 2 ;;
        --conc) conc="--conc $2"; shift 2 ;;
        *) echo "instructions.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
n=${REQUESTS:-2000}
m=${MORE:-5000}
out=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; rm -rf "$out"' EXIT
"$bin" serve --addr 127.0.0.1:0 >"$out/addr" &
server=$!
while ! grep -q ADDR "$out/addr" 2>/dev/null; do sleep 0.1; done
addr=$(awk '{print $2}' "$out/addr")
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" worker --addr "$addr" \
        --client "$1" --workload "$workload" $conc --requests "$2" 2>&1 |
        awk '/refs:/ { gsub(",", "", $4); print $4 }'
}
echo "## Instructions per request, $workload (callgrind; (runs of $((n + m)) - $n requests) / $m)"
echo
echo "| client | instructions/req |"
echo "|---|---:|"
for c in $(echo "$clients" | tr , ' '); do
    a=$(ir "$c" "$n")
    b=$(ir "$c" $((n + m)))
    echo "| $c | $(( (b - a) / m )) |"
done
