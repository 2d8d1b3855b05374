#!/usr/bin/env bash
# fuzz.sh - runs the libFuzzer targets: `fuzz.sh run SECONDS BIN...` runs
# each BIN (build/fuzz/fuzz_NAME) for SECONDS on its committed corpus
# (tests/fuzz/corpus/NAME, read only) plus a work corpus of new inputs
# (build/fuzz/work/NAME). A crash (or leak, or timeout) stops with the
# input saved as build/fuzz/crash-NAME-* and exit 1; each target's last
# status line (runs, coverage) is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = run ] || { echo "usage: fuzz.sh run SECONDS BIN..." >&2; exit 2; }
secs=$2
shift 2
status=0
for bin in "$@"; do
    name=$(basename "$bin")
    name=${name#fuzz_}
    work=build/fuzz/work/$name
    mkdir -p "$work"
    log=build/fuzz/$name.log
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build/fuzz/crash-$name-" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
        echo "fuzz $name: $(grep -E '^#[0-9]+' "$log" | tail -n 1)"
    else
        echo "fuzz $name: FAILED (see $log)" >&2
        tail -n 40 "$log" >&2
        status=1
    fi
done
exit $status
