/* issuance.h - what every route family does once policy said yes: mint the
 * token with this thread's minter, write the audit record, log the jti.
 * A token is handed out only when its audit record was written. */
#ifndef RK_ISSUANCE_H
#define RK_ISSUANCE_H

#include "../auth/session.h"
#include "../config/config.h"
#include "../http/server.h"
#include "../policy/policy.h"
#include "../store/store.h"
#include "../token/minter.h"

/* Everything a route family needs; shared by all families, read-only. */
typedef struct api_ctx {
    const config *cfg; /* borrowed */
    store *st;         /* borrowed */
    authn *auth;       /* borrowed */
} api_ctx;

/* issuance_mint mints d's claims and records them. On RK_OK *tok (borrowed
 * from this thread's minter: valid until this thread mints again) and *info
 * are set. RK_ENOTFOUND: no LiveKit key configured. Other codes: mint or
 * audit failure (nothing is returned to the caller then).
 * Served over HTTP, the audit record is committed asynchronously (group
 * commit) and req's response is held back until it is: the caller fills
 * the response as usual, and the server sends it only once the record is
 * committed, or answers 500 instead if the store refused it. Without a
 * server (req->priv NULL) the call waits for the commit. */
int issuance_mint(const api_ctx *api, const caller *who, const decision *d, const http_req *req,
                  const char **tok, size_t *tok_len, mint_info *info);

/* issuance_configured reports whether LiveKit keys are configured. */
bool issuance_configured(const api_ctx *api);

/* issuance_thread_exit frees this thread's minter (called at shutdown for
 * the main thread; worker threads free theirs automatically). */
void issuance_thread_exit(void);

#endif
