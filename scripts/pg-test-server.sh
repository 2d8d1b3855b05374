#!/usr/bin/env bash
# pg-test-server.sh - a throw-away PostgreSQL server for the tests and the
# benchmark: Debian's server binaries, a cluster in a temporary directory,
# listening on 127.0.0.1 (an ephemeral port) and on a unix socket inside
# that directory. Nothing outside DIR is touched, except that the Debian
# `postgresql` package is installed when missing.
#
#   pg-test-server.sh start DIR   first time: initdb in DIR (superuser
#                                 "roomkey" with a random password, database
#                                 "roomkey"); then start it (same port on a
#                                 restart) and print its URL
#   pg-test-server.sh url DIR     print the URL
#   pg-test-server.sh stop DIR    stop it (fast shutdown); fine when stopped
#   pg-test-server.sh kill DIR    crash it: SIGKILL the postmaster, then wait
#                                 until its processes are gone (start DIR
#                                 brings it back through crash recovery)
#   pg-test-server.sh freeze DIR  SIGSTOP the postmaster and its processes:
#                                 a server that accepts connections (the
#                                 kernel does) and answers nothing
#   pg-test-server.sh thaw DIR    SIGCONT them again
#   pg-test-server.sh run CMD...  start a server in a new temporary
#                                 directory, run CMD with ROOMKEY_TEST_PG_URL
#                                 and ROOMKEY_TEST_PG_DIR set, then always
#                                 stop it and remove the directory; exits
#                                 with CMD's status
#
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` user (which the Debian package creates) and DIR is given to it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "pg-test-server: $*" >&2; exit 1; }

# bindir finds the newest installed server's binaries, installing the
# Debian package first when there is none.
bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and installing it needs root"
        echo "pg-test-server: installing the Debian package postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
        [ -n "$d" ] && [ -x "$d/initdb" ] || die "no initdb after installing postgresql"
    fi
    echo "$d"
}

# as_owner runs a command as the user the server runs as.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

url_of() {
    local dir=$1
    [ -f "$dir/port" ] && [ -f "$dir/password" ] || die "$dir holds no test server"
    echo "postgresql://roomkey:$(cat "$dir/password")@127.0.0.1:$(cat "$dir/port")/roomkey"
}

init_cluster() {
    local dir=$1 bin=$2
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "no postgres user to run the server as"
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the postgres user cannot write $dir (is a parent directory private?)"
    fi
    openssl rand -hex 16 >"$dir/password.tmp"
    mkdir -p "$dir/sock"
    free_port >"$dir/port"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U roomkey --pwfile="$dir/password.tmp" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    mv "$dir/password.tmp" "$dir/password"
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $(cat "$dir/port")
unix_socket_directories = '$dir/sock'
max_connections = 100
shared_buffers = 32MB
EOF
}

start() {
    local dir=$1 bin first=0
    bin=$(bindir)
    [ -d "$dir" ] || die "no directory $dir"
    dir=$(cd "$dir" && pwd)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        init_cluster "$dir" "$bin"
        first=1
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >"$dir/pg_ctl.log" 2>&1 ||
        { cat "$dir/pg_ctl.log" >&2; tail -n 20 "$dir/server.log" >&2; die "the server did not start"; }
    if [ $first = 1 ]; then
        as_owner "$bin/createdb" -h "$dir/sock" -p "$(cat "$dir/port")" -U roomkey roomkey
    fi
    url_of "$dir"
}

stop() {
    local dir=$1 bin
    bin=$(bindir)
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

crash() {
    local dir=$1 pm kids
    [ -f "$dir/data/postmaster.pid" ] || die "no server running in $dir"
    pm=$(head -n 1 "$dir/data/postmaster.pid")
    kids=$(pgrep -P "$pm" || true)
    kill -KILL "$pm"
    # The backends notice their postmaster's death and exit; a new
    # postmaster can't start while they still hold the shared memory.
    for _ in $(seq 1 300); do
        local alive=0
        for p in $pm $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && return 0
        sleep 0.05
    done
    for p in $kids; do kill -KILL "$p" 2>/dev/null || true; done
}

# signal_all SIG DIR: the postmaster first (it forks no new process
# meanwhile), then its children.
signal_all() {
    local sig=$1 dir=$2 pm
    [ -f "$dir/data/postmaster.pid" ] || die "no server running in $dir"
    pm=$(head -n 1 "$dir/data/postmaster.pid")
    kill "-$sig" "$pm"
    for p in $(pgrep -P "$pm" || true); do kill "-$sig" "$p" 2>/dev/null || true; done
}

run() {
    local dir rc=0
    dir=$(mktemp -d /tmp/rk-pg-XXXXXX)
    chmod 755 "$dir"
    trap 'stop "$dir"; rm -rf "$dir"' EXIT
    ROOMKEY_TEST_PG_URL=$(start "$dir")
    export ROOMKEY_TEST_PG_URL ROOMKEY_TEST_PG_DIR=$dir ROOMKEY_TEST_PG_CTL=$here/pg-test-server.sh
    "$@" || rc=$?
    exit $rc
}

cmd=${1:-}
case "$cmd" in
start | url | stop | kill | freeze | thaw)
    [ $# -eq 2 ] || die "usage: $0 $cmd DIR"
    case "$cmd" in
    start) start "$2" ;;
    url) url_of "$2" ;;
    stop) stop "$2" ;;
    kill) crash "$2" ;;
    freeze) signal_all STOP "$2" ;;
    thaw) signal_all CONT "$2" ;;
    esac
    ;;
run)
    shift
    [ $# -ge 1 ] || die "usage: $0 run CMD..."
    run "$@"
    ;;
*) die "usage: $0 start|url|stop|kill|freeze|thaw DIR, or $0 run CMD..." ;;
esac
