/* grants.c - LiveKit claim rules and serialisation. */
#include "grants.h"
#include "../util/err.h"
#include "../util/utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The boolean grants of the other grant objects, grouped by object, in
 * the order they are written. */
#define OB(obj, name, field)                                                                       \
    {                                                                                              \
        obj, "\"" name "\":", sizeof(name) + 2, offsetof(lk_claims, field)                         \
    }
static const struct {
    const char *obj;
    const char *name;
    size_t name_len;
    size_t off;
} OBJ_BOOLS[] = {
    OB("sip", "admin", sip_admin),
    OB("sip", "call", sip_call),
    OB("agent", "admin", agent_admin),
    OB("agent", "simulationAdmin", agent_simulation_admin),
    OB("agent", "databaseAdmin", agent_database_admin),
    OB("inference", "perform", inference_perform),
    OB("observability", "write", observability_write),
};
#define N_OBJ_BOOLS (sizeof OBJ_BOOLS / sizeof OBJ_BOOLS[0])

static const char *const SOURCES[] = {"camera", "microphone", "screen_share", "screen_share_audio"};

static const char *const KIND_DETAILS[] = {"cloud_agent",      "forwarded",   "connector_whatsapp",
                                           "connector_twilio", "bridge_rtsp", "simulation"};

static tri *video_bool(lk_video_grant *v, size_t i)
{
    return (tri *)((char *)v + VIDEO_BOOLS[i].off);
}

static tri video_bool_get(const lk_video_grant *v, size_t i)
{
    return *(const tri *)((const char *)v + VIDEO_BOOLS[i].off);
}

static tri obj_bool_get(const lk_claims *c, size_t i)
{
    return *(const tri *)((const char *)c + OBJ_BOOLS[i].off);
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

const char *lk_source_name(unsigned i)
{
    return i < sizeof SOURCES / sizeof SOURCES[0] ? SOURCES[i] : NULL;
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

/* check_map validates a string map (attributes, tags): at most
 * GRANTS_MAX_ATTR_COUNT entries, GRANTS_MAX_ATTRS bytes of keys and values
 * together, non-empty unique keys, valid UTF-8; adds its worst-case escaped
 * size to *bound. what names the map in messages. */
static int check_map(const lk_attr *m, size_t n, const char *what, size_t *bound, char *why,
                     size_t cap)
{
    if (n > GRANTS_MAX_ATTR_COUNT)
        return rk_fail(RK_ETOOBIG, why, cap, "more than %d %s", GRANTS_MAX_ATTR_COUNT, what);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const lk_attr *a = &m[i];
        if (!a->key || !a->value || !a->key[0])
            return rk_fail(RK_EINVAL, why, cap, "%s entry %zu has no key or value", what, i);
        size_t kl = strnlen(a->key, GRANTS_MAX_ATTRS + 1);
        size_t vl = strnlen(a->value, GRANTS_MAX_ATTRS + 1);
        total += kl + vl;
        if (total > GRANTS_MAX_ATTRS)
            return rk_fail(RK_ETOOBIG, why, cap, "%s exceed %u bytes in total", what,
                           GRANTS_MAX_ATTRS);
        if (!utf8_valid(a->key, kl) || !utf8_valid(a->value, vl))
            return rk_fail(RK_EINVAL, why, cap, "%s entry %zu is not valid UTF-8", what, i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(m[k].key, a->key) == 0)
                return rk_fail(RK_EINVAL, why, cap, "%s key \"%s\" given twice", what, a->key);
        *bound += 6 * (kl + vl) + 8;
    }
    return RK_OK;
}

int lk_claims_grant(lk_claims *c, const char *obj, const char *field)
{
    for (size_t i = 0; i < N_OBJ_BOOLS; i++) {
        if (strcmp(obj, OBJ_BOOLS[i].obj) == 0 && strlen(field) == OBJ_BOOLS[i].name_len - 3 &&
            memcmp(field, OBJ_BOOLS[i].name + 1, OBJ_BOOLS[i].name_len - 3) == 0) {
            *(tri *)((char *)c + OBJ_BOOLS[i].off) = TRI_TRUE;
            return RK_OK;
        }
    }
    return RK_EINVAL;
}

int lk_kind_detail_parse(const char *name)
{
    for (size_t i = 0; i < sizeof KIND_DETAILS / sizeof KIND_DETAILS[0]; i++)
        if (strcmp(name, KIND_DETAILS[i]) == 0)
            return RK_OK;
    return RK_EINVAL;
}

/* check_kind_details allows up to GRANTS_MAX_KIND_DETAILS known, distinct
 * kind details. */
static int check_kind_details(const lk_claims *c, size_t *bound, char *why, size_t cap)
{
    if (c->n_kind_details > GRANTS_MAX_KIND_DETAILS)
        return rk_fail(RK_ETOOBIG, why, cap, "more than %d kindDetails", GRANTS_MAX_KIND_DETAILS);
    for (size_t i = 0; i < c->n_kind_details; i++) {
        const char *d = c->kind_details[i];
        if (!d || lk_kind_detail_parse(d))
            return rk_fail(RK_EINVAL, why, cap,
                           "kindDetails entries must be cloud_agent, forwarded, "
                           "connector_whatsapp, connector_twilio, bridge_rtsp or simulation");
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->kind_details[k], d) == 0)
                return rk_fail(RK_EINVAL, why, cap, "kindDetails entry %s given twice", d);
        *bound += strlen(d) + 4;
    }
    return RK_OK;
}

