/* grants.h - the claims of a LiveKit access token, their limits and their
 * JSON form.
 *
 * Field names follow livekit/protocol's auth.ClaimGrants exactly (as the
 * official SDKs write them). Optional booleans are three-state: an unset
 * grant is omitted from the token, never written as false. All strings are
 * borrowed: the caller owns them and keeps them alive while the claims are
 * used. A `sha256` claim cannot be expressed here on purpose: it would turn a
 * join token into a webhook credential. */
#ifndef RK_GRANTS_H
#define RK_GRANTS_H

#include "../util/jsonw.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits (bytes). */
#define GRANTS_MAX_IDENTITY     256
#define GRANTS_MAX_NAME         256
#define GRANTS_MAX_ROOM         256
#define GRANTS_MAX_KIND         32
#define GRANTS_MAX_METADATA     (512u * 1024)
#define GRANTS_MAX_ATTRS        (64u * 1024) /* keys and values together */
#define GRANTS_MAX_ATTR_COUNT   256
#define GRANTS_MAX_AGENTS       16
#define GRANTS_MAX_AGENT_META   (64u * 1024)
#define GRANTS_MAX_ROOMCFG_MD   (64u * 1024)
#define GRANTS_MAX_KIND_DETAILS 8
/* roomConfig.tags and each agent dispatch's attributes: at most
 * GRANTS_MAX_ATTR_COUNT entries and GRANTS_MAX_ATTRS bytes each, as the
 * participant's attributes. */

/* A three-state boolean: unset grants are left out of the token. */
typedef enum tri { TRI_UNSET = 0, TRI_FALSE = 1, TRI_TRUE = 2 } tri;

/* Track sources for canPublishSources, as bits. */
enum lk_source {
    LK_SRC_CAMERA = 1u << 0,
    LK_SRC_MICROPHONE = 1u << 1,
    LK_SRC_SCREEN_SHARE = 1u << 2,
    LK_SRC_SCREEN_SHARE_AUDIO = 1u << 3,
};

typedef struct lk_video_grant {
    tri room_create;              /* roomCreate */
    tri room_list;                /* roomList */
    tri room_record;              /* roomRecord */
    tri room_admin;               /* roomAdmin */
    tri room_join;                /* roomJoin */
    tri ingress_admin;            /* ingressAdmin */
    tri can_publish;              /* canPublish */
    tri can_subscribe;            /* canSubscribe */
    tri can_publish_data;         /* canPublishData */
    tri can_update_own_metadata;  /* canUpdateOwnMetadata */
    tri hidden;                   /* hidden */
    tri recorder;                 /* recorder */
    tri agent;                    /* agent */
    tri can_subscribe_metrics;    /* canSubscribeMetrics */
    tri can_manage_agent_session; /* canManageAgentSession */
    const char *room;             /* room, NULL when unset */
    const char *destination_room; /* destinationRoom, NULL when unset */
    unsigned sources;             /* canPublishSources bits (enum lk_source) */
    bool sources_set;             /* write canPublishSources (even if empty) */
} lk_video_grant;

typedef struct lk_attr {
    const char *key;
    const char *value;
} lk_attr;

typedef struct lk_agent_dispatch {
    const char *agent_name; /* agentName */
    const char *metadata;   /* metadata, NULL when unset */
    const char *deployment; /* deployment, NULL when unset */
    const lk_attr *attrs;   /* attributes (string map) */
    size_t n_attrs;
} lk_agent_dispatch;

/* roomConfig: protobuf RoomConfiguration in its JSON form; zero/NULL fields
 * are omitted, as protobuf JSON omits defaults. */
typedef struct lk_room_config {
    const char *name;
    uint32_t empty_timeout;     /* emptyTimeout, seconds */
    uint32_t departure_timeout; /* departureTimeout, seconds */
    uint32_t max_participants;  /* maxParticipants */
    const char *metadata;
    const lk_agent_dispatch *agents; /* agents[] */
    size_t n_agents;
    const lk_attr *tags; /* tags (string map) */
    size_t n_tags;
} lk_room_config;

typedef struct lk_claims {
    const char *identity;    /* sub; required when video.roomJoin */
    const char *name;        /* name */
    const char *metadata;    /* metadata */
    const char *kind;        /* kind: "standard", "agent", ... */
    const char *room_preset; /* roomPreset */
    const lk_attr *attrs;    /* attributes (string map) */
    size_t n_attrs;
    lk_video_grant video;            /* written as "video" when any field is set */
    tri sip_admin;                   /* sip.admin */
    tri sip_call;                    /* sip.call */
    tri agent_admin;                 /* agent.admin */
    tri agent_simulation_admin;      /* agent.simulationAdmin */
    tri agent_database_admin;        /* agent.databaseAdmin */
    tri inference_perform;           /* inference.perform */
    tri observability_write;         /* observability.write */
    const char *const *kind_details; /* kindDetails: names lk_kind_detail_parse knows */
    size_t n_kind_details;
    const lk_room_config *room_config; /* roomConfig, NULL when unset */
} lk_claims;

