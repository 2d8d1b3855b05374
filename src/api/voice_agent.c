/* voice_agent.c - seed 003: POST /api/token (see voice_agent.h). */
#include "voice_agent.h"
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

#define VA_MAX_CHARS  255 /* roomName, participantIdentity, participantName */
#define VA_MAX_BYTES  256 /* participantName in UTF-8 (the token's name limit) */
#define VA_MIN_TTL    60
#define VA_MAX_TTL    86400
#define VA_MAX_ERRORS 8

static const char ID_CHARS[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

/* One entry of validationErrors. Both strings are static or owned by the
 * body being validated. */
typedef struct field_error {
    const char *field;
    const char *message;
} field_error;

static const char *error_code(int status)
{
    switch (status) {
    case 400:
        return "VALIDATION_ERROR";
    case 401:
        return "UNAUTHORIZED";
    case 403:
        return "FORBIDDEN";
    case 404:
        return "NOT_FOUND";
    case 405:
        return "METHOD_NOT_ALLOWED";
    case 413:
        return "PAYLOAD_TOO_LARGE";
    case 415:
        return "UNSUPPORTED_MEDIA_TYPE";
    case 429:
        return "TOO_MANY_REQUESTS";
    case 503:
        return "SERVICE_UNAVAILABLE";
    default:
        return "INTERNAL_ERROR";
    }
}

/* render writes {statusCode, errorCode, message, validationErrors (400
 * only), timestamp} into resp. */
static void render(http_resp *resp, int status, const char *code, const char *message,
                   const field_error *errs, size_t n)
{
    char buf[4096], ts[CLOCK_ISO_LEN];
    if (clock_iso8601(clock_now(), ts, sizeof ts) != RK_OK)
        snprintf(ts, sizeof ts, "1970-01-01T00:00:00.000Z");
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "statusCode");
    jsonw_int(&w, status);
    JSONW_KEY(&w, "errorCode");
    jsonw_str(&w, code);
    JSONW_KEY(&w, "message");
    jsonw_str(&w, message);
    if (status == 400) {
        JSONW_KEY(&w, "validationErrors");
        jsonw_arr_open(&w);
        for (size_t i = 0; i < n; i++) {
            jsonw_obj_open(&w);
            JSONW_KEY(&w, "field");
            jsonw_str(&w, errs[i].field);
            JSONW_KEY(&w, "message");
            jsonw_str(&w, errs[i].message);
            jsonw_obj_close(&w);
        }
        jsonw_arr_close(&w);
    }
    JSONW_KEY(&w, "timestamp");
    jsonw_str(&w, ts);
    jsonw_obj_close(&w);
    if (w.err) {
        static const char fallback[] = "{\"statusCode\":500,\"errorCode\":\"INTERNAL_ERROR\","
                                       "\"message\":\"Internal server error\"}";
        http_resp_json(resp, 500, fallback, sizeof fallback - 1);
    } else {
        http_resp_json(resp, status, buf, w.len);
    }
}

void api_voice_agent_error(http_resp *resp, int status, const char *message)
{
    render(resp, status, error_code(status), message, NULL, 0);
}

/* ---- validation (every bad field is reported at once) ------------------- */

/* The messages of one string field; NULL = the rule does not apply. */
typedef struct va_field {
    const char *key;
    const char *required; /* missing, null or empty */
    const char *type;     /* not a string */
    const char *too_long; /* over VA_MAX_CHARS characters */
    const char *charset;  /* outside ID_CHARS */
} va_field;

static const va_field ROOM_NAME = {
    "roomName", "Room name is required", "Room name must be a string",
    "Room name must be at most 255 characters", "Room name contains invalid characters"};
static const va_field IDENTITY = {"participantIdentity", "Participant identity is required",
                                  "Participant identity must be a string",
                                  "Participant identity must be at most 255 characters",
                                  "Participant identity contains invalid characters"};
static const va_field NAME = {"participantName", NULL, "Participant name must be a string",
                              "Participant name must be at most 255 characters", NULL};

/* The request, validated. Strings are borrowed from the JSON body. */
typedef struct va_body {
    const char *subject; /* the authenticated caller's subject; NULL when anonymous */
    const char *room;
    const char *identity;
    const char *name; /* NULL = not given */
    int64_t ttl;      /* 0 = not given */
    field_error errs[VA_MAX_ERRORS];
    size_t n;
    char own[96]; /* storage for one formatted message */
} va_body;

