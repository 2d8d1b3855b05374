/* runtime.h - the service's live configuration: a refcounted snapshot of
 * the config (roles, keys, rate limits, CORS, trusted proxies), the
 * authenticator built from it (issuers, JWKS caches), and the request
 * policy and api_ctx derived from both, swapped atomically on reload.
 *
 * Every request takes a reference to the snapshot current when it arrives
 * (the server's policy hooks runtime_acquire / runtime_release) and uses
 * only that one: it never sees half an old and half a new configuration.
 * A replaced snapshot is freed when its last request releases it. The rate
 * limit tables and the store live in the runtime and outlive snapshots, so
 * a reload keeps every bucket's state. What cannot change without a
 * restart (listen address, database, server limits, families, table size)
 * is kept and a warning is logged when the new file differs. */
#ifndef RK_RUNTIME_H
#define RK_RUNTIME_H

#include "../config/config.h"
#include "../http/server.h"
#include "../store/store.h"
#include "issuance.h"

typedef struct runtime runtime;

/* A check run on a new config before it is swapped in (e.g. seeding the
 * store); a non-RK_OK return refuses the reload, with why filled. */
typedef int (*runtime_prepare)(const config *cfg, store *st, void *arg, char *why, size_t cap);

/* runtime_new takes ownership of cfg (freed by runtime_free, even on
 * failure) and borrows st and places (both must outlive the runtime, and
 * places the store's audit queue: its callbacks release places). It builds
 * the first snapshot and the rate-limit tables. why explains a failure. */
int runtime_new(config *cfg, store *st, admission *places, runtime **out, char *why,
                size_t why_cap);

/* runtime_free releases the runtime's snapshot (freed once no request
 * holds it: stop the server first) and the tables. NULL is fine. */
void runtime_free(runtime *rt);

/* runtime_api returns the api_ctx route families register with; each
 * request's handler receives the api_ctx of its snapshot instead. */
api_ctx *runtime_api(runtime *rt);

/* runtime_set_live makes l (live rooms; it must outlive the runtime's
 * requests) reachable from every request's api_ctx. Call before the server
 * starts. */
void runtime_set_live(runtime *rt, struct live *l);

/* runtime_install sets rt's policy hooks on srv (before it starts). */
void runtime_install(runtime *rt, http_server *srv);

/* runtime_config returns the current config (for the main thread, which
 * is the only one that reloads; borrowed until the next reload). */
const config *runtime_config(runtime *rt);

/* runtime_reload loads the config from path (NULL: ROOMKEY_CONFIG or none)
 * and the environment, builds its authenticator, runs prepare (may be
 * NULL), and swaps the new snapshot in. On any failure the old snapshot
 * keeps serving and why names the problem (the config key, for a bad
 * config). */
int runtime_reload(runtime *rt, const char *path, runtime_prepare prepare, void *arg, char *why,
                   size_t why_cap);

#endif
