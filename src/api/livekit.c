/* livekit.c - the NestJS /api/livekit contract: /api/livekit/{token,connection-info,health}. */
#include "livekit.h"
#include "families.h"
#include "pipeline.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "../util/log.h"
#include "request.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGES 8

/* HTTP's reason phrases by status (any other: a 500's). */
static const request_status_text reason_phrases[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {413, "Payload Too Large"},
    {415, "Unsupported Media Type"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {0, "Internal Server Error"},
};

/* render writes {"statusCode":s,"message":m or [m...],"error":phrase}. */
static void render(http_resp *resp, int status, const char *const *msgs, size_t n, bool list)
{
    char buf[REQUEST_ERROR_MAX];
    jsonw w;
    request_status_open(&w, buf, status);
    JSONW_KEY(&w, "message");
    if (list) {
        jsonw_arr_open(&w);
        for (size_t i = 0; i < n; i++)
            jsonw_str(&w, msgs[i]);
        jsonw_arr_close(&w);
    } else {
        jsonw_str(&w, msgs[0]);
    }
    JSONW_KEY(&w, "error");
    jsonw_str(&w, request_status_find(reason_phrases, status));
    jsonw_obj_close(&w);
    if (w.err)
        http_resp_json(resp, status, "{}", 2);
    else
        http_resp_json(resp, status, buf, w.len);
}

void api_livekit_error(http_resp *resp, int status, const char *message)
{
    render(resp, status, &message, 1, false);
}

/* Validation of the token request, collecting every message as
 * class-validator does. Strings are borrowed from body. */
typedef struct token_body {
    const char *room_id;
    const char *identity;
    const char *name;
    int64_t ttl; /* 0 = not given */
    const char *msgs[MAX_MESSAGES];
    char own[MAX_MESSAGES][96]; /* storage for formatted messages */
    size_t n;
} token_body;

static void add_msg(token_body *b, const char *m)
{
    if (b->n < MAX_MESSAGES)
        b->msgs[b->n++] = m;
}

/* add_fmt adds "<field> <what>" as a message, formatted into b's own storage. */
static void add_fmt(token_body *b, const char *field, const char *what)
{
    if (b->n >= MAX_MESSAGES)
        return;
    snprintf(b->own[b->n], sizeof b->own[0], "%s %s", field, what);
    add_msg(b, b->own[b->n]);
}

static void check_string(token_body *b, json_t *body, const char *field, bool required,
                         const char **out)
{
    json_t *v = json_object_get(body, field);
    if (!v || json_is_null(v)) {
        if (required) {
            add_fmt(b, field, "should not be empty");
            add_fmt(b, field, "must be a string");
        }
        return;
    }
    if (!json_is_string(v)) {
        add_fmt(b, field, "must be a string");
        return;
    }
    const char *s = json_string_value(v);
    if (required && s[0] == '\0') {
        add_fmt(b, field, "should not be empty");
        return;
    }
    if (json_string_length(v) > 256) {
        add_fmt(b, field, "must be shorter than or equal to 256 characters");
        return;
    }
    *out = s;
}

static void parse_body(json_t *body, token_body *b)
{
    check_string(b, body, "roomId", true, &b->room_id);
    check_string(b, body, "identity", false, &b->identity);
    check_string(b, body, "name", false, &b->name);
    json_t *ttl = json_object_get(body, "ttl");
    if (ttl && !json_is_null(ttl)) {
        double v = json_is_number(ttl) ? json_number_value(ttl) : NAN;
        if (!json_is_number(ttl) || !isfinite(v)) {
            add_msg(b, "ttl must be a number conforming to the specified constraints");
        } else if (v < 1) {
            add_msg(b, "ttl must not be less than 1");
        } else if (v != floor(v) || v > 9e15) {
            add_msg(b, "ttl must be an integer number");
        } else {
            b->ttl = (int64_t)v;
        }
    }
}

/* read validates the body (every message at once, as a list) into ask. */
static bool read_request(family_call *c, json_t *body, policy_ask *ask)
{
    token_body b = {0};
    parse_body(body, &b);
    if (b.n) {
        render(c->resp, 400, b.msgs, b.n, true);
        return false;
    }
    *ask = (policy_ask){.room = b.room_id, .identity = b.identity, .name = b.name, .ttl = b.ttl};
    c->room_shown = b.room_id;
    return true;
}

/* render_token writes {token, identity, roomId, name, expiresAt}. */
static int render_token(family_call *c, const decision *d, const family_token *t)
{
    const request_field f[] = {{"token", t->tok, t->len},
                               {"identity", d->identity, 0},
                               {"roomId", c->room_shown, 0},
                               {"name", d->name[0] ? d->name : d->identity, 0},
                               {"expiresAt", t->expires_at, 0}};
    return request_reply_fields(c->resp, 200, f, sizeof f / sizeof f[0]);
}

/* render_answer: a validation answer (with a field) lists its message. */
static void render_answer(http_resp *resp, const family_answer *a, const char *message)
{
    render(resp, a->status, &message, 1, a->field != NULL);
}

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    return pipeline_run(&family_livekit, ctx, req, resp);
}

