#!/usr/bin/env bash
# session-jwt.sh SECRET SUB [NAME] [ISS] [AUD] [TTL_SECONDS]
# Prints an HS256 session JWT, as an app's login would issue it, for
# development and benchmarks (signing with the openssl command line).
set -euo pipefail
secret=$1 sub=$2 name=${3:-} iss=${4:-} aud=${5:-} ttl=${6:-3600}
now=$(date +%s)
b64url() { basenc --base64url -w0 | tr -d '='; }
json_str() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload="{\"sub\":\"$(json_str "$sub")\",\"iat\":$now,\"exp\":$((now + ttl))"
[ -n "$name" ] && payload+=",\"name\":\"$(json_str "$name")\""
[ -n "$iss" ] && payload+=",\"iss\":\"$(json_str "$iss")\""
[ -n "$aud" ] && payload+=",\"aud\":\"$(json_str "$aud")\""
payload=$(printf '%s}' "$payload" | b64url)
sig=$(printf '%s.%s' "$header" "$payload" |
    openssl dgst -sha256 -mac HMAC -macopt "key:$secret" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$payload" "$sig"
