/* models.c - reading LiveKit's Room and ParticipantInfo from protojson. */
#include "models.h"
#include "../util/err.h"
#include "../util/text.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

json_t *lk_json_field(const json_t *obj, const char *camel, const char *proto)
{
    json_t *v = json_object_get(obj, camel);
    return v ? v : json_object_get(obj, proto);
}

int lk_json_int64(const json_t *v, int64_t *out)
{
    *out = 0;
    if (!v || json_is_null(v))
        return RK_OK;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return RK_OK;
    }
    if (!json_is_string(v))
        return RK_EINVAL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > 20 || (!isdigit((unsigned char)s[0]) && s[0] != '-'))
        return RK_EINVAL;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end != s + n)
        return RK_EINVAL;
    *out = (int64_t)x;
    return RK_OK;
}

int lk_json_string(const json_t *v, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (!v || json_is_null(v))
        return RK_OK;
    if (!json_is_string(v))
        return RK_EINVAL;
    size_t n = json_string_length(v);
    if (n >= cap || memchr(json_string_value(v), '\0', n))
        return n >= cap ? RK_ETOOBIG : RK_EINVAL;
    memcpy(dst, json_string_value(v), n + 1);
    return RK_OK;
}

/* read_u32 reads a uint32 field given as a number (absent = 0). */
static int read_u32(const json_t *v, uint32_t *out)
{
    *out = 0;
    if (!v || json_is_null(v))
        return RK_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        return RK_EINVAL;
    *out = (uint32_t)json_integer_value(v);
    return RK_OK;
}

int lk_room_read(const json_t *obj, lk_room_info *out, const char **reason)
{
    memset(out, 0, sizeof *out);
    *reason = "room is not an object";
    if (!json_is_object(obj))
        return RK_EINVAL;
    *reason = "room.name";
    if (lk_json_string(json_object_get(obj, "name"), out->name, sizeof out->name) || !out->name[0])
        return RK_EINVAL;
    *reason = "room.sid";
    if (lk_json_string(json_object_get(obj, "sid"), out->sid, sizeof out->sid))
        return RK_EINVAL;
    *reason = "room.numParticipants";
    if (read_u32(lk_json_field(obj, "numParticipants", "num_participants"), &out->num_participants))
        return RK_EINVAL;
    *reason = "room.maxParticipants";
    if (read_u32(lk_json_field(obj, "maxParticipants", "max_participants"), &out->max_participants))
        return RK_EINVAL;
    *reason = "room.creationTime";
    if (lk_json_int64(lk_json_field(obj, "creationTime", "creation_time"), &out->creation_time))
        return RK_EINVAL;
    *reason = NULL;
    return RK_OK;
}

/* Participant kinds by enum number (ParticipantInfo.Kind). */
static const char *const kinds[] = {
    [0] = "standard", [1] = "ingress",   [2] = "egress", [3] = "sip",
    [4] = "agent",    [7] = "connector", [8] = "bridge",
};

/* read_kind maps the Kind enum (name or number; absent = STANDARD). */
static int read_kind(const json_t *v, char *dst, size_t cap)
{
    if (!v || json_is_null(v)) {
        text_copy(dst, cap, "standard");
        return RK_OK;
    }
    if (json_is_integer(v)) {
        json_int_t k = json_integer_value(v);
        if (k < 0 || k >= (json_int_t)(sizeof kinds / sizeof kinds[0]) || !kinds[k])
            return RK_EINVAL;
        text_copy(dst, cap, kinds[k]);
        return RK_OK;
    }
    int rc = lk_json_string(v, dst, cap);
    if (rc || !dst[0])
        return RK_EINVAL;
    for (char *p = dst; *p; p++) {
        if (!isalpha((unsigned char)*p) && *p != '_')
            return RK_EINVAL;
        *p = (char)tolower((unsigned char)*p);
    }
    return RK_OK;
}

int lk_participant_read(const json_t *obj, lk_participant_info *out, const char **reason)
{
    memset(out, 0, sizeof *out);
    *reason = "participant is not an object";
    if (!json_is_object(obj))
        return RK_EINVAL;
    *reason = "participant.sid";
    if (lk_json_string(json_object_get(obj, "sid"), out->sid, sizeof out->sid) || !out->sid[0])
        return RK_EINVAL;
    *reason = "participant.identity";
    if (lk_json_string(json_object_get(obj, "identity"), out->identity, sizeof out->identity) ||
        !out->identity[0])
        return RK_EINVAL;
    *reason = "participant.name";
    if (lk_json_string(json_object_get(obj, "name"), out->name, sizeof out->name))
        return RK_EINVAL;
    *reason = "participant.kind";
    if (read_kind(json_object_get(obj, "kind"), out->kind, sizeof out->kind))
        return RK_EINVAL;
    *reason = "participant.joinedAt";
    if (lk_json_int64(lk_json_field(obj, "joinedAt", "joined_at"), &out->joined_at) ||
        lk_json_int64(lk_json_field(obj, "joinedAtMs", "joined_at_ms"), &out->joined_at_ms) ||
        out->joined_at < 0 || out->joined_at > LK_MAX_UNIX_S || out->joined_at_ms < 0 ||
        out->joined_at_ms / 1000 > LK_MAX_UNIX_S)
        return RK_EINVAL;
    *reason = NULL;
    return RK_OK;
}
