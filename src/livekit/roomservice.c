/* roomservice.c - Twirp JSON calls to LiveKit's RoomService. */
#include "roomservice.h"
#include "../token/minter.h"
#include "../util/err.h"
#include "../util/httpc.h"
#include "../util/text.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct roomservice {
    char base[ROOMSERVICE_MAX_HOST + 64]; /* ".../twirp/livekit.RoomService/" */
    minter *m;
    long timeout_ms;
};

static const char *const method_names[LK_METHOD_COUNT] = {
    [LK_LIST_ROOMS] = "ListRooms",
    [LK_LIST_PARTICIPANTS] = "ListParticipants",
    [LK_REMOVE_PARTICIPANT] = "RemoveParticipant",
    [LK_UPDATE_PARTICIPANT] = "UpdateParticipant",
};

static const char *const outcome_names[LK_OUTCOME_COUNT] = {
    [LK_OK] = "ok",           [LK_NOT_FOUND] = "not_found",     [LK_DENIED] = "denied",
    [LK_REFUSED] = "refused", [LK_UNAVAILABLE] = "unavailable",
};

const char *lk_method_name(lk_method m)
{
    return (unsigned)m < LK_METHOD_COUNT ? method_names[m] : "?";
}

const char *lk_outcome_name(lk_outcome o)
{
    return (unsigned)o < LK_OUTCOME_COUNT ? outcome_names[o] : "?";
}

int roomservice_new(const char *host, const keyring *kr, long timeout_ms, roomservice **out,
                    char *why, size_t cap)
{
    size_t n = strnlen(host, ROOMSERVICE_MAX_HOST + 1);
    if (n == 0 || n > ROOMSERVICE_MAX_HOST)
        return rk_fail(RK_EINVAL, why, cap, "LiveKit host is empty or too long");
    const char *scheme = "", *rest = host;
    if (strncmp(host, "ws://", 5) == 0)
        scheme = "http://", rest = host + 5;
    else if (strncmp(host, "wss://", 6) == 0)
        scheme = "https://", rest = host + 6;
    else if (strncmp(host, "http://", 7) != 0 && strncmp(host, "https://", 8) != 0)
        return rk_fail(RK_EINVAL, why, cap, "LiveKit host must start with http(s):// or ws(s)://");
    size_t rlen = strlen(rest);
    while (rlen && rest[rlen - 1] == '/')
        rlen--;
    roomservice *rs = calloc(1, sizeof *rs);
    if (!rs)
        return RK_ENOMEM;
    snprintf(rs->base, sizeof rs->base, "%s%.*s/twirp/livekit.RoomService/", scheme, (int)rlen,
             rest);
    rs->timeout_ms = timeout_ms;
    int rc = minter_new(kr, &rs->m);
    if (rc) {
        free(rs);
        return rk_fail(rc, why, cap, "no LiveKit key to sign service tokens with");
    }
    *out = rs;
    return RK_OK;
}

void roomservice_set_minter(roomservice *rs, minter *m)
{
    minter_free(rs->m);
    rs->m = m;
}

void roomservice_free(roomservice *rs)
{
    if (!rs)
        return;
    minter_free(rs->m);
    free(rs);
}

/* classify maps an HTTP status to an outcome. */
static lk_outcome classify(long status)
{
    if (status >= 200 && status <= 299)
        return LK_OK;
    if (status == 404)
        return LK_NOT_FOUND;
    if (status == 401 || status == 403)
        return LK_DENIED;
    if (status >= 400 && status <= 499 && status != 408 && status != 429)
        return LK_REFUSED;
    return LK_UNAVAILABLE;
}

/* call POSTs body to method with a service token for room (NULL: roomList).
 * On LK_OK *answer holds the parsed JSON object (the caller decrefs). */
