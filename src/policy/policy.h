/* policy.h - the one place that says yes or no.
 *
 * Given an authenticated caller and what it asks for (a room, optionally an
 * identity, a display name, a lifetime, a seat), decide whether a token may
 * be minted and with exactly which grants. The answer is a verdict (an enum,
 * never text); route families turn verdicts into their own status codes and
 * messages. Rules, in the order they are checked:
 *  - the room must exist in the store (by name or alias): else ROOM_NOT_FOUND;
 *  - the room's own rules (policy_room_rules, e.g. a supabase room type's):
 *    only signed-in user sessions (SESSION_REQUIRED), anonymous sign-ins only
 *    when allowed (ANON_REFUSED); they hold on every route that reaches the
 *    room;
 *  - identity defaults to the caller's subject; a different identity needs
 *    an API key with the mint_any permission (IDENTITY_NOT_CALLER);
 *    identities starting with "anon:" belong to anonymous callers
 *    (IDENTITY_RESERVED);
 *  - members-only rooms need a membership, mint_any API keys excepted
 *    (NOT_MEMBER);
 *  - role precedence: membership, then the session's role claim (mapped
 *    through the room's role map when it has one: an unmapped session role
 *    gives nothing), then the room's default role (NO_ROLE when none, and
 *    when the membership names a role the config does not have);
 *  - participant metadata and attributes only for a role with
 *    can_update_own_metadata (METADATA_REFUSED); a room with rules reserves
 *    the "seat" attribute (ATTR_RESERVED: only a seat taken here sets it);
 *    roomConfig.agents only for a role with may_dispatch_agents
 *    (AGENTS_REFUSED);
 *  - a seat (1..the room's seats) only for the room's seat role (NO_SEATS,
 *    SEAT_ROLE); policy_seat_take then claims it (SEAT_TAKEN);
 *  - lifetime: default cfg->default_ttl; the cap is the smallest of the
 *    global max, the role's and the room's max_ttl; a request above the cap
 *    is refused (TTL_ABOVE_CAP), never silently shortened;
 *  - grants come from the role only; the request can't widen them;
 *  - an identity banned from the room (live rooms: policy_ctx.banned) is
 *    refused (BANNED);
 *  - a room with max_participants is refused when that many are in it or
 *    were issued a token in the last POLICY_PENDING_S seconds and have not
 *    joined yet (ROOM_FULL), unless the identity is one of them; the token
 *    carries roomConfig.maxParticipants so LiveKit applies it too. With
 *    policy_ctx.places, tokens being issued by this process count as well
 *    (their audit records not committed yet): the count and the place the
 *    decision takes (decision.place) are one step per room, so deciders
 *    running at once never admit more than max_participants between them;
 *  - an anonymous ask (a family's configured anonymous room, no caller
 *    credentials) names the room exactly (no alias), gets an identity
 *    RoomKey generates, "anon:" + 128 random bits (never one the caller
 *    chose: it can't take over anyone's place, an authenticated user's or
 *    another anonymous caller's), no membership, and the room's default role
 *    only, never one with powers over others (ROLE_TOO_POWERFUL). */
#ifndef RK_POLICY_H
#define RK_POLICY_H

#include "../auth/session.h"
#include "../config/config.h"
#include "../store/store.h"
#include "../token/grants.h"
#include "admission.h"

#include <stdint.h>

/* Tokens issued this long ago and not yet used to join count as taking a
 * place in a room with max_participants. */
#define POLICY_PENDING_S 60

/* Prefix of every anonymous participant's identity, and how many random
 * bytes follow it (base64url: 22 characters). */
#define POLICY_ANON_PREFIX       "anon:"
#define POLICY_ANON_RANDOM_BYTES 16

/* The attribute a seat taken through policy_seat_take sets. */
#define POLICY_SEAT_ATTR "seat"

#define POLICY_NODISCARD __attribute__((warn_unused_result))

