/* token_source.c - LiveKit's standard POST /api/livekit/token-source (see
 * token_source.h). */
#include "token_source.h"
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

static const char *twirp_code(int status)
{
    switch (status) {
    case 400:
    case 413:
        return "invalid_argument";
    case 401:
        return "unauthenticated";
    case 403:
        return "permission_denied";
    case 404:
        return "not_found";
    case 405:
    case 415:
        return "bad_route";
    case 429:
        return "resource_exhausted";
    case 503:
        return "unavailable";
    default:
        return "internal";
    }
}

void api_token_source_error(http_resp *resp, int status, const char *message)
{
    char buf[2048];
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "code");
    jsonw_str(&w, twirp_code(status));
    JSONW_KEY(&w, "msg");
    jsonw_str(&w, message);
    jsonw_obj_close(&w);
    if (w.err) {
        static const char fallback[] = "{\"code\":\"internal\",\"msg\":\"internal error\"}";
        http_resp_json(resp, 500, fallback, sizeof fallback - 1);
    } else {
        http_resp_json(resp, status, buf, w.len);
    }
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

static bool get_attributes(ts_body *b, json_t *v, size_t max_bytes)
{
    if (json_is_null(v))
        return true;
    if (!json_is_object(v))
        return bad(b, 400, "participant_attributes must be an object of strings");
    if (json_object_size(v) > GRANTS_MAX_ATTR_COUNT)
        return bad(b, 400, "participant_attributes has more than %d entries",
                   GRANTS_MAX_ATTR_COUNT);
    size_t total = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (!json_is_string(val))
            return bad(b, 400, "participant_attributes values must be strings");
        if (!k[0])
            return bad(b, 400, "participant_attributes keys must not be empty");
        total += strlen(k) + json_string_length(val);
        if (total > max_bytes)
            return bad(b, 400, "participant_attributes is longer than %zu bytes", max_bytes);
        b->attrs[b->n_attrs++] = (lk_attr){k, json_string_value(val)};
    }
    return true;
}

/* get_agent reads one RoomAgentDispatch of room_config.agents. */
static bool get_agent(ts_body *b, size_t i, json_t *v, size_t max_metadata)
{
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
        } else if (strcmp(k, "deployment") == 0 || strcmp(k, "restart_policy") == 0 ||
                   strcmp(k, "attributes") == 0) {
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

static bool get_room_config(ts_body *b, json_t *v, size_t max_metadata)
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
                if (!get_agent(b, j, agent, max_metadata))
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
static void parse_body(json_t *body, const config_token_source *lim, ts_body *b)
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
            ok = get_attributes(b, v, lim->max_attributes);
        else if (strcmp(k, "room_config") == 0)
            ok = get_room_config(b, v, lim->max_metadata);
        else
            ok = bad(b, 400, "unknown field %s (fields are TokenSourceRequest's, in snake_case)",
                     shown(k));
        if (!ok)
            return;
    }
    if (!b->room)
        bad(b, 400, "room_name is required: RoomKey mints tokens only for rooms it knows");
}

/* ---- minting ------------------------------------------------------------ */

/* respond writes the 201 body {"server_url", "participant_token"}. */
static void respond(const api_ctx *api, http_resp *resp, const char *tok, size_t tok_len)
{
    jsonw w;
    request_reply_open(&w, tok_len + strlen(api->cfg->livekit_url) * 6 + 128);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "server_url");
    jsonw_str(&w, api->cfg->livekit_url);
    JSONW_KEY(&w, "participant_token");
    jsonw_strn(&w, tok, tok_len);
    jsonw_obj_close(&w);
    if (request_reply_take(&w, resp, 201) != RK_OK)
        api_token_source_error(resp, 500, "internal error");
}

/* refuse renders policy's refusal rc for the caller who asked for b. */
static void refuse(http_resp *resp, int rc, const caller *who, const ts_body *b, const char *why)
{
    char msg[200];
    bool mint_any = who->is_api_key && (who->perms & PERM_MINT_ANY);
    if (rc == RK_ENOTFOUND) {
        api_token_source_error(resp, 404, "room not found");
    } else if (rc == RK_EFULL) {
        api_token_source_error(resp, 403, "room is full");
    } else if (rc == RK_EDENIED) {
        if (b->identity && !mint_any && strcmp(b->identity, who->subject) != 0)
            snprintf(msg, sizeof msg, "participant_identity must be the authenticated caller");
        else
            snprintf(msg, sizeof msg, "not allowed: %s", why);
        api_token_source_error(resp, 403, msg);
    } else if (rc == RK_EINVAL) {
        api_token_source_error(resp, 400, why);
    } else {
        api_token_source_error(resp, 500, "internal error");
    }
}

static void mint(const api_ctx *api, const http_req *req, http_resp *resp, const caller *who,
                 const ts_body *b)
{
    if (!issuance_configured(api) || !api->cfg->livekit_url[0]) {
        api_token_source_error(resp, 500,
                               "LiveKit is not configured (LIVEKIT_API_KEY, LIVEKIT_API_SECRET "
                               "and LIVEKIT_URL are required)");
        return;
    }
    policy_ask ask = {.room = b->room,
                      .identity = b->identity,
                      .name = b->name,
                      .metadata = b->metadata,
                      .attrs = b->attrs,
                      .n_attrs = b->n_attrs,
                      .agents = b->agents,
                      .n_agents = b->n_agents};
    decision d;
    const char *why = "";
    int rc = issuance_decide(api, who, &ask, &d, &why);
    if (rc) {
        refuse(resp, rc, who, b, why);
        return;
    }
    if (b->config_name && strcmp(b->config_name, d.room.name) != 0 &&
        strcmp(b->config_name, b->room) != 0) {
        api_token_source_error(resp, 400, "room_config.name must be the room of room_name");
        return;
    }
    const char *tok;
    size_t tok_len;
    mint_info info;
    rc = issuance_mint(api, who, &d, req, &tok, &tok_len, &info);
    if (rc)
        api_token_source_error(resp, 500, "internal error");
    else
        respond(api, resp, tok, tok_len);
}

static int token_source_handler(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    caller who;
    auth_fail fail;
    if (request_authenticate(api, req, false, &who, &fail) != RK_OK) {
        api_token_source_error(resp, 401, "unauthenticated: a session or API key is required");
        return RK_OK;
    }
    json_t *body;
    const char *why = "";
    if (request_json_object(req, true, &body, &why) != RK_OK) {
        api_token_source_error(resp, 400, why);
        return RK_OK;
    }
    ts_body *b = calloc(1, sizeof *b);
    if (!b) {
        json_decref(body);
        return RK_ENOMEM;
    }
    parse_body(body, &api->cfg->token_source, b);
    if (b->status)
        api_token_source_error(resp, b->status, b->msg);
    else
        mint(api, req, resp, &who, b);
    free(b);
    json_decref(body);
    return RK_OK;
}

int api_token_source_register(http_server *s, api_ctx *api)
{
    const http_route r = {
        "POST", "/api/livekit/token-source", "token_source.token", token_source_handler, api,
        true,   api_token_source_error};
    return http_server_add(s, &r);
}
