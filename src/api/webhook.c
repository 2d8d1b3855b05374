/* webhook.c - LiveKit's webhooks: verify, read, apply. */
#include "webhook.h"
#include "../livekit/webhook.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "admin.h"
#include "live.h"

#include <stdio.h>

/* refuse answers status with reason and logs it (never the token). */
static int refuse(http_resp *resp, int status, const char *reason)
{
    log_event("warn", "webhook_refused", "reason", reason, NULL);
    api_admin_error(resp, status, reason);
    return RK_OK;
}

static int receive(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    const char *reason = NULL;
    if (!lk_webhook_content_type_ok(http_req_header(req, "Content-Type")))
        return refuse(resp, 415, "Content-Type must be application/webhook+json");
    if (!api->cfg->keys || keyring_count(api->cfg->keys) == 0)
        return refuse(resp, 503, "no LiveKit key is configured");
    if (req->body_len > WEBHOOK_MAX_BODY)
        return refuse(resp, 413, "body too large");
    int64_t now = clock_now();
    int rc = lk_webhook_verify(api->cfg->keys, http_req_header(req, "Authorization"), req->body,
                               req->body_len, now, &reason);
    if (rc)
        return refuse(resp, 401, reason ? reason : "webhook not signed by a configured key");
    lk_webhook_event ev;
    if (lk_webhook_parse(req->body, req->body_len, &ev, &reason))
        return refuse(resp, 400, reason);
    if (!api->live)
        return refuse(resp, 503, "live rooms are not running");
    live_outcome o = live_on_event(api->live, &ev, now);
    if (o == LIVE_FAILED)
        return refuse(resp, 503, "the store could not record the event; deliver it again");
    char body[128];
    int n = snprintf(body, sizeof body, "{\"ok\":true,\"outcome\":\"%s\"}", live_outcome_name(o));
    return http_resp_json(resp, 200, body, (size_t)n);
}

int api_webhook_register(http_server *s, api_ctx *api, const char *path)
{
    if (!path[0])
        return RK_OK;
    http_route r = {"POST", path, "webhook.livekit", receive, api, false, api_admin_error};
    return http_server_add(s, &r);
}
