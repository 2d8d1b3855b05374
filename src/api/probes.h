/* probes.h - the ops routes for orchestrators and monitoring:
 *   GET /healthz  200 while the process serves HTTP (liveness)
 *   GET /readyz   200 when LiveKit keys are loaded, the store answers and
 *                 every JWKS issuer has a fresh key set; else 503 naming
 *                 the failing checks (readiness)
 *   GET /metrics  the counters in the Prometheus text format (metrics.h,
 *                 plus auth failures by reason and JWKS fetches)
 *   GET /openapi.json  the OpenAPI 3.1 document of every route (openapi.h)
 * None needs credentials, and by default none is rate limited. Errors
 * (404/405 under these paths) come in the admin API's shape. */
#ifndef RK_API_PROBES_H
#define RK_API_PROBES_H

#include "../http/server.h"
#include "../util/jsonw.h"
#include "issuance.h"

/* PROBES_JWKS_MAX_AGE: a JWKS key set older than this (seconds since its
 * last good fetch) makes /readyz fail; stale sets are refetched first. */
#define PROBES_JWKS_MAX_AGE (24 * 3600)

/* probes_checks writes the readiness checks into the open object w:
 * "checks": {"keys", "store", "jwks": "ok" or why not}, "status": "ready"
 * or "not_ready" (also *ready). /readyz and GET /admin/v1/status use it. */
void probes_checks(const api_ctx *api, jsonw *w, bool *ready);

/* api_probes_register adds /healthz, /readyz, /metrics and /openapi.json;
 * api must outlive s. */
int api_probes_register(http_server *s, api_ctx *api);

#endif
