/* grants.c - LiveKit claim rules and serialisation. */
#include "grants.h"
#include "../util/err.h"
#include "../util/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The boolean VideoGrant fields, in the order they are written. */
#define VB(name, field)                                                                            \
    {                                                                                              \
        "\"" name "\":", sizeof(name) + 2, offsetof(lk_video_grant, field)                         \
    }
static const struct {
    const char *name;
    size_t name_len;
    size_t off;
} VIDEO_BOOLS[] = {
    VB("roomCreate", room_create),
    VB("roomList", room_list),
    VB("roomRecord", room_record),
    VB("roomAdmin", room_admin),
    VB("roomJoin", room_join),
    VB("ingressAdmin", ingress_admin),
    VB("canPublish", can_publish),
    VB("canSubscribe", can_subscribe),
    VB("canPublishData", can_publish_data),
    VB("canUpdateOwnMetadata", can_update_own_metadata),
    VB("hidden", hidden),
    VB("recorder", recorder),
    VB("agent", agent),
    VB("canSubscribeMetrics", can_subscribe_metrics),
    VB("canManageAgentSession", can_manage_agent_session),
};
#define N_VIDEO_BOOLS (sizeof VIDEO_BOOLS / sizeof VIDEO_BOOLS[0])

static const char *const SOURCES[] = {"camera", "microphone", "screen_share", "screen_share_audio"};

static tri *video_bool(lk_video_grant *v, size_t i)
{
    return (tri *)((char *)v + VIDEO_BOOLS[i].off);
}

static tri video_bool_get(const lk_video_grant *v, size_t i)
{
    return *(const tri *)((const char *)v + VIDEO_BOOLS[i].off);
}

int lk_source_parse(const char *name, unsigned *bit)
{
    for (unsigned i = 0; i < sizeof SOURCES / sizeof SOURCES[0]; i++) {
        if (strcmp(name, SOURCES[i]) == 0) {
            *bit = 1u << i;
            return RK_OK;
        }
    }
    return RK_EINVAL;
}

bool lk_video_grant_any(const lk_video_grant *v)
{
    for (size_t i = 0; i < N_VIDEO_BOOLS; i++)
        if (video_bool_get(v, i) != TRI_UNSET)
            return true;
    return v->room || v->destination_room || v->sources_set;
}

/* check_str validates one optional string and adds its worst-case escaped
 * size (6 bytes per input byte) to *bound. */
static int check_str(const char *s, size_t max, const char *field, size_t *bound, char *why,
                     size_t cap)
{
    if (!s)
        return RK_OK;
    size_t n = strnlen(s, max + 1);
    if (n > max)
        return rk_fail(RK_ETOOBIG, why, cap, "%s is longer than %zu bytes", field, max);
    if (!utf8_valid(s, n))
        return rk_fail(RK_EINVAL, why, cap, "%s is not valid UTF-8", field);
    *bound += 6 * n + 32;
    return RK_OK;
}

