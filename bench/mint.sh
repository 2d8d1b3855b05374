#!/usr/bin/env bash
# mint.sh - RoomKey's minter vs the Node SDK's AccessToken.toJwt, one run.
set -euo pipefail
cd "$(dirname "$0")"
bin=$1
out=$("$bin" "${MINT_ITERS:-2000000}" 2>/dev/null)
rk=$(echo "$out" | awk '/^roomkey_mint_us/ {print $2}')
floor=$(echo "$out" | awk '/^hmac_floor_us/ {print $2}')
sdk=$(node sdk_mint.mjs "${SDK_ITERS:-100000}" | awk '/^sdk_mint_us/ {print $2}')
ratio=$(awk -v a="$sdk" -v b="$rk" 'BEGIN {printf "%.1f", a / b}')
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "== minting (one core; roomkey and HMAC: fastest of 1000 rounds in turn, SDK: best of 5; $cpu, $(nproc) cores) =="
printf '%-34s %10s us/token\n' "roomkey minter_mint" "$rk"
printf '%-34s %10s us/token\n' "  of which OpenSSL HMAC-SHA256" "$floor"
printf '%-34s %10s us/token\n' "livekit-server-sdk toJwt (node)" "$sdk"
printf '%-34s %10sx  (target >= 10x)\n' "ratio sdk/roomkey" "$ratio"
