#!/usr/bin/env bash
# Run every fuzz target for the same time and print what each did:
#   fuzz/run.sh [SECONDS_PER_TARGET]   (default 60; needs nightly and cargo-fuzz:
#   `cargo install cargo-fuzz`)
# New inputs land in fuzz/corpus/<target>/ (git-ignored unless named seed-*);
# a crash is saved under fuzz/artifacts/<target>/ and stops that target.
set -uo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
targets=$(cargo +nightly fuzz list)
status=0
for t in $targets; do
    log=$(mktemp)
    cargo +nightly fuzz run "$t" -- -max_total_time="$secs" >"$log" 2>&1
    rc=$?
    runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then verdict="ok"; else verdict="FINDING (exit $rc, see fuzz/artifacts/$t)"; status=1; fi
    printf '%-15s %12s runs  %-10s %s\n' "$t" "${runs:-?}" "${cov:-}" "$verdict"
    rm -f "$log"
done
exit $status
