/* token_source.c - LiveKit's standard POST /api/livekit/token-source (see
 * token_source.h). */
#include "token_source.h"
#include "../config/section.h"
#include "families.h"
#include "pipeline.h"
#include "../token/grants.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "request.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_MAX_STR 256 /* room_name, participant_identity, participant_name, agent_name */

/* Twirp's error codes by status. */
static const request_status_text twirp_codes[] = {
    {400, "invalid_argument"}, {413, "invalid_argument"},
    {401, "unauthenticated"},  {403, "permission_denied"},
    {404, "not_found"},        {405, "bad_route"},
    {415, "bad_route"},        {429, "resource_exhausted"},
    {503, "unavailable"},      {0, "internal"},
};

void api_token_source_error(http_resp *resp, int status, const char *message)
{
    static const request_error_shape shape = {
        .code_key = "code",
        .codes = twirp_codes,
        .message_key = "msg",
        .cap = 2048,
        .fallback_status = 500,
        .fallback = "{\"code\":\"internal\",\"msg\":\"internal error\"}"};
    request_error(resp, &shape, status, message);
}

/* ---- the request -------------------------------------------------------- */

/* TokenSourceRequest, checked. Strings are borrowed from the JSON body. */
typedef struct ts_body {
    const char *room;
    const char *identity; /* NULL = the caller's subject */
    const char *name;     /* NULL = the session's name */
    const char *metadata; /* NULL = none */
    lk_attr attrs[GRANTS_MAX_ATTR_COUNT];
    size_t n_attrs;
    lk_agent_dispatch agents[GRANTS_MAX_AGENTS];
    size_t n_agents;
    lk_attr agent_attrs[GRANTS_MAX_ATTR_COUNT]; /* every agent's attributes, in order */
    size_t n_agent_attrs;
    const char *config_name; /* room_config.name; NULL = not given */
    int status;              /* 0 while valid; else the 4xx to answer */
    char msg[256];           /* why, when status is set */
} ts_body;

/* bad records the first problem found (status 400 or 403) in b. */
__attribute__((format(printf, 3, 4))) static bool bad(ts_body *b, int status, const char *fmt, ...)
{
    if (b->status)
        return false;
    b->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->msg, sizeof b->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* shown returns key when it is safe to echo in a message (short, plain). */
static const char *shown(const char *key)
{
    size_t n = strlen(key);
    bool plain = n > 0 && n <= 64;
    for (size_t i = 0; plain && i < n; i++)
        plain = (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
                (key[i] >= '0' && key[i] <= '9') || key[i] == '_' || key[i] == '.';
    return plain ? key : "(unnamed)";
}

/* is_default reports whether v is protobuf JSON's default value (or null),
 * i.e. sets nothing. */
static bool is_default(json_t *v)
{
    return json_is_null(v) || json_is_false(v) || (json_is_integer(v) && !json_integer_value(v)) ||
           (json_is_real(v) && json_real_value(v) == 0.0) ||
           (json_is_string(v) && !json_string_length(v)) ||
           (json_is_object(v) && !json_object_size(v)) || (json_is_array(v) && !json_array_size(v));
}

/* get_str reads an optional string field of at most max bytes into *out
 * ("" and null leave it NULL). */
static bool get_str(ts_body *b, const char *field, json_t *v, size_t max, const char **out)
{
    if (json_is_null(v))
        return true;
    if (!json_is_string(v))
        return bad(b, 400, "%s must be a string", field);
    if (json_string_length(v) > max)
        return bad(b, 400, "%s is longer than %zu bytes", field, max);
    if (json_string_length(v))
        *out = json_string_value(v);
    return true;
}

/* get_string_map reads field, an optional object of strings of at most
 * max_bytes (keys and values) and cap entries, into out[0...]; *n grows by
 * the number of entries. */
static bool get_string_map(ts_body *b, const char *field, json_t *v, size_t max_bytes, lk_attr *out,
                           size_t cap, size_t *n)
{
    if (json_is_null(v))
        return true;
    if (!json_is_object(v))
        return bad(b, 400, "%s must be an object of strings", field);
    if (json_object_size(v) > cap)
        return bad(b, 400, "%s has more than %zu entries", field, cap);
    size_t total = 0, count = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (!json_is_string(val))
            return bad(b, 400, "%s values must be strings", field);
        if (!k[0])
            return bad(b, 400, "%s keys must not be empty", field);
        total += strlen(k) + json_string_length(val);
        if (total > max_bytes)
            return bad(b, 400, "%s is longer than %zu bytes", field, max_bytes);
        out[count++] = (lk_attr){k, json_string_value(val)};
    }
    *n += count;
    return true;
}

/* get_agent_attributes reads agent a's attributes into b's shared pool. */
static bool get_agent_attributes(ts_body *b, lk_agent_dispatch *a, json_t *v, size_t max_bytes)
{
    size_t start = b->n_agent_attrs;
    if (!get_string_map(b, "room_config.agents.attributes", v, max_bytes, b->agent_attrs + start,
                        GRANTS_MAX_ATTR_COUNT - start, &b->n_agent_attrs))
        return false;
    a->attrs = b->agent_attrs + start;
    a->n_attrs = b->n_agent_attrs - start;
    return true;
}

/* get_agent reads one RoomAgentDispatch of room_config.agents. */
static bool get_agent(ts_body *b, size_t i, json_t *v, const token_source_settings *lim)
{
    size_t max_metadata = lim->max_metadata;
    if (!json_is_object(v))
        return bad(b, 400, "room_config.agents[%zu] must be an object", i);
    lk_agent_dispatch *a = &b->agents[i];
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (strcmp(k, "agent_name") == 0) {
            if (!get_str(b, "room_config.agents.agent_name", val, TS_MAX_STR, &a->agent_name))
                return false;
        } else if (strcmp(k, "metadata") == 0) {
            if (!get_str(b, "room_config.agents.metadata", val,
                         max_metadata < GRANTS_MAX_AGENT_META ? max_metadata
                                                              : GRANTS_MAX_AGENT_META,
                         &a->metadata))
                return false;
        } else if (strcmp(k, "deployment") == 0) { /* TokenSource.endpoint's `deployment` */
            if (!get_str(b, "room_config.agents.deployment", val, TS_MAX_STR, &a->deployment))
                return false;
        } else if (strcmp(k, "attributes") == 0) {
            if (!get_agent_attributes(b, a, val, lim->max_attributes))
                return false;
        } else if (strcmp(k, "restart_policy") == 0) {
            if (!is_default(val))
                return bad(b, 400, "room_config.agents[%zu].%s is not supported by RoomKey", i, k);
        } else {
            return bad(b, 400, "room_config.agents[%zu]: unknown field %s", i, shown(k));
        }
    }
    if (!a->agent_name)
        return bad(b, 400, "room_config.agents[%zu].agent_name is required", i);
    return true;
}

