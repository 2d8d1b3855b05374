#!/usr/bin/env bash
# scale.sh - `make bench-scale`: RoomKey on large stores, SQLite and
# PostgreSQL. Builds each store in RoomKey's own schema with bulk SQL
# (SCALE_ROOMS rooms, SCALE_MEMBERS memberships, SCALE_AUDIT audit records
# carrying the grants of a real token's record), then prints per backend:
#  - token throughput on the large store vs a small one that holds only the
#    memberships the load uses (a round of each not counted, then
#    interleaved rounds; best round of each),
#    with RoomKey's CPU per request and on PostgreSQL the server's, and
#    the load average during the rounds;
#  - an audit query by subject through the admin API (GET /admin/v1/audit),
#    as curl times it and as the server's request log does;
#  - bytes per audit record (the table and its indexes);
#  - retention: token p99 while `roomkey audit prune` deletes the older half
#    of the audit records, vs without.
# Minutes, not hours; never part of make test. All traffic stays on loopback.
set -euo pipefail
shopt -s inherit_errexit # a failed step inside $(build ...) stops the run too
cd "$(dirname "$0")"
root=$(cd .. && pwd)
bin=${BENCH_BIN:-$root/build/roomkey} # BENCH_BIN: another build to measure
rooms=${SCALE_ROOMS:-100000}
members=${SCALE_MEMBERS:-1000000}
audit=${SCALE_AUDIT:-10000000}
sample=${SCALE_SAMPLE:-2000} # memberships the token load cycles through
dur=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-32}
batch=${SCALE_PRUNE_BATCH:-500}
prune=${SCALE_PRUNE:-1} # 0: skip the retention figure
backends=${SCALE_BACKENDS:-sqlite postgres}
keep=${SCALE_KEEP:-} # a folder: stores built there stay and are used again (no prune then)
tmp=$(mktemp -d /tmp/rk-scale-XXXXXX)
if [ -n "$keep" ]; then
    mkdir -p "$keep/pg"
    stores=$(cd "$keep" && pwd) pgdir=$stores/pg prune=0
else
    stores=$tmp pgdir=$(mktemp -d /tmp/rk-scale-pg-XXXXXX) # outside $tmp: the server runs as postgres
fi
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    "$root/scripts/pg-test-server.sh" stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
    [ -n "$keep" ] || rm -rf "$pgdir"
}
trap cleanup EXIT
. ./lib.sh
bench_env
export BENCH_JWTS=$tmp/jwts.txt
python3 jwts.py "$ROOMKEY_SESSION_SECRET" "$sample" "$rooms" "$members" >"$BENCH_JWTS"
step=$((members / sample)) # the load's members: k = 1 + i * step
now=$(date +%s)
span=$((30 * 86400)) # the audit records cover the 30 days before now
mid=$((now - span / 2))
mid_iso=$(date -u -d "@$mid" +%Y-%m-%dT%H:%M:%SZ)
t0=$SECONDS
note() { printf '  [%4d s] %s\n' $((SECONDS - t0)) "$*" >&2; }

# A real token's audit record, as a template: its grants (with the room
# name replaced by @ROOM@), route, role and lifetime. Read once, from a
# store holding one record issued by `roomkey serve`.
real_record() { # DB
    "$bin" room create general --mode members --database "$1" >/dev/null
    "$bin" member add general "$BENCH_SUBJECT" --database "$1" >/dev/null
    "$bin" room create room-000001 --mode members --database "$1" >/dev/null
    "$bin" member add room-000001 "$(sed -n 1p "$BENCH_JWTS" | cut -d' ' -f1 |
        python3 -c 'import base64,json,sys; p=sys.stdin.read().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"==="))["sub"])')" \
        --database "$1" >/dev/null
    local jwt room
    read -r jwt room <"$BENCH_JWTS"
    start tpl env ROOMKEY_DATABASE="$1" "$bin" serve
    curl -fsS -X POST -H "Authorization: Bearer $jwt" -H 'Content-Type: application/json' \
        -d "{\"roomId\":\"$room\"}" "$url_tpl/api/livekit/token" >/dev/null
    kill "$pid_tpl"
    wait "$pid_tpl" 2>/dev/null || true
    "$bin" audit list --json --limit 1 --subject "$(python3 -c 'print("%08x-0000-4000-8000-%012x" % (1, 1))')" \
        --database "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)[0]