/* check_room_config checks roomConfig with its agents and tags. */
static int check_room_config(const lk_room_config *r, size_t *bound, char *why, size_t cap)
{
    int rc;
    if ((rc = check_str(r->name, GRANTS_MAX_ROOM, "roomConfig.name", bound, why, cap)) ||
        (rc =
             check_str(r->metadata, GRANTS_MAX_ROOMCFG_MD, "roomConfig.metadata", bound, why, cap)))
        return rc;
    if (r->n_agents > GRANTS_MAX_AGENTS)
        return rk_fail(RK_ETOOBIG, why, cap, "more than %d agents in roomConfig",
                       GRANTS_MAX_AGENTS);
    for (size_t i = 0; i < r->n_agents; i++) {
        const lk_agent_dispatch *a = &r->agents[i];
        if (!a->agent_name)
            return rk_fail(RK_EINVAL, why, cap, "roomConfig.agents[%zu] has no agentName", i);
        if ((rc = check_str(a->agent_name, GRANTS_MAX_NAME, "roomConfig.agents.agentName", bound,
                            why, cap)) ||
            (rc = check_str(a->metadata, GRANTS_MAX_AGENT_META, "roomConfig.agents.metadata", bound,
                            why, cap)) ||
            (rc = check_str(a->deployment, GRANTS_MAX_NAME, "roomConfig.agents.deployment", bound,
                            why, cap)) ||
            (rc = check_map(a->attrs, a->n_attrs, "roomConfig.agents.attributes", bound, why, cap)))
            return rc;
        *bound += 64;
    }
    return check_map(r->tags, r->n_tags, "roomConfig.tags", bound, why, cap);
}

int lk_claims_check_own(const lk_claims *c, size_t *json_bound, char *why, size_t cap)
{
    size_t bound = 256; /* field names, punctuation */
    int rc;
    if ((rc = check_str(c->identity, GRANTS_MAX_IDENTITY, "identity", &bound, why, cap)) ||
        (rc = check_str(c->name, GRANTS_MAX_NAME, "name", &bound, why, cap)) ||
        (rc = check_str(c->metadata, GRANTS_MAX_METADATA, "metadata", &bound, why, cap)))
        return rc;
    if (c->video.room_join == TRI_TRUE && (!c->identity || !c->identity[0]))
        return rk_fail(RK_EINVAL, why, cap, "identity is required for join");
    if (c->identity && c->identity[0] == '\0')
        return rk_fail(RK_EINVAL, why, cap, "identity must not be empty");
    if ((rc = check_map(c->attrs, c->n_attrs, "attributes", &bound, why, cap)) ||
        (c->room_config && (rc = check_room_config(c->room_config, &bound, why, cap))))
        return rc;
    *json_bound = bound;
    return RK_OK;
}

/* check_grants checks the claims that lk_claims_check_own does not: the
 * grants, kind and roomPreset. Adds their bound to *bound. */
