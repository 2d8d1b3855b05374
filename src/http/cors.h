/* cors.h - Cross-Origin Resource Sharing for browser front ends.
 *
 * An exact-match allow-list of origins: a request's Origin header is
 * compared byte for byte with each listed origin ("https://app.example.com",
 * scheme://host[:port], as browsers send it) and only a listed origin is
 * ever echoed; "*" (when listed) answers Access-Control-Allow-Origin: *
 * without echoing anything and never with credentials. Requests from other
 * origins are served without CORS headers (the browser then withholds the
 * response from the page); their preflights are refused.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
 * answered 204 with the methods the path really has and the configured
 * request headers. Access-Control-Allow-Credentials: true is sent only when
 * the policy says so. The origins are checked when the config is loaded
 * (config.c); here they are compared only. */
#ifndef RK_CORS_H
#define RK_CORS_H

#include "server.h"

#include <stdbool.h>
#include <stddef.h>

#define CORS_MAX_ORIGINS 32
#define CORS_MAX_ORIGIN  256 /* bytes of one origin */

/* A CORS policy (borrowed strings; they outlive the policy's use). */
typedef struct cors_policy {
    const char *origins[CORS_MAX_ORIGINS]; /* exact origins, or "*" */
    size_t n_origins;
    bool credentials;          /* send Access-Control-Allow-Credentials: true */
    const char *allow_headers; /* e.g. "Authorization, Content-Type, X-API-Key" */
    unsigned max_age_s;        /* Access-Control-Max-Age */
} cors_policy;

/* cors_allowed returns the value for Access-Control-Allow-Origin for a
 * request from origin (borrowed from p: the listed origin, or "*"), or
 * NULL when origin is absent or not listed. p may be NULL (no CORS). */
const char *cors_allowed(const cors_policy *p, const char *origin);

/* cors_headers adds the CORS headers of an actual (non-preflight) response
 * for a request from origin to resp: with origins configured, Vary: Origin
 * always (allowed or not, the answer depends on the Origin header); for an
 * allowed origin Access-Control-Allow-Origin, -Expose-Headers and, when
 * configured, -Allow-Credentials. */
void cors_headers(const cors_policy *p, const char *origin, http_resp *resp);

/* cors_preflight answers a preflight for a path whose routes allow the
 * methods in allow_methods (e.g. "GET, POST"): 204 with the CORS headers
 * when origin is allowed and the requested method is one of them; false
 * when origin is not allowed or the method is not (resp untouched, the
 * caller refuses in the family's shape). */
bool cors_preflight(const cors_policy *p, const char *origin, const char *req_method,
                    const char *allow_methods, http_resp *resp);

#endif
