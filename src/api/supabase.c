/* supabase.c - the Supabase Edge Function contract: POST /functions/v1/livekit-token, the judge
 * seat release next to it, and the function's CORS preflight. */
#include "supabase.h"
#include "supabase_settings.h"
#include "families.h"
#include "pipeline.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "../util/log.h"
#include "request.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_PATH   "/functions/v1/livekit-token"
#define RELEASE_PATH "/functions/v1/livekit-token/release-seat"
#define MAX_USERNAME 256 /* userName, bytes */

/* CORS: a Supabase function answers every origin ("*"). RoomKey's CORS is
 * the server's exact-match allow-list (`cors:` in the config, see
 * docs/operations.md): preflights and the CORS headers of every answer
 * come from there, for this family as for the others. */

void api_supabase_error(http_resp *resp, int status, const char *message)
{
    static const request_error_shape shape = {
        .message_key = "error", .cap = 1024, .fallback = "{\"error\":\"error\"}"};
    request_error(resp, &shape, status, message);
}

static const supabase_room_type *room_type_find(const supabase_settings *sb, const char *type)
{
    for (size_t i = 0; i < sb->n_room_types; i++)
        if (strcmp(sb->room_types[i].type, type) == 0)
            return &sb->room_types[i];
    return NULL;
}

/* What a request asks for. Strings are borrowed from the parsed body. */
typedef struct sb_ask {
    const supabase_room_type *type;
    const char *user_name; /* NULL = the session's name */
    const char *identity;  /* NULL = none named (the caller's own) */
    int64_t seat;          /* 0 = none asked */
} sb_ask;

/* A request problem: the status and message to answer with. */
typedef struct sb_fail {
    int status;
    char msg[640];
} sb_fail;

static bool bad(sb_fail *f, int status, const char *msg)
{
    f->status = status;
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    return false;
}

/* room_type_of reads roomType into a->type. */
static bool room_type_of(const supabase_settings *sb, json_t *body, sb_ask *a, sb_fail *f)
{
    json_t *v = json_object_get(body, "roomType");
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return bad(f, 400, "Missing required parameters: roomType");
    if (json_is_string(v) && (a->type = room_type_find(sb, json_string_value(v))))
        return true;
    int n = snprintf(f->msg, sizeof f->msg, "Invalid roomType. Must be one of: ");
    for (size_t i = 0; i < sb->n_room_types && n > 0 && (size_t)n < sizeof f->msg; i++)
        n += snprintf(f->msg + n, sizeof f->msg - (size_t)n, "%s%s", i ? ", " : "",
                      sb->room_types[i].type);
    f->status = 400;
    return false;
}

/* seat_of reads the optional seat (1..the room type's seats). */
static bool seat_of(json_t *body, sb_ask *a, sb_fail *f)
{
    json_t *v = json_object_get(body, "seat");
    if (!v || json_is_null(v))
        return true;
    int64_t max = a->type->seats;
    if (max == 0)
        return bad(f, 400, "This room has no judge seats");
    json_int_t s = json_is_integer(v) ? json_integer_value(v) : 0;
    if (s < 1 || s > max) {
        f->status = 400;
        snprintf(f->msg, sizeof f->msg, "seat must be an integer from 1 to %" PRId64, max);
        return false;
    }
    a->seat = s;
    return true;
}

/* identity_of reads the identity fields ("identity", "userId"): policy
 * checks the one named is the caller's. One that is not a string, or two
 * that differ, name "" (never a subject: policy refuses it). */
static void identity_of(json_t *body, sb_ask *a)
{
    static const char *const ids[] = {"identity", "userId"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, ids[i]);
        if (!v || json_is_null(v))
            continue;
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        a->identity = a->identity && strcmp(a->identity, s) != 0 ? "" : s;
    }
}

/* parse_ask reads the body (unknown fields such as "role" are ignored,
 * never obeyed). */
