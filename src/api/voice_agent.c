/* voice_agent.c - the voice-agent contract: POST /api/token (see voice_agent.h). */
#include "voice_agent.h"
#include "../config/section.h"
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
    char buf[REQUEST_ERROR_MAX], ts[CLOCK_ISO_LEN];
    if (clock_iso8601(clock_now(), ts, sizeof ts) != RK_OK)
        snprintf(ts, sizeof ts, "1970-01-01T00:00:00.000Z");
    jsonw w;
    request_status_open(&w, buf, status);
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
         * Auth0 "auth0|..." or an e-mail subject), the contract's character
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
 * contract's schema does. */
static void parse_body(json_t *body, va_body *b)
{
    check_string(b, body, &ROOM_NAME, &b->room);
    check_string(b, body, &IDENTITY, &b->identity);
    check_ttl(b, body);
    check_string(b, body, &NAME, &b->name);
}

/* ---- the family ------------------------------------------------------- */

static bool anonymous_room(const voice_agent_settings *va, const char *room)
{
    for (size_t i = 0; i < va->n_anonymous_rooms; i++)
        if (strcmp(va->anonymous_rooms[i], room) == 0)
            return true;
    return false;
}

/* render_token writes {token, expiresAt, roomName, participantIdentity}. */
static int render_token(family_call *c, const decision *d, const family_token *t)
{
    const request_field f[] = {{"token", t->tok, t->len},
                               {"expiresAt", t->expires_at, 0},
                               {"roomName", c->room_shown, 0},
                               {"participantIdentity", d->identity, 0}};
    return request_reply_fields(c->resp, 200, f, sizeof f / sizeof f[0]);
}

/* read_request validates the body into ask; a caller without credentials
 * is admitted only for an anonymous room. */
static bool read_request(family_call *c, json_t *body, policy_ask *ask)
{
    va_body *b = c->state;
    b->subject = c->anonymous ? NULL : c->who.subject;
    parse_body(body, b);
    if (b->n) {
        render(c->resp, 400, "VALIDATION_ERROR", "Request validation failed", b->errs, b->n);
        return false;
    }
    if (c->anonymous && !anonymous_room(((const voice_agent_settings *)config_ext(
                                            c->api->cfg, &voice_agent_section)),
                                        b->room)) {
        request_log_auth_failure(c->req, AUTH_MISSING);
        api_voice_agent_error(c->resp, 401, "Unauthorized");
        return false;
    }
    *ask = (policy_ask){.room = b->room,
                        .identity = b->identity,
                        .name = b->name        ? b->name
                                : c->anonymous ? NULL
                                               : b->identity,
                        .ttl = b->ttl,
                        .anonymous = c->anonymous};
    c->room_shown = b->room;
    return true;
}

/* render_answer renders a: a validation answer (with a field) as the
 * contract's validationErrors, the others with their errorCode. */
static void render_answer(http_resp *resp, const family_answer *a, const char *message)
{
    if (a->status == 400 && a->field) {
        field_error e = {a->field, message};
        render(resp, 400, "VALIDATION_ERROR", "Request validation failed", &e, 1);
    } else {
        render(resp, a->status, a->code ? a->code : error_code(a->status), message, NULL, 0);
    }
}

static bool anonymous_ok(const api_ctx *api)
{
    return ((const voice_agent_settings *)config_ext(api->cfg, &voice_agent_section))
               ->n_anonymous_rooms > 0;
}

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    return pipeline_run(&family_voice_agent, ctx, req, resp);
}

/* setup warns (one line per room) when anonymous rooms are configured. */
static int setup(api_ctx *api)
{
    const voice_agent_settings *va =
        ((const voice_agent_settings *)config_ext(api->cfg, &voice_agent_section));
    for (size_t i = 0; i < va->n_anonymous_rooms; i++)
        log_event("warn", "anonymous_access_enabled", "route", "POST /api/token", "room",
                  va->anonymous_rooms[i], "note",
                  "ANONYMOUS callers (no credentials at all) can mint tokens for this room, "
                  "with its default role; set voice_agent.anonymous_rooms: [] to turn this off",
                  NULL);
    return RK_OK;
}

