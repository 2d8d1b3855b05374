/* server.h - RoomKey's HTTP/1.1 server on libmicrohttpd: epoll with a
 * thread pool, keep-alive, hard limits (header bytes, body bytes,
 * connections, per-connection idle time), and a small exact-path router
 * that route families plug into with one line each.
 *
 * Handlers run on the pool's threads and must be thread-safe. Each route
 * names its family's error renderer, so 404/405/413/415/400 answers come in
 * that family's shape. */
#ifndef RK_SERVER_H
#define RK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_ROUTES   64
#define HTTP_MAX_HEADERS  8 /* extra response headers */
#define HTTP_MAX_PATH     2048
#define HTTP_MAX_PARAMS   4  /* {name} segments in one route path */
#define HTTP_HOLD_DRAIN_S 10 /* stop waits this long for held responses */

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
    unsigned conn_timeout_s; /* idle or slow connections are cut off */
} http_limits;

typedef struct http_server http_server;

/* http_server_new makes a stopped server with no routes. Free with
 * http_server_free. */
int http_server_new(const http_limits *lim, http_server **out);

/* http_server_add registers a route (copied). RK_ETOOBIG past HTTP_MAX_ROUTES. */
int http_server_add(http_server *s, const http_route *r);

/* http_server_start listens on host:port (port 0 picks one; see
 * http_server_port). why gets the reason on failure. */
int http_server_start(http_server *s, const char *host, uint16_t port, char *why, size_t cap);

/* http_server_port returns the bound port once started. */
uint16_t http_server_port(const http_server *s);

/* http_server_stop stops accepting, lets in-flight requests finish (held
 * responses included, for up to HTTP_HOLD_DRAIN_S seconds) and joins the
 * threads. Safe to call twice. */
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

/* http_resp_json sets resp to status with a copy of the JSON text s.
 * Returns RK_ENOMEM on allocation failure (resp left as a bare 500). */
int http_resp_json(http_resp *resp, int status, const char *s, size_t len);

/* http_resp_header adds a response header (value copied). */
int http_resp_header(http_resp *resp, const char *name, const char *value);

#endif