static lk_outcome call(roomservice *rs, lk_method method, int64_t now, const char *room,
                       const char *body, json_t **answer, char *why, size_t cap)
{
    lk_claims c = {0};
    if (room) {
        c.video.room_admin = TRI_TRUE;
        c.video.room = room;
    } else {
        c.video.room_list = TRI_TRUE;
    }
    const char *tok;
    size_t tok_len;
    mint_info info;
    if (minter_mint(rs->m, &c, now, ROOMSERVICE_TOKEN_TTL, &tok, &tok_len, &info, why, cap))
        return LK_REFUSED;
    char url[sizeof rs->base + 32], auth[16 + 8192];
    snprintf(url, sizeof url, "%s%s", rs->base, lk_method_name(method));
    int an = snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    if (an < 0 || (size_t)an >= sizeof auth) {
        rk_fail(0, why, cap, "service token too long");
        return LK_REFUSED;
    }
    httpc_req r = {
        .url = url,
        .headers = {auth, "Content-Type: application/json", "Accept: application/json"},
        .body = body,
        .body_len = strlen(body),
        .timeout_ms = rs->timeout_ms,
        .max_answer = ROOMSERVICE_MAX_ANSWER,
        .allow_http = true,
        .user_agent = "roomkey",
    };
    httpc_answer a;
    int rc = httpc_do(&r, &a);
    OPENSSL_cleanse(auth, sizeof auth);
    if (rc) {
        text_copy(why, cap, a.error[0] ? a.error : rk_strerror(rc));
        return LK_UNAVAILABLE;
    }
    lk_outcome o = classify(a.status);
    json_error_t jerr;
    json_t *j = json_loadb(a.body, a.len, 0, &jerr);
    if (o == LK_OK && !json_is_object(j)) {
        o = LK_UNAVAILABLE;
        rk_fail(0, why, cap, "%s: answer is not a JSON object", lk_method_name(method));
    } else if (o != LK_OK) {
        const char *msg = json_string_value(json_object_get(j, "msg"));
        rk_fail(0, why, cap, "%s: HTTP %ld %s", lk_method_name(method), a.status, msg ? msg : "");
    }
    httpc_answer_clear(&a);
    if (o == LK_OK && answer)
        *answer = j;
    else
        json_decref(j);
    return o;
}

/* call_json serialises req (stolen) and makes the call. */
static lk_outcome call_json(roomservice *rs, lk_method method, int64_t now, const char *room,
                            json_t *req, json_t **answer, char *why, size_t cap)
{
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) {
        rk_fail(0, why, cap, "%s: request is not valid UTF-8 or out of memory",
                lk_method_name(method));
        return LK_REFUSED;
    }
    lk_outcome o = call(rs, method, now, room, body, answer, why, cap);
    free(body);
    return o;
}

/* read_list reads answer[field] (an array, absent = empty) with read_one
 * into a malloc'd array of elem-sized items. */
static lk_outcome read_list(const json_t *answer, const char *field, size_t elem,
                            int (*read_one)(const json_t *, void *, const char **), void **out,
                            size_t *n, char *why, size_t cap)
{
    json_t *arr = json_object_get(answer, field);
    size_t count = json_is_array(arr) ? json_array_size(arr) : 0;
    *out = NULL;
    *n = 0;
    if (arr && !json_is_array(arr)) {
        rk_fail(0, why, cap, "%s is not an array", field);
        return LK_UNAVAILABLE;
    }
    if (count > ROOMSERVICE_MAX_LIST) {
        rk_fail(0, why, cap, "more than %d %s", ROOMSERVICE_MAX_LIST, field);
        return LK_UNAVAILABLE;
    }
    char *items = calloc(count ? count : 1, elem);
    if (!items) {
        rk_fail(0, why, cap, "out of memory");
        return LK_UNAVAILABLE;
    }
    for (size_t i = 0; i < count; i++) {
        const char *reason = NULL;
        if (read_one(json_array_get(arr, i), items + i * elem, &reason)) {
            free(items);
            rk_fail(0, why, cap, "%s[%zu]: %s", field, i, reason ? reason : "malformed");
            return LK_UNAVAILABLE;
        }
    }
    *out = items;
    *n = count;
    return LK_OK;
}

