/* livekit.h - the route family of the NestJS /api/livekit contract (a chat app whose voice
 * channels are LiveKit rooms; NestJS backend):
 *   POST /api/livekit/token            mint (authenticated)
 *   GET  /api/livekit/connection-info  server URL etc. (authenticated)
 *   GET  /api/livekit/health           configuration health (no auth)
 * Errors in NestJS's shape: {"statusCode", "message" (string or list),
 * "error"}. */
#ifndef RK_API_LIVEKIT_H
#define RK_API_LIVEKIT_H

#include "../http/server.h"
#include "issuance.h"

/* api_livekit_error renders a NestJS-style error body. */
void api_livekit_error(http_resp *resp, int status, const char *message);

#endif
