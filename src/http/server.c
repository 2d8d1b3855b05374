/* server.c - HTTP glue on libmicrohttpd: limits, body collection, routing. */
#include "server.h"
#include "../util/err.h"
#include "../util/log.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
    http_limits lim;
    http_route routes[HTTP_MAX_ROUTES];
    size_t n_routes;
    struct MHD_Daemon *d;
    uint16_t port;
    _Atomic int holds;     /* responses held and not yet sent */
    _Atomic bool no_holds; /* stopping: handlers may no longer hold */
};

/* A held response's rendezvous between the worker thread (which suspends
 * the connection unless the release came first) and the releasing thread
 * (which resumes it if it was suspended). Freed by whichever side drops the
 * last of the two references. */
struct http_hold {
    pthread_mutex_t mu;
    bool done, ok, suspended;
    _Atomic int refs;
    struct MHD_Connection *conn;
};

/* Per-request state kept between libmicrohttpd's calls (owned, freed in
 * on_done). */
typedef struct req_state {
    char *body; /* NUL-terminated, at most lim.max_body bytes */
    size_t len;
    size_t cap;
    bool too_large;
    http_hold *hold;         /* set by http_req_hold */
    http_resp held;          /* the response waiting for the hold's release */
    const http_route *route; /* whose error shape a failed hold answers in */
    http_server *srv;
} req_state;

static void hold_unref(http_hold *h)
{
    if (atomic_fetch_sub(&h->refs, 1) == 1) {
        pthread_mutex_destroy(&h->mu);
        free(h);
    }
}

int http_req_hold(const http_req *req, http_hold **out)
{
    req_state *st = req->priv;
    if (!st || st->hold)
        return RK_EINVAL;
    /* Count first, then look at the flag: http_server_stop sets the flag,
     * then waits for the count to reach zero, so no hold slips past it. */
    atomic_fetch_add(&st->srv->holds, 1);
    http_hold *h = atomic_load(&st->srv->no_holds) ? NULL : calloc(1, sizeof *h);
    if (!h) {
        atomic_fetch_sub(&st->srv->holds, 1);
        return RK_EINVAL;
    }
    pthread_mutex_init(&h->mu, NULL);
    atomic_init(&h->refs, 2); /* the request's and the releaser's */
    h->conn = req->conn;
    st->hold = h;
    *out = h;
    return RK_OK;
}

void http_hold_release(http_hold *h, bool ok)
{
    pthread_mutex_lock(&h->mu);
    h->done = true;
    h->ok = ok;
    if (h->suspended && h->conn) /* conn is NULL once the request is gone */
        MHD_resume_connection(h->conn);
    pthread_mutex_unlock(&h->mu);
    hold_unref(h);
}

int http_server_new(const http_limits *lim, http_server **out)
{
    http_server *s = calloc(1, sizeof *s);
    if (!s)
        return RK_ENOMEM;
    s->lim = *lim;
    *out = s;
    return RK_OK;
}

int http_server_add(http_server *s, const http_route *r)
{
    if (s->n_routes == HTTP_MAX_ROUTES)
        return RK_ETOOBIG;
    s->routes[s->n_routes++] = *r;
    return RK_OK;
}

int http_resp_json(http_resp *resp, int status, const char *s, size_t len)
{
    char *b = malloc(len + 1);
    resp->status = status;
    if (!b) {
        resp->status = 500;
        return RK_ENOMEM;
    }
    memcpy(b, s, len);
    b[len] = '\0';
    free(resp->body);
    resp->body = b;
    resp->body_len = len;
    return RK_OK;
}

int http_resp_header(http_resp *resp, const char *name, const char *value)
{
    if (resp->n_hdr == HTTP_MAX_HEADERS)
        return RK_ETOOBIG;
    char *v = strdup(value);
    if (!v)
        return RK_ENOMEM;
    resp->hdr_name[resp->n_hdr] = name;
    resp->hdr_value[resp->n_hdr] = v;
    resp->n_hdr++;
    return RK_OK;
}

