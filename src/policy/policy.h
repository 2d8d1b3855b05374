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
 *  - grants come from the role only; the request can't widen them. */
#ifndef RK_POLICY_H
#define RK_POLICY_H

#include "../auth/session.h"
#include "../config/config.h"
#include "../store/store.h"
#include "../token/grants.h"

#include <stdint.h>

typedef struct policy_ask {
    const char *room;     /* room name or alias (required) */
    const char *identity; /* NULL = the caller's subject */
    const char *name;     /* display name; NULL = the session's name */
    int64_t ttl;          /* seconds; 0 = default */
} policy_ask;

typedef struct decision {
    store_room room;         /* the room, as stored */
    const config_role *role; /* borrowed from the config */
    char identity[257];
    char name[257];
    int64_t ttl;      /* granted lifetime, seconds */
    int64_t max_ttl;  /* the cap that applied */
    lk_claims claims; /* ready to mint; strings point into this decision */
} decision;

/* policy_decide fills *d. Returns RK_OK, RK_ENOTFOUND (no such room),
 * RK_EDENIED (not allowed), RK_EINVAL (ttl above the cap: *why explains),
 * or a store error (RK_EIO...). *why is a static or d-owned message. The
 * decision must not be moved after the call (claims point into it). */
int policy_decide(const config *cfg, store *st, const caller *who, const policy_ask *ask,
                  decision *d, const char **why);

/* policy_grants_json writes d's video grant as compact JSON for the audit
 * record into out (capacity cap). */
int policy_grants_json(const decision *d, char *out, size_t cap);

#endif
