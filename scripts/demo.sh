#!/usr/bin/env bash
# demo.sh - what `make run` does until the service lands: mint a demo token
# with a development key and show how to verify it.
set -euo pipefail
cd "$(dirname "$0")/.."
export LIVEKIT_API_KEY=devkey
export LIVEKIT_API_SECRET=devsecret-devsecret-devsecret-0001 # dev only: never use in production
bin=build/roomkey
echo "== RoomKey demo (development key: LIVEKIT_API_KEY=$LIVEKIT_API_KEY) =="
echo
echo "\$ roomkey token create --join --room demo --identity alice --name Alice --valid-for 1h"
tok=$($bin token create --join --room demo --identity alice --name Alice --valid-for 1h --token-only)
$bin token decode "$tok" 2>/dev/null
echo
echo "token: $tok"
echo
echo "Verify it (exit 0 and the claims when valid):"
echo "  LIVEKIT_API_KEY=$LIVEKIT_API_KEY LIVEKIT_API_SECRET=$LIVEKIT_API_SECRET $bin token verify $tok"
$bin token verify "$tok" >/dev/null