static int check_grants(const lk_claims *c, size_t *bound, char *why, size_t cap)
{
    const lk_video_grant *v = &c->video;
    int rc;
    if ((rc = check_str(c->kind, GRANTS_MAX_KIND, "kind", bound, why, cap)) ||
        (rc = check_str(c->room_preset, GRANTS_MAX_ROOM, "roomPreset", bound, why, cap)) ||
        (rc = check_str(v->room, GRANTS_MAX_ROOM, "room", bound, why, cap)) ||
        (rc = check_str(v->destination_room, GRANTS_MAX_ROOM, "destinationRoom", bound, why, cap)))
        return rc;
    if ((v->room_join == TRI_TRUE || v->room_admin == TRI_TRUE) && (!v->room || !v->room[0]))
        return rk_fail(RK_EINVAL, why, cap, "room is required for join and admin grants");
    return check_kind_details(c, bound, why, cap);
}

int lk_claims_check(const lk_claims *c, size_t *json_bound, char *why, size_t cap)
{
    size_t bound = 1024, own; /* field names, punctuation, booleans, numbers */
    int rc = lk_claims_check_own(c, &own, why, cap);
    if (rc || (rc = check_grants(c, &bound, why, cap)))
        return rc;
    *json_bound = bound + own;
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

/* write_map writes "key": {map} when the map has entries. */
static void write_map(jsonw *w, const char *key, size_t key_len, const lk_attr *m, size_t n)
{
    if (!n)
        return;
    jsonw_key_lit(w, key, key_len);
    jsonw_obj_open(w);
    for (size_t i = 0; i < n; i++) {
        jsonw_key(w, m[i].key);
        jsonw_str(w, m[i].value);
    }
    jsonw_obj_close(w);
}

#define OPT_MAP(w, lit, m, n) write_map((w), "\"" lit "\":", sizeof(lit) + 2, (m), (n))

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
            const lk_agent_dispatch *a = &r->agents[i];
            OPT_STR(w, "agentName", a->agent_name);
            OPT_STR(w, "metadata", a->metadata);
            OPT_STR(w, "deployment", a->deployment);
            OPT_MAP(w, "attributes", a->attrs, a->n_attrs);
            jsonw_obj_close(w);
        }
        jsonw_arr_close(w);
    }
    OPT_MAP(w, "tags", r->tags, r->n_tags);
    jsonw_obj_close(w);
}

/* write_obj_bools writes each grant object of OBJ_BOOLS that has a field
 * set, with its set fields. */
static void write_obj_bools(jsonw *w, const lk_claims *c)
{
    for (size_t i = 0; i < N_OBJ_BOOLS;) {
        size_t end = i + 1;
        while (end < N_OBJ_BOOLS && strcmp(OBJ_BOOLS[end].obj, OBJ_BOOLS[i].obj) == 0)
            end++;
        bool open = false;
        for (size_t k = i; k < end; k++) {
            tri t = obj_bool_get(c, k);
            if (t == TRI_UNSET)
                continue;
            if (!open) {
                jsonw_key(w, OBJ_BOOLS[i].obj);
                jsonw_obj_open(w);
                open = true;
            }
            jsonw_key_lit(w, OBJ_BOOLS[k].name, OBJ_BOOLS[k].name_len);
            jsonw_bool(w, t == TRI_TRUE);
        }
        if (open)
            jsonw_obj_close(w);
        i = end;
    }
}

void lk_claims_write_name(jsonw *w, const lk_claims *c)
{
    OPT_STR(w, "name", c->name);
}

void lk_claims_write_rest(jsonw *w, const lk_claims *c)
{
    if (lk_video_grant_any(&c->video))
        write_video(w, &c->video);
    write_obj_bools(w, c);
    OPT_STR(w, "kind", c->kind);
    if (c->n_kind_details) {
        JSONW_KEY(w, "kindDetails");
        jsonw_arr_open(w);
        for (size_t i = 0; i < c->n_kind_details; i++)
            jsonw_str(w, c->kind_details[i]);
        jsonw_arr_close(w);
    }
    OPT_STR(w, "metadata", c->metadata);
    OPT_MAP(w, "attributes", c->attrs, c->n_attrs);
    OPT_STR(w, "roomPreset", c->room_preset);
    if (c->room_config)
        write_room_config(w, c->room_config);
}

void lk_claims_write(jsonw *w, const lk_claims *c)
{
    lk_claims_write_name(w, c);
    lk_claims_write_rest(w, c);
}

/* same_str: both NULL, or equal strings. */
static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

