/* pipeline.c - authenticate, limit, read, decide, mint, render: once, for
 * every family. */
#include "pipeline.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "live.h"
#include "request.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE 512 /* an expanded answer, bytes */

void family_fail(family_call *c, int status, const char *message)
{
    c->f->plain_error(c->resp, status, message);
}

/* put appends s to out (capacity cap, *n used), cutting it when full. */
static void put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n + len >= cap)
        len = cap - 1 - *n;
    memcpy(out + *n, s, len);
    *n += len;
    out[*n] = '\0';
}

/* placeholder writes the value of {name} (name_len bytes) into val. */
static void placeholder(const family_call *c, int what, const verdict_detail *why, const char *name,
                        size_t name_len, char *val, size_t cap)
{
    static const verdict_detail none = {0};
    why = why ? why : &none;
    val[0] = '\0';
#define IS(s) (name_len == sizeof s - 1 && memcmp(name, s, name_len) == 0)
    if (IS("room"))
        snprintf(val, cap, "%s", c->room_shown ? c->room_shown : "");
    else if (IS("why"))
        snprintf(val, cap, "%s", what < VERDICT_COUNT ? policy_verdict_text(what) : "");
    else if (IS("max_ttl"))
        snprintf(val, cap, "%" PRId64, why->max_ttl);
    else if (IS("seat"))
        snprintf(val, cap, "%" PRId64, why->seat);
    else if (IS("seats"))
        snprintf(val, cap, "%" PRId64, why->seats);
    else if (IS("seat_role"))
        snprintf(val, cap, "%s", why->seat_role ? why->seat_role : "");
#undef IS
}

/* expand writes template tpl with its placeholders replaced into out. */
static void expand(const family_call *c, int what, const verdict_detail *why, const char *tpl,
                   char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = tpl; *p;) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!close) {
            put(out, cap, &n, p, strlen(p));
            return;
        }
        put(out, cap, &n, p, (size_t)(open - p));
        char val[300];
        placeholder(c, what, why, open + 1, (size_t)(close - open - 1), val, sizeof val);
        put(out, cap, &n, val, strlen(val));
        p = close + 1;
    }
}

/* answer_for returns f's answer to what: its own entry, else the shared
 * default (JSON body errors; a request the policy finds out of bounds - an
 * identity or name too long, a TTL above the cap - as 400 with the policy's
 * reason, or as an internal error where f asks_room_only; "no credentials"
 * as "bad credentials"; a store failure as an internal error), else f's
 * `refused`. */
static const family_answer *answer_for(const family *f, int what)
{
    static const family_answer not_json = {400, REQUEST_NOT_JSON, NULL, NULL};
    static const family_answer not_object = {400, REQUEST_NOT_OBJECT, NULL, NULL};
    static const family_answer out_of_bounds = {400, "{why}", NULL, NULL};
    const family_answer *a = (unsigned)what < OUTCOME_COUNT ? &f->answers[what] : &f->refused;
    if (a->status)
        return a;
    if (what == OUTCOME_BAD_JSON)
        return &not_json;
    if (what == OUTCOME_NOT_OBJECT)
        return &not_object;
    if (what == VERDICT_IDENTITY_TOO_LONG || what == VERDICT_NAME_TOO_LONG ||
        what == VERDICT_NAME_UNSAFE || what == VERDICT_TTL_ABOVE_CAP)
        return f->asks_room_only ? &f->answers[OUTCOME_INTERNAL] : &out_of_bounds;
    if (what == OUTCOME_NO_CREDENTIALS)
        return &f->answers[OUTCOME_BAD_CREDENTIALS];
    if (what == VERDICT_FAILED)
        return &f->answers[OUTCOME_INTERNAL];
    return &f->refused;
}

int pipeline_answer(family_call *c, int what, const verdict_detail *why)
{
    const family_answer *a = answer_for(c->f, what);
    if ((what == VERDICT_SESSION_REQUIRED || what == VERDICT_ANON_REFUSED) && a->status == 401)
        request_log_auth_failure(c->req, AUTH_CLAIMS);
    char msg[MAX_MESSAGE];
    expand(c, what, why, a->message ? a->message : "", msg, sizeof msg);
    if (c->f->error)
        c->f->error(c->resp, a, msg);
    else
        c->f->plain_error(c->resp, a->status, msg);
    return RK_OK;
}