static bool parse_ask(const supabase_settings *sb, json_t *body, sb_ask *a, sb_fail *f)
{
    if (!room_type_of(sb, body, a, f) || !seat_of(body, a, f))
        return false;
    json_t *name = json_object_get(body, "userName");
    if (name && !json_is_null(name)) {
        if (!json_is_string(name) || json_string_length(name) > MAX_USERNAME)
            return bad(f, 400, "userName must be a string of at most 256 characters");
        if (json_string_length(name) > 0)
            a->user_name = json_string_value(name);
    }
    identity_of(body, a);
    return true;
}

/* read_request turns the body into ask: the room type's room, the
 * caller's own identity, the seat asked. */
static bool read_request(family_call *c, json_t *body, policy_ask *ask)
{
    sb_ask a = {0};
    sb_fail f = {0};
    if (!parse_ask(config_ext(c->api->cfg, &supabase_section), body, &a, &f)) {
        family_fail(c, f.status, f.msg);
        return false;
    }
    *ask = (policy_ask){
        .room = a.type->room, .identity = a.identity, .name = a.user_name, .seat = a.seat};
    c->room_shown = a.type->room;
    return true;
}

/* render_token writes {"token", "livekitUrl"}. */
static int render_token(family_call *c, const decision *d, const family_token *t)
{
    (void)d;
    const request_field f[] = {{"token", t->tok, t->len},
                               {"livekitUrl", c->api->cfg->livekit_url, 0}};
    return request_reply_fields(c->resp, 200, f, 2);
}

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    return pipeline_run(&family_supabase, ctx, req, resp);
}

/* release_handler gives the caller's seat in a room type's room back. */
static int release_handler(void *ctx, const http_req *req, http_resp *resp)
{
    family_call c = {.f = &family_supabase, .api = ctx, .req = req, .resp = resp};
    int out = pipeline_authenticate(&c);
    json_t *body = NULL;
    const char *why = "";
    if (!out && request_json_object(req, false, &body, &why) != RK_OK)
        out = strcmp(why, REQUEST_NOT_OBJECT) == 0 ? OUTCOME_NOT_OBJECT : OUTCOME_BAD_JSON;
    sb_ask a = {0};
    sb_fail f = {0};
    if (!out && !parse_ask(config_ext(c.api->cfg, &supabase_section), body, &a, &f)) {
        family_fail(&c, f.status, f.msg);
    } else if (out || (out = policy_session_rule(policy_room_rules_find(c.api->rules, a.type->room),
                                                 &c.who))) {
        pipeline_answer(&c, out, NULL);
    } else {
        store_room room;
        int rc = store_room_get(c.api->st, a.type->room, &room);
        if (rc == RK_OK)
            rc = store_seat_release(c.api->st, room.name, a.seat, c.who.subject, clock_now());
        if (rc == RK_OK)
            http_resp_json(resp, 200, "{\"released\":true}", 17);
        else
            family_fail(&c, rc == RK_ENOTFOUND ? 404 : 500,
                        rc == RK_ENOTFOUND ? "No seat held" : "Failed to release the seat");
    }
    json_decref(body);
    return RK_OK;
}

/* preflight answers a plain OPTIONS as the function does: 200 "ok". (A
 * CORS preflight, with Origin and Access-Control-Request-Method, is
 * answered by the server's CORS allow-list before routing.) */
static int preflight_handler(void *ctx, const http_req *req, http_resp *resp)
{
    (void)ctx, (void)req;
    int rc = http_resp_json(resp, 200, "ok", 2);
    resp->content_type = "text/plain; charset=utf-8";
    return rc;
}

/* ensure_rooms creates each room type's room that the store lacks: any
 * authenticated caller may ask, no default role (so the role must come
 * from the session or a membership). */