/* lk_claims_check enforces LiveKit's rules and RoomKey's limits: identity
 * required for roomJoin, roomJoin/roomAdmin require a room, size limits,
 * valid UTF-8, no duplicate attribute keys. On success *json_bound gets an
 * upper bound of the bytes lk_claims_write needs. On RK_EINVAL/RK_ETOOBIG,
 * why (capacity why_cap) says which rule failed. */
int lk_claims_check(const lk_claims *c, size_t *json_bound, char *why, size_t why_cap);

/* lk_claims_check_own is the part of lk_claims_check about the claims that
 * differ token to token: identity (and that a join has one), name,
 * metadata, attributes, roomConfig. *json_bound gets an upper bound of the
 * bytes they take in lk_claims_write. For claims whose grants (see
 * lk_grants_copy) were checked before, it is the whole check. */
int lk_claims_check_own(const lk_claims *c, size_t *json_bound, char *why, size_t why_cap);

/* lk_claims_write writes the claim members (no braces, no registered
 * claims) into an object already open in w: lk_claims_write_name (the
 * name, first) then lk_claims_write_rest (the grants and every other
 * claim). Errors latch in w->err. */
void lk_claims_write(jsonw *w, const lk_claims *c);
void lk_claims_write_name(jsonw *w, const lk_claims *c);
void lk_claims_write_rest(jsonw *w, const lk_claims *c);

/* The grants of a token, kept: the video grant, the sip, agent, inference
 * and observability grants, kind, kindDetails and roomPreset, with copies
 * of their strings. Every claim that is not here (identity, name,
 * metadata, attributes, roomConfig) is per token. A new grant field of
 * lk_claims must be compared and copied by the two functions below. */
typedef struct lk_grants_copy {
    lk_claims c; /* the grants; per-token claims unset; strings point below */
    char room[GRANTS_MAX_ROOM + 1];
    char destination_room[GRANTS_MAX_ROOM + 1];
    char kind[GRANTS_MAX_KIND + 1];
    char room_preset[GRANTS_MAX_ROOM + 1];
    const char *kind_details[GRANTS_MAX_KIND_DETAILS]; /* static names */
} lk_grants_copy;

/* lk_grants_copy_set makes g hold c's grants. c must have passed
 * lk_claims_check (its limits make the copies fit). */
void lk_grants_copy_set(lk_grants_copy *g, const lk_claims *c);

/* lk_grants_copy_matches reports whether c's grants are g's. */
bool lk_grants_copy_matches(const lk_grants_copy *g, const lk_claims *c);

/* lk_video_grant_any reports whether any video field is set. */
bool lk_video_grant_any(const lk_video_grant *v);

/* lk_video_grant_from_json merges a VideoGrant JSON object (as `lk token
 * create --grant` takes) into *v. Unknown fields and wrong types are
 * refused with a reason in why. Strings in *v then point into obj: keep obj
 * alive as long as *v is used. */
int lk_video_grant_from_json(const json_t *obj, lk_video_grant *v, char *why, size_t why_cap);

/* lk_kind_detail_parse accepts the participant kind details livekit/protocol
 * defines (ParticipantInfo.KindDetail in lower case: "cloud_agent",
 * "forwarded", "connector_whatsapp", "connector_twilio", "bridge_rtsp",
 * "simulation"); RK_EINVAL otherwise. */
int lk_kind_detail_parse(const char *name);

/* lk_claims_grant sets field (its JSON name, e.g. "simulationAdmin") of
 * the grant object obj ("sip", "agent", "inference", "observability") in
 * *c to TRI_TRUE; RK_EINVAL when the object has no such boolean. */
int lk_claims_grant(lk_claims *c, const char *obj, const char *field);

/* lk_claims_shape_check checks a verified token's payload the way
 * livekit/protocol decodes it: every claim it knows (name, kind,
 * kindDetails, metadata, attributes, roomPreset, sha256, the video, sip,
 * agent, inference and observability grants, roomConfig with its agents and
 * tags) must have its type (null counts as unset); claims and fields it does
 * not know are tolerated, as LiveKit's own verifier does. Object keys of the
 * grants match case-insensitively, as Go's JSON decoder matches them;
 * roomConfig's fields match their protobuf JSON or field name. RK_EINVAL with
 * the path of the first misfit in why. */
int lk_claims_shape_check(const json_t *payload, char *why, size_t why_cap);

/* lk_source_parse maps "camera", "microphone", "screen_share",
 * "screen_share_audio" to its bit; RK_EINVAL otherwise. */
int lk_source_parse(const char *name, unsigned *bit);

/* lk_source_name is the name of source bit 1u << i ("camera", ...; static
 * text), NULL for i past the last source. */
const char *lk_source_name(unsigned i);

#endif
