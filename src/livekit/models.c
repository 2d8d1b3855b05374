/* models.c - reading LiveKit's Room and ParticipantInfo from protojson. */
#include "models.h"
#include "../util/err.h"
#include "../util/text.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
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

/* How a protojson field is read into its C field. */
typedef enum lk_field_kind {
    LKF_STR,     /* a string; absent = "" */
    LKF_STR_SET, /* a non-empty string */
    LKF_U32,     /* a uint32 number; absent = 0 */
    LKF_INT64,   /* an int64, number or string (lk_json_int64); absent = 0 */
    LKF_SECONDS, /* an int64 of Unix seconds in 0..LK_MAX_UNIX_S */
    LKF_MILLIS,  /* an int64 of Unix milliseconds in 0..LK_MAX_UNIX_S seconds */
    LKF_KIND,    /* ParticipantInfo.Kind (read_kind) */
} lk_field_kind;

/* One field of a message: its path for the reason ("room.sid"; after the
 * dot, its protojson name), its proto field name when that differs (NULL
 * otherwise), how it is read, and where it goes in the C struct. */
typedef struct lk_field {
    const char *path;
    const char *proto;
    lk_field_kind kind;
    size_t off, size;
} lk_field;

#define LK_FIELD(path, proto, kind, type, member)                                                  \
    {                                                                                              \
        (path), (proto), (kind), offsetof(type, member), sizeof(((type *)0)->member)               \
    }

/* read_field reads field f of obj into its place in rec; RK_OK or RK_EINVAL. */
static int read_field(const json_t *obj, const lk_field *f, void *rec)
{
    json_t *v = json_object_get(obj, strchr(f->path, '.') + 1);
    if (!v && f->proto)
        v = json_object_get(obj, f->proto);
    void *dst = (char *)rec + f->off;
    int64_t *t = dst;
    switch (f->kind) {
    case LKF_STR:
        return lk_json_string(v, dst, f->size) ? RK_EINVAL : RK_OK;
    case LKF_STR_SET:
        return lk_json_string(v, dst, f->size) || !*(char *)dst ? RK_EINVAL : RK_OK;
    case LKF_U32:
        return read_u32(v, dst);
    case LKF_INT64:
        return lk_json_int64(v, t);
    case LKF_SECONDS:
    case LKF_MILLIS:
        if (lk_json_int64(v, t) || *t < 0)
            return RK_EINVAL;
        return (f->kind == LKF_MILLIS ? *t / 1000 : *t) > LK_MAX_UNIX_S ? RK_EINVAL : RK_OK;
    case LKF_KIND:
        return read_kind(v, dst, f->size);
    }
    return RK_EINVAL;
}

/* read_fields zeroes rec (rec_size bytes) and reads the n fields of obj
 * into it. On RK_EINVAL *reason is what failed (not_object, or a field's
 * path; static text), else NULL. */
static int read_fields(const json_t *obj, const lk_field *fields, size_t n, void *rec,
                       size_t rec_size, const char *not_object, const char **reason)
{
    memset(rec, 0, rec_size);
    *reason = not_object;
    if (!json_is_object(obj))
        return RK_EINVAL;
    for (size_t i = 0; i < n; i++) {
        *reason = fields[i].path;
        if (read_field(obj, &fields[i], rec))
            return RK_EINVAL;
    }
    *reason = NULL;
    return RK_OK;
}

int lk_room_read(const json_t *obj, lk_room_info *out, const char **reason)
{
    static const lk_field FIELDS[] = {
        LK_FIELD("room.name", NULL, LKF_STR_SET, lk_room_info, name),
        LK_FIELD("room.sid", NULL, LKF_STR, lk_room_info, sid),
        LK_FIELD("room.numParticipants", "num_participants", LKF_U32, lk_room_info,
                 num_participants),
        LK_FIELD("room.maxParticipants", "max_participants", LKF_U32, lk_room_info,
                 max_participants),
        LK_FIELD("room.creationTime", "creation_time", LKF_INT64, lk_room_info, creation_time),
    };
    return read_fields(obj, FIELDS, sizeof FIELDS / sizeof FIELDS[0], out, sizeof *out,
                       "room is not an object", reason);
}

int lk_participant_read(const json_t *obj, lk_participant_info *out, const char **reason)
{
    static const lk_field FIELDS[] = {
        LK_FIELD("participant.sid", NULL, LKF_STR_SET, lk_participant_info, sid),
        LK_FIELD("participant.identity", NULL, LKF_STR_SET, lk_participant_info, identity),
        LK_FIELD("participant.name", NULL, LKF_STR, lk_participant_info, name),
        LK_FIELD("participant.kind", NULL, LKF_KIND, lk_participant_info, kind),
        LK_FIELD("participant.joinedAt", "joined_at", LKF_SECONDS, lk_participant_info, joined_at),
        LK_FIELD("participant.joinedAtMs", "joined_at_ms", LKF_MILLIS, lk_participant_info,
                 joined_at_ms),
    };
    return read_fields(obj, FIELDS, sizeof FIELDS / sizeof FIELDS[0], out, sizeof *out,
                       "participant is not an object", reason);
}