static void add_err(va_body *b, const char *field, const char *message)
{
    if (b->n < VA_MAX_ERRORS)
        b->errs[b->n++] = (field_error){field, message};
}

/* chars counts the code points of valid UTF-8 s (len bytes). */
static size_t chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static void check_string(va_body *b, json_t *body, const va_field *f, const char **out)
{
    json_t *v = json_object_get(body, f->key);
    if (!v || (json_is_null(v) && f->required)) {
        if (f->required)
            add_err(b, f->key, f->required);
        return;
    }
    if (!json_is_string(v)) {
        add_err(b, f->key, f->type);
        return;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (f->required && len == 0) {
        add_err(b, f->key, f->required);
    } else if (chars(s, len) > VA_MAX_CHARS) {
        add_err(b, f->key, f->too_long);
    } else if (f->charset && strspn(s, ID_CHARS) != len &&
               !(f == &IDENTITY && b->subject && strcmp(s, b->subject) == 0)) {
        /* The caller's own subject is always accepted as its identity (an
         * Auth0 "auth0|..." or an e-mail subject), the seed's character
         * set applies to every other identity. */
        add_err(b, f->key, f->charset);
    } else if (len > VA_MAX_BYTES) { /* only names may hold multi-byte characters */
        add_err(b, f->key, "Participant name must be at most 256 bytes in UTF-8");
    } else {
        *out = s;
    }
}

static void check_ttl(va_body *b, json_t *body)
{
    static const char *const key = "expirationSeconds";
    json_t *v = json_object_get(body, key);
    if (!v)
        return;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (!json_is_number(v))
        add_err(b, key, "Expiration must be a number");
    else if (x != floor(x))
        add_err(b, key, "Expiration must be a whole number of seconds");
    else if (x < VA_MIN_TTL)
        add_err(b, key, "Expiration must be at least 60 seconds");
    else if (x > VA_MAX_TTL)
        add_err(b, key, "Expiration must be at most 86400 seconds");
    else
        b->ttl = (int64_t)x;
}

/* parse_body validates body into b; unknown fields are ignored, as the
 * seed's schema does. */
static void parse_body(json_t *body, va_body *b)
{
    check_string(b, body, &ROOM_NAME, &b->room);
    check_string(b, body, &IDENTITY, &b->identity);
    check_ttl(b, body);
    check_string(b, body, &NAME, &b->name);
}

/* ---- minting ------------------------------------------------------------ */

static bool anonymous_room(const config_voice_agent *va, const char *room)
{
    for (size_t i = 0; i < va->n_anonymous_rooms; i++)
        if (strcmp(va->anonymous_rooms[i], room) == 0)
            return true;
    return false;
}

/* refuse renders policy's refusal rc (with d and why) for request b. */
static void refuse(http_resp *resp, int rc, const caller *who, bool anonymous, const decision *d,
                   const char *why, va_body *b)
{
    char msg[160];
    if (rc == RK_ENOTFOUND) {
        api_voice_agent_error(resp, 404, "Room not found");
    } else if (rc == RK_EFULL) {
        api_voice_agent_error(resp, 403, "Room is full");
    } else if (rc == RK_EDENIED) {
        bool mint_any = who->is_api_key && (who->perms & PERM_MINT_ANY);
        if (!anonymous && !mint_any && strcmp(b->identity, who->subject) != 0)
            snprintf(msg, sizeof msg, "participantIdentity must be the authenticated user");
        else
            snprintf(msg, sizeof msg, "Not allowed in this room: %s", why);
        api_voice_agent_error(resp, 403, msg);
    } else if (rc == RK_EINVAL) {
        b->n = 0;
        if (d->max_ttl) {
            snprintf(b->own, sizeof b->own, "Expiration must be at most %lld seconds in this room",
                     (long long)d->max_ttl);
            add_err(b, "expirationSeconds", b->own);
        } else if (anonymous) { /* "anon:" + the identity must fit the token's 256 bytes */
            add_err(b, "participantIdentity",
                    "Participant identity must be at most 251 characters in an anonymous room");
        } else {
            snprintf(b->own, sizeof b->own, "Request refused: %s", why);
            add_err(b, "participantIdentity", b->own);
        }
        render(resp, 400, "VALIDATION_ERROR", "Request validation failed", b->errs, b->n);
    } else {
        api_voice_agent_error(resp, 500, "Internal server error");
    }
}

/* respond writes the success body for the minted token. */
static void respond(http_resp *resp, const va_body *b, const decision *d, const char *tok,
                    size_t tok_len, const mint_info *info)
{
    char expires[CLOCK_ISO_LEN] = ""; /* exp is bounded, so formatting can't fail */
    clock_iso8601(info->exp, expires, sizeof expires);
    jsonw w;
    request_reply_open(&w, tok_len + 2048);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "token");
    jsonw_strn(&w, tok, tok_len);
    JSONW_KEY(&w, "expiresAt");
    jsonw_str(&w, expires);
    JSONW_KEY(&w, "roomName");
    jsonw_str(&w, b->room);
    JSONW_KEY(&w, "participantIdentity");
    jsonw_str(&w, d->identity);
    jsonw_obj_close(&w);
    if (request_reply_take(&w, resp, 200) != RK_OK)
        api_voice_agent_error(resp, 500, "Internal server error");
}