static int read_room(const json_t *v, void *out, const char **reason)
{
    return lk_room_read(v, out, reason);
}

static int read_participant(const json_t *v, void *out, const char **reason)
{
    return lk_participant_read(v, out, reason);
}

lk_outcome roomservice_read_rooms(const json_t *answer, lk_room_info **rooms, size_t *n, char *why,
                                  size_t cap)
{
    return read_list(answer, "rooms", sizeof **rooms, read_room, (void **)rooms, n, why, cap);
}

lk_outcome roomservice_read_participants(const json_t *answer, lk_participant_info **ps, size_t *n,
                                         char *why, size_t cap)
{
    return read_list(answer, "participants", sizeof **ps, read_participant, (void **)ps, n, why,
                     cap);
}

lk_outcome roomservice_list_rooms(roomservice *rs, int64_t now, lk_room_info **rooms, size_t *n,
                                  char *why, size_t cap)
{
    json_t *answer = NULL;
    lk_outcome o = call_json(rs, LK_LIST_ROOMS, now, NULL, json_object(), &answer, why, cap);
    if (o == LK_OK)
        o = roomservice_read_rooms(answer, rooms, n, why, cap);
    json_decref(answer);
    return o;
}

lk_outcome roomservice_list_participants(roomservice *rs, int64_t now, const char *room,
                                         lk_participant_info **ps, size_t *n, char *why, size_t cap)
{
    json_t *answer = NULL;
    lk_outcome o = call_json(rs, LK_LIST_PARTICIPANTS, now, room, json_pack("{s:s}", "room", room),
                             &answer, why, cap);
    if (o == LK_OK)
        o = roomservice_read_participants(answer, ps, n, why, cap);
    json_decref(answer);
    return o;
}

lk_outcome roomservice_remove_participant(roomservice *rs, int64_t now, const char *room,
                                          const char *identity, int64_t revoke_ts, char *why,
                                          size_t cap)
{
    json_t *req = json_pack("{s:s, s:s}", "room", room, "identity", identity);
    if (req && revoke_ts > 0) {
        char ts[24];
        snprintf(ts, sizeof ts, "%lld", (long long)revoke_ts);
        json_object_set_new(req, "revokeTokenTs", json_string(ts)); /* int64: a string */
    }
    return call_json(rs, LK_REMOVE_PARTICIPANT, now, room, req, NULL, why, cap);
}

/* sources_json writes canPublishSources' enum names for the bits set: the
 * grant's source names (lk_source_name) in capitals, e.g. SCREEN_SHARE.
 * The caller owns the array (NULL when out of memory). */
static json_t *sources_json(unsigned bits)
{
    json_t *a = json_array();
    const char *name;
    for (unsigned i = 0; a && (name = lk_source_name(i)); i++) {
        if (!(bits & 1u << i))
            continue;
        char up[32];
        size_t n = 0;
        for (; name[n] && n < sizeof up - 1; n++)
            up[n] = (char)toupper((unsigned char)name[n]);
        up[n] = '\0';
        json_array_append_new(a, json_string(up));
    }
    return a;
}

lk_outcome roomservice_update_participant(roomservice *rs, int64_t now, const char *room,
                                          const char *identity, const lk_permission *perm,
                                          char *why, size_t cap)
{
    json_t *req =
        json_pack("{s:s, s:s, s:{s:b, s:b, s:b, s:b, s:o}}", "room", room, "identity", identity,
                  "permission", "canSubscribe", perm->can_subscribe, "canPublish",
                  perm->can_publish, "canPublishData", perm->can_publish_data, "canUpdateMetadata",
                  perm->can_update_metadata, "canPublishSources", sources_json(perm->sources));
    return call_json(rs, LK_UPDATE_PARTICIPANT, now, room, req, NULL, why, cap);
}
