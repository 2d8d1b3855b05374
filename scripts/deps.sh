#!/usr/bin/env bash
# deps.sh - installs what building and testing RoomKey needs, when missing:
# Debian packages (apt-get, non-interactive; needs root) and the npm packages
# of the test and bench harnesses (from their package-lock.json files).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(build-essential pkg-config libssl-dev libjansson-dev libmicrohttpd-dev libsqlite3-dev
      libcurl4-openssl-dev libyaml-dev sqlite3 curl clang-format python3 libpq-dev)
# The console's browser tests drive Debian's chromium (playwright-core never downloads one).
DEBS+=(chromium)
# make install / make deb and their checks (tests/interop/package.test.mjs):
# man page lint, the unit's verify and security score, the package tools.
DEBS+=(mandoc)
DEBS+=(man-db)
DEBS+=(systemd)
DEBS+=(dpkg-dev)
DEBS+=(lintian)
# The docs' runnable examples (tests/interop/docs.test.mjs) run in a network
# namespace of their own (unshare, ip).
DEBS+=(util-linux)
DEBS+=(iproute2)
# The fuzz targets (tests/fuzz) build with clang's libFuzzer.
DEBS+=(clang libclang-rt-dev)
# The PostgreSQL server the tests run against is installed by
# scripts/pg-test-server.sh when it first needs it.
# Only `make bench` needs these.
[ "${ROOMKEY_BENCH_DEPS:-}" = 1 ] && DEBS+=(wrk)
# The Go peer of `make bench` (bench/go_peer, GOPATH=/usr/share/gocode) and its chart.
[ "${ROOMKEY_BENCH_DEPS:-}" = 1 ] && DEBS+=(golang-go golang-github-golang-jwt-jwt-dev golang-gopkg-square-go-jose.v2-dev)
[ "${ROOMKEY_BENCH_DEPS:-}" = 1 ] && DEBS+=(gnuplot-nox)

missing=()
for p in "${DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from Debian or elsewhere (with its own npm): check commands.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
    echo "deps: installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: need root to apt-get install ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for dir in tests/interop bench; do
    [ -f "$dir/package.json" ] || continue
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "deps: npm ci in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
done