/* user_session_door applies FAMILY_AUTH_USER_SESSION: the Authorization
 * header only, a session JWT only, and one of a signed-in user. */
static int user_session_door(family_call *c)
{
    const char *authz = http_req_header(c->req, "Authorization");
    if (!authz || !*authz) {
        request_log_auth_failure(c->req, AUTH_MISSING);
        return OUTCOME_NO_CREDENTIALS;
    }
    auth_fail fail = AUTH_NONE;
    if (authn_caller(c->api->auth, authz, NULL, clock_now(), &c->who, &fail) != RK_OK) {
        request_log_auth_failure(c->req, fail);
        return OUTCOME_BAD_CREDENTIALS;
    }
    if (c->who.is_api_key) {
        request_log_auth_failure(c->req, AUTH_API_KEY);
        return OUTCOME_BAD_CREDENTIALS;
    }
    if (!c->who.user_session) {
        request_log_auth_failure(c->req, AUTH_CLAIMS);
        return VERDICT_SESSION_REQUIRED;
    }
    http_req_set_subject(c->req, c->who.subject);
    return 0;
}

int pipeline_authenticate(family_call *c)
{
    const family *f = c->f;
    if (f->auth == FAMILY_AUTH_USER_SESSION)
        return user_session_door(c);
    bool anon_ok = f->auth == FAMILY_AUTH_ANON_ROOMS && f->anonymous_ok(c->api);
    auth_fail fail;
    if (request_authenticate(c->api, c->req, anon_ok, &c->who, &fail) == RK_OK)
        return 0;
    if (fail == AUTH_MISSING && anon_ok) {
        memset(&c->who, 0, sizeof c->who);
        snprintf(c->who.issuer, sizeof c->who.issuer, "anonymous");
        c->anonymous = true;
        return 0;
    }
    return fail == AUTH_MISSING ? OUTCOME_NO_CREDENTIALS : OUTCOME_BAD_CREDENTIALS;
}

int pipeline_configured(const family_call *c)
{
    bool ok = issuance_configured(c->api) && (!c->f->needs_url || c->api->cfg->livekit_url[0]);
    return ok ? 0 : OUTCOME_NOT_CONFIGURED;
}

/* limit applies the per-subject limit to who: true when the request may go
 * on; false when it is answered (429 by the server, or *rc an error). */
static bool limit(family_call *c, const caller *who, int *rc)
{
    *rc = issuance_limit(c->api, who, c->req);
    if (*rc == RK_ELIMITED)
        *rc = RK_OK;
    else if (*rc == RK_OK)
        return true;
    return false;
}

/* limit_anonymous limits a caller without credentials by its client
 * address (its identity is generated later, so asking for another one
 * can't escape the limit): subject "anon@<address>", issuer "anonymous". */
static bool limit_anonymous(family_call *c, int *rc)
{
    caller anon = c->who;
    snprintf(anon.subject, sizeof anon.subject, "anon@%s",
             c->req->client_ip ? c->req->client_ip : "");
    return limit(c, &anon, rc);
}

/* read_body parses the body as f->body says: 0 with *body set (NULL for
 * FAMILY_BODY_NONE), or the outcome to answer. */
static int read_body(const family_call *c, json_t **body)
{
    *body = NULL;
    if (c->f->body == FAMILY_BODY_NONE)
        return 0;
    const char *why = "";
    int rc = request_json_object(c->req, c->f->body == FAMILY_BODY_OBJECT_EMPTY, body, &why);
    if (rc == RK_EINVAL)
        return strcmp(why, REQUEST_NOT_OBJECT) == 0 ? OUTCOME_NOT_OBJECT : OUTCOME_BAD_JSON;
    return rc ? OUTCOME_INTERNAL : 0;
}

/* mint mints and audits d for the caller and renders; a seat taken for a
 * token that is not handed out is given back (issuance_mint keeps it for
 * a token that is). */