/* What policy says. VERDICT_OK is 0; every other value is a refusal. */
typedef enum verdict {
    VERDICT_OK = 0,
    VERDICT_ROOM_NOT_FOUND,      /* no such room (or an alias asked anonymously) */
    VERDICT_SESSION_REQUIRED,    /* the room admits signed-in user sessions only */
    VERDICT_ANON_REFUSED,        /* the room refuses anonymous sign-ins */
    VERDICT_IDENTITY_NOT_CALLER, /* another identity than the caller's, without mint_any */
    VERDICT_IDENTITY_RESERVED,   /* an "anon:" identity asked by a non-anonymous caller */
    VERDICT_IDENTITY_TOO_LONG,   /* over 256 bytes */
    VERDICT_NAME_TOO_LONG,       /* display name over 256 bytes */
    VERDICT_NAME_UNSAFE,         /* display name with a control or bidi control character */
    VERDICT_NOT_MEMBER,          /* members-only room, no membership */
    VERDICT_NO_ROLE,             /* no role applies, or the membership's is unknown */
    VERDICT_ROLE_TOO_POWERFUL,   /* an anonymous caller and an admin/hidden/recorder role */
    VERDICT_METADATA_REFUSED,    /* the role may not set metadata or attributes */
    VERDICT_ATTR_RESERVED,       /* the "seat" attribute in a room with rules */
    VERDICT_AGENTS_REFUSED,      /* the role may not dispatch agents */
    VERDICT_NO_SEATS,            /* a seat asked in a room without seats (or out of range) */
    VERDICT_SEAT_ROLE,           /* only the room's seat role takes a seat */
    VERDICT_SEAT_TAKEN,          /* another subject holds the seat */
    VERDICT_ROOM_CONFIG_NAME,    /* a room_config name that is not the room */
    VERDICT_TTL_ABOVE_CAP,       /* detail.max_ttl says the cap */
    VERDICT_BANNED,              /* live rooms: the identity is banned from the room */
    VERDICT_ROOM_FULL,           /* the room is at max_participants (present + pending) */
    VERDICT_ROOM_CLOSED,         /* an ended or canceled meeting's room (store_room.closed) */
    VERDICT_FAILED,              /* the store failed: detail.rc */
    VERDICT_COUNT
} verdict;

/* One session role's role in a room with a role map. */
typedef struct policy_role_map {
    const char *session_role; /* a value of the session's role claim */
    const char *role;         /* the configured role it gets there */
} policy_role_map;

/* A room's own rules, whatever route reaches the room. Strings borrowed
 * from the configuration snapshot. */
#define POLICY_MAX_ROLE_MAP 16
typedef struct policy_room_rules {
    const char *room; /* the room's name */
    policy_role_map roles[POLICY_MAX_ROLE_MAP];
    size_t n_roles;        /* 0 = the session role is used as it is */
    int64_t seats;         /* seats 1..seats; 0 = none */
    const char *seat_role; /* the role that may take a seat */
    bool user_sessions;    /* only signed-in user sessions (caller.user_session) */
    bool allow_anonymous;  /* ... and among them anonymous sign-ins too */
} policy_room_rules;

/* Every room that has rules (built per configuration snapshot by the
 * route families that define them; see families_rules). */
#define POLICY_MAX_RULED_ROOMS 16
typedef struct policy_rules {
    policy_room_rules rooms[POLICY_MAX_RULED_ROOMS];
    size_t n;
} policy_rules;

/* What policy reads: all borrowed for the call. rules may be NULL. */
typedef struct policy_ctx {
    const config *cfg;
    store *st;
    const policy_rules *rules;
    /* Live rooms (may be NULL): whether identity is banned from room now. */
    bool (*banned)(void *arg, const char *room, const char *identity, int64_t now);
    void *banned_arg;
    /* Places held by tokens being issued (may be NULL: the store's count
     * alone, for looks that issue nothing). A decision that takes one sets
     * decision.place; the caller then releases it (admission_release of
     * the room's name and the identity) once the token's audit record is
     * committed or failed, or when no token is issued. */
    admission *places;
} policy_ctx;

typedef struct policy_ask {
    const char *room;     /* room name or alias (required) */
    const char *identity; /* NULL = the caller's subject; ignored when anonymous */
    const char *name;     /* display name; NULL = the session's name */
    int64_t ttl;          /* seconds; 0 = default */
    /* Optional extras (all borrowed; they must outlive the decision). */
    const char *metadata;            /* participant metadata; NULL = none */
    const lk_attr *attrs;            /* participant attributes */
    size_t n_attrs;                  /* 0 = none */
    const lk_agent_dispatch *agents; /* roomConfig.agents to dispatch */
    size_t n_agents;                 /* 0 = none (no roomConfig in the token) */
    const char *room_config_name;    /* roomConfig.name asked; NULL = none */
    int64_t seat;                    /* a seat to take (policy_seat_take); 0 = none */
    bool anonymous;                  /* no credentials: see the rules above */
} policy_ask;