const char *http_req_header(const http_req *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

/* Fallback error shape (NestJS's) for requests no route claims. */
static void default_errors(http_resp *resp, int status, const char *message)
{
    const char *reason = status == 404   ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                                         : "Bad Request";
    char buf[HTTP_MAX_PATH + 256];
    int n = snprintf(buf, sizeof buf, "{\"statusCode\":%d,\"message\":\"%s\",\"error\":\"%s\"}",
                     status, message, reason);
    http_resp_json(resp, status, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* send frees resp's buffers in every case and queues the response. */
static enum MHD_Result send_resp(struct MHD_Connection *c, http_resp *resp)
{
    if (!resp->body) {
        resp->body = strdup("");
        resp->body_len = 0;
    }
    struct MHD_Response *r = NULL;
    if (resp->body)
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(resp->body);
        for (size_t i = 0; i < resp->n_hdr; i++)
            free(resp->hdr_value[i]);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type
                                               : "application/json; charset=utf-8");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (size_t i = 0; i < resp->n_hdr; i++) {
        MHD_add_response_header(r, resp->hdr_name[i], resp->hdr_value[i]);
        free(resp->hdr_value[i]);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* json_content_type accepts "application/json" with optional parameters. */
/* discard_resp frees a response that will not be sent. */
static void discard_resp(http_resp *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->n_hdr; i++)
        free(resp->hdr_value[i]);
    *resp = (http_resp){0};
}

/* finish_held sends st's held response, or the route's 500 when the hold
 * was released with ok = false. */
static enum MHD_Result finish_held(struct MHD_Connection *c, req_state *st)
{
    http_resp resp = st->held;
    st->held = (http_resp){0};
    if (!st->hold->ok) {
        discard_resp(&resp);
        st->route->errors(&resp, 500, "Internal server error");
    }
    atomic_fetch_sub(&st->srv->holds, 1);
    return send_resp(c, &resp);
}

/* after_handler sends resp, or, when the handler took a hold, keeps it and
 * suspends the connection until the release (unless it already came). */
static enum MHD_Result after_handler(struct MHD_Connection *c, req_state *st, const http_route *r,
                                     http_resp *resp)
{
    if (!st->hold)
        return send_resp(c, resp);
    st->held = *resp;
    st->route = r;
    http_hold *h = st->hold;
    pthread_mutex_lock(&h->mu);
    bool done = h->done;
    if (!done) {
        h->suspended = true;
        MHD_suspend_connection(c);
    }
    pthread_mutex_unlock(&h->mu);
    return done ? finish_held(c, st) : MHD_YES;
}

static bool json_content_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Path parameters captured while matching a route (values point into buf). */
typedef struct route_params {
    char buf[HTTP_MAX_PATH + 1];
    size_t n;
    const char *name[HTTP_MAX_PARAMS];
    const char *value[HTTP_MAX_PARAMS];
} route_params;

/* path_match matches path against pattern segment by segment ({name}
 * matches one non-empty segment) and fills pp with the captured values. */
static bool path_match(const char *pattern, const char *path, route_params *pp)
{
    size_t used = 0;
    pp->n = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t vlen = strcspn(path, "/");
            if (!close || vlen == 0 || pp->n == HTTP_MAX_PARAMS || used + vlen + 1 > sizeof pp->buf)
                return false;
            memcpy(pp->buf + used, path, vlen);
            pp->buf[used + vlen] = '\0';
            pp->name[pp->n] = pattern + 1;
            pp->value[pp->n++] = pp->buf + used;
            used += vlen + 1;
            pattern = close + 1;
            path += vlen;
            continue;
        }
        if (*pattern++ != *path++)
            return false;
    }
    return *pattern == '\0' && *path == '\0';
}

static const http_route *find_route(const http_server *s, const char *method, const char *path,
                                    const http_route **same_path, route_params *pp)
{
    *same_path = NULL;
    for (size_t i = 0; i < s->n_routes; i++) {
        if (!path_match(s->routes[i].path, path, pp))
            continue;
        if (strcmp(s->routes[i].method, method) == 0)
            return &s->routes[i];
        *same_path = &s->routes[i];
    }
    return NULL;
}

const char *http_req_param(const http_req *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_params; i++)
        if (strncmp(req->param_name[i], name, n) == 0 && req->param_name[i][n] == '}')
            return req->param_value[i];
    return NULL;
}

/* family_errors picks the error renderer of the route whose path matches
 * path, else of the route family whose paths share the longest prefix with
 * path (so /api/livekit/nope answers in the livekit family's shape). */
