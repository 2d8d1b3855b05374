/* meetings.c - seed 004: meeting tokens, details and status by meeting id. */
#include "meetings.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "../util/log.h"
#include "request.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const meeting_statuses[] = {"PENDING",   "SCHEDULED", "PROCESSING",
                                        "COMPLETED", "CANCELED",  NULL};

bool meeting_id_valid(const char *id)
{
    size_t n = strnlen(id, STORE_MAX_MEETING_ID + 1);
    if (n == 0 || n > STORE_MAX_MEETING_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool meeting_status_valid(const char *status)
{
    for (size_t i = 0; meeting_statuses[i]; i++)
        if (strcmp(status, meeting_statuses[i]) == 0)
            return true;
    return false;
}

void meeting_status_list(char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; meeting_statuses[i] && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", meeting_statuses[i]);
}

int meeting_room_name(const char *id, char *out, size_t cap)
{
    if (!meeting_id_valid(id))
        return RK_EINVAL;
    int n = snprintf(out, cap, MEETING_ROOM_PREFIX "%s", id);
    return n > 0 && (size_t)n < cap ? RK_OK : RK_ETOOBIG;
}

void api_meetings_error(http_resp *resp, int status, const char *message)
{
    char buf[1024];
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "success");
    jsonw_bool(&w, false);
    JSONW_KEY(&w, "message");
    jsonw_str(&w, message);
    jsonw_obj_close(&w);
    if (w.err)
        http_resp_json(resp, status, "{\"success\":false,\"message\":\"error\"}", 35);
    else
        http_resp_json(resp, status, buf, w.len);
}

/* write_meeting writes "meeting": {meeting_id, heading, description,
 * status} (the token response's object); full adds user_id (the creator),
 * created_at and updated_at. */
static void write_meeting(jsonw *w, const store_meeting *m, bool full)
{
    JSONW_KEY(w, "meeting");
    jsonw_obj_open(w);
    JSONW_KEY(w, "meeting_id");
    jsonw_str(w, m->id);
    JSONW_KEY(w, "heading");
    jsonw_str(w, m->heading);
    JSONW_KEY(w, "description");
    jsonw_str(w, m->description);
    JSONW_KEY(w, "status");
    jsonw_str(w, m->status);
    if (full) {
        char created[CLOCK_ISO_LEN] = "", updated[CLOCK_ISO_LEN] = "";
        clock_iso8601(m->created_at, created, sizeof created);
        clock_iso8601(m->updated_at, updated, sizeof updated);
        JSONW_KEY(w, "user_id");
        jsonw_str(w, m->creator);
        JSONW_KEY(w, "created_at");
        jsonw_str(w, created);
        JSONW_KEY(w, "updated_at");
        jsonw_str(w, updated);
    }
    jsonw_obj_close(w);
}

/* A success answer: {"success": true, then either the token fields or a
 * message, then "meeting"}. */
typedef struct answer {
    const char *message; /* NULL = none */
    const char *token;   /* NULL = not a token answer */
    size_t token_len;
    const char *room;
    const char *server_url;
    const store_meeting *meeting;
    bool full; /* the meeting with creator and times */
} answer;

static void respond(const answer *a, http_resp *resp)
{
    size_t cap = a->token_len + 6 * (sizeof *a->meeting + STORE_MAX_NAME) + 512 +
                 (a->server_url ? 6 * strlen(a->server_url) : 0);
    char *out = malloc(cap);
    jsonw w;
    if (out) {
        jsonw_init(&w, out, cap);
        jsonw_obj_open(&w);
        JSONW_KEY(&w, "success");
        jsonw_bool(&w, true);
        if (a->message) {
            JSONW_KEY(&w, "message");
            jsonw_str(&w, a->message);
        }
        if (a->token) {
            JSONW_KEY(&w, "token");
            jsonw_strn(&w, a->token, a->token_len);
            JSONW_KEY(&w, "roomName");
            jsonw_str(&w, a->room);
            JSONW_KEY(&w, "serverUrl");
            jsonw_str(&w, a->server_url);
        }
        write_meeting(&w, a->meeting, a->full);
        jsonw_obj_close(&w);
    }
    if (!out || w.err) {
        free(out);
        api_meetings_error(resp, 500, "Internal server error");
        return;
    }
    resp->status = 200;
    resp->body = out;
    resp->body_len = w.len;
}

/* load authenticates the caller (session JWT or API key) and reads the
 * meeting named by the path into *m; renders 401/400/404/500 and returns
 * false when it can't. */
static bool load(const api_ctx *api, const http_req *req, http_resp *resp, caller *who,
                 store_meeting *m)
{
    auth_fail fail;
    if (authn_caller(api->auth, http_req_header(req, "Authorization"),
                     http_req_header(req, "X-API-Key"), clock_now(), who, &fail) != RK_OK) {
        request_log_auth_failure(req, fail);
        api_meetings_error(resp, 401, "Authentication required");
        return false;
    }
    http_req_set_subject(req, who->subject);
    const char *id = http_req_param(req, "meeting_id");
    if (!id || !meeting_id_valid(id)) {
        api_meetings_error(resp, 400, "Invalid meeting ID");
        return false;
    }
    int rc = store_meeting_get(api->st, id, m);
    if (rc == RK_ENOTFOUND)
        api_meetings_error(resp, 404, "Meeting not found");
    else if (rc)
        api_meetings_error(resp, 500, "Internal server error");
    return rc == RK_OK;
}

/* participates reports whether who is m's creator or one of its
 * participants (a member of its room); an API key with mint_any, which the
 * policy lets into any room, counts as one too. */
static int participates(const api_ctx *api, const caller *who, const store_meeting *m, bool *yes)
{
    store_member mem;
    *yes =
        who->is_api_key ? (who->perms & PERM_MINT_ANY) != 0 : strcmp(who->subject, m->creator) == 0;
    if (*yes)
        return RK_OK;
    int rc = store_member_get(api->st, m->room, who->subject, &mem);
    *yes = rc == RK_OK;
    return rc == RK_ENOTFOUND ? RK_OK : rc;
}

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    store_meeting m;
    if (!load(api, req, resp, &who, &m))
        return RK_OK;
    if (!issuance_configured(api) || !api->cfg->livekit_url[0]) {
        api_meetings_error(resp, 500, "LiveKit is not configured");
        return RK_OK;
    }
    /* An ended meeting gets no tokens (its status moves on room_finished,
     * or by its creator). */
    if (strcmp(m.status, "COMPLETED") == 0 || strcmp(m.status, "CANCELED") == 0) {
        api_meetings_error(resp, 409,
                           strcmp(m.status, "COMPLETED") == 0 ? "This meeting has ended"
                                                              : "This meeting was canceled");
        return RK_OK;
    }
    /* The room is members-only: the policy lets in exactly the creator (a
     * member since creation) and the participants, with their roles. */
    policy_ask ask = {.room = m.room};
    decision d;
    const char *why = "";
    int rc = issuance_decide(api, &who, &ask, &d, &why);
    if (rc == RK_EFULL) {
        api_meetings_error(resp, 403, "This meeting is full");
        return RK_OK;
    }
    if (rc == RK_EDENIED) {
        api_meetings_error(resp, 403, "You don't have permission to join this meeting");
        return RK_OK;
    }
    if (rc == RK_ENOTFOUND) {
        api_meetings_error(resp, 404, "Meeting not found");
        return RK_OK;
    }
    const char *tok = NULL;
    size_t tok_len = 0;
    mint_info info;
    if (rc == RK_OK)
        rc = issuance_mint(api, &who, &d, req, &tok, &tok_len, &info);
    if (rc) {
        api_meetings_error(resp, 500, "Failed to generate meeting token.");
        return RK_OK;
    }
    answer a = {.token = tok,
                .token_len = tok_len,
                .room = d.room.name,
                .server_url = api->cfg->livekit_url,
                .meeting = &m};
    respond(&a, resp);
    return RK_OK;
}

