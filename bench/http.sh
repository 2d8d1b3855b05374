#!/usr/bin/env bash
# http.sh - `make bench`'s figures from one run, each budget of DESIGN.md
# with met / not met, and the chart docs/benchmarks-token.svg.
#
# Loads (wrk, loopback, BENCH_CONNS connections): RoomKey's
# POST /api/livekit/token and GET /api/livekit/health on SQLite, the token
# route again on PostgreSQL (a throw-away server from
# scripts/pg-test-server.sh), and two peers doing the token work without an
# audit record: bench/go_peer (net/http + golang-jwt + go-jose) and
# bench/fastify_server.mjs (Fastify + jose + livekit-server-sdk). They run
# in interleaved rounds (BENCH_ROUNDS of BENCH_SECONDS each): req/s and p99
# are each load's best round; CPU per request is each server's own CPU
# (utime + stime of its process, /proc/PID/stat) over a round divided by the
# requests wrk completed in it, the lowest round. Then the mint (mint.sh:
# minter vs the OpenSSL HMAC floor and the Node SDK), cold start (exec to
# first token) and peak RSS. All traffic stays on loopback; every load is
# bounded in time.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
bin=$root/build/roomkey
gopeer=$root/build/bench/go_peer
dur=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-5}
conns=${BENCH_CONNS:-32}
wrk_threads=${BENCH_WRK_THREADS:-2}
chart=${BENCH_CHART:-$root/docs/benchmarks-token.svg}
tmp=$(mktemp -d)
pgdir=$(mktemp -d /tmp/rk-bench-pg-XXXXXX) # outside $tmp: the server runs as postgres
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    "$root/scripts/pg-test-server.sh" stop "$pgdir" || true
    rm -rf "$tmp" "$pgdir"
}
trap cleanup EXIT

# Minting first, on a quiet machine (it prints its own section).
mint_out=$(./mint.sh "$root/build/bench/mint_bench")
echo "$mint_out"

. ./lib.sh
bench_env
export ROOMKEY_DATABASE=$tmp/rk.db

"$bin" room create general --mode members >/dev/null
"$bin" member add general "$BENCH_SUBJECT" >/dev/null
pgurl=$("$root/scripts/pg-test-server.sh" start "$pgdir")
ROOMKEY_DATABASE=$pgurl "$bin" room create general --mode members >/dev/null
ROOMKEY_DATABASE=$pgurl "$bin" member add general "$BENCH_SUBJECT" >/dev/null

start rk "$bin" serve
start go "$gopeer"
start fy node fastify_server.mjs
# The same token load against a second instance whose store is PostgreSQL.
start pg env ROOMKEY_DATABASE="$pgurl" "$bin" serve

# run_wrk NAME URL PID [SCRIPT]: one load; appends
# "rps p99_ms non200 cpu_us_per_request" to $tmp/NAME.rounds.
run_wrk() {
    local name=$1 url=$2 pid=$3 script=${4:-}
    local t0 t1 out
    t0=$(proc_ticks "$pid")
    out=$(wrk -t"$wrk_threads" -c"$conns" -d"${dur}s" --latency ${script:+-s "$script"} "$url")
    t1=$(proc_ticks "$pid")
    echo "$out" | wrk_stats $((t1 - t0)) >>"$tmp/$name.rounds"
}

# cpu_ticks: the "cpu" line's steal and total ticks (/proc/stat): CPU time
# the hypervisor gave to other guests, which no best round hides.
cpu_ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t}' /proc/stat; }
read -r steal0 total0 < <(cpu_ticks)
for _ in $(seq 1 "$rounds"); do
    run_wrk health "$url_rk/api/livekit/health" "$pid_rk"
    run_wrk token "$url_rk/api/livekit/token" "$pid_rk" token.lua
    run_wrk go "$url_go/api/livekit/token" "$pid_go" token.lua
    run_wrk fastify "$url_fy/api/livekit/token" "$pid_fy" token.lua
    run_wrk pg "$url_pg/api/livekit/token" "$pid_pg" token.lua
done
read -r steal1 total1 < <(cpu_ticks)
steal_pct=$(awk -v s=$((steal1 - steal0)) -v t=$((total1 - total0)) 'BEGIN {printf "%.1f", t ? 100 * s / t : 0}')
# best NAME: "rps p99 non200_sum cpu": the best round's req/s and p99, the
# non-200 answers of all rounds, the lowest CPU per request of any round.
best() {
    sort -k1,1gr "$tmp/$1.rounds" | awk 'NR == 1 {r = $1; p = $2; c = $4}
        {bad += $3; if ($4 < c) c = $4} END {print r, p, bad, c}'
}
read -r h_rps h_p99 h_bad h_cpu < <(best health)
read -r t_rps t_p99 t_bad t_cpu < <(best token)
read -r g_rps g_p99 g_bad g_cpu < <(best go)
read -r f_rps f_p99 f_bad f_cpu < <(best fastify)
read -r p_rps p_p99 p_bad p_cpu < <(best pg)
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid_rk/status")
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
"$root/scripts/pg-test-server.sh" stop "$pgdir" # quiet machine for the cold start