static int ensure_rooms(api_ctx *api)
{
    const supabase_settings *sb = config_ext(api->cfg, &supabase_section);
    for (size_t i = 0; i < sb->n_room_types; i++) {
        const supabase_room_type *t = &sb->room_types[i];
        store_room r = {.mode = STORE_MODE_AUTHENTICATED};
        int rc = store_room_get(api->st, t->room, &r);
        if (rc == RK_ENOTFOUND) {
            snprintf(r.name, sizeof r.name, "%s", t->room);
            rc = store_room_create(api->st, &r);
            if (rc == RK_OK)
                log_event("info", "room_created", "room", t->room, "family", "supabase", NULL);
        }
        if (rc && rc != RK_ECONFLICT) {
            log_event("error", "room_setup_failed", "room", t->room, "error", rk_strerror(rc),
                      NULL);
            return rc;
        }
    }
    return RK_OK;
}

/* rules gives each room type's room its rules: the role map, the seats,
 * signed-in user sessions only (anonymous sign-ins when allowed). */
static int rules(const config *cfg, policy_rules *out, char *why, size_t cap)
{
    const supabase_settings *sb = config_ext(cfg, &supabase_section);
    for (size_t i = 0; i < sb->n_room_types; i++) {
        const supabase_room_type *t = &sb->room_types[i];
        if (out->n >= POLICY_MAX_RULED_ROOMS)
            return rk_fail(RK_ETOOBIG, why, cap, "config: too many rooms with rules");
        policy_room_rules *r = &out->rooms[out->n++];
        *r = (policy_room_rules){.room = t->room,
                                 .seats = t->seats,
                                 .seat_role = t->seat_role,
                                 .user_sessions = true,
                                 .allow_anonymous = sb->allow_anonymous};
        for (size_t j = 0; j < t->n_roles && j < POLICY_MAX_ROLE_MAP; j++)
            r->roles[r->n_roles++] = (policy_role_map){t->roles[j].session_role, t->roles[j].role};
    }
    return RK_OK;
}

const family family_supabase = {
    .name = "supabase",
    .section = &supabase_section,
    .routes =
        {
            FAMILY_ROUTE_JSON("POST", TOKEN_PATH, "supabase.livekit-token", token_handler),
            FAMILY_ROUTE("OPTIONS", TOKEN_PATH, "supabase.preflight", preflight_handler),
            FAMILY_ROUTE_JSON("POST", RELEASE_PATH, "supabase.release-seat", release_handler),
            FAMILY_ROUTE("OPTIONS", RELEASE_PATH, "supabase.preflight", preflight_handler),
        },
    .auth = FAMILY_AUTH_USER_SESSION,
    .body = FAMILY_BODY_OBJECT,
    .needs_url = true,
    FAMILY_READ_RENDER(read_request, render_token, NULL, api_supabase_error),
    .answers =
        {
            FAMILY_CORE_ANSWERS("Invalid or expired session",
                                "LiveKit credentials not configured on server",
                                "Failed to generate LiveKit token"),
            [OUTCOME_NO_CREDENTIALS] = {.status = 401, .message = "Missing authorization header"},
            [VERDICT_SESSION_REQUIRED] = {.status = 401,
                                          .message = "A signed-in user session is required"},
            [VERDICT_ANON_REFUSED] = {.status = 401,
                                      .message = "Anonymous sessions are not allowed"},
            [OUTCOME_BAD_JSON] = {.status = 400, .message = "Invalid JSON body"},
            [VERDICT_ROOM_NOT_FOUND] = {.status = 500, .message = "Room not configured"},
            [VERDICT_IDENTITY_NOT_CALLER] = {.status = 403,
                                             .message = "identity must be the authenticated user"},
            [VERDICT_NO_SEATS] = {.status = 400,
                                  .message = "seat must be an integer from 1 to {seats}"},
            [VERDICT_SEAT_ROLE] = {.status = 403, .message = "Only a {seat_role} can take a seat"},
            [VERDICT_SEAT_TAKEN] = {.status = 409, .message = "Seat {seat} is taken"},
            [VERDICT_ROOM_FULL] = {.status = 409, .message = "Room is full"},
            [VERDICT_ROOM_CLOSED] = {.status = 403, .message = "Room is closed"},
        },
    .refused = {.status = 403, .message = "Not allowed to join this room"},
    .setup = ensure_rooms,
    .rules = rules,
    .missing = supabase_missing,
};
