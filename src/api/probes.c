/* probes.c - /healthz, /readyz, /metrics and /openapi.json. */
#include "probes.h"
#include "request.h"
#include "../auth/jwks.h"
#include "../http/metrics.h"
#include "live.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "admin.h"
#include "openapi.h"

#include <stdio.h>
#include <string.h>

static int healthz(void *ctx, const http_req *req, http_resp *resp)
{
    (void)ctx, (void)req;
    return http_resp_json(resp, 200, "{\"status\":\"ok\"}", 15);
}

/* check writes "name": "ok" or the failure reason, and clears *ready on
 * failure. */
static void check(jsonw *w, const char *name, const char *failure, bool *ready)
{
    jsonw_key(w, name);
    jsonw_str(w, failure ? failure : "ok");
    if (failure)
        *ready = false;
}

void probes_checks(const api_ctx *api, jsonw *w, bool *ready)
{
    char jwks_why[160] = "";
    int src = store_ping(api->st);
    bool jwks_ok =
        authn_jwks_ready(api->auth, clock_now(), PROBES_JWKS_MAX_AGE, jwks_why, sizeof jwks_why);
    *ready = true;
    JSONW_KEY(w, "checks");
    jsonw_obj_open(w);
    check(w, "keys", issuance_configured(api) ? NULL : "no LiveKit API key configured", ready);
    check(w, "store", src == RK_OK ? NULL : rk_strerror(src), ready);
    check(w, "jwks", jwks_ok ? NULL : jwks_why, ready);
    jsonw_obj_close(w);
    JSONW_KEY(w, "status");
    jsonw_str(w, *ready ? "ready" : "not_ready");
}

static int readyz(void *ctx, const http_req *req, http_resp *resp)
{
    (void)req;
    bool ready;
    char buf[1024];
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    probes_checks(ctx, &w, &ready);
    jsonw_obj_close(&w);
    if (w.err) {
        api_admin_error(resp, 500, "internal error");
        return RK_OK;
    }
    return http_resp_json(resp, ready ? 200 : 503, buf, w.len);
}

/* render_auth writes the auth failure and JWKS fetch counters. */
static void render_auth(metrics_text *t)
{
    uint64_t fails[AUTH_FAIL_COUNT];
    authn_fail_counts(fails);
    const char *name = "roomkey_auth_failures_total";
    metrics_header(t, name, "counter", "Failed authentications (401s), by reason.");
    for (size_t i = 1; i < AUTH_FAIL_COUNT; i++)
        metrics_sample(t, name, "reason", auth_fail_name((auth_fail)i), fails[i]);
    uint64_t ok = 0, failed = 0;
    jwks_fetches_total(&ok, &failed);
    name = "roomkey_jwks_fetches_total";
    metrics_header(t, name, "counter", "JWKS fetches from issuers' URLs, by result.");
    metrics_sample(t, name, "result", "ok", ok);
    metrics_sample(t, name, "result", "error", failed);
}

static int metrics(void *ctx, const http_req *req, http_resp *resp)
{
    (void)req;
    const api_ctx *api = ctx;
    metrics_text t = {0};
    metrics_render(&t);
    render_auth(&t);
    live_metrics(api->live, &t);
    if (t.err || !t.buf) {
        metrics_text_free(&t);
        api_admin_error(resp, 500, "internal error");
        return RK_OK;
    }
    request_reply_adopt(resp, 200, t.buf, t.len);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return RK_OK;
}

static int openapi(void *ctx, const http_req *req, http_resp *resp)
{
    (void)ctx, (void)req;
    return http_resp_json(resp, 200, api_openapi_json, api_openapi_json_len);
}

int api_probes_register(http_server *s, api_ctx *api)
{
    const http_route routes[] = {
        {"GET", "/healthz", "ops.healthz", healthz, api, false, api_admin_error},
        {"GET", "/readyz", "ops.readyz", readyz, api, false, api_admin_error},
        {"GET", "/metrics", "ops.metrics", metrics, api, false, api_admin_error},
        {"GET", "/openapi.json", "ops.openapi", openapi, api, false, api_admin_error},
    };
    return http_server_add_table(s, routes, sizeof routes / sizeof routes[0], true);
}