typedef struct decision {
    store_room room;         /* the room, as stored */
    const config_role *role; /* borrowed from the config */
    char identity[257];
    char name[257];
    int64_t ttl;                /* granted lifetime, seconds */
    int64_t max_ttl;            /* the cap that applied */
    int64_t seat;               /* the seat to take; 0 = none */
    bool place;                 /* a place in policy_ctx.places was taken (see there) */
    lk_claims claims;           /* ready to mint; strings point into this decision */
    lk_room_config room_config; /* claims.room_config when agents were asked for */
    lk_attr seat_attr;          /* claims.attrs once a seat is taken */
    char seat_value[24];
} decision;

/* The detail of a verdict (fields unused by a verdict are zero). */
typedef struct verdict_detail {
    int64_t max_ttl;       /* TTL_ABOVE_CAP: the cap */
    int64_t seat;          /* NO_SEATS, SEAT_ROLE, SEAT_TAKEN: the seat asked */
    int64_t seats;         /* NO_SEATS: the room's seats (0 = none) */
    const char *seat_role; /* SEAT_ROLE: who may take one (static or borrowed from cfg) */
    int rc;                /* FAILED: the store's error code */
} verdict_detail;

/* policy_decide fills *d (and *why for a refusal). The decision must not
 * be moved after the call (claims point into it). */
POLICY_NODISCARD verdict policy_decide(const policy_ctx *pc, const caller *who,
                                       const policy_ask *ask, decision *d, verdict_detail *why);

/* policy_verdict_text returns a short static explanation of v for
 * messages and logs ("not a member of this room", ...). */
const char *policy_verdict_text(verdict v);

/* policy_room_rules_find returns the rules of room (its name), or NULL. */
const policy_room_rules *policy_room_rules_find(const policy_rules *rules, const char *room);

/* policy_session_rule applies r's session rules to who: VERDICT_OK,
 * SESSION_REQUIRED or ANON_REFUSED. r may be NULL (no rules: OK). */
POLICY_NODISCARD verdict policy_session_rule(const policy_room_rules *r, const caller *who);

/* policy_seat_take claims d->seat (when set) for who until now + d->ttl and
 * puts it into d's claims as the "seat" attribute. VERDICT_OK, SEAT_TAKEN
 * (another subject holds it) or FAILED (why->rc). */
POLICY_NODISCARD verdict policy_seat_take(const policy_ctx *pc, const caller *who, decision *d,
                                          int64_t now, verdict_detail *why);

/* policy_seat_keep extends the claim of d's seat (a no-op without one) to
 * the minted token's exp when that came out later than the claim (jti names
 * the token in the log line when that fails). Call it before the token's
 * audit record is submitted, so a give-back for a failed record comes after. */
void policy_seat_keep(store *st, const char *subject, const decision *d, int64_t exp,
                      const char *jti, int64_t now);

/* policy_seat_give_back releases subject's claim of seat in room (a no-op
 * for seat 0): its token was never handed out (a failed mint, a refused or
 * failed audit record, a limited request). why ("mint_failed",
 * "audit_failed", ...) goes into the log line. */
void policy_seat_give_back(store *st, const char *room, int64_t seat, const char *subject,
                           const char *why, int64_t now);

/* policy_participant reports in *yes whether who takes part in the room
 * created by creator: the creator, a member of the room, or an API key with
 * mint_any (which the policy lets into any room). RK_OK or a store error. */
POLICY_NODISCARD int policy_participant(const policy_ctx *pc, const caller *who, const char *room,
                                        const char *creator, bool *yes);

/* policy_grants_json writes what d grants, for the audit record, as compact
 * JSON into out (capacity cap): the video grant, and under "extras" what
 * the request added (metadata size, attribute count, the names of the
 * agents it dispatches, each cut at POLICY_AUDIT_AGENT_NAME bytes). Returns
 * the writer's error (RK_ETOOBIG when it doesn't fit: callers refuse the
 * token then; STORE_MAX_GRANTS leaves room for the largest decision). */
#define POLICY_AUDIT_AGENT_NAME 64
POLICY_NODISCARD int policy_grants_json(const decision *d, char *out, size_t cap);

#endif
