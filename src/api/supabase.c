/* supabase.c - seed 002: POST /functions/v1/livekit-token, the judge seat
 * release next to it, and the function's CORS preflight. */
#include "supabase.h"
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
    char buf[1024];
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "error");
    jsonw_str(&w, message);
    jsonw_obj_close(&w);
    if (w.err)
        http_resp_json(resp, status, "{\"error\":\"error\"}", 17);
    else
        http_resp_json(resp, status, buf, w.len);
}

/* session_refusal checks what a Supabase user session has and the
 * project's API keys lack, on claims authn already verified: role
 * "authenticated" (the anon and service_role keys say "anon" /
 * "service_role" and name no user), and is_anonymous only when
 * supabase.allow_anonymous is set. Returns NULL when fine, else the
 * message for the 401. */
static const char *session_refusal(const config *cfg, const json_t *claims)
{
    json_t *role = json_object_get(claims, "role");
    if (!json_is_string(role) || strcmp(json_string_value(role), "authenticated") != 0)
        return "A signed-in user session is required";
    if (json_is_true(json_object_get(claims, "is_anonymous")) && !cfg->supabase.allow_anonymous)
        return "Anonymous sessions are not allowed";
    return NULL;
}

/* authenticate fills *who from a Supabase user session or renders 401.
 * API keys are not callers of this family. */
static bool authenticate(const api_ctx *api, const http_req *req, http_resp *resp, caller *who)
{
    const char *authz = http_req_header(req, "Authorization");
    if (!authz || !*authz) {
        api_supabase_error(resp, 401, "Missing authorization header");
        return false;
    }
    auth_fail fail = AUTH_NONE;
    json_t *claims = NULL;
    const char *msg = "Invalid or expired session";
    if (authn_caller_claims(api->auth, authz, NULL, clock_now(), who, &fail, &claims) == RK_OK) {
        if (!claims)
            fail = AUTH_API_KEY;
        else if ((msg = session_refusal(api->cfg, claims)))
            fail = AUTH_CLAIMS;
    }
    json_decref(claims);
    if (fail == AUTH_NONE) {
        http_req_set_subject(req, who->subject);
        return true;
    }
    request_log_auth_failure(req, fail);
    api_supabase_error(resp, 401, msg);
    return false;
}

static const config_room_type *room_type_find(const config *cfg, const char *type)
{
    for (size_t i = 0; i < cfg->supabase.n_room_types; i++)
        if (strcmp(cfg->supabase.room_types[i].type, type) == 0)
            return &cfg->supabase.room_types[i];
    return NULL;
}

