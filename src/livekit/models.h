/* models.h - the parts of LiveKit's Room and ParticipantInfo that RoomKey
 * reads, from their protojson form (livekit_models.proto).
 *
 * protojson writes camelCase names (webhooks) and Twirp's Go server may
 * answer with the proto names (snake_case): both are read. int64 fields come
 * as decimal strings (protojson) or as numbers; enums as their names or
 * numbers. Unknown fields are ignored, as LiveKit adds fields over time.
 * Every string has a hard limit; a longer or mistyped field is refused. */
#ifndef RK_LK_MODELS_H
#define RK_LK_MODELS_H

#include "../token/grants.h"

#include <jansson.h>
#include <stdint.h>

#define LK_MAX_SID 128

typedef struct lk_room_info {
    char name[GRANTS_MAX_ROOM + 1];
    char sid[LK_MAX_SID + 1];
    uint32_t num_participants;
    uint32_t max_participants;
    int64_t creation_time; /* Unix seconds */
} lk_room_info;

/* The latest time a LiveKit timestamp may say: 9999-12-31T23:59:59Z. */
#define LK_MAX_UNIX_S 253402300799LL

typedef struct lk_participant_info {
    char sid[LK_MAX_SID + 1];
    char identity[GRANTS_MAX_IDENTITY + 1];
    char name[GRANTS_MAX_NAME + 1];
    char kind[GRANTS_MAX_KIND + 1]; /* "standard", "agent", "sip", ... (lower case) */
    int64_t joined_at;              /* Unix seconds; 0 when absent; <= LK_MAX_UNIX_S */
    int64_t joined_at_ms;           /* Unix milliseconds; 0 when absent; <= LK_MAX_UNIX_S s */
} lk_participant_info;

/* lk_room_read fills *out from a protojson Room object. RK_EINVAL (with a
 * static reason) on a mistyped or over-long field or a missing name. */
int lk_room_read(const json_t *obj, lk_room_info *out, const char **reason);

/* lk_participant_read fills *out from a protojson ParticipantInfo object.
 * sid and identity are required; joinedAt/joinedAtMs lie in 0..LK_MAX_UNIX_S
 * seconds. RK_EINVAL with a static reason otherwise. */
int lk_participant_read(const json_t *obj, lk_participant_info *out, const char **reason);

/* lk_json_field returns obj's member under its camelCase or its proto name
 * (borrowed; NULL when neither is present). */
json_t *lk_json_field(const json_t *obj, const char *camel, const char *proto);

/* lk_json_int64 reads a protojson int64 (decimal string or integer) into
 * *out; an absent field (v NULL) reads as 0. RK_EINVAL otherwise. */
int lk_json_int64(const json_t *v, int64_t *out);

/* lk_json_string copies a string field (absent = "") into dst (capacity
 * cap); RK_EINVAL when not a string, RK_ETOOBIG when it does not fit. */
int lk_json_string(const json_t *v, char *dst, size_t cap);

#endif
