/* voice_agent.h - the route family of the voice-agent contract (a voice-agent app whose
 * Azure Functions backend mints LiveKit tokens):
 *   POST /api/token   mint (a session or API key; or, when configured, no
 *                     credentials for the rooms in voice_agent.anonymous_rooms)
 * Request {roomName, participantIdentity, expirationSeconds?, participantName?};
 * response {token, expiresAt, roomName, participantIdentity}. Errors in the
 * contract's shape: {"statusCode", "errorCode", "message", "validationErrors"
 * (400 only: [{field, message}], every bad field at once), "timestamp"}. */
#ifndef RK_API_VOICE_AGENT_H
#define RK_API_VOICE_AGENT_H

#include "../http/server.h"
#include "issuance.h"

/* `voice_agent:` - the family's settings. */
#define VOICE_AGENT_MAX_ANON_ROOMS 64
typedef struct voice_agent_settings {
    /* Rooms that callers without credentials may join (identity from the
     * request, prefixed "anon:"; the room's default role). Empty = none: every
     * caller must authenticate. Names: 1-255 of letters, digits, '-', '_'. */
    char anonymous_rooms[VOICE_AGENT_MAX_ANON_ROOMS][256];
    size_t n_anonymous_rooms;
} voice_agent_settings;

struct config_section;
/* Its section: config_ext(cfg, &voice_agent_section) gives the settings. */
extern const struct config_section voice_agent_section;

/* api_voice_agent_error renders the contract's error body for status (errorCode
 * from the status: VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
 * METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
 * TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE, INTERNAL_ERROR). */
void api_voice_agent_error(http_resp *resp, int status, const char *message);

#endif
