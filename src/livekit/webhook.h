/* webhook.h - LiveKit's webhooks: checking that one came from the LiveKit
 * server, and reading the event it carries.
 *
 * livekit-server POSTs protojson of a WebhookEvent with
 * `Content-Type: application/webhook+json` and `Authorization: <JWT>` (no
 * "Bearer"): HS256 by one of its API keys (iss = key), valid for 5 minutes,
 * with a `sha256` claim = standard padded base64 of SHA-256 over the raw
 * body. A webhook counts only when all of that holds. */
#ifndef RK_LK_WEBHOOK_H
#define RK_LK_WEBHOOK_H

#include "../token/keyring.h"
#include "models.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_MAX_BODY  (256u * 1024) /* bytes of body */
#define WEBHOOK_MAX_AUTH  4096u         /* bytes of Authorization */
#define WEBHOOK_MAX_AGE   300           /* seconds since the token's nbf/iat */
#define WEBHOOK_LEEWAY    10            /* seconds of clock skew */
#define WEBHOOK_MAX_EVENT 64
#define WEBHOOK_MAX_ID    128

typedef struct lk_webhook_event {
    char event[WEBHOOK_MAX_EVENT + 1]; /* "participant_joined", ... */
    char id[WEBHOOK_MAX_ID + 1];       /* unique per event: duplicates share it */
    int64_t created_at;                /* Unix seconds */
    bool has_room;
    lk_room_info room;
    bool has_participant;
    lk_participant_info participant;
} lk_webhook_event;

/* lk_webhook_content_type_ok says whether a Content-Type header value is
 * application/webhook+json (parameters after ';' allowed). */
bool lk_webhook_content_type_ok(const char *ct);

/* lk_webhook_verify checks auth (the Authorization header value) over
 * body[0..body_len) at time now (Unix seconds): a JWT (no "Bearer "), HS256
 * by a key in kr, within its exp/nbf, issued at most WEBHOOK_MAX_AGE seconds
 * ago, its sha256 claim equal (constant time) to base64(SHA-256(body)).
 * RK_OK, or RK_EVERIFY / RK_EEXPIRED / RK_ETOOBIG / RK_EINVAL with a static
 * reason. Nothing is allocated that outlives the call. */
__attribute__((warn_unused_result)) int lk_webhook_verify(const keyring *kr, const char *auth,
                                                          const char *body, size_t body_len,
                                                          int64_t now, const char **reason);

/* lk_webhook_parse reads body[0..len) (strict JSON, duplicates refused, at
 * most WEBHOOK_MAX_BODY bytes) into *ev: event and id required, room and
 * participant when present. RK_EINVAL / RK_ETOOBIG with a static reason. */
__attribute__((warn_unused_result)) int lk_webhook_parse(const char *body, size_t len,
                                                         lk_webhook_event *ev, const char **reason);

#endif