/* write_participants writes {"roomId", "participants": [...]} for ps. */
static void write_participants(jsonw *w, const char *room_id, const store_presence *ps, size_t n)
{
    jsonw_obj_open(w);
    JSONW_KEY(w, "roomId");
    jsonw_str(w, room_id);
    JSONW_KEY(w, "participants");
    jsonw_arr_open(w);
    for (size_t i = 0; i < n; i++) {
        char joined[CLOCK_ISO_LEN] = "";
        clock_iso8601(ps[i].joined_at, joined, sizeof joined);
        jsonw_obj_open(w);
        JSONW_KEY(w, "identity");
        jsonw_str(w, ps[i].identity);
        JSONW_KEY(w, "name");
        jsonw_str(w, ps[i].name[0] ? ps[i].name : ps[i].identity);
        JSONW_KEY(w, "sid");
        jsonw_str(w, ps[i].sid);
        JSONW_KEY(w, "kind");
        jsonw_str(w, ps[i].kind);
        JSONW_KEY(w, "joinedAt");
        jsonw_str(w, joined);
        jsonw_obj_close(w);
    }
    jsonw_arr_close(w);
    jsonw_obj_close(w);
}

/* participants_handler answers who is in a voice channel's room, to a
 * caller who may join it (the same policy as a token, without minting). */
static int participants_handler(void *ctx, const http_req *req, http_resp *resp)
{
    family_call c = {.f = &family_livekit, .api = ctx, .req = req, .resp = resp};
    int out = pipeline_authenticate(&c);
    if (out)
        return pipeline_answer(&c, out, NULL);
    c.room_shown = http_req_param(req, "roomId");
    policy_ask ask = {.room = c.room_shown};
    decision d;
    verdict_detail why;
    verdict v = pipeline_decide(&c, &ask, &d, &why);
    if (v && v != VERDICT_ROOM_FULL) /* a full room: may join once there is room, may look */
        return pipeline_answer(&c, v, &why);
    store_presence *ps = NULL;
    size_t n = 0;
    if (store_presence_list(c.api->st, d.room.name, &ps, &n) != RK_OK)
        return pipeline_answer(&c, OUTCOME_INTERNAL, NULL);
    jsonw w;
    request_reply_open(&w, 1024 + n * 1400);
    write_participants(&w, c.room_shown, ps, n);
    free(ps);
    if (request_reply_take(&w, resp, 200) != RK_OK)
        return pipeline_answer(&c, OUTCOME_INTERNAL, NULL);
    return RK_OK;
}

static int connection_info_handler(void *ctx, const http_req *req, http_resp *resp)
{
    family_call c = {.f = &family_livekit, .api = ctx, .req = req, .resp = resp};
    const api_ctx *api = c.api;
    int out = pipeline_authenticate(&c);
    if (!out && (!issuance_configured(api) || !api->cfg->livekit_url[0]))
        out = OUTCOME_NOT_CONFIGURED;
    if (out)
        return pipeline_answer(&c, out, NULL);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:b, s:{s:b, s:b, s:b, s:b}}", "url", api->cfg->livekit_url,
                  "serverUrl", api->cfg->livekit_url, "region", api->cfg->region, "configured", 1,
                  "features", "audio", 1, "video", 1, "screenShare", 1, "recording", 0);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return pipeline_answer(&c, OUTCOME_INTERNAL, NULL);
    request_reply_adopt(resp, 200, s, strlen(s));
    return RK_OK;
}

static int health_handler(void *ctx, const http_req *req, http_resp *resp)
{
    (void)req;
    const api_ctx *api = ctx;
    bool ok = issuance_configured(api) && api->cfg->livekit_url[0];
    const char *body = ok ? "{\"status\":\"healthy\",\"configured\":true}"
                          : "{\"status\":\"unhealthy\",\"configured\":false}";
    return http_resp_json(resp, 200, body, strlen(body));
}

const family family_livekit = {
    .name = "livekit",
    .routes =
        {
            FAMILY_ROUTE_JSON("POST", "/api/livekit/token", "livekit.token", token_handler),
            FAMILY_ROUTE("GET", "/api/livekit/rooms/{roomId}/participants", "livekit.participants",
                         participants_handler),
            FAMILY_ROUTE("GET", "/api/livekit/connection-info", "livekit.connection-info",
                         connection_info_handler),
            FAMILY_ROUTE("GET", "/api/livekit/health", "livekit.health", health_handler),
        },
    .auth = FAMILY_AUTH_CALLER,
    .body = FAMILY_BODY_OBJECT,
    FAMILY_READ_RENDER(read_request, render_token, render_answer, api_livekit_error),
    .answers =
        {
            FAMILY_CORE_ANSWERS("Unauthorized", "LiveKit service not configured properly",
                                "Internal server error"),
            [VERDICT_ROOM_NOT_FOUND] = {.status = 404,
                                        .message = "Channel with ID {room} not found"},
            [VERDICT_IDENTITY_NOT_CALLER] =
                {.status = 403, .message = "Forbidden: identity must be the authenticated user"},
            [VERDICT_IDENTITY_TOO_LONG] = {.status = 400, .message = "{why}", .field = "identity"},
            [VERDICT_NAME_TOO_LONG] = {.status = 400, .message = "{why}", .field = "name"},
            [VERDICT_NAME_UNSAFE] = {.status = 400, .message = "{why}", .field = "name"},
            [VERDICT_TTL_ABOVE_CAP] = {.status = 400,
                                       .message = "ttl must not be greater than {max_ttl}",
                                       .field = "ttl"},
            [VERDICT_ROOM_FULL] = {.status = 403, .message = "Room is full"},
            [VERDICT_ROOM_CLOSED] = {.status = 403, .message = "Channel with ID {room} is closed"},
        },
    .refused = {.status = 403, .message = "Insufficient permissions. Required: JOIN_CHANNEL"},
};
