/* voice_agent.h - the route family of seed 003 (a voice-agent app whose
 * Azure Functions backend mints LiveKit tokens):
 *   POST /api/token   mint (a session or API key; or, when configured, no
 *                     credentials for the rooms in voice_agent.anonymous_rooms)
 * Request {roomName, participantIdentity, expirationSeconds?, participantName?};
 * response {token, expiresAt, roomName, participantIdentity}. Errors in the
 * seed's shape: {"statusCode", "errorCode", "message", "validationErrors"
 * (400 only: [{field, message}], every bad field at once), "timestamp"}. */
#ifndef RK_API_VOICE_AGENT_H
#define RK_API_VOICE_AGENT_H

#include "../http/server.h"
#include "issuance.h"

/* api_voice_agent_error renders the seed's error body for status (errorCode
 * from the status: VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
 * METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
 * TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE, INTERNAL_ERROR). */
void api_voice_agent_error(http_resp *resp, int status, const char *message);

#endif