/* RoomConfiguration fields that would shape the room itself: no role may
 * set them through a join token here. */
static const char *const ROOM_FIELDS[] = {
    "empty_timeout",     "departure_timeout", "max_participants", "metadata", "egress",
    "min_playout_delay", "max_playout_delay", "sync_streams",     "tags",
};

static bool get_room_config(ts_body *b, json_t *v, const token_source_settings *lim)
{
    if (json_is_null(v))
        return true;
    if (!json_is_object(v))
        return bad(b, 400, "room_config must be an object");
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        size_t i = 0;
        while (i < sizeof ROOM_FIELDS / sizeof ROOM_FIELDS[0] && strcmp(k, ROOM_FIELDS[i]) != 0)
            i++;
        if (i < sizeof ROOM_FIELDS / sizeof ROOM_FIELDS[0]) {
            if (!is_default(val))
                return bad(b, 403,
                           "room_config.%s may not be requested: rooms are configured "
                           "by RoomKey's policy, not by join tokens",
                           k);
        } else if (strcmp(k, "name") == 0) {
            if (!get_str(b, "room_config.name", val, TS_MAX_STR, &b->config_name))
                return false;
        } else if (strcmp(k, "agents") == 0) {
            if (json_is_null(val))
                continue;
            if (!json_is_array(val))
                return bad(b, 400, "room_config.agents must be a list");
            if (json_array_size(val) > GRANTS_MAX_AGENTS)
                return bad(b, 400, "room_config.agents has more than %d entries",
                           GRANTS_MAX_AGENTS);
            size_t j;
            json_t *agent;
            json_array_foreach(val, j, agent)
            {
                if (!get_agent(b, j, agent, lim))
                    return false;
            }
            b->n_agents = json_array_size(val);
        } else {
            return bad(b, 400, "room_config: unknown field %s", shown(k));
        }
    }
    return true;
}

/* parse_body checks body into b (b->status set on the first problem). */
static void parse_body(json_t *body, const token_source_settings *lim, ts_body *b)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        bool ok;
        if (strcmp(k, "room_name") == 0)
            ok = get_str(b, k, v, TS_MAX_STR, &b->room);
        else if (strcmp(k, "participant_identity") == 0)
            ok = get_str(b, k, v, TS_MAX_STR, &b->identity);
        else if (strcmp(k, "participant_name") == 0)
            ok = get_str(b, k, v, TS_MAX_STR, &b->name);
        else if (strcmp(k, "participant_metadata") == 0)
            ok = get_str(b, k, v, lim->max_metadata, &b->metadata);
        else if (strcmp(k, "participant_attributes") == 0)
            ok = get_string_map(b, k, v, lim->max_attributes, b->attrs, GRANTS_MAX_ATTR_COUNT,
                                &b->n_attrs);
        else if (strcmp(k, "room_config") == 0)
            ok = get_room_config(b, v, lim);
        else
            ok = bad(b, 400, "unknown field %s (fields are TokenSourceRequest's, in snake_case)",
                     shown(k));
        if (!ok)
            return;
    }
    if (!b->room)
        bad(b, 400, "room_name is required: RoomKey mints tokens only for rooms it knows");
}

