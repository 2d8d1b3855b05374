/* issuance.h - what every route family does once policy said yes: mint the
 * token with this thread's minter, write the audit record, note the jti
 * for the request log line. A token is handed out only when its audit
 * record was written.
 *
 * Token routes are also limited per subject (rate_limit.subject): a family
 * calls issuance_limit right after authenticating the caller (so refused
 * and failed attempts count too); issuance_mint applies the same limit
 * itself when the family did not. A limited request gets RK_ELIMITED, and
 * the server then answers 429 with Retry-After in the route's own error
 * shape whatever the handler rendered (http_req_rate_limited). */
#ifndef RK_ISSUANCE_H
#define RK_ISSUANCE_H

#include "../auth/session.h"
#include "../config/config.h"
#include "../http/server.h"
#include "../policy/policy.h"
#include "../store/store.h"
#include "../token/minter.h"

struct ratelimit;
struct live;

/* Everything a route family needs; shared by all families, read-only.
 * Handlers get the api_ctx of the configuration snapshot their request
 * started with (see runtime.h): read cfg and auth through it on every
 * request, never keep pointers from it across requests. */
typedef struct api_ctx {
    const config *cfg;                /* borrowed */
    store *st;                        /* borrowed */
    authn *auth;                      /* borrowed */
    struct ratelimit *subject_limits; /* per-subject buckets; NULL = no limit */
    struct live *live;                /* live rooms (live.h); NULL in tools without a service */
    const policy_rules *rules;        /* the rooms' own rules (families_rules); may be NULL */
    admission *places;                /* places held by tokens being issued; may be NULL */
} api_ctx;

/* issuance_limit takes one token from who's per-subject bucket (a no-op
 * when limits are off, for API keys with mint_any, or when the request was
 * already checked). RK_OK: go on;
 * RK_ELIMITED: refused, and the request is marked so that the server
 * answers 429 in the route's error shape with Retry-After (the handler
 * just returns RK_OK). */
__attribute__((warn_unused_result)) int issuance_limit(const api_ctx *api, const caller *who,
                                                       const http_req *req);

/* issuance_mint mints d's claims and records them. On RK_OK *tok (borrowed
 * from this thread's minter: valid until this thread mints again) and *info
 * are set and the request's subject and jti are noted for its log line.
 * RK_ELIMITED: the per-subject limit refused it (see issuance_limit).
 * RK_ENOTFOUND: no LiveKit key configured. Other codes: mint or audit
 * failure (nothing is returned to the caller then).
 * A place d holds (d->place, in api->places) is released whatever the
 * outcome: once the audit record is committed or failed, or at once when
 * no record was submitted.
 * Served over HTTP, the audit record is committed asynchronously (group
 * commit) and req's response is held back until it is: the caller fills
 * the response as usual, and the server sends it only once the record is
 * committed (the token then counts as issued in the metrics), or answers
 * 500 instead if the store refused it. Without a server (req->priv NULL)
 * the call waits for the commit. */
__attribute__((warn_unused_result)) int issuance_mint(const api_ctx *api, const caller *who,
                                                      const decision *d, const http_req *req,
                                                      const char **tok, size_t *tok_len,
                                                      mint_info *info);

/* issuance_configured reports whether LiveKit keys are configured. */
__attribute__((warn_unused_result)) bool issuance_configured(const api_ctx *api);

/* issuance_thread_exit frees this thread's minter (called at shutdown for
 * the main thread; worker threads free theirs automatically). */
void issuance_thread_exit(void);

#endif