/* parse_voice_agent reads `voice_agent:` (the voice-agent family's options). */
static int parse_voice_agent(config_loader *ld, const ynode *n)
{
    enum { ANON, NF };
    static const char *const names[NF] = {"anonymous_rooms"};
    const ynode *v[NF];
    voice_agent_settings *va = config_ext_mut(ld->cfg, &voice_agent_section);
    char p[YAML_PATH_CAP];
    size_t count = 0;
    int rc = yaml_map_fields(&ld->y, n, "voice_agent", names, NF, v);
    if (rc || !v[ANON])
        return rc;
    const char *lp = yaml_sub(p, "voice_agent", "anonymous_rooms");
    if ((rc = yaml_seq_items(&ld->y, v[ANON], lp, VOICE_AGENT_MAX_ANON_ROOMS, &count)))
        return rc;
    for (size_t i = 0; i < count; i++) {
        char ip[YAML_PATH_CAP];
        char *room = va->anonymous_rooms[i];
        yaml_path_idx(ip, sizeof ip, lp, i);
        if ((rc = yaml_get_str(&ld->y, v[ANON]->kids[i], ip, room, sizeof va->anonymous_rooms[0],
                               1)))
            return rc;
        if (strspn(room, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            strlen(room))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: %s: a room name of letters, digits, '-', '_'", ip);
        va->n_anonymous_rooms = i + 1;
    }
    return RK_OK;
}

const config_section voice_agent_section = {
    .key = "voice_agent", .size = sizeof(voice_agent_settings), .parse = parse_voice_agent};

const family family_voice_agent = {
    .name = "voice_agent",
    .section = &voice_agent_section,
    .routes = {FAMILY_ROUTE_JSON("POST", "/api/token", "voice_agent.token", token_handler)},
    .auth = FAMILY_AUTH_ANON_ROOMS,
    .body = FAMILY_BODY_OBJECT,
    .state_size = sizeof(va_body),
    .anonymous_ok = anonymous_ok,
    .setup = setup,
    FAMILY_READ_RENDER(read_request, render_token, render_answer, api_voice_agent_error),
    .answers =
        {
            [OUTCOME_BAD_CREDENTIALS] = {.status = 401, .message = "Unauthorized"},
            [OUTCOME_NOT_CONFIGURED] = {.status = 500,
                                        .message = "LiveKit API credentials are not configured "
                                                   "(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)",
                                        .code = "MISSING_CREDENTIALS"},
            [OUTCOME_INTERNAL] = {.status = 500, .message = "Internal server error"},
            [VERDICT_ROOM_NOT_FOUND] = {.status = 404, .message = "Room not found"},
            [VERDICT_IDENTITY_NOT_CALLER] =
                {.status = 403, .message = "participantIdentity must be the authenticated user"},
            [VERDICT_IDENTITY_TOO_LONG] = {.status = 400,
                                           .message = "Request refused: {why}",
                                           .field = "participantIdentity"},
            [VERDICT_NAME_TOO_LONG] = {.status = 400,
                                       .message = "Request refused: {why}",
                                       .field = "participantName"},
            [VERDICT_NAME_UNSAFE] = {.status = 400,
                                     .message = "Request refused: {why}",
                                     .field = "participantName"},
            [VERDICT_TTL_ABOVE_CAP] =
                {.status = 400,
                 .message = "Expiration must be at most {max_ttl} seconds in this room",
                 .field = "expirationSeconds"},
            [VERDICT_ROOM_FULL] = {.status = 403, .message = "Room is full"},
            [VERDICT_ROOM_CLOSED] = {.status = 403, .message = "Room is closed"},
        },
    .refused = {.status = 403, .message = "Not allowed in this room: {why}"},
};
