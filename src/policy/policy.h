/* policy.h - the one place that says yes or no.
 *
 * Given an authenticated caller and what it asks for (a room, optionally an
 * identity, a display name and a lifetime), decide whether a token may be
 * minted and with exactly which grants. Rules:
 *  - the room must exist in the store (by name or alias): else RK_ENOTFOUND;
 *  - identity defaults to the caller's subject; a different identity needs
 *    an API key with the mint_any permission: else RK_EDENIED;
 *  - members-only rooms need a membership (mint_any API keys excepted);
 *  - role precedence: membership, then the session's role claim (when it
 *    names a configured role), then the room's default role;
 *  - lifetime: default cfg->default_ttl; the cap is the smallest of the
 *    global max, the role's and the room's max_ttl; a request above the cap
 *    is refused (RK_EINVAL), never silently shortened;
 *  - grants come from the role only; the request can't widen them;
 *  - participant metadata and attributes may be set at join only by a role
 *    with can_update_own_metadata (it could set them once joined anyway);
 *    roomConfig.agents only by a role with may_dispatch_agents: else
 *    RK_EDENIED, never silently dropped;
 *  - an identity banned from the room (ask->banned, live rooms) is refused
 *    (RK_EDENIED);
 *  - a room with max_participants is refused when that many are in it or
 *    were issued a token in the last POLICY_PENDING_S seconds and have not
 *    joined yet (RK_EFULL), unless the identity is one of them; the token
 *    carries roomConfig.maxParticipants so LiveKit applies it too;
 *  - an anonymous ask (a family's configured anonymous room, no caller
 *    credentials) names the room exactly (no alias), gets identity
 *    "anon:<identity>" (so it can never take an authenticated user's seat),
 *    no membership, and the room's default role only. */
#ifndef RK_POLICY_H
#define RK_POLICY_H

#include "../auth/session.h"
#include "../config/config.h"
#include "../store/store.h"
#include "../token/grants.h"

#include <stdint.h>

/* Tokens issued this long ago and not yet used to join count as taking a
 * place in a room with max_participants. */
#define POLICY_PENDING_S 60

/* Prefix of every anonymous participant's identity. */
#define POLICY_ANON_PREFIX "anon:"

typedef struct policy_ask {
    const char *room;     /* room name or alias (required) */
    const char *identity; /* NULL = the caller's subject; required when anonymous */
    const char *name;     /* display name; NULL = the session's name */
    int64_t ttl;          /* seconds; 0 = default */
    /* Optional extras (all borrowed; they must outlive the decision). */
    const char *metadata;            /* participant metadata; NULL = none */
    const lk_attr *attrs;            /* participant attributes */
    size_t n_attrs;                  /* 0 = none */
    const lk_agent_dispatch *agents; /* roomConfig.agents to dispatch */
    size_t n_agents;                 /* 0 = none (no roomConfig in the token) */
    bool anonymous;                  /* no credentials: see the rules above */
    /* Live rooms (may be NULL): whether identity is banned from room now. */
    bool (*banned)(void *arg, const char *room, const char *identity, int64_t now);
    void *banned_arg;
} policy_ask;

typedef struct decision {
    store_room room;         /* the room, as stored */
    const config_role *role; /* borrowed from the config */
    char identity[257];
    char name[257];
    int64_t ttl;                /* granted lifetime, seconds */
    int64_t max_ttl;            /* the cap that applied */
    lk_claims claims;           /* ready to mint; strings point into this decision */
    lk_room_config room_config; /* claims.room_config when agents were asked for */
} decision;

/* policy_decide fills *d. Returns RK_OK, RK_ENOTFOUND (no such room),
 * RK_EDENIED (not allowed: *why says what), RK_EFULL (the room is full), RK_EINVAL (ttl above the
 * cap, d->max_ttl set; or an identity/name too long, d->max_ttl 0: *why explains), or a store error
 * (RK_EIO...). *why is a static or d-owned message. The decision must not be moved after the call
 * (claims point into it). */
int policy_decide(const config *cfg, store *st, const caller *who, const policy_ask *ask,
                  decision *d, const char **why);

/* policy_grants_json writes what d grants, for the audit record, as compact
 * JSON into out (capacity cap): the video grant, and under "extras" what
 * the request added (metadata size, attribute count, the names of the
 * agents it dispatches, each cut at POLICY_AUDIT_AGENT_NAME bytes). Returns
 * the writer's error (RK_ETOOBIG when it doesn't fit: callers refuse the
 * token then; STORE_MAX_GRANTS leaves room for the largest decision). */
#define POLICY_AUDIT_AGENT_NAME 64
int policy_grants_json(const decision *d, char *out, size_t cap);

#endif
