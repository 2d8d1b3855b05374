#!/usr/bin/env bash
# demo.sh - what `make run` does: start RoomKey on SQLite with the
# development config (config/dev.yaml: `livekit-server --dev`'s key pair
# devkey / secret, an HS256 login issuer, demo rooms and members) and print
# ready-to-paste requests.
# Ctrl-C stops the service. Dev secrets only: never use them in production.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p run
listen=${ROOMKEY_LISTEN:-127.0.0.1:8080}
export ROOMKEY_LISTEN=$listen
url=http://$listen
# The dev issuer's secret, iss and aud, as in config/dev.yaml.
secret=dev-session-secret-dev-session-secret-01
alice=$(scripts/session-jwt.sh "$secret" alice Alice roomkey-dev roomkey 86400)
carol=$(scripts/session-jwt.sh "$secret" carol Carol roomkey-dev roomkey 86400)
cat <<EOT
== RoomKey (development config: config/dev.yaml, database run/roomkey-dev.db) ==

Rooms: general (alias 64f7b1234567890abcdef123, members only: alice=moderator, bob=member),
       lobby (any signed-in user, listener), stage (members only: alice).
Dev session JWTs (HS256, valid 24 h) for alice and carol (carol is no member of general):

  ALICE=$alice
  CAROL=$carol

A token for alice in the general channel (by its channel id, as the NestJS /api/livekit contract's frontend sends it):

  curl -s -X POST $url/api/livekit/token -H "Authorization: Bearer \$ALICE" \\
       -H 'Content-Type: application/json' -d '{"roomId":"64f7b1234567890abcdef123","ttl":3600}'

  curl -s $url/api/livekit/connection-info -H "Authorization: Bearer \$ALICE"
  curl -s $url/api/livekit/health

carol is refused (403) in general, and gets a listener token in lobby:

  curl -s -X POST $url/api/livekit/token -H "Authorization: Bearer \$CAROL" \\
       -H 'Content-Type: application/json' -d '{"roomId":"lobby"}'

Check a minted token:  LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret build/roomkey token verify --dev TOKEN
Who got what:          build/roomkey audit list --database run/roomkey-dev.db
The admin console:     $url/console/  (admin key: dev-admin-key-dev-admin-key-0001)

Starting the service (Ctrl-C to stop) ...
EOT
exec build/roomkey serve --config config/dev.yaml