int lk_claims_check(const lk_claims *c, size_t *json_bound, char *why, size_t cap)
{
    size_t bound = 1024; /* field names, punctuation, booleans, numbers */
    int rc;
    const lk_video_grant *v = &c->video;
    if ((rc = check_str(c->identity, GRANTS_MAX_IDENTITY, "identity", &bound, why, cap)) ||
        (rc = check_str(c->name, GRANTS_MAX_NAME, "name", &bound, why, cap)) ||
        (rc = check_str(c->metadata, GRANTS_MAX_METADATA, "metadata", &bound, why, cap)) ||
        (rc = check_str(c->kind, GRANTS_MAX_KIND, "kind", &bound, why, cap)) ||
        (rc = check_str(c->room_preset, GRANTS_MAX_ROOM, "roomPreset", &bound, why, cap)) ||
        (rc = check_str(v->room, GRANTS_MAX_ROOM, "room", &bound, why, cap)) ||
        (rc = check_str(v->destination_room, GRANTS_MAX_ROOM, "destinationRoom", &bound, why, cap)))
        return rc;
    if (v->room_join == TRI_TRUE && (!c->identity || !c->identity[0]))
        return rk_fail(RK_EINVAL, why, cap, "identity is required for join");
    if ((v->room_join == TRI_TRUE || v->room_admin == TRI_TRUE) && (!v->room || !v->room[0]))
        return rk_fail(RK_EINVAL, why, cap, "room is required for join and admin grants");
    if (c->identity && c->identity[0] == '\0')
        return rk_fail(RK_EINVAL, why, cap, "identity must not be empty");

    if (c->n_attrs > GRANTS_MAX_ATTR_COUNT)
        return rk_fail(RK_ETOOBIG, why, cap, "more than %d attributes", GRANTS_MAX_ATTR_COUNT);
    size_t attr_total = 0;
    for (size_t i = 0; i < c->n_attrs; i++) {
        const lk_attr *a = &c->attrs[i];
        if (!a->key || !a->value || !a->key[0])
            return rk_fail(RK_EINVAL, why, cap, "attribute %zu has no key or value", i);
        size_t kl = strnlen(a->key, GRANTS_MAX_ATTRS + 1);
        size_t vl = strnlen(a->value, GRANTS_MAX_ATTRS + 1);
        attr_total += kl + vl;
        if (attr_total > GRANTS_MAX_ATTRS)
            return rk_fail(RK_ETOOBIG, why, cap, "attributes exceed %u bytes in total",
                           GRANTS_MAX_ATTRS);
        if (!utf8_valid(a->key, kl) || !utf8_valid(a->value, vl))
            return rk_fail(RK_EINVAL, why, cap, "attribute %zu is not valid UTF-8", i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->attrs[k].key, a->key) == 0)
                return rk_fail(RK_EINVAL, why, cap, "attribute key \"%s\" given twice", a->key);
        bound += 6 * (kl + vl) + 8;
    }

    const lk_room_config *rc_ = c->room_config;
    if (rc_) {
        if ((rc = check_str(rc_->name, GRANTS_MAX_ROOM, "roomConfig.name", &bound, why, cap)) ||
            (rc = check_str(rc_->metadata, GRANTS_MAX_ROOMCFG_MD, "roomConfig.metadata", &bound,
                            why, cap)))
            return rc;
        if (rc_->n_agents > GRANTS_MAX_AGENTS)
            return rk_fail(RK_ETOOBIG, why, cap, "more than %d agents in roomConfig",
                           GRANTS_MAX_AGENTS);
        for (size_t i = 0; i < rc_->n_agents; i++) {
            const lk_agent_dispatch *a = &rc_->agents[i];
            if (!a->agent_name)
                return rk_fail(RK_EINVAL, why, cap, "roomConfig.agents[%zu] has no agentName", i);
            if ((rc = check_str(a->agent_name, GRANTS_MAX_NAME, "roomConfig.agents.agentName",
                                &bound, why, cap)) ||
                (rc = check_str(a->metadata, GRANTS_MAX_AGENT_META, "roomConfig.agents.metadata",
                                &bound, why, cap)))
                return rc;
            bound += 64;
        }
    }
    *json_bound = bound;
    return RK_OK;
}

static void write_video(jsonw *w, const lk_video_grant *v)
{
    JSONW_KEY(w, "video");
    jsonw_obj_open(w);
    for (size_t i = 0; i < N_VIDEO_BOOLS; i++) {
        tri t = video_bool_get(v, i);
        if (t == TRI_UNSET)
            continue;
        jsonw_key_lit(w, VIDEO_BOOLS[i].name, VIDEO_BOOLS[i].name_len);
        jsonw_bool(w, t == TRI_TRUE);
    }
    if (v->room) {
        JSONW_KEY(w, "room");
        jsonw_str(w, v->room);
    }
    if (v->destination_room) {
        JSONW_KEY(w, "destinationRoom");
        jsonw_str(w, v->destination_room);
    }
    if (v->sources_set) {
        JSONW_KEY(w, "canPublishSources");
        jsonw_arr_open(w);
        for (unsigned i = 0; i < sizeof SOURCES / sizeof SOURCES[0]; i++)
            if (v->sources & (1u << i))
                jsonw_str(w, SOURCES[i]);
        jsonw_arr_close(w);
    }
    jsonw_obj_close(w);
}

/* key is a quoted literal field name (see OPT_STR): needs no escaping. */
static void write_opt_str(jsonw *w, const char *key, size_t key_len, const char *val)
{
    if (!val)
        return;
    jsonw_key_lit(w, key, key_len);
    jsonw_str(w, val);
}

static void write_opt_u32(jsonw *w, const char *key, size_t key_len, uint32_t val)
{
    if (!val)
        return;
    jsonw_key_lit(w, key, key_len);
    jsonw_int(w, val);
}