bool lk_grants_copy_matches(const lk_grants_copy *g, const lk_claims *c)
{
    const lk_claims *k = &g->c;
    const lk_video_grant *v = &c->video;
    for (size_t i = 0; i < N_VIDEO_BOOLS; i++)
        if (video_bool_get(v, i) != video_bool_get(&k->video, i))
            return false;
    for (size_t i = 0; i < N_OBJ_BOOLS; i++)
        if (obj_bool_get(c, i) != obj_bool_get(k, i))
            return false;
    if (v->sources_set != k->video.sources_set ||
        (v->sources_set && v->sources != k->video.sources) || !same_str(v->room, k->video.room) ||
        !same_str(v->destination_room, k->video.destination_room) || !same_str(c->kind, k->kind) ||
        !same_str(c->room_preset, k->room_preset) || c->n_kind_details != k->n_kind_details)
        return false;
    for (size_t i = 0; i < c->n_kind_details; i++)
        if (strcmp(c->kind_details[i], k->kind_details[i]) != 0)
            return false;
    return true;
}

/* keep_str copies s (NULL kept NULL) into dst (capacity cap, which
 * lk_claims_check's limits guarantee is enough; longer is cut) and returns
 * where it is. */
static const char *keep_str(const char *s, char *dst, size_t cap)
{
    if (!s)
        return NULL;
    size_t n = strnlen(s, cap - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return dst;
}

void lk_grants_copy_set(lk_grants_copy *g, const lk_claims *c)
{
    lk_claims *k = &g->c;
    *k = (lk_claims){0};
    k->video = c->video;
    for (size_t i = 0; i < N_OBJ_BOOLS; i++)
        *(tri *)((char *)k + OBJ_BOOLS[i].off) = obj_bool_get(c, i);
    k->video.room = keep_str(c->video.room, g->room, sizeof g->room);
    k->video.destination_room =
        keep_str(c->video.destination_room, g->destination_room, sizeof g->destination_room);
    k->kind = keep_str(c->kind, g->kind, sizeof g->kind);
    k->room_preset = keep_str(c->room_preset, g->room_preset, sizeof g->room_preset);
    /* kind details are names from KIND_DETAILS: point at the table's */
    for (size_t i = 0; i < c->n_kind_details; i++)
        for (size_t d = 0; d < sizeof KIND_DETAILS / sizeof KIND_DETAILS[0]; d++)
            if (strcmp(c->kind_details[i], KIND_DETAILS[d]) == 0)
                g->kind_details[k->n_kind_details++] = KIND_DETAILS[d];
    k->kind_details = g->kind_details;
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

/* ---- The shapes LiveKit decodes a token's payload into ---------------- */

/* What a known claim or field must be (JSON null always passes: unset). */
enum shape {
    SH_STR,   /* a string */
    SH_BOOL,  /* true or false */
    SH_NUM,   /* a number (NumericDate) */
    SH_STRS,  /* an array of strings (null entries pass: Go decodes them as "") */
    SH_MAP,   /* an object of strings (Go map[string]string: null values pass) */
    SH_PMAP,  /* an object of strings (protobuf JSON map: values must be strings) */
    SH_U32,   /* protobuf uint32: an integer 0..2^32-1, or one in a string */
    SH_ENUM,  /* protobuf enum: its name or its number */
    SH_OBJ,   /* an object of the fields in sub (others tolerated) */
    SH_OBJS,  /* an array of such objects */
    SH_VIDEO, /* the VideoGrant */
};

typedef struct field_shape {
    const char *name; /* JSON name */
    const char *alt;  /* protobuf field name also accepted, or NULL */
    enum shape t;
    const struct field_shape *sub; /* SH_OBJ, SH_OBJS */
    size_t n_sub;
} field_shape;

#define SUB(t) t, sizeof t / sizeof t[0]

static const field_shape AGENT_DISPATCH_SHAPE[] = {
    {"agentName", "agent_name", SH_STR, NULL, 0},
    {"metadata", NULL, SH_STR, NULL, 0},
    {"restartPolicy", "restart_policy", SH_ENUM, NULL, 0},
    {"deployment", NULL, SH_STR, NULL, 0},
    {"attributes", NULL, SH_PMAP, NULL, 0},
};

static const field_shape ROOM_CONFIG_SHAPE[] = {
    {"name", NULL, SH_STR, NULL, 0},
    {"emptyTimeout", "empty_timeout", SH_U32, NULL, 0},
    {"departureTimeout", "departure_timeout", SH_U32, NULL, 0},
    {"maxParticipants", "max_participants", SH_U32, NULL, 0},
    {"metadata", NULL, SH_STR, NULL, 0},
    {"egress", NULL, SH_OBJ, NULL, 0},
    {"minPlayoutDelay", "min_playout_delay", SH_U32, NULL, 0},
    {"maxPlayoutDelay", "max_playout_delay", SH_U32, NULL, 0},
    {"syncStreams", "sync_streams", SH_BOOL, NULL, 0},
    {"agents", NULL, SH_OBJS, SUB(AGENT_DISPATCH_SHAPE)},
    {"tags", NULL, SH_PMAP, NULL, 0},
};

/* ClaimGrants and the registered claims jwt decodes, beside the grant
 * objects of OBJ_BOOLS (Go JSON: names fold case). */
static const field_shape CLAIMS_SHAPE[] = {
    {"jti", NULL, SH_STR, NULL, 0},        {"iat", NULL, SH_NUM, NULL, 0},
    {"identity", NULL, SH_STR, NULL, 0},   {"name", NULL, SH_STR, NULL, 0},
    {"kind", NULL, SH_STR, NULL, 0},       {"kindDetails", NULL, SH_STRS, NULL, 0},
    {"video", NULL, SH_VIDEO, NULL, 0},    {"roomConfig", NULL, SH_OBJ, SUB(ROOM_CONFIG_SHAPE)},
    {"roomPreset", NULL, SH_STR, NULL, 0}, {"sha256", NULL, SH_STR, NULL, 0},
    {"metadata", NULL, SH_STR, NULL, 0},   {"attributes", NULL, SH_MAP, NULL, 0},
};

static const field_shape VIDEO_OTHER_SHAPE[] = {
    {"room", NULL, SH_STR, NULL, 0},
    {"destinationRoom", NULL, SH_STR, NULL, 0},
    {"canPublishSources", NULL, SH_STRS, NULL, 0},
};

/* bool_named matches key k to a quoted literal name ("\"admin\":") of
 * length name_len, folding case as Go's JSON decoder does. */
static bool bool_named(const char *k, const char *name, size_t name_len)
{
    return strlen(k) == name_len - 3 && strncasecmp(k, name + 1, name_len - 3) == 0;
}

static int misfit(char *why, size_t cap, const char *path, const char *key, const char *want)
{
    return rk_fail(RK_EINVAL, why, cap, "claim %s%s must be %s", path, key, want);
}

/* is_u32 accepts what protobuf JSON reads as a uint32. */
static bool is_u32(const json_t *v)
{
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= 10 &&
             strspn(json_string_value(v), "0123456789") == json_string_length(v))
        d = strtod(json_string_value(v), NULL);
    else
        return false;
    return d >= 0 && d <= 4294967295.0 && floor(d) == d;
}

/* each_is_str reports whether every member of v (array or object) is a
 * string, or null when null_ok. */
static bool each_is_str(const json_t *v, bool null_ok)
{
    void *it = json_is_object(v) ? json_object_iter((json_t *)v) : NULL;
    size_t n = json_is_array(v) ? json_array_size(v) : 0;
    for (size_t i = 0; i < n || it; i++) {
        const json_t *e = it ? json_object_iter_value(it) : json_array_get(v, i);
        if (!json_is_string(e) && !(null_ok && json_is_null(e)))
            return false;
        if (it)
            it = json_object_iter_next((json_t *)v, it);
    }
    return true;
}

static int check_fields(const json_t *obj, const field_shape *f, size_t n, bool fold,
                        const char *path, char *why, size_t cap);
static int check_video(const json_t *obj, char *why, size_t cap);

/* check_value checks v against shape f, found at path + f's name. The
 * members of SH_OBJ and SH_OBJS (protobuf messages) match exactly. */
static int check_value(const json_t *v, const field_shape *f, const char *path, char *why,
                       size_t cap)
{
    char sub[64];
    size_t i;
    json_t *e;
    if (json_is_null(v))
        return RK_OK;
    switch (f->t) {
    case SH_STR:
        return json_is_string(v) ? RK_OK : misfit(why, cap, path, f->name, "a string");
    case SH_BOOL:
        return json_is_boolean(v) ? RK_OK : misfit(why, cap, path, f->name, "a boolean");
    case SH_NUM:
        return json_is_number(v) ? RK_OK : misfit(why, cap, path, f->name, "a number");
    case SH_U32:
        return is_u32(v) ? RK_OK : misfit(why, cap, path, f->name, "an integer 0..4294967295");
    case SH_ENUM:
        return json_is_string(v) || json_is_integer(v)
                   ? RK_OK
                   : misfit(why, cap, path, f->name, "an enum name or number");
    case SH_STRS:
        return json_is_array(v) && each_is_str(v, true)
                   ? RK_OK
                   : misfit(why, cap, path, f->name, "an array of strings");
    case SH_MAP:
    case SH_PMAP:
        return json_is_object(v) && each_is_str(v, f->t == SH_MAP)
                   ? RK_OK
                   : misfit(why, cap, path, f->name, "an object of strings");
    case SH_VIDEO:
        return check_video(v, why, cap);
    case SH_OBJ:
        snprintf(sub, sizeof sub, "%s%s.", path, f->name);
        return check_fields(v, f->sub, f->n_sub, false, sub, why, cap);
    case SH_OBJS:
        if (!json_is_array(v))
            return misfit(why, cap, path, f->name, "an array of objects");
        snprintf(sub, sizeof sub, "%s%s[].", path, f->name);
        json_array_foreach(v, i, e)
        {
            int rc = check_fields(e, f->sub, f->n_sub, false, sub, why, cap);
            if (rc)
                return rc;
        }
        return RK_OK;
    }
    return RK_OK;
}

/* key_is matches a JSON key to a field name: exactly, or folding ASCII case
 * as Go's JSON decoder does. */
static bool key_is(const char *k, const char *name, bool fold)
{
    return name && (fold ? strcasecmp(k, name) : strcmp(k, name)) == 0;
}

/* check_fields checks the members of obj that f[0..n) names; others pass. */
static int check_fields(const json_t *obj, const field_shape *f, size_t n, bool fold,
                        const char *path, char *why, size_t cap)
{
    if (json_is_null(obj))
        return RK_OK;
    if (!json_is_object(obj))
        return rk_fail(RK_EINVAL, why, cap, "claim %s must be an object", path);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        for (size_t i = 0; i < n; i++) {
            if (!key_is(k, f[i].name, fold) && !key_is(k, f[i].alt, false))
                continue;
            int rc = check_value(v, &f[i], path, why, cap);
            if (rc)
                return rc;
        }
    }
    return RK_OK;
}

