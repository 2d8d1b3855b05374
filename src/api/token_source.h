/* token_source.h - LiveKit's standard token endpoint, the contract every
 * client SDK's TokenSource.endpoint(url) calls:
 *   POST /api/livekit/token-source   (a session or API key in the headers)
 * Request: the JSON of livekit.TokenSourceRequest with proto field names
 * (room_name, participant_identity, participant_name, participant_metadata,
 * participant_attributes, room_config; all optional in the protocol, though
 * RoomKey needs room_name). Response 201: {"server_url", "participant_token"}.
 * A field the caller may not set is refused with a 4xx and a message, never
 * dropped. Errors in Twirp's shape, as LiveKit's own HTTP APIs answer:
 * {"code": "invalid_argument", "msg": "..."}. */
#ifndef RK_API_TOKEN_SOURCE_H
#define RK_API_TOKEN_SOURCE_H

#include "../http/server.h"
#include "issuance.h"

/* `token_source:` - the family's settings. */
typedef struct token_source_settings {
    size_t max_metadata;   /* participant_metadata, bytes; default 4096 */
    size_t max_attributes; /* participant_attributes keys + values, bytes; default 4096 */
} token_source_settings;

struct config_section;
/* Its section: config_ext(cfg, &token_source_section) gives the settings. */
extern const struct config_section token_source_section;

/* api_token_source_error renders {"code", "msg"} with the Twirp code of
 * status (invalid_argument, unauthenticated, permission_denied, not_found,
 * bad_route, resource_exhausted, unavailable, internal). */
void api_token_source_error(http_resp *resp, int status, const char *message);

#endif