static int get_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    store_meeting m;
    if (!load(api, req, resp, &who, &m))
        return RK_OK;
    bool ok = false;
    if (participates(api, &who, &m, &ok) != RK_OK)
        api_meetings_error(resp, 500, "Internal server error");
    else if (!ok)
        api_meetings_error(resp, 403, "You don't have access to this meeting");
    else
        respond(&(answer){.meeting = &m, .full = true}, resp);
    return RK_OK;
}

/* status_of reads {"status": ...} from the body: NULL with the reason in
 * msg (capacity cap) when it is missing or not one of meeting_statuses.
 * The result is borrowed from body. */
static const char *status_of(json_t *body, char *msg, size_t cap)
{
    json_t *v = json_object_get(body, "status");
    if (!json_is_object(body)) {
        snprintf(msg, cap, "Request body must be a JSON object");
        return NULL;
    }
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        snprintf(msg, cap, "status is required");
        return NULL;
    }
    if (json_is_string(v) && meeting_status_valid(json_string_value(v)))
        return json_string_value(v);
    char list[96];
    meeting_status_list(list, sizeof list);
    snprintf(msg, cap, "Invalid status. Must be one of: %s", list);
    return NULL;
}

static int status_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    store_meeting m;
    if (!load(api, req, resp, &who, &m))
        return RK_OK;
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    char msg[160];
    const char *status = status_of(body, msg, sizeof msg);
    if (!status) {
        api_meetings_error(resp, 400, msg);
    } else if (who.is_api_key || strcmp(who.subject, m.creator) != 0) {
        api_meetings_error(resp, 403, "Only the meeting creator can update its status");
    } else {
        int rc = store_meeting_set_status(api->st, m.id, status);
        if (rc == RK_OK)
            rc = store_meeting_get(api->st, m.id, &m);
        if (rc == RK_ENOTFOUND) {
            api_meetings_error(resp, 404, "Meeting not found");
        } else if (rc) {
            api_meetings_error(resp, 500, "Internal server error");
        } else {
            log_event("info", "meeting_status", "route", req->route, "meeting", m.id, "status",
                      m.status, "subject", who.subject, NULL);
            answer a = {
                .message = "Meeting status updated successfully", .meeting = &m, .full = true};
            respond(&a, resp);
        }
    }
    json_decref(body);
    return RK_OK;
}

int api_meetings_register(http_server *s, api_ctx *api)
{
    const http_route routes[] = {
        {"GET", "/api/v1/meeting/token/{meeting_id}", "meetings.token", token_handler, api, false,
         api_meetings_error},
        {"GET", "/api/v1/meeting/get/{meeting_id}", "meetings.get", get_handler, api, false,
         api_meetings_error},
        {"PUT", "/api/v1/meeting/status/{meeting_id}", "meetings.status", status_handler, api, true,
         api_meetings_error},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = http_server_add(s, &routes[i]);
        if (rc)
            return rc;
    }
    return RK_OK;
}