/* What a request asks for. Strings are borrowed from the parsed body. */
typedef struct sb_ask {
    const config_room_type *type;
    const char *user_name; /* NULL = the session's name */
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
static bool room_type_of(const config *cfg, json_t *body, sb_ask *a, sb_fail *f)
{
    json_t *v = json_object_get(body, "roomType");
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return bad(f, 400, "Missing required parameters: roomType");
    if (json_is_string(v) && (a->type = room_type_find(cfg, json_string_value(v))))
        return true;
    int n = snprintf(f->msg, sizeof f->msg, "Invalid roomType. Must be one of: ");
    for (size_t i = 0; i < cfg->supabase.n_room_types && n > 0 && (size_t)n < sizeof f->msg; i++)
        n += snprintf(f->msg + n, sizeof f->msg - (size_t)n, "%s%s", i ? ", " : "",
                      cfg->supabase.room_types[i].type);
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

/* parse_ask reads the body (an object; unknown fields such as "role" are
 * ignored, never obeyed). An identity field ("identity", "userId") must be
 * the caller's own subject: identity comes from the session. */
static bool parse_ask(const config *cfg, const caller *who, json_t *body, sb_ask *a, sb_fail *f)
{
    if (!json_is_object(body))
        return bad(f, 400, body ? "Request body must be a JSON object" : "Invalid JSON body");
    if (!room_type_of(cfg, body, a, f) || !seat_of(body, a, f))
        return false;
    json_t *name = json_object_get(body, "userName");
    if (name && !json_is_null(name)) {
        if (!json_is_string(name) || json_string_length(name) > MAX_USERNAME)
            return bad(f, 400, "userName must be a string of at most 256 characters");
        if (json_string_length(name) > 0)
            a->user_name = json_string_value(name);
    }
    static const char *const ids[] = {"identity", "userId"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, ids[i]);
        if (v && !json_is_null(v) &&
            (!json_is_string(v) || strcmp(json_string_value(v), who->subject) != 0))
            return bad(f, 403, "identity must be the authenticated user");
    }
    return true;
}

/* read_ask authenticates and parses the request; on false the answer is
 * already in resp and *body is NULL. Otherwise the caller frees *body. */
static bool read_ask(const api_ctx *api, const http_req *req, http_resp *resp, caller *who,
                     json_t **body, sb_ask *a)
{
    *body = NULL;
    if (!authenticate(api, req, resp, who))
        return false;
    json_error_t jerr;
    *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    sb_fail f = {0};
    memset(a, 0, sizeof *a);
    if (parse_ask(api->cfg, who, *body, a, &f))
        return true;
    json_decref(*body);
    *body = NULL;
    api_supabase_error(resp, f.status, f.msg);
    return false;
}

/* in_room maps the caller's session role through t's roles (when t has a
 * mapping): an unmapped session role gives no role in this room. */
static void in_room(const config_room_type *t, caller *who)
{
    if (t->n_roles == 0 || !who->role[0])
        return;
    for (size_t i = 0; i < t->n_roles; i++) {
        if (strcmp(t->roles[i].session_role, who->role) == 0) {
            snprintf(who->role, sizeof who->role, "%s", t->roles[i].role);
            return;
        }
    }
    who->role[0] = '\0';
}

/* decide runs the policy for the caller in a's room; renders the refusal
 * and returns false when there is none to mint. */
static bool decide(const api_ctx *api, const caller *who, const sb_ask *a, decision *d,
                   http_resp *resp)
{
    caller in = *who;
    in_room(a->type, &in);
    policy_ask ask = {.room = a->type->room, .name = a->user_name};
    const char *why = "";
    int rc = issuance_decide(api, &in, &ask, d, &why);
    if (rc == RK_OK && a->seat && strcmp(d->role->name, a->type->seat_role) != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "Only a %s can take a seat", a->type->seat_role);
        api_supabase_error(resp, 403, msg);
        return false;
    }
    if (rc == RK_OK)
        return true;
    if (rc == RK_EFULL)
        api_supabase_error(resp, 409, "Room is full");
    else if (rc == RK_EDENIED)
        api_supabase_error(resp, 403, "Not allowed to join this room");
    else if (rc == RK_EINVAL)
        api_supabase_error(resp, 400, why);
    else if (rc == RK_ENOTFOUND)
        api_supabase_error(resp, 500, "Room not configured");
    else
        api_supabase_error(resp, 500, "Failed to generate LiveKit token");
    return false;
}

/* take_seat claims a->seat for who until now + d->ttl and puts it into the
 * token's attributes (attr/buf hold the attribute; they must outlive d's
 * use). Renders 409/500 and returns false when the seat can't be had. */
static bool take_seat(const api_ctx *api, const caller *who, const sb_ask *a, decision *d,
                      lk_attr *attr, char *buf, size_t cap, http_resp *resp)
{
    int64_t now = clock_now();
    store_seat s = {.seat = a->seat, .exp = now + d->ttl};
    snprintf(s.room, sizeof s.room, "%s", d->room.name);
    snprintf(s.subject, sizeof s.subject, "%s", who->subject);
    int rc = store_seat_claim(api->st, &s, now);
    snprintf(buf, cap, "%" PRId64, a->seat);
    if (rc == RK_ECONFLICT) {
        char msg[64];
        snprintf(msg, sizeof msg, "Seat %" PRId64 " is taken", a->seat);
        log_event("info", "seat_taken", "room", d->room.name, "seat", buf, "subject", who->subject,
                  NULL);
        api_supabase_error(resp, 409, msg);
        return false;
    }
    if (rc) {
        api_supabase_error(resp, 500, "Failed to generate LiveKit token");
        return false;
    }
    *attr = (lk_attr){"seat", buf};
    d->claims.attrs = attr;
    d->claims.n_attrs = 1;
    return true;
}

