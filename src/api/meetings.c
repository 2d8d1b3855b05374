/* meetings.c - the meetings contract: meeting tokens, details and status by meeting id. */
#include "meetings.h"
#include "families.h"
#include "live.h"
#include "pipeline.h"
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
    static const request_error_shape shape = {.success_false = true,
                                              .message_key = "message",
                                              .cap = 1024,
                                              .fallback =
                                                  "{\"success\":false,\"message\":\"error\"}"};
    request_error(resp, &shape, status, message);
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
    request_reply_adopt(resp, 200, out, w.len);
}

/* load_meeting reads the meeting named by the path into *m; renders
 * 400/404/500 and returns false when it can't. */
static bool load_meeting(family_call *c, store_meeting *m)
{
    const char *id = http_req_param(c->req, "meeting_id");
    if (!id || !meeting_id_valid(id)) {
        family_fail(c, 400, "Invalid meeting ID");
        return false;
    }
    int rc = store_meeting_get(c->api->st, id, m);
    if (rc == RK_ENOTFOUND)
        family_fail(c, 404, "Meeting not found");
    else if (rc)
        family_fail(c, 500, "Internal server error");
    return rc == RK_OK;
}

/* load authenticates the caller (session JWT or API key) into c and reads
 * the meeting; false when it has answered. */
static bool load(family_call *c, store_meeting *m)
{
    int out = pipeline_authenticate(c);
    if (out) {
        pipeline_answer(c, out, NULL);
        return false;
    }
    return load_meeting(c, m);
}

/* read_request: the meeting's room, whose members-only rule lets in
 * exactly the creator (a member since creation) and the participants. */
static bool read_request(family_call *c, json_t *body, policy_ask *ask)
{
    (void)body;
    store_meeting *m = c->state;
    if (!load_meeting(c, m))
        return false;
    /* An ended meeting gets no tokens (its status moves on room_finished,
     * or by its creator). */
    if (strcmp(m->status, "COMPLETED") == 0 || strcmp(m->status, "CANCELED") == 0) {
        family_fail(c, 409,
                    strcmp(m->status, "COMPLETED") == 0 ? "This meeting has ended"
                                                        : "This meeting was canceled");
        return false;
    }
    *ask = (policy_ask){.room = m->room};
    c->room_shown = m->id;
    return true;
}

static int render_token(family_call *c, const decision *d, const family_token *t)
{
    answer a = {.token = t->tok,
                .token_len = t->len,
                .room = d->room.name,
                .server_url = c->api->cfg->livekit_url,
                .meeting = c->state};
    respond(&a, c->resp);
    return RK_OK;
}

static int token_handler(void *ctx, const http_req *req, http_resp *resp)
{
    return pipeline_run(&family_meetings, ctx, req, resp);
}

/* call starts a non-token request of this family. */
static family_call call(void *ctx, const http_req *req, http_resp *resp)
{
    return (family_call){.f = &family_meetings, .api = ctx, .req = req, .resp = resp};
}

static int get_handler(void *ctx, const http_req *req, http_resp *resp)
{
    family_call c = call(ctx, req, resp);
    store_meeting m;
    if (!load(&c, &m))
        return RK_OK;
    policy_ctx pc = {.cfg = c.api->cfg, .st = c.api->st, .rules = c.api->rules};
    bool ok = false;
    if (policy_participant(&pc, &c.who, m.room, m.creator, &ok) != RK_OK)
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
    family_call c = call(ctx, req, resp);
    const api_ctx *api = c.api;
    const caller *who = &c.who;
    store_meeting m;
    if (!load(&c, &m))
        return RK_OK;
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    char msg[160];
    const char *status = status_of(body, msg, sizeof msg);
    if (!status) {
        api_meetings_error(resp, 400, msg);
    } else if (who->is_api_key || strcmp(who->subject, m.creator) != 0) {
        api_meetings_error(resp, 403, "Only the meeting creator can update its status");
    } else {
        int rc = store_meeting_set_status(api->st, m.id, status);
        if (rc == RK_OK)
            rc = store_meeting_get(api->st, m.id, &m);
        if (rc == RK_OK)
            live_recorded(api->live, live_meeting_changed(api->st, m.room, clock_now()), m.room,
                          NULL);
        if (rc == RK_ENOTFOUND) {
            api_meetings_error(resp, 404, "Meeting not found");
        } else if (rc) {
            api_meetings_error(resp, 500, "Internal server error");
        } else {
            log_event("info", "meeting_status", "route", req->route, "meeting", m.id, "status",
                      m.status, "subject", who->subject, NULL);
            answer a = {
                .message = "Meeting status updated successfully", .meeting = &m, .full = true};
            respond(&a, resp);
        }
    }
    json_decref(body);
    return RK_OK;
}

const family family_meetings = {
    .name = "meetings",
    .routes =
        {
            FAMILY_ROUTE("GET", "/api/v1/meeting/token/{meeting_id}", "meetings.token",
                         token_handler),
            FAMILY_ROUTE("GET", "/api/v1/meeting/get/{meeting_id}", "meetings.get", get_handler),
            FAMILY_ROUTE_JSON("PUT", "/api/v1/meeting/status/{meeting_id}", "meetings.status",
                              status_handler),
        },
    .auth = FAMILY_AUTH_CALLER,
    .body = FAMILY_BODY_NONE,
    .needs_url = true,
    .asks_room_only = true,
    .state_size = sizeof(store_meeting),
    FAMILY_READ_RENDER(read_request, render_token, NULL, api_meetings_error),
    .answers =
        {
            FAMILY_CORE_ANSWERS("Authentication required", "LiveKit is not configured",
                                "Failed to generate meeting token."),
            [VERDICT_ROOM_NOT_FOUND] = {.status = 404, .message = "Meeting not found"},
            [VERDICT_ROOM_FULL] = {.status = 403, .message = "This meeting is full"},
            /* read_request answers an ended or canceled meeting first, with
             * its own message; this is the meeting that ended meanwhile */
            [VERDICT_ROOM_CLOSED] = {.status = 409, .message = "This meeting has ended"},
        },
    .refused = {.status = 403, .message = "You don't have permission to join this meeting"},
};