/* ---- the family ------------------------------------------------------- */

/* render_token writes the 201 body {"server_url", "participant_token"}. */
static int render_token(family_call *c, const decision *d, const family_token *t)
{
    (void)d;
    const request_field f[] = {{"server_url", c->api->cfg->livekit_url, 0},
                               {"participant_token", t->tok, t->len}};
    return request_reply_fields(c->resp, 201, f, 2);
}

/* read_request checks the TokenSourceRequest into ask. */
static bool read_request(family_call *c, json_t *body, policy_ask *ask)
{
    ts_body *b = c->state;
    parse_body(body, config_ext(c->api->cfg, &token_source_section), b);
    if (b->status) {
        family_fail(c, b->status, b->msg);
        return false;
    }
    *ask = (policy_ask){.room = b->room,
                        .identity = b->identity,
                        .name = b->name,
                        .metadata = b->metadata,
                        .attrs = b->attrs,
                        .n_attrs = b->n_attrs,
                        .agents = b->agents,
                        .n_agents = b->n_agents,
                        .room_config_name = b->config_name};
    c->room_shown = b->room;
    return true;
}

static int token_source_handler(void *ctx, const http_req *req, http_resp *resp)
{
    return pipeline_run(&family_token_source, ctx, req, resp);
}

/* parse_token_source reads `token_source:` (the standard endpoint's limits). */
static int parse_token_source(config_loader *ld, const ynode *n)
{
    enum { META, ATTRS, NF };
    static const char *const names[NF] = {"max_metadata", "max_attributes"};
    const ynode *v[NF];
    token_source_settings *ts = config_ext_mut(ld->cfg, &token_source_section);
    char p[YAML_PATH_CAP];
    int64_t x = 0;
    int rc = yaml_map_fields(&ld->y, n, "token_source", names, NF, v);
    if (rc)
        return rc;
    if (v[META]) {
        if ((rc = yaml_get_int(&ld->y, v[META], yaml_sub(p, "token_source", "max_metadata"), 0,
                               65536, &x)))
            return rc;
        ts->max_metadata = (size_t)x;
    }
    if (v[ATTRS]) {
        if ((rc = yaml_get_int(&ld->y, v[ATTRS], yaml_sub(p, "token_source", "max_attributes"), 0,
                               65536, &x)))
            return rc;
        ts->max_attributes = (size_t)x;
    }
    return RK_OK;
}

static void token_source_defaults(config *cfg)
{
    token_source_settings *ts = config_ext_mut(cfg, &token_source_section);
    ts->max_metadata = 4096;
    ts->max_attributes = 4096;
}

const config_section token_source_section = {.key = "token_source",
                                             .size = sizeof(token_source_settings),
                                             .defaults = token_source_defaults,
                                             .parse = parse_token_source};

const family family_token_source = {
    .name = "token_source",
    .section = &token_source_section,
    .routes = {FAMILY_ROUTE_JSON("POST", "/api/livekit/token-source", "token_source.token",
                                 token_source_handler)},
    .auth = FAMILY_AUTH_CALLER,
    .body = FAMILY_BODY_OBJECT_EMPTY,
    .needs_url = true,
    .state_size = sizeof(ts_body),
    FAMILY_READ_RENDER(read_request, render_token, NULL, api_token_source_error),
    .answers =
        {
            FAMILY_CORE_ANSWERS("unauthenticated: a session or API key is required",
                                "LiveKit is not configured (LIVEKIT_API_KEY, LIVEKIT_API_SECRET "
                                "and LIVEKIT_URL are required)",
                                "internal error"),
            [VERDICT_ROOM_NOT_FOUND] = {.status = 404, .message = "room not found"},
            [VERDICT_IDENTITY_NOT_CALLER] =
                {.status = 403, .message = "participant_identity must be the authenticated caller"},
            [VERDICT_ROOM_CONFIG_NAME] = {.status = 400, .message = "{why}"},
            [VERDICT_ROOM_FULL] = {.status = 403, .message = "room is full"},
            [VERDICT_ROOM_CLOSED] = {.status = 403, .message = "room is closed"},
        },
    .refused = {.status = 403, .message = "not allowed: {why}"},
};