#define OPT_STR(w, lit, val) write_opt_str((w), "\"" lit "\":", sizeof(lit) + 2, (val))
#define OPT_U32(w, lit, val) write_opt_u32((w), "\"" lit "\":", sizeof(lit) + 2, (val))

static void write_room_config(jsonw *w, const lk_room_config *r)
{
    JSONW_KEY(w, "roomConfig");
    jsonw_obj_open(w);
    OPT_STR(w, "name", r->name);
    OPT_U32(w, "emptyTimeout", r->empty_timeout);
    OPT_U32(w, "departureTimeout", r->departure_timeout);
    OPT_U32(w, "maxParticipants", r->max_participants);
    OPT_STR(w, "metadata", r->metadata);
    if (r->n_agents) {
        JSONW_KEY(w, "agents");
        jsonw_arr_open(w);
        for (size_t i = 0; i < r->n_agents; i++) {
            jsonw_obj_open(w);
            OPT_STR(w, "agentName", r->agents[i].agent_name);
            OPT_STR(w, "metadata", r->agents[i].metadata);
            jsonw_obj_close(w);
        }
        jsonw_arr_close(w);
    }
    jsonw_obj_close(w);
}

void lk_claims_write(jsonw *w, const lk_claims *c)
{
    OPT_STR(w, "name", c->name);
    if (lk_video_grant_any(&c->video))
        write_video(w, &c->video);
    if (c->sip_admin != TRI_UNSET || c->sip_call != TRI_UNSET) {
        JSONW_KEY(w, "sip");
        jsonw_obj_open(w);
        if (c->sip_admin != TRI_UNSET) {
            JSONW_KEY(w, "admin");
            jsonw_bool(w, c->sip_admin == TRI_TRUE);
        }
        if (c->sip_call != TRI_UNSET) {
            JSONW_KEY(w, "call");
            jsonw_bool(w, c->sip_call == TRI_TRUE);
        }
        jsonw_obj_close(w);
    }
    OPT_STR(w, "kind", c->kind);
    OPT_STR(w, "metadata", c->metadata);
    if (c->n_attrs) {
        JSONW_KEY(w, "attributes");
        jsonw_obj_open(w);
        for (size_t i = 0; i < c->n_attrs; i++) {
            jsonw_key(w, c->attrs[i].key);
            jsonw_str(w, c->attrs[i].value);
        }
        jsonw_obj_close(w);
    }
    OPT_STR(w, "roomPreset", c->room_preset);
    if (c->room_config)
        write_room_config(w, c->room_config);
}

int lk_video_grant_from_json(const json_t *obj, lk_video_grant *v, char *why, size_t cap)
{
    if (!json_is_object(obj))
        return rk_fail(RK_EINVAL, why, cap, "grant must be a JSON object");
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)obj, k, val)
    {
        size_t i, klen = strlen(k);
        /* VIDEO_BOOLS names are stored quoted with their colon: "name": */
        for (i = 0; i < N_VIDEO_BOOLS; i++)
            if (klen == VIDEO_BOOLS[i].name_len - 3 &&
                memcmp(k, VIDEO_BOOLS[i].name + 1, klen) == 0)
                break;
        if (i < N_VIDEO_BOOLS) {
            if (!json_is_boolean(val))
                return rk_fail(RK_EINVAL, why, cap, "grant field %s must be a boolean", k);
            *video_bool(v, i) = json_is_true(val) ? TRI_TRUE : TRI_FALSE;
        } else if (strcmp(k, "room") == 0 || strcmp(k, "destinationRoom") == 0) {
            if (!json_is_string(val))
                return rk_fail(RK_EINVAL, why, cap, "grant field %s must be a string", k);
            if (k[0] == 'r')
                v->room = json_string_value(val);
            else
                v->destination_room = json_string_value(val);
        } else if (strcmp(k, "canPublishSources") == 0) {
            if (!json_is_array(val))
                return rk_fail(RK_EINVAL, why, cap, "canPublishSources must be an array");
            unsigned bits = 0;
            size_t idx;
            json_t *s;
            json_array_foreach(val, idx, s)
            {
                unsigned b;
                if (!json_is_string(s) || lk_source_parse(json_string_value(s), &b))
                    return rk_fail(RK_EINVAL, why, cap,
                                   "canPublishSources entries must be camera, microphone, "
                                   "screen_share or screen_share_audio");
                bits |= b;
            }
            v->sources = bits;
            v->sources_set = true;
        } else {
            return rk_fail(RK_EINVAL, why, cap, "unknown grant field %s", k);
        }
    }
    return RK_OK;
}
