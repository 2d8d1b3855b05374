# lib.sh - shared by bench/http.sh and bench/scale.sh (sourced): the
# benchmark's environment, starting servers, and reading wrk's output.
# Expects $root (the repository) and $tmp (a scratch directory) to be set.

# bench_env exports the secrets and settings every server of a run uses.
bench_env() {
    export LIVEKIT_API_KEY=APIbench
    export LIVEKIT_API_SECRET=bench-secret-bench-secret-bench-secret-0123
    export LIVEKIT_URL=ws://127.0.0.1:7880
    export ROOMKEY_SESSION_SECRET=bench-session-secret-bench-session-01
    export ROOMKEY_ADMIN_KEY=bench-admin-key-bench-admin-key-0123456789
    export BENCH_SUBJECT=bench-user
    export ROOMKEY_LISTEN=127.0.0.1:0
    # The load comes from one IP, far above any production limit.
    export ROOMKEY_RATE_LIMIT=off
    BENCH_JWT=$("$root/scripts/session-jwt.sh" "$ROOMKEY_SESSION_SECRET" "$BENCH_SUBJECT" "Bench User" "" "" 86400)
    export BENCH_JWT
}

# wait_url LOGFILE: waits for "listening on URL" and prints the URL.
wait_url() {
    local url
    for _ in $(seq 1 600); do
        url=$(grep -m1 -o 'http://[0-9.:]*' "$1" 2>/dev/null || true)
        [ -n "$url" ] && { echo "$url"; return; }
        sleep 0.05
    done
    echo "server did not start; log:" >&2
    cat "$1" >&2
    exit 1
}

# start NAME CMD...: starts a server (its output in $tmp/NAME.out and .err),
# waits for its URL, checks that one token request for BENCH_JWT answers
# 200, and sets url_NAME and pid_NAME; the pid goes into the pids array.
start() {
    local name=$1
    shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    local pid=$!
    pids+=("$pid")
    local url
    url=$(wait_url "$tmp/$name.out")
    curl -fsS -X POST -H "Authorization: Bearer $BENCH_JWT" -H 'Content-Type: application/json' \
        -d '{"roomId":"general"}' "$url/api/livekit/token" >/dev/null ||
        { echo "server $name: its first token request failed; its log:" >&2
          tail -n 20 "$tmp/$name.out" "$tmp/$name.err" >&2; exit 1; }
    printf -v "url_$name" '%s' "$url"
    printf -v "pid_$name" '%s' "$pid"
}

# proc_ticks PID: the process's user + system CPU ticks (/proc/PID/stat).
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wrk_stats [CPU_TICKS]: reads wrk --latency output on stdin and prints
# "rps p99_ms non200 cpu_us_per_request" (the last 0 without CPU_TICKS).
wrk_stats() {
    awk -v dt="${1:-0}" -v hz="$(getconf CLK_TCK)" '
        /requests in/ { n = $1 }
        /^Requests\/sec/ { rps = $2 }
        $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                      p99 = v * (u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1) }
        /^non200/ { bad = $2 } /Non-2xx/ { bad = $NF }
        END { printf "%s %.3f %d %.1f\n", rps + 0, p99, bad + 0, n ? dt * 1e6 / hz / n : 0 }'
}
