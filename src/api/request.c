/* request.c - caller authentication and JSON bodies for route families. */
#include "request.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"

#include <stdlib.h>

void request_log_auth_failure(const http_req *req, auth_fail fail)
{
    http_req_set_auth_fail(req, auth_fail_name(fail));
}

int request_authenticate(const api_ctx *api, const http_req *req, bool quiet_missing, caller *who,
                         auth_fail *fail)
{
    *fail = AUTH_NONE;
    int rc = authn_caller(api->auth, http_req_header(req, "Authorization"),
                          http_req_header(req, "X-API-Key"), clock_now(), who, fail);
    if (rc == RK_OK)
        http_req_set_subject(req, who->subject);
    else if (!(quiet_missing && *fail == AUTH_MISSING))
        request_log_auth_failure(req, *fail);
    return rc == RK_OK ? RK_OK : RK_EDENIED;
}

int request_json_object(const http_req *req, bool empty_ok, json_t **out, const char **why)
{
    *out = NULL;
    if (req->body_len == 0 && empty_ok) {
        *out = json_object();
        return *out ? RK_OK : RK_ENOMEM;
    }
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body || !json_is_object(body)) {
        *why = body ? "Request body must be a JSON object" : "Request body is not valid JSON";
        json_decref(body);
        return RK_EINVAL;
    }
    *out = body;
    return RK_OK;
}

void request_reply_open(jsonw *w, size_t cap)
{
    char *buf = malloc(cap);
    jsonw_init(w, buf, buf ? cap : 0);
}

int request_reply_take(jsonw *w, http_resp *resp, int status)
{
    if (w->err || !w->buf) {
        free(w->buf);
        w->buf = NULL;
        return w->err ? w->err : RK_ENOMEM;
    }
    free(resp->body);
    resp->status = status;
    resp->body = w->buf;
    resp->body_len = w->len;
    w->buf = NULL;
    return RK_OK;
}
