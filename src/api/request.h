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
__attribute__((warn_unused_result)) int request_authenticate(const api_ctx *api,
                                                             const http_req *req,
                                                             bool quiet_missing, caller *who,
                                                             auth_fail *fail);

/* request_log_auth_failure notes why a caller was refused, for the
 * request's log line (also for a family that decided later that a missing
 * credential is refused after all). */
void request_log_auth_failure(const http_req *req, auth_fail fail);

/* The messages request_json_object gives (compare with strcmp). */
#define REQUEST_NOT_JSON   "Request body is not valid JSON"
#define REQUEST_NOT_OBJECT "Request body must be a JSON object"

/* request_json_object parses req's body as one JSON object (duplicate keys
 * refused). An empty body is an empty object when empty_ok. On RK_OK *out
 * is a new reference the caller json_decref()s; on RK_EINVAL *why is
 * REQUEST_NOT_JSON or REQUEST_NOT_OBJECT, for the client. */
__attribute__((warn_unused_result)) int request_json_object(const http_req *req, bool empty_ok,
                                                            json_t **out, const char **why);

/* request_reply_open points w at a new buffer of cap bytes for a response
 * body. When allocation fails, w is a writer that already failed (writes do
 * nothing) and request_reply_take reports it. */
void request_reply_open(jsonw *w, size_t cap);

/* request_reply_take hands w's buffer to resp as the body with status when
 * everything was written (RK_OK); otherwise frees the buffer, leaves resp
 * untouched and returns w's error for the caller to render. */
__attribute__((warn_unused_result)) int request_reply_take(jsonw *w, http_resp *resp, int status);

/* One string field of a reply; len 0 = strlen(value). */
typedef struct request_field {
    const char *key;
    const char *value;
    size_t len;
} request_field;

/* request_reply_fields answers status with a JSON object of the n string
 * fields, in order (the body is sized to fit them). RK_OK, or RK_ENOMEM
 * with resp untouched. */
__attribute__((warn_unused_result)) int request_reply_fields(http_resp *resp, int status,
                                                             const request_field *f, size_t n);

/* A family's name or code for an HTTP status; a table of them ends with
 * {0, text}: the text of every other status. */
typedef struct request_status_text {
    int status;
    const char *text;
} request_status_text;

/* request_status_find returns the text of status in table t (static). */
const char *request_status_find(const request_status_text *t, int status);

/* The largest error body request_error writes. */
#define REQUEST_ERROR_MAX 4096

/* A family's plain error body, described as data: an object with, in this
 * order, "success": false (success_false), the status's code from the
 * table codes at code_key (no code when code_key is NULL) and the message
 * at message_key; wrapped as {"<outer>": {...}} when outer is set.
 * A body over cap bytes (or a message that is not UTF-8) is answered with
 * fallback instead, a static JSON text, with fallback_status (0: the
 * status asked for). */
typedef struct request_error_shape {
    const char *outer;
    bool success_false;
    const char *code_key;
    const request_status_text *codes;
    const char *message_key;
    size_t cap; /* <= REQUEST_ERROR_MAX */
    int fallback_status;
    const char *fallback;
} request_error_shape;

/* request_status_open points w at buf (REQUEST_ERROR_MAX bytes, the
 * caller's) and opens the body of a NestJS-style error with its first
 * member, {"statusCode":status; the caller writes the rest and closes it. */
void request_status_open(jsonw *w, char *buf, int status);

/* request_error answers status with message in shape s; resp owns its new
 * body (an earlier one is freed). */
void request_error(http_resp *resp, const request_error_shape *s, int status, const char *message);

/* request_reply_adopt hands body (malloc'd, len bytes) to resp as its body
 * with status; resp frees it (a body resp held before is freed now). */
void request_reply_adopt(http_resp *resp, int status, char *body, size_t len);

#endif