# Cold start: exec to first token served (best and median of 15), measured
# from one Python process so no tool start-up lands inside the figure.
read -r _ cold_best cold_med < <(BIN=$bin python3 coldstart.py 15)
# The audit row by itself (bench/audit_floor), on the same machine.
floor32=$("$root/build/bench/audit_floor" "$tmp" "${FLOOR_ROWS:-100000}" | awk '$2 == 32 {print $3}')
mint_us=$(echo "$mint_out" | awk '/^roomkey minter_mint/ {print $3}')
hmac_us=$(echo "$mint_out" | awk '/of which OpenSSL/ {print $5}')

echo "== HTTP (wrk -t$wrk_threads -c$conns -d${dur}s each, $rounds interleaved rounds; req/s and p99: best round; CPU: the server's own, lowest round) =="
printf '%-40s %6s%%   (CPU time the hypervisor gave to other guests during the loads)\n' "steal" "$steal_pct"
printf '%-40s %10s %9s %13s %8s\n' "" "req/s" "p99 ms" "CPU us/req" "non-200"
row() { printf '%-40s %10.0f %9.2f %13.1f %8d\n' "$@"; }
row "roomkey GET /api/livekit/health" "$h_rps" "$h_p99" "$h_cpu" "$h_bad"
row "roomkey POST /api/livekit/token" "$t_rps" "$t_p99" "$t_cpu" "$t_bad"
row "roomkey token, store on PostgreSQL" "$p_rps" "$p_p99" "$p_cpu" "$p_bad"
row "go peer (net/http+golang-jwt+go-jose)" "$g_rps" "$g_p99" "$g_cpu" "$g_bad"
row "fastify peer (jose+livekit-server-sdk)" "$f_rps" "$f_p99" "$f_cpu" "$f_bad"
printf '%-40s %7d us best, %d us median of 15\n' "cold start (exec -> first token)" "$cold_best" "$cold_med"
printf '%-40s %7d KiB\n' "roomkey peak RSS (VmHWM) after the loads" "$rss_kb"
printf '%-40s %7.1f us CPU per row (bench/audit_floor, groups of 32)\n' "SQLite audit row alone" "$floor32"

echo "== budgets (DESIGN.md; ratios from this run) =="
awk -v h="$h_cpu" -v t="$t_cpu" -v g="$g_cpu" -v f="$f_cpu" -v tr="$t_rps" -v pr="$p_rps" \
    -v m="$mint_us" -v hm="$hmac_us" -v cb="$cold_best" -v rss="$rss_kb" -v p99="$t_p99" \
    -v sdk="$(echo "$mint_out" | awk '/^ratio sdk/ {print $3 + 0}')" 'BEGIN {
    b("token CPU - health CPU (server, per request)", sprintf("%.1f us", t - h), "<= 15 us", t - h <= 15);
    b("token CPU / go peer CPU", sprintf("%.0f %%", 100 * t / g), "<= 40 %", t <= 0.40 * g);
    b("token CPU / fastify peer CPU", sprintf("%.0f %%", 100 * t / f), "<= 25 %", t <= 0.25 * f);
    b("token req/s on PostgreSQL / on SQLite", sprintf("%.0f %%", 100 * pr / tr), ">= 75 %", pr >= 0.75 * tr);
    b("mint / OpenSSL HMAC floor", sprintf("%.2fx", m / hm), "<= 1.5x", m <= 1.5 * hm);
    b("Node SDK mint / roomkey mint", sprintf("%.1fx", sdk), ">= 10x", sdk >= 10);
    b("cold start (best of 15)", sprintf("%.1f ms", cb / 1000), "< 20 ms", cb < 20000);
    b("peak RSS under load", sprintf("%d KiB", rss), "< 16384 KiB", rss < 16384);
    b("token p99, 32 connections (best round)", sprintf("%.2f ms", p99), "<= 5 ms", p99 <= 5) }
    function b(name, got, want, ok) { printf "%-40s %12s   %-12s %s\n", name, got, want, ok ? "met" : "NOT MET" }'

# The chart: CPU per token request and req/s, RoomKey and the two peers.
printf '"RoomKey\\n(audited)" %s %s\n"Go\\n(no audit)" %s %s\n"Fastify\\n(no audit)" %s %s\n' \
    "$t_cpu" "$t_rps" "$g_cpu" "$g_rps" "$f_cpu" "$f_rps" >"$tmp/chart.dat"
if command -v gnuplot >/dev/null; then
    gnuplot -e "datafile='$tmp/chart.dat'; outfile='$chart'; subtitle='$(date -u +%Y-%m-%d), $(git -C "$root" rev-parse --short HEAD), wrk -t$wrk_threads -c$conns, steal $steal_pct %'" chart.gp
    echo "chart written to ${chart#"$root"/}"
fi
