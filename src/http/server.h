/* server.h - RoomKey's HTTP/1.1 server on libmicrohttpd: epoll with a
 * thread pool, keep-alive, hard limits (header bytes, body bytes,
 * connections, per-connection idle time), and a small exact-path router
 * that route families plug into with one line each.
 *
 * Handlers run on the pool's threads and must be thread-safe. Each route
 * names its family's error renderer, so 404/405/413/415/400/429 answers
 * come in that family's shape.
 *
 * Around every handler the server applies the request policy of the
 * moment (http_server_set_policy): the client address (trusted proxies),
 * the per-IP rate limit, CORS, and the handler context of the current
 * configuration snapshot. It writes one JSON log line per request
 * (request id, route, status, duration, client IP, and what the handler
 * noted with http_req_set_subject / http_req_set_jti) and counts it in the
 * metrics (metrics.h). */
#ifndef RK_SERVER_H
#define RK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_ROUTES   64
#define HTTP_MAX_HEADERS  16 /* extra response headers */
#define HTTP_MAX_PATH     2048
#define HTTP_MAX_PARAMS   4  /* {name} segments in one route path */
#define HTTP_HOLD_DRAIN_S 10 /* stop waits this long for held responses */

/* What a handler tells the server about its request (for the request log
 * line and the answer); written through the http_req_* setters below. */
typedef struct http_req_info {
    char subject[257];     /* the authenticated caller ("" = none) */
    char jti[40];          /* jti of the token issued ("" = none); never the token */
    const char *auth_fail; /* static reason of a failed authentication, or NULL */
    unsigned retry_after;  /* > 0: refused by the per-subject limit (seconds) */
    bool limit_checked;    /* the per-subject limit was applied to this request */
} http_req_info;

/* One request, as a handler sees it. Everything is borrowed for the
 * duration of the handler call. */
typedef struct http_req {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* path without the query string */
    const char *body;   /* request body (NUL-terminated), "" when none */
    size_t body_len;
    const char *client_ip; /* peer address as text */
    const char *route;     /* route label, for logs and audit */
    void *conn;            /* libmicrohttpd connection, for http_req_header */
    void *priv;            /* the server's own per-request state */
    size_t n_params;       /* path parameters, see http_req_param */
    const char *param_name[HTTP_MAX_PARAMS];
    const char *param_value[HTTP_MAX_PARAMS];
    const char *request_id; /* this request's id (also sent as X-Request-Id) */
    http_req_info *info;    /* the server's notes on this request (see setters) */
} http_req;

/* A response a handler fills. body is malloc'd and owned by the response
 * (the server frees it); content_type and header names/values must be
 * static strings or live until the response is sent (they are copied). */
typedef struct http_resp {
    int status;
    char *body;
    size_t body_len;
    const char *content_type; /* default application/json; charset=utf-8 */
    const char *hdr_name[HTTP_MAX_HEADERS];
    char *hdr_value[HTTP_MAX_HEADERS]; /* owned, freed by the server */
    size_t n_hdr;
} http_resp;

typedef int (*http_handler)(void *ctx, const http_req *req, http_resp *resp);

/* Renders a family's error body (status and message) into resp. */
typedef void (*http_error_renderer)(http_resp *resp, int status, const char *message);

/* A route's path is matched segment by segment: a segment written {name}
 * matches any one non-empty segment, whose (already percent-decoded) value
 * http_req_param returns; every other segment matches exactly. */
typedef struct http_route {
    const char *method; /* exact */
    const char *path;   /* e.g. "/api/token" or "/admin/v1/rooms/{room}" */
    const char *label;  /* route name for logs/audit */
    http_handler fn;
    void *ctx;
    bool json_body;             /* require Content-Type: application/json */
    http_error_renderer errors; /* this family's error shape */
} http_route;

typedef struct http_limits {
    unsigned threads;  /* 0 = number of CPUs */
    size_t max_body;   /* bytes */
    size_t max_header; /* bytes of request line + headers */
    unsigned max_connections;
    unsigned conn_timeout_s;   /* idle or slow connections are cut off */
    unsigned max_conns_per_ip; /* open connections per client address; 0 = no cap */
    unsigned head_timeout_s;   /* a whole request head (connguard.h); 0 = none */
    unsigned body_timeout_s;   /* a whole request body; 0 = none */
} http_limits;

typedef struct http_server http_server;

struct cors_policy;
struct ratelimit;
struct ipnet;

/* The request policy of one configuration snapshot; every pointer is
 * borrowed from the snapshot and stays valid until it is released. */
typedef struct http_policy {
    const struct cors_policy *cors; /* NULL: no CORS headers, preflights refused */
    struct ratelimit *ip_limits;    /* per-client-IP buckets; NULL: no per-IP limit */
    double ip_rate;                 /* tokens per second */
    double ip_burst;
    bool limit_probes;           /* apply the per-IP limit to probe routes too */
    const struct ipnet *trusted; /* proxies whose X-Forwarded-For is believed */
    size_t n_trusted;
    const void *base_ctx; /* routes registered with this ctx ... */
    void *ctx;            /* ... get this one instead (the snapshot's) */
} http_policy;

/* Policy hooks: acquire returns the current policy, held by the request
 * until release is called with it (after the response is queued). */
typedef const http_policy *(*http_policy_acquire)(void *arg);
typedef void (*http_policy_release)(void *arg, const http_policy *p);

