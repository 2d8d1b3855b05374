#!/usr/bin/env bash
# ab.sh BIN_A BIN_B - two roomkey binaries side by side, for measuring one
# change: each serves its own SQLite store; health and token loads run
# against both in interleaved rounds (BENCH_ROUNDS, default 5, of
# BENCH_SECONDS, default 4), and each server's own CPU per request
# (/proc/PID/stat) is printed per round and as the median of the rounds.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
a=$(realpath "$1")
b=$(realpath "$2")
dur=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-5}
conns=${BENCH_CONNS:-32}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
. ./lib.sh
bench_env
for s in A B; do
    db=$tmp/$s.db
    "$a" room create general --mode members --database "$db" >/dev/null
    "$a" member add general "$BENCH_SUBJECT" --database "$db" >/dev/null
done
start A env ROOMKEY_DATABASE="$tmp/A.db" "$a" serve
start B env ROOMKEY_DATABASE="$tmp/B.db" "$b" serve

# one NAME URL PID [SCRIPT]: a load; prints "rps p99 non200 cpu_us".
one() {
    local c0 c1 out
    c0=$(proc_ticks "$3")
    out=$(wrk -t2 -c"$conns" -d"${dur}s" --latency ${4:+-s "$4"} "$2")
    c1=$(proc_ticks "$3")
    echo "$out" | wrk_stats $((c1 - c0))
}
printf '%-6s %-3s %10s %8s %10s\n' round bin "req/s" "p99 ms" "CPU us/req"
for r in $(seq 1 "$rounds"); do
    for s in A B; do
        url=url_$s pid=pid_$s
        read -r hr hp _ hc < <(one health "${!url}/api/livekit/health" "${!pid}")
        read -r tr tp _ tc < <(one token "${!url}/api/livekit/token" "${!pid}" token.lua)
        echo "$hc" >>"$tmp/$s.health"
        echo "$tc" >>"$tmp/$s.token"
        printf '%-6s %-3s %10.0f %8.2f %10.1f   health\n' "$r" "$s" "$hr" "$hp" "$hc"
        printf '%-6s %-3s %10.0f %8.2f %10.1f   token\n' "$r" "$s" "$tr" "$tp" "$tc"
    done
done
med() { sort -g "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for s in A B; do
    printf 'median CPU us/req, %s: health %s, token %s\n' "$s" "$(med "$tmp/$s.health")" "$(med "$tmp/$s.token")"
done
