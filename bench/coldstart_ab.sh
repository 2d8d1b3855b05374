#!/usr/bin/env bash
# coldstart_ab.sh N BIN [BIN...] - cold starts of two or more roomkey
# builds in turn (coldstart_ab.py): N rounds against one throw-away SQLite
# store with the benchmark's room and member, environment from lib.sh.
set -euo pipefail
rounds=$1
shift
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
cd "$(dirname "$0")"
root=$(cd .. && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. ./lib.sh
bench_env
export ROOMKEY_DATABASE=$tmp/rk.db
"${bins[0]}" room create general --mode members >/dev/null
"${bins[0]}" member add general "$BENCH_SUBJECT" >/dev/null
python3 coldstart_ab.py "$rounds" "${bins[@]}"