static int check_video(const json_t *obj, char *why, size_t cap)
{
    int rc =
        check_fields(obj, VIDEO_OTHER_SHAPE, sizeof VIDEO_OTHER_SHAPE / sizeof VIDEO_OTHER_SHAPE[0],
                     true, "video.", why, cap);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        for (size_t i = 0; !rc && i < N_VIDEO_BOOLS; i++)
            if (bool_named(k, VIDEO_BOOLS[i].name, VIDEO_BOOLS[i].name_len) &&
                !json_is_boolean(v) && !json_is_null(v))
                rc = misfit(why, cap, "video.", k, "a boolean");
    }
    return rc;
}

/* check_obj_bools checks the grant objects of OBJ_BOOLS (sip, agent, ...):
 * objects whose known fields are booleans. */
static int check_obj_bools(const json_t *payload, char *why, size_t cap)
{
    const char *k, *fk;
    json_t *v, *fv;
    json_object_foreach((json_t *)payload, k, v)
    {
        if (json_is_null(v))
            continue;
        for (size_t i = 0; i < N_OBJ_BOOLS; i++) {
            if (strcasecmp(k, OBJ_BOOLS[i].obj) != 0)
                continue;
            if (!json_is_object(v))
                return rk_fail(RK_EINVAL, why, cap, "claim %s must be an object", k);
            json_object_foreach(v, fk, fv)
            {
                if (bool_named(fk, OBJ_BOOLS[i].name, OBJ_BOOLS[i].name_len) &&
                    !json_is_boolean(fv) && !json_is_null(fv))
                    return rk_fail(RK_EINVAL, why, cap, "claim %s.%s must be a boolean", k, fk);
            }
        }
    }
    return RK_OK;
}

int lk_claims_shape_check(const json_t *payload, char *why, size_t cap)
{
    int rc = check_fields(payload, CLAIMS_SHAPE, sizeof CLAIMS_SHAPE / sizeof CLAIMS_SHAPE[0], true,
                          "", why, cap);
    return rc ? rc : check_obj_bools(payload, why, cap);
}
