/* request.c - caller authentication and JSON bodies for route families. */
#include "request.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"

#include <stdlib.h>
#include <string.h>

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
        *why = body ? REQUEST_NOT_OBJECT : REQUEST_NOT_JSON;
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
    request_reply_adopt(resp, status, w->buf, w->len);
    w->buf = NULL;
    return RK_OK;
}

const char *request_status_find(const request_status_text *t, int status)
{
    while (t->status && t->status != status)
        t++;
    return t->text;
}

void request_status_open(jsonw *w, char *buf, int status)
{
    jsonw_init(w, buf, REQUEST_ERROR_MAX);
    jsonw_obj_open(w);
    JSONW_KEY(w, "statusCode");
    jsonw_int(w, status);
}

void request_error(http_resp *resp, const request_error_shape *s, int status, const char *message)
{
    char buf[REQUEST_ERROR_MAX];
    jsonw w;
    jsonw_init(&w, buf, s->cap < sizeof buf ? s->cap : sizeof buf);
    if (s->outer) {
        jsonw_obj_open(&w);
        jsonw_key(&w, s->outer);
    }
    jsonw_obj_open(&w);
    if (s->success_false) {
        JSONW_KEY(&w, "success");
        jsonw_bool(&w, false);
    }
    if (s->code_key) {
        jsonw_key(&w, s->code_key);
        jsonw_str(&w, request_status_find(s->codes, status));
    }
    jsonw_key(&w, s->message_key);
    jsonw_str(&w, message);
    jsonw_obj_close(&w);
    if (s->outer)
        jsonw_obj_close(&w);
    if (w.err)
        http_resp_json(resp, s->fallback_status ? s->fallback_status : status, s->fallback,
                       strlen(s->fallback));
    else
        http_resp_json(resp, status, buf, w.len);
}

void request_reply_adopt(http_resp *resp, int status, char *body, size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->body = body;
    resp->body_len = len;
}

int request_reply_fields(http_resp *resp, int status, const request_field *f, size_t n)
{
    size_t cap = 16;
    for (size_t i = 0; i < n; i++)
        cap += 6 * (strlen(f[i].key) + (f[i].len ? f[i].len : strlen(f[i].value))) + 8;
    jsonw w;
    request_reply_open(&w, cap);
    jsonw_obj_open(&w);
    for (size_t i = 0; i < n; i++) {
        jsonw_key(&w, f[i].key);
        jsonw_strn(&w, f[i].value, f[i].len ? f[i].len : strlen(f[i].value));
    }
    jsonw_obj_close(&w);
    return request_reply_take(&w, resp, status);
}