/* mint decides and mints for b; who is the caller, or an anonymous one. */
static void mint(const api_ctx *api, const http_req *req, http_resp *resp, caller *who,
                 bool anonymous, va_body *b)
{
    if (!issuance_configured(api)) {
        render(resp, 500, "MISSING_CREDENTIALS",
               "LiveKit API credentials are not configured (LIVEKIT_API_KEY, LIVEKIT_API_SECRET)",
               NULL, 0);
        return;
    }
    if (anonymous) {
        memset(who, 0, sizeof *who);
        snprintf(who->issuer, sizeof who->issuer, "anonymous");
    }
    policy_ask ask = {.room = b->room,
                      .identity = b->identity,
                      .name = b->name     ? b->name
                              : anonymous ? NULL
                                          : b->identity,
                      .ttl = b->ttl,
                      .anonymous = anonymous};
    decision d;
    const char *why = "";
    int rc = issuance_decide(api, who, &ask, &d, &why);
    if (rc) {
        refuse(resp, rc, who, anonymous, &d, why, b);
        return;
    }
    if (anonymous) /* audited as who it is: its own "anon:..." identity */
        snprintf(who->subject, sizeof who->subject, "%s", d.identity);
    const char *tok;
    size_t tok_len;
    mint_info info;
    rc = issuance_mint(api, who, &d, req, &tok, &tok_len, &info);
    if (rc == RK_ENOTFOUND)
        render(resp, 500, "MISSING_CREDENTIALS", "LiveKit API credentials are not configured", NULL,
               0);
    else if (rc)
        api_voice_agent_error(resp, 500, "Internal server error");
    else
        respond(resp, b, &d, tok, tok_len, &info);
}

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    const config_voice_agent *va = &api->cfg->voice_agent;
    caller who;
    auth_fail fail;
    bool anonymous = false;
    if (request_authenticate(api, req, va->n_anonymous_rooms > 0, &who, &fail) != RK_OK) {
        if (fail != AUTH_MISSING || va->n_anonymous_rooms == 0) {
            api_voice_agent_error(resp, 401, "Unauthorized");
            return RK_OK;
        }
        anonymous = true;
    }
    json_t *body;
    const char *why = "";
    if (request_json_object(req, false, &body, &why) != RK_OK) {
        render(resp, 400, "VALIDATION_ERROR", why, NULL, 0);
        return RK_OK;
    }
    va_body b = {.subject = anonymous ? NULL : who.subject};
    parse_body(body, &b);
    if (b.n) {
        render(resp, 400, "VALIDATION_ERROR", "Request validation failed", b.errs, b.n);
    } else if (anonymous && !anonymous_room(va, b.room)) {
        request_log_auth_failure(req, AUTH_MISSING);
        api_voice_agent_error(resp, 401, "Unauthorized");
    } else {
        mint(api, req, resp, &who, anonymous, &b);
    }
    json_decref(body);
    return RK_OK;
}

int api_voice_agent_register(http_server *s, api_ctx *api)
{
    const config_voice_agent *va = &api->cfg->voice_agent;
    for (size_t i = 0; i < va->n_anonymous_rooms; i++)
        log_event("warn", "anonymous_access_enabled", "route", "POST /api/token", "room",
                  va->anonymous_rooms[i], "note",
                  "ANONYMOUS callers (no credentials at all) can mint tokens for this room, "
                  "with its default role; set voice_agent.anonymous_rooms: [] to turn this off",
                  NULL);
    const http_route r = {"POST", "/api/token", "voice_agent.token",  token_handler,
                          api,    true,         api_voice_agent_error};
    return http_server_add(s, &r);
}