g = json.dumps(r["grants"], separators=(",", ":")).replace(r["room"], "@ROOM@").replace("'"'"'", "'"'"''"'"'")
print(g); print(r["route"]); print(r["role"]); print(r["exp"] - r["issued_at"])'
}
{ read -r grants; read -r route; read -r role; read -r ttl; } < <(real_record "$tmp/template.db")

# The bulk SQL. Rooms room-NNNNNN (0 .. rooms-1); memberships k = 1 ..
# members: subject_of(k) (UUID-shaped, as bench/jwts.py) in room k % rooms;
# audit records v = 1 .. audit, of member 1 + v % members in that member's
# room, issued in id order over the 30 days, 25-character ascending jtis
# (the minter's jtis are time-ordered). FILTER keeps a membership (and its
# room) only when true: the small store holds the load's members only.
sqlite_fill() { # WITH_AUDIT
    local keep_m="1" keep_r="1"
    if [ "$1" = 0 ]; then
        keep_m="(value - 1) % $step = 0 AND value <= $((1 + (sample - 1) * step))"
        keep_r="value IN (SELECT (1 + i * $step) % $rooms FROM (SELECT value AS i FROM generate_series(0, $((sample - 1)))))"
    fi
    cat <<SQL
PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;
PRAGMA temp_store = MEMORY;
BEGIN;
INSERT INTO rooms (name, alias, mode, default_role, max_participants, max_ttl, created_at)
  SELECT printf('room-%06d', value), NULL, 0, '', 0, 0, $now FROM generate_series(0, $((rooms - 1)))
  WHERE $keep_r;
INSERT INTO members (room, subject, role, created_at)
  SELECT printf('room-%06d', value % $rooms), printf('%08x-0000-4000-8000-%012x', value, value),
         '$role', $now FROM generate_series(1, $members) WHERE $keep_m;
COMMIT;
SQL
    [ "$1" = 1 ] || return 0
    cat <<SQL
BEGIN;
DROP INDEX audit_room_id; DROP INDEX audit_subject_id;
INSERT INTO audit (jti, subject, identity, room, role, grants, issued_at, exp, client_ip, route)
  SELECT printf('%025d', v), s, s, r, '$role', replace('$grants', '@ROOM@', r), iat, iat + $ttl,
         printf('203.0.113.%d', v % 250), '$route'
  FROM (SELECT value AS v, printf('%08x-0000-4000-8000-%012x', 1 + value % $members, 1 + value % $members) AS s,
               printf('room-%06d', (1 + value % $members) % $rooms) AS r,
               $((now - span)) + value * $span / $audit AS iat
        FROM generate_series(1, $audit));
$idx_sql
COMMIT;
SQL
}

pg_fill() { # WITH_AUDIT
    local keep_m="true" keep_r="true"
    local subj="lpad(to_hex(k), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(k), 12, '0')"
    if [ "$1" = 0 ]; then
        keep_m="(k - 1) % $step = 0 AND k <= $((1 + (sample - 1) * step))"
        keep_r="k IN (SELECT (1 + i * $step) % $rooms FROM generate_series(0, $((sample - 1))) AS g(i))"
    fi
    cat <<SQL
\\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';
BEGIN;
INSERT INTO rooms (name, alias, mode, default_role, max_participants, max_ttl, created_at)
  SELECT 'room-' || lpad(k::text, 6, '0'), NULL, 0, '', 0, 0, $now FROM generate_series(0, $((rooms - 1))) AS g(k)
  WHERE $keep_r;
INSERT INTO members (room, subject, role, created_at)
  SELECT 'room-' || lpad((k % $rooms)::text, 6, '0'), $subj, '$role', $now
  FROM generate_series(1, $members) AS g(k) WHERE $keep_m;
COMMIT;
SQL
    [ "$1" = 1 ] || return 0
    cat <<SQL
BEGIN;
DROP INDEX audit_room_id; DROP INDEX audit_subject_id;
INSERT INTO audit (jti, subject, identity, room, role, grants, issued_at, exp, client_ip, route)
  SELECT lpad(v::text, 25, '0'), s, s, r, '$role', replace('$grants', '@ROOM@', r), iat, iat + $ttl,
         '203.0.113.' || (v % 250), '$route'
  FROM (SELECT v, lpad(to_hex(k), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(k), 12, '0') AS s,
               'room-' || lpad((k % $rooms)::text, 6, '0') AS r, $((now - span)) + v * $span / $audit AS iat
        FROM (SELECT v, 1 + v % $members AS k FROM generate_series(1::bigint, $audit) AS g(v)) AS x) AS y;
$idx_sql
COMMIT;
VACUUM ANALYZE;
SQL
}

