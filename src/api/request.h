/* request.h - the first steps every route family takes with a request:
 * authenticate the caller from its headers, and read its JSON body as an
 * object. Families render the failures in their own error shapes. */
#ifndef RK_API_REQUEST_H
#define RK_API_REQUEST_H

#include "../auth/session.h"
#include "../http/server.h"
#include "../util/jsonw.h"
#include "issuance.h"

#include <jansson.h>
#include <stdbool.h>

/* request_authenticate authenticates req from its Authorization and
 * X-API-Key headers. On RK_OK *who is filled. On RK_EDENIED *fail says why;
 * the failure is logged (reason only, never the credential) unless it is
 * AUTH_MISSING and quiet_missing is set (the family may still admit an
 * anonymous caller). */
int request_authenticate(const api_ctx *api, const http_req *req, bool quiet_missing, caller *who,
                         auth_fail *fail);

/* request_log_auth_failure notes why a caller was refused, for the
 * request's log line (also for a family that decided later that a missing
 * credential is refused after all). */
void request_log_auth_failure(const http_req *req, auth_fail fail);

/* request_json_object parses req's body as one JSON object (duplicate keys
 * refused). An empty body is an empty object when empty_ok. On RK_OK *out
 * is a new reference the caller json_decref()s; on RK_EINVAL *why is a
 * static message for the client. */
int request_json_object(const http_req *req, bool empty_ok, json_t **out, const char **why);

/* request_reply_open points w at a new buffer of cap bytes for a response
 * body. When allocation fails, w is a writer that already failed (writes do
 * nothing) and request_reply_take reports it. */
void request_reply_open(jsonw *w, size_t cap);

/* request_reply_take hands w's buffer to resp as the body with status when
 * everything was written (RK_OK); otherwise frees the buffer, leaves resp
 * untouched and returns w's error for the caller to render. */
int request_reply_take(jsonw *w, http_resp *resp, int status);

#endif