/* http_server_new makes a stopped server with no routes. Free with
 * http_server_free. */
int http_server_new(const http_limits *lim, http_server **out);

/* http_server_add registers a route (copied). RK_ETOOBIG past HTTP_MAX_ROUTES. */
int http_server_add(http_server *s, const http_route *r);

/* http_server_add_probe registers a probe route (/healthz, /readyz,
 * /metrics): like http_server_add, but exempt from the per-IP limit unless
 * the policy says limit_probes. */
int http_server_add_probe(http_server *s, const http_route *r);

/* http_server_add_table registers the routes r[0..n) (copied) with
 * http_server_add, or http_server_add_probe when probe; it stops at the
 * first failure and returns it. */
int http_server_add_table(http_server *s, const http_route *r, size_t n, bool probe);

/* http_server_start listens on host:port (port 0 picks one; see
 * http_server_port). why gets the reason on failure. */
int http_server_start(http_server *s, const char *host, uint16_t port, char *why, size_t cap);

/* A dependency check: true while something every route needs (the store's
 * database server) can't be reached. */
typedef bool (*http_unavailable_fn)(void *arg);

#define HTTP_RETRY_UNAVAILABLE_S 5 /* Retry-After of a 503 for a dependency down */

/* http_server_set_unavailable installs the check (before start). An answer
 * that would be a 500 (a handler's, or a held response released as failed)
 * is then, while fn(arg) says true, a 503 in the route's error shape with
 * Retry-After: HTTP_RETRY_UNAVAILABLE_S, so clients and load balancers
 * retry rather than give up. */
void http_server_set_unavailable(http_server *s, http_unavailable_fn fn, void *arg);

/* http_server_port returns the bound port once started. */
uint16_t http_server_port(const http_server *s);

/* http_server_set_policy installs the policy hooks (before start). Without
 * them every request runs with no CORS, no limits and the route's ctx. */
void http_server_set_policy(http_server *s, http_policy_acquire acquire,
                            http_policy_release release, void *arg);

/* http_server_shutdown stops accepting connections, waits up to timeout_ms
 * for the requests in flight to be answered (responses then carry
 * Connection: close), and stops. Returns how many requests were still in
 * flight when it gave up (0 when all finished). */
size_t http_server_shutdown(http_server *s, unsigned timeout_ms);

/* http_server_in_flight returns the number of requests being served. */
size_t http_server_in_flight(http_server *s);

/* http_server_stop stops: handlers may no longer hold responses, the held
 * ones get up to HTTP_HOLD_DRAIN_S seconds to be released and sent (the
 * store commits their audit records meanwhile), then every other request
 * in flight is cut off and the threads are joined. Safe to call twice. */
void http_server_stop(http_server *s);

/* http_server_free stops (if needed) and frees s. NULL is fine. */
void http_server_free(http_server *s);

/* http_req_header returns a request header's value (borrowed) or NULL. */
const char *http_req_header(const http_req *req, const char *name);

/* http_req_param returns the value of the path parameter {name} (borrowed
 * for the handler call) or NULL when the route has no such parameter. */
const char *http_req_param(const http_req *req, const char *name);

/* Holding a response back. A handler whose answer must not leave before
 * some asynchronous work is done (a token must not be sent before its audit
 * record is committed) takes a hold, starts the work, fills resp and
 * returns as usual. The server then keeps resp, frees the worker thread
 * (the connection is suspended) and sends resp only once
 * http_hold_release(h, true) was called, from any thread; with false it
 * sends the route's 500 instead and resp is discarded unsent. Exactly one
 * release per hold, also when the handler fails after taking it. */
typedef struct http_hold http_hold;

/* http_req_hold gives the handler a hold on req's response (owned by the
 * server; valid until released). RK_EINVAL when req already has one, or
 * when the server is stopping: the handler then does its work
 * synchronously. */
int http_req_hold(const http_req *req, http_hold **out);

/* http_hold_release lets the held response go (ok) or replaces it with the
 * route's 500 (!ok). h must not be used afterwards. */
void http_hold_release(http_hold *h, bool ok);
/* http_req_query returns the value of query parameter name (borrowed,
 * decoded) or NULL. */
const char *http_req_query(const http_req *req, const char *name);

/* http_req_query_names stores up to cap query parameter names (borrowed)
 * in names and returns how many the query has (may be more than cap). */
size_t http_req_query_names(const http_req *req, const char **names, size_t cap);

/* Notes for the request log line: the authenticated subject, the jti of
 * the token issued, the reason authentication failed (a static string). */
void http_req_set_subject(const http_req *req, const char *subject);
void http_req_set_jti(const http_req *req, const char *jti);
void http_req_set_auth_fail(const http_req *req, const char *reason);

/* http_req_rate_limited marks the request as refused by a rate limit: the
 * server then answers 429 in the route's error shape with Retry-After:
 * retry_after_s, whatever response the handler built. */
void http_req_rate_limited(const http_req *req, unsigned retry_after_s);

/* http_resp_json sets resp to status with a copy of the JSON text s.
 * Returns RK_ENOMEM on allocation failure (resp left as a bare 500). */
int http_resp_json(http_resp *resp, int status, const char *s, size_t len);

/* http_resp_header adds a response header (value copied). */
int http_resp_header(http_resp *resp, const char *name, const char *value);

/* http_resp_has_header reports whether resp already has a header name
 * (names compared without case). */
bool http_resp_has_header(const http_resp *resp, const char *name);

#endif
