/* livekit.c - seeds 000/001: /api/livekit/{token,connection-info,health}. */
#include "livekit.h"
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

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* render writes {"statusCode":s,"message":m or [m...],"error":phrase}. */
static void render(http_resp *resp, int status, const char *const *msgs, size_t n, bool list)
{
    char buf[4096];
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "statusCode");
    jsonw_int(&w, status);
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
    jsonw_str(&w, reason_phrase(status));
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

/* authenticate fills *who (noting the subject for the request log) or
 * renders 401 (noting why) and returns false. */
static bool authenticate(const api_ctx *api, const http_req *req, http_resp *resp, caller *who)
{
    auth_fail fail;
    if (authn_caller(api->auth, http_req_header(req, "Authorization"),
                     http_req_header(req, "X-API-Key"), clock_now(), who, &fail) == RK_OK) {
        http_req_set_subject(req, who->subject);
        return true;
    }
    http_req_set_auth_fail(req, auth_fail_name(fail));
    api_livekit_error(resp, 401, "Unauthorized");
    return false;
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

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    if (!authenticate(api, req, resp, &who))
        return RK_OK;
    /* Per-subject limit: a refused request is answered 429 by the server. */
    int lim = issuance_limit(api, &who, req);
    if (lim != RK_OK)
        return lim == RK_ELIMITED ? RK_OK : lim;
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body || !json_is_object(body)) {
        json_decref(body);
        api_livekit_error(resp, 400,
                          body ? "Request body must be a JSON object"
                               : "Request body is not valid JSON");
        return RK_OK;
    }
    token_body b = {0};
    parse_body(body, &b);
    if (b.n) {
        render(resp, 400, b.msgs, b.n, true);
        json_decref(body);
        return RK_OK;
    }
    if (!issuance_configured(api)) {
        api_livekit_error(resp, 500, "LiveKit service not configured properly");
        json_decref(body);
        return RK_OK;
    }
    policy_ask ask = {.room = b.room_id, .identity = b.identity, .name = b.name, .ttl = b.ttl};
    decision d;
    const char *why = "";
    int rc = issuance_decide(api, &who, &ask, &d, &why);
    char msg[400];
    if (rc == RK_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Channel with ID %s not found", b.room_id);
        api_livekit_error(resp, 404, msg);
    } else if (rc == RK_EFULL) {
        api_livekit_error(resp, 403, "Room is full");
    } else if (rc == RK_EDENIED) {
        if (b.identity && strcmp(b.identity, who.subject) != 0)
            api_livekit_error(resp, 403, "Forbidden: identity must be the authenticated user");
        else
            api_livekit_error(resp, 403, "Insufficient permissions. Required: JOIN_CHANNEL");
    } else if (rc == RK_EINVAL) {
        snprintf(msg, sizeof msg, "ttl must not be greater than %lld", (long long)d.max_ttl);
        const char *m = d.max_ttl ? msg : why;
        render(resp, 400, &m, 1, true);
    } else if (rc) {
        api_livekit_error(resp, 500, "Internal server error");
    } else {
        const char *tok;
        size_t tok_len;
        mint_info info;
        rc = issuance_mint(api, &who, &d, req, &tok, &tok_len, &info);
        if (rc) {
            api_livekit_error(resp, 500,
                              rc == RK_ENOTFOUND ? "LiveKit service not configured properly"
                                                 : "Internal server error");
        } else {
            char expires[CLOCK_ISO_LEN] = ""; /* exp is bounded, so formatting can't fail */
            clock_iso8601(info.exp, expires, sizeof expires);
            jsonw w;
            request_reply_open(&w, tok_len + 2048);
            jsonw_obj_open(&w);
            JSONW_KEY(&w, "token");
            jsonw_strn(&w, tok, tok_len);
            JSONW_KEY(&w, "identity");
            jsonw_str(&w, d.identity);
            JSONW_KEY(&w, "roomId");
            jsonw_str(&w, b.room_id);
            JSONW_KEY(&w, "name");
            jsonw_str(&w, d.name[0] ? d.name : d.identity);
            JSONW_KEY(&w, "expiresAt");
            jsonw_str(&w, expires);
            jsonw_obj_close(&w);
            if (request_reply_take(&w, resp, 200) != RK_OK)
                api_livekit_error(resp, 500, "Internal server error");
        }
    }
    json_decref(body);
    return RK_OK;
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
    const api_ctx *api = ctx;
    caller who;
    if (!authenticate(api, req, resp, &who))
        return RK_OK;
    const char *room_id = http_req_param(req, "roomId");
    policy_ask ask = {.room = room_id};
    decision d;
    const char *why = "";
    int rc = issuance_decide(api, &who, &ask, &d, &why);
    if (rc == RK_EFULL) /* may join once there is room: may see who is in it */
        rc = RK_OK;
    char msg[400];
    store_presence *ps = NULL;
    size_t n = 0;
    if (rc == RK_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Channel with ID %s not found", room_id);
        api_livekit_error(resp, 404, msg);
        return RK_OK;
    }
    if (rc == RK_EDENIED) {
        api_livekit_error(resp, 403, "Insufficient permissions. Required: JOIN_CHANNEL");
        return RK_OK;
    }
    if (rc || store_presence_list(api->st, d.room.name, &ps, &n) != RK_OK) {
        api_livekit_error(resp, 500, "Internal server error");
        return RK_OK;
    }
    jsonw w;
    request_reply_open(&w, 1024 + n * 1400);
    write_participants(&w, room_id, ps, n);
    free(ps);
    if (request_reply_take(&w, resp, 200) != RK_OK)
        api_livekit_error(resp, 500, "Internal server error");
    return RK_OK;
}

static int connection_info_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    if (!authenticate(api, req, resp, &who))
        return RK_OK;
    if (!issuance_configured(api) || !api->cfg->livekit_url[0]) {
        api_livekit_error(resp, 500, "LiveKit service not configured properly");
        return RK_OK;
    }
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:b, s:{s:b, s:b, s:b, s:b}}", "url", api->cfg->livekit_url,
                  "serverUrl", api->cfg->livekit_url, "region", api->cfg->region, "configured", 1,
                  "features", "audio", 1, "video", 1, "screenShare", 1, "recording", 0);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s) {
        api_livekit_error(resp, 500, "Internal server error");
        return RK_OK;
    }
    resp->status = 200;
    resp->body = s;
    resp->body_len = strlen(s);
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

int api_livekit_register(http_server *s, api_ctx *api)
{
    const http_route routes[] = {
        {"POST", "/api/livekit/token", "livekit.token", token_handler, api, true,
         api_livekit_error},
        {"GET", "/api/livekit/rooms/{roomId}/participants", "livekit.participants",
         participants_handler, api, false, api_livekit_error},
        {"GET", "/api/livekit/connection-info", "livekit.connection-info", connection_info_handler,
         api, false, api_livekit_error},
        {"GET", "/api/livekit/health", "livekit.health", health_handler, api, false,
         api_livekit_error},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = http_server_add(s, &routes[i]);
        if (rc)
            return rc;
    }
    return RK_OK;
}