static int mint(family_call *c, const decision *d)
{
    const char *tok = NULL;
    size_t tok_len = 0;
    mint_info info = {0};
    int rc = issuance_mint(c->api, &c->who, d, c->req, &tok, &tok_len, &info);
    if (rc)
        policy_seat_give_back(c->api->st, d->room.name, d->seat, c->who.subject,
                              rc == RK_ELIMITED ? "rate_limited" : "not_issued", clock_now());
    if (rc == RK_ELIMITED)
        return RK_OK;
    if (rc == RK_ENOTFOUND)
        return pipeline_answer(c, OUTCOME_NOT_CONFIGURED, NULL);
    family_token t = {.tok = tok, .len = tok_len};
    if (rc == RK_OK)
        rc = clock_iso8601(info.exp, t.expires_at, sizeof t.expires_at);
    if (rc == RK_OK && (rc = c->f->render(c, d, &t)) == RK_OK)
        return RK_OK;
    return pipeline_answer(c, OUTCOME_INTERNAL, NULL);
}

/* live_ban adapts live_banned to policy_ctx.banned. */
static bool live_ban(void *arg, const char *room, const char *identity, int64_t now)
{
    return live_banned(arg, room, identity, now);
}

/* policy_for fills pc with c's snapshot: config, store, room rules, live
 * rooms' bans and the places tokens being issued hold. */
static void policy_for(const family_call *c, policy_ctx *pc)
{
    *pc = (policy_ctx){
        .cfg = c->api->cfg, .st = c->api->st, .rules = c->api->rules, .places = c->api->places};
    if (c->api->live) {
        pc->banned = live_ban;
        pc->banned_arg = c->api->live;
    }
}

verdict pipeline_decide(const family_call *c, const policy_ask *ask, decision *d,
                        verdict_detail *why)
{
    policy_ctx pc;
    policy_for(c, &pc);
    pc.places = NULL; /* a look issues nothing: it takes no place */
    return policy_decide(&pc, &c->who, ask, d, why);
}

/* issue takes a read request from the configured check to the answer. */
static int issue(family_call *c, const policy_ask *ask)
{
    int out = pipeline_configured(c);
    if (out)
        return pipeline_answer(c, out, NULL);
    policy_ctx pc;
    policy_for(c, &pc);
    decision d;
    verdict_detail why;
    verdict v = policy_decide(&pc, &c->who, ask, &d, &why);
    if (v == VERDICT_OK &&
        (v = policy_seat_take(&pc, &c->who, &d, clock_now(), &why)) == VERDICT_SEAT_TAKEN) {
        char seat[24];
        snprintf(seat, sizeof seat, "%" PRId64, why.seat);
        log_event("info", "seat_taken", "room", d.room.name, "seat", seat, "subject",
                  c->who.subject, NULL);
    }
    if (v && d.place) /* no token: the place policy took is free again */
        admission_release(pc.places, d.room.name, d.identity);
    if (v)
        return pipeline_answer(c, v, &why);
    if (c->anonymous) /* audited as who it is: its own "anon:..." identity */
        snprintf(c->who.subject, sizeof c->who.subject, "%s", d.identity);
    return mint(c, &d);
}

int pipeline_run(const family *f, void *ctx, const http_req *req, http_resp *resp)
{
    family_call c = {.f = f, .api = ctx, .req = req, .resp = resp};
    int rc = RK_OK;
    int out = pipeline_authenticate(&c);
    if (out)
        return pipeline_answer(&c, out, NULL);
    if (!(c.anonymous ? limit_anonymous(&c, &rc) : limit(&c, &c.who, &rc)))
        return rc;
    json_t *body = NULL;
    if ((out = read_body(&c, &body)))
        return pipeline_answer(&c, out, NULL);
    c.state = f->state_size ? calloc(1, f->state_size) : NULL;
    policy_ask ask = {0};
    if (f->state_size && !c.state)
        rc = RK_ENOMEM;
    else if (f->read(&c, body, &ask))
        rc = issue(&c, &ask);
    free(c.state);
    json_decref(body);
    return rc;
}