static http_error_renderer family_errors(const http_server *s, const char *path)
{
    http_error_renderer best = default_errors;
    size_t best_len = 0;
    route_params pp;
    for (size_t i = 0; i < s->n_routes; i++)
        if (path_match(s->routes[i].path, path, &pp))
            return s->routes[i].errors ? s->routes[i].errors : default_errors;
    for (size_t i = 0; i < s->n_routes; i++) {
        const char *p = s->routes[i].path, *slash = strrchr(p, '/');
        size_t prefix = slash ? (size_t)(slash - p) : 0;
        if (prefix > best_len && strncmp(p, path, prefix) == 0 && path[prefix] == '/') {
            best = s->routes[i].errors ? s->routes[i].errors : default_errors;
            best_len = prefix;
        }
    }
    return best;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    http_server *s = cls;
    req_state *st = *con_cls;
    http_resp resp = {0};
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        st->srv = s;
        *con_cls = st;
        /* Refuse a declared oversized body before reading any of it. */
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            unsigned long long v = strtoull(cl, &end, 10);
            if (*end == '\0' && v > s->lim.max_body) {
                st->too_large = true;
                family_errors(s, url)(&resp, 413, "Request body too large");
                return send_resp(c, &resp);
            }
        }
        return MHD_YES;
    }
    if (st->hold) /* resumed: the hold was released */
        return st->hold->done ? finish_held(c, st) : MHD_YES;
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (st->too_large || st->len + n > s->lim.max_body) {
            st->too_large = true;
            return MHD_YES; /* keep draining; answer 413 at the end */
        }
        if (st->len + n + 1 > st->cap) {
            size_t cap = st->cap ? st->cap : 1024;
            while (cap < st->len + n + 1)
                cap *= 2;
            if (cap > s->lim.max_body + 1)
                cap = s->lim.max_body + 1;
            char *b = realloc(st->body, cap);
            if (!b)
                return MHD_NO;
            st->body = b;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        st->body[st->len] = '\0';
        return MHD_YES;
    }
    if (st->too_large) {
        family_errors(s, url)(&resp, 413, "Request body too large");
        return send_resp(c, &resp);
    }

    /* HTTP/1.1 requires Host (RFC 9112 section 3.2). libmicrohttpd's own
     * check (its strict mode) sends a malformed double response in 0.9.75,
     * so the rule is enforced here, in the route family's error shape. */
    if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
        !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)) {
        family_errors(s, url)(&resp, 400, "HTTP/1.1 requests must have a Host header");
        return send_resp(c, &resp);
    }
    const http_route *same = NULL;
    route_params pp;
    const http_route *r = find_route(s, method, url, &same, &pp);
    if (!r) {
        char msg[HTTP_MAX_PATH + 64];
        if (same) {
            snprintf(msg, sizeof msg, "Method %s not allowed", method);
            same->errors(&resp, 405, msg);
        } else {
            /* Echo the path only when it is plain ASCII without quotes. */
            bool plain = strlen(url) < 256;
            for (const char *p = url; plain && *p; p++)
                plain = *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
            snprintf(msg, sizeof msg, "Cannot %s %s", strlen(method) < 16 ? method : "?",
                     plain ? url : "(path)");
            family_errors(s, url)(&resp, 404, msg);
        }
        return send_resp(c, &resp);
    }
    if (r->json_body &&
        !json_content_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"))) {
        r->errors(&resp, 415, "Content-Type must be application/json");
        return send_resp(c, &resp);
    }
    char ip[INET6_ADDRSTRLEN + 1];
    client_ip(c, ip, sizeof ip);
    http_req req = {
        .method = method,
        .path = url,
        .body = st->body ? st->body : "",
        .body_len = st->len,
        .client_ip = ip,
        .route = r->label,
        .conn = c,
        .priv = st,
        .n_params = pp.n,
    };
    for (size_t i = 0; i < pp.n; i++) {
        req.param_name[i] = pp.name[i];
        req.param_value[i] = pp.value[i];
    }
    if (r->fn(r->ctx, &req, &resp) != RK_OK && !resp.body)
        r->errors(&resp, 500, "Internal server error");
    return after_handler(c, st, r, &resp);
}

/* mhd_log turns libmicrohttpd's messages into JSON log lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_event("warn", "http", "detail", msg, NULL);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c, (void)code;
    req_state *st = *con_cls;
    if (st) {
        if (st->hold) {
            pthread_mutex_lock(&st->hold->mu);
            st->hold->conn = NULL;
            pthread_mutex_unlock(&st->hold->mu);
            if (st->held.status) /* never sent (connection closed or daemon stopped) */
                atomic_fetch_sub(&st->srv->holds, 1);
            discard_resp(&st->held);
            hold_unref(st->hold);
        }
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

int http_server_start(http_server *s, const char *host, uint16_t port, char *why, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(why, cap, "cannot resolve listen address %s: %s", host, gai_strerror(gai));
        return RK_EINVAL;
    }
    unsigned threads = s->lim.threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    /* The per-connection memory pool holds the request line and headers:
     * a request whose headers exceed it is refused by libmicrohttpd. */
    size_t pool = s->lim.max_header + 4096;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
                            s->lim.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                            s->lim.conn_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->d) {
        snprintf(why, cap, "cannot listen on %s:%u (address in use or not permitted?)", host, port);
        return RK_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : port;
    return RK_OK;
}

uint16_t http_server_port(const http_server *s)
{
    return s->port;
}

void http_server_stop(http_server *s)
{
    if (s->d) {
        /* Held responses wait for work on other threads (audit commits):
         * from now on handlers wait for that work themselves, and the ones
         * already held get time to be released and sent, since
         * libmicrohttpd can't stop with suspended connections. */
        atomic_store(&s->no_holds, true);
        for (int i = 0; i < HTTP_HOLD_DRAIN_S * 1000 && atomic_load(&s->holds) > 0; i++)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
        MHD_stop_daemon(s->d);
        s->d = NULL;
    }
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    http_server_stop(s);
    free(s);
}