/* seat_settled runs after the mint: a failed mint gives the seat back; a
 * token whose exp came out a second later than the claim extends it. */
static void seat_settled(const api_ctx *api, const caller *who, const decision *d, int64_t seat,
                         int minted, const mint_info *info)
{
    if (minted != RK_OK) {
        store_seat_release(api->st, d->room.name, seat, who->subject, clock_now());
        return;
    }
    int64_t now = clock_now();
    store_seat s = {.seat = seat, .exp = info->exp};
    snprintf(s.room, sizeof s.room, "%s", d->room.name);
    snprintf(s.subject, sizeof s.subject, "%s", who->subject);
    if (info->exp > now && store_seat_claim(api->st, &s, now) != RK_OK)
        log_event("warn", "seat_extend_failed", "room", d->room.name, "jti", info->jti, NULL);
}

/* respond renders {"token", "livekitUrl"}. */
static void respond(const api_ctx *api, const char *tok, size_t tok_len, http_resp *resp)
{
    jsonw w;
    request_reply_open(&w, tok_len + strlen(api->cfg->livekit_url) * 6 + 64);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "token");
    jsonw_strn(&w, tok, tok_len);
    JSONW_KEY(&w, "livekitUrl");
    jsonw_str(&w, api->cfg->livekit_url);
    jsonw_obj_close(&w);
    if (request_reply_take(&w, resp, 200) != RK_OK)
        api_supabase_error(resp, 500, "Failed to generate LiveKit token");
}

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    json_t *body;
    sb_ask a;
    if (!read_ask(api, req, resp, &who, &body, &a))
        return RK_OK;
    decision d;
    lk_attr attr;
    char seat_buf[24];
    if (!issuance_configured(api) || !api->cfg->livekit_url[0]) {
        api_supabase_error(resp, 500, "LiveKit credentials not configured on server");
    } else if (decide(api, &who, &a, &d, resp) &&
               (!a.seat || take_seat(api, &who, &a, &d, &attr, seat_buf, sizeof seat_buf, resp))) {
        const char *tok;
        size_t tok_len;
        mint_info info;
        int rc = issuance_mint(api, &who, &d, req, &tok, &tok_len, &info);
        if (a.seat)
            seat_settled(api, &who, &d, a.seat, rc, &info);
        if (rc)
            api_supabase_error(resp, 500, "Failed to generate LiveKit token");
        else
            respond(api, tok, tok_len, resp);
    }
    json_decref(body);
    return RK_OK;
}

static int release_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    json_t *body;
    sb_ask a;
    if (!read_ask(api, req, resp, &who, &body, &a))
        return RK_OK;
    store_room room;
    int rc = store_room_get(api->st, a.type->room, &room);
    if (rc == RK_OK)
        rc = store_seat_release(api->st, room.name, a.seat, who.subject, clock_now());
    if (rc == RK_OK) {
        http_resp_json(resp, 200, "{\"released\":true}", 17);
    } else if (rc == RK_ENOTFOUND) {
        api_supabase_error(resp, 404, "No seat held");
    } else {
        api_supabase_error(resp, 500, "Failed to release the seat");
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
static int ensure_rooms(const api_ctx *api)
{
    for (size_t i = 0; i < api->cfg->supabase.n_room_types; i++) {
        const config_room_type *t = &api->cfg->supabase.room_types[i];
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

int api_supabase_register(http_server *s, api_ctx *api)
{
    int rc = ensure_rooms(api);
    if (rc)
        return rc;
    const http_route routes[] = {
        {"POST", TOKEN_PATH, "supabase.livekit-token", token_handler, api, true,
         api_supabase_error},
        {"OPTIONS", TOKEN_PATH, "supabase.preflight", preflight_handler, api, false,
         api_supabase_error},
        {"POST", RELEASE_PATH, "supabase.release-seat", release_handler, api, true,
         api_supabase_error},
        {"OPTIONS", RELEASE_PATH, "supabase.preflight", preflight_handler, api, false,
         api_supabase_error},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if ((rc = http_server_add(s, &routes[i])))
            return rc;
    return RK_OK;
}