# build BACKEND NAME WITH_AUDIT: makes a store (schema by roomkey itself,
# rows by bulk SQL) and prints its URL. The audit table's two secondary
# indexes are dropped for the load and made again from their own
# definitions, as the schema has them. With SCALE_KEEP, a store of these
# sizes built before (its .done mark) is used again as it is.
build() {
    local b=$1 name=${2}_${rooms}_${members}_${audit} with=$3 url
    if [ -n "$keep" ] && [ -f "$stores/$b-$name.done" ]; then
        cat "$stores/$b-$name.done"
        return
    fi
    if [ "$b" = sqlite ]; then
        url=$stores/$name.db
        "$bin" room list --database "$url" >/dev/null # creates the schema
        idx_sql=$(sqlite3 "$url" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index'
            AND tbl_name = 'audit' AND name IN ('audit_room_id', 'audit_subject_id')")
        sqlite_fill "$with" | sqlite3 -bail "$url" >/dev/null
    else
        psql "$pgurl" -X -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
        url=${pgurl%/*}/$name # the test server's URL ends with /DATABASE
        "$bin" room list --database "$url" >/dev/null
        idx_sql=$(psql "$url" -X -At -c "SELECT indexdef || ';' FROM pg_indexes WHERE tablename = 'audit'
            AND indexname IN ('audit_room_id', 'audit_subject_id')")
        pg_fill "$with" | psql "$url" -X -q >/dev/null
    fi
    "$bin" room create general --mode members --database "$url" >/dev/null
    "$bin" member add general "$BENCH_SUBJECT" --database "$url" >/dev/null
    [ -z "$keep" ] || echo "$url" >"$stores/$b-$name.done"
    echo "$url"
}

# bytes_per_record BACKEND URL: the audit table and its indexes / records.
bytes_per_record() {
    if [ "$1" = sqlite ]; then
        sqlite3 "$2" "SELECT (SELECT sum(pgsize) FROM dbstat WHERE name = 'audit' OR name IN
            (SELECT name FROM sqlite_master WHERE tbl_name = 'audit' AND type = 'index'))
            / (SELECT count(*) FROM audit)"
    else
        psql "$2" -X -At -c "SELECT pg_total_relation_size('audit') / count(*) FROM audit"
    fi
}

# db_ticks: the CPU ticks of the PostgreSQL server's processes (its
# postmaster and every process it started that is still running; RoomKey's
# sessions last), 0 on SQLite.
db_ticks() {
    [ "$b" = postgres ] || { echo 0; return; }
    local pm
    pm=$(head -n 1 "$pgdir/data/postmaster.pid")
    for p in $pm $(pgrep -P "$pm"); do cat "/proc/$p/stat" 2>/dev/null || true; done |
        awk '{t += $14 + $15} END {print t + 0}'
}

# load NAME URL PID SECONDS: one wrk load of scale_token.lua; prints
# "rps p99_ms non200 cpu_us_per_request db_cpu_us_per_request" (the
# PostgreSQL server's CPU; 0 on SQLite).
load() {
    local c0 c1 d0 d1 out
    c0=$(proc_ticks "$3")
    d0=$(db_ticks)
    out=$(wrk -t2 -c"$conns" -d"$4s" --latency -s scale_token.lua "$2/api/livekit/token")
    c1=$(proc_ticks "$3")
    d1=$(db_ticks)
    echo "$(echo "$out" | wrk_stats $((c1 - c0))) $(echo "$out" | wrk_stats $((d1 - d0)) | cut -d' ' -f4)"
}

# audit_query URL: ms of GET /admin/v1/audit?subject=S for 20 subjects of
# the load (median and largest), each answer checked to hold records.
audit_query() {
    local i k s code ms all=()
    for i in $(seq 0 19); do
        k=$((1 + i * 97 * step % members))
        s=$(printf '%08x-0000-4000-8000-%012x' "$k" "$k")
        read -r code ms < <(curl -sS -o "$tmp/q.json" -w '%{http_code} %{time_total}\n' \
            -H "Authorization: Bearer $ROOMKEY_ADMIN_KEY" "$1/admin/v1/audit?subject=$s&limit=100")
        [ "$code" = 200 ] && grep -q "\"subject\":\"$s\"" "$tmp/q.json" ||
            { echo "audit query for $s: HTTP $code" >&2; exit 1; }
        all+=("$(awk -v t="$ms" 'BEGIN {printf "%.2f", t * 1000}')")
    done
    printf '%s\n' "${all[@]}" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[NR]}'
}

# audit_server_ms NAME: the same 20 queries' durations as server NAME's
# request log has them (median and largest, ms): the server's own time,
# without the client's and the loopback's.
audit_server_ms() {
    sleep 0.5 # the log is written at least every 100 ms
    cat "$tmp/$1.out" "$tmp/$1.err" | grep '"route":"admin.audit.list"' | tail -n 20 |
        grep -o '"duration_us":[0-9]*' | cut -d: -f2 | sort -g |
        awk '{v[NR] = $1 / 1000} END {printf "%.2f %.2f\n", v[int((NR + 1) / 2)], v[NR]}'
}

# prune_under_load URL PID: token p99 without, then during `roomkey audit
# prune --before mid` (the older half); prints
# "base_p99 during_p99 deleted seconds during_rps".
prune_under_load() {
    local base during w p t1 out
    read -r _ base _ _ < <(load big "$1" "$2" $((dur * 2)))
    t1=$SECONDS
    "$bin" audit prune --before "$mid_iso" --batch "$batch" --database "$3" >"$tmp/prune.out" &
    p=$!
    pids+=("$p")
    wrk -t2 -c"$conns" -d3600s --latency -s scale_token.lua "$1/api/livekit/token" >"$tmp/during.out" &
    w=$!
    pids+=("$w")
    wait "$p"
    local secs=$((SECONDS - t1))
    kill -INT "$w"
    wait "$w" || true
    read -r rps during _ _ < <(wrk_stats <"$tmp/during.out")
    echo "$base $during $(awk '{print $2}' "$tmp/prune.out") $secs $rps"
}

echo "== scale (rooms $rooms, memberships $members, audit records $audit; token load: $sample members in turn, wrk -t2 -c$conns) =="
for b in $backends; do
    if [ "$b" = postgres ] && [ -z "${pgurl:-}" ]; then
        # the test server's 32 MB of shared buffers are for tests; a store
        # of this size gets 512 MB
        pgurl=$("$root/scripts/pg-test-server.sh" start "$pgdir")
        psql "$pgurl" -X -q -c "ALTER SYSTEM SET shared_buffers = '512MB'"
        "$root/scripts/pg-test-server.sh" stop "$pgdir" >/dev/null
        pgurl=$("$root/scripts/pg-test-server.sh" start "$pgdir")
    fi
    note "$b: building the small store"
    t_build=$SECONDS
    small=$(build "$b" small 0)
    note "$b: building the large store"
    big=$(build "$b" big 1)
    note "$b: stores built"
    t_build=$((SECONDS - t_build))
    start small env ROOMKEY_DATABASE="$small" "$bin" serve
    start big env ROOMKEY_DATABASE="$big" "$bin" serve
    # One round of each, not counted: the small store's first round writes
    # into near-empty audit indexes (its best round in two runs, by 14-20 %
    # of CPU per request), and the large store's reads its pages from disk.
    load small "$url_small" "$pid_small" "$dur" >/dev/null
    load big "$url_big" "$pid_big" "$dur" >/dev/null
    for _ in $(seq 1 "$rounds"); do
        load small "$url_small" "$pid_small" "$dur" >>"$tmp/$b.small"
        cut -d' ' -f1 /proc/loadavg >>"$tmp/$b.load"
        load big "$url_big" "$pid_big" "$dur" >>"$tmp/$b.big"
        cut -d' ' -f1 /proc/loadavg >>"$tmp/$b.load"
    done
    la=$(sort -g "$tmp/$b.load" | sed -n '1p;$p' | paste -sd-)
    read -r s_rps s_p99 s_bad s_cpu s_db < <(sort -k1,1gr "$tmp/$b.small" | head -1)
    read -r g_rps g_p99 g_bad g_cpu g_db < <(sort -k1,1gr "$tmp/$b.big" | head -1)
    read -r q_med q_max < <(audit_query "$url_big")
    read -r q_smed q_smax < <(audit_server_ms big)
    bpr=$(bytes_per_record "$b" "$big")
    base=0 during=0 deleted=0 secs=0 drps=0
    if [ "$prune" = 1 ]; then
        note "$b: pruning the records before $mid_iso under load"
        read -r base during deleted secs drps < <(prune_under_load "$url_big" "$pid_big" "$big")
    fi
    kill "$pid_small" "$pid_big"
    wait "$pid_small" "$pid_big" 2>/dev/null || true
    echo "-- $b (stores built in $t_build s, $((SECONDS - t0)) s into the run; load average $la during the token loads) --"
    db=""
    [ "$b" = sqlite ] || db="  server CPU %5.1f us/req"
    printf "%-44s %9.0f req/s  p99 %6.2f ms  CPU %5.1f us/req$db  non-200 %s\n" \
        "token, small store" "$s_rps" "$s_p99" "$s_cpu" ${db:+"$s_db"} "$s_bad"
    printf "%-44s %9.0f req/s  p99 %6.2f ms  CPU %5.1f us/req$db  non-200 %s\n" \
        "token, large store" "$g_rps" "$g_p99" "$g_cpu" ${db:+"$g_db"} "$g_bad"
    printf '%-44s %9.2f ms median, %.2f ms largest of 20\n' "audit query by subject (admin API)" "$q_med" "$q_max"
    printf '%-44s %9.2f ms median, %.2f ms largest of 20\n' "  the same, the server's own time" "$q_smed" "$q_smax"
    printf '%-44s %9d B (table + indexes, grants of a real token)\n' "bytes per audit record" "$bpr"
    if [ "$prune" = 1 ]; then
        printf '%-44s %9s records in %d s (batch %d), %.0f req/s meanwhile\n' "prune before $mid_iso" "$deleted" "$secs" "$batch" "$drps"
        printf '%-44s %9.2f ms without, %.2f ms during the prune\n' "token p99" "$base" "$during"
    fi
    awk -v s="$s_rps" -v g="$g_rps" -v qm="$q_max" -v b="$base" -v d="$during" -v p="$prune" 'BEGIN {
        ok("large / small store token throughput", sprintf("%.0f %%", 100 * g / s), ">= 80 %", g >= 0.8 * s);
        ok("audit query by subject (largest of 20)", sprintf("%.2f ms", qm), "< 50 ms", qm < 50);
        if (p) ok("token p99 during the prune / without", sprintf("%.2fx", d / b), "<= 2x", d <= 2 * b) }
        function ok(n, got, want, met) { printf "%-44s %9s   %-9s %s\n", n, got, want, met ? "met" : "NOT MET" }'
    [ -n "$keep" ] || rm -f "$tmp"/*.db "$tmp"/*.db-wal "$tmp"/*.db-shm
done
