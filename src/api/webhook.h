/* webhook.h - the webhook route family: LiveKit's webhooks in
 * (`POST /livekit/webhook`, live_rooms.webhook_path), verified against the
 * configured LiveKit keys and applied to live rooms (live.h). Errors come
 * in the admin API's shape ({"error": {"code", "message"}}). */
#ifndef RK_API_WEBHOOK_H
#define RK_API_WEBHOOK_H

#include "../http/server.h"
#include "issuance.h"

/* api_webhook_register adds the webhook route at path (nothing when path
 * is ""); api and path (the route keeps the pointer) must outlive s. */
int api_webhook_register(http_server *s, api_ctx *api, const char *path);

#endif
