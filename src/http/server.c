/* server.c - HTTP glue on libmicrohttpd: limits, body collection, routing,
 * the request policy (client IP, per-IP limit, CORS), request log and
 * metrics, graceful shutdown. */
#include "server.h"
#include "../util/err.h"
#include "../util/growbuf.h"
#include "../util/ipnet.h"
#include "../util/jsonw.h"
#include "../util/log.h"
#include "../util/rng.h"
#include "../util/text.h"
#include "clientip.h"
#include "connguard.h"
#include "cors.h"
#include "head.h"
#include "metrics.h"
#include "mhd_lib.h"
#include "ratelimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define XFF_MAX_HEADERS 8   /* X-Forwarded-For headers read at most: the last ones */
#define HEAD_MAX_FIELDS 128 /* header fields in one request head */

struct http_server {
    http_limits lim;
    http_route routes[HTTP_MAX_ROUTES];
    int metric[HTTP_MAX_ROUTES]; /* metrics_route index of each route */
    bool probe[HTTP_MAX_ROUTES]; /* registered with http_server_add_probe */
    size_t n_routes;
    struct MHD_Daemon *d;
    connguard *guard; /* per-IP cap and deadlines, while started */
    uint16_t port;
    http_unavailable_fn unavailable; /* NULL: never */
    void *unavailable_arg;
    http_policy_acquire acquire; /* NULL: no policy */
    http_policy_release release;
    void *policy_arg;
    uint32_t id_prefix;       /* random, per process: request ids */
    _Atomic uint64_t next_id; /* request counter */
    _Atomic size_t in_flight; /* requests between arrival and completion */
    _Atomic bool draining;    /* shutting down: answer with Connection: close */
    _Atomic int holds;        /* responses held and not yet sent */
    _Atomic bool no_holds;    /* stopping: handlers may no longer hold */
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
    connguard_conn *gc; /* the connection's guard record (NULL: none) */
    const char *target; /* raw request target in libmicrohttpd's buffer */
    size_t target_len;  /* its length up to the first NUL */
    bool target_bad;    /* it holds %00 */
    bool no_route;      /* its path holds %2F: it names no route (head.h) */
    bool close;         /* close the connection after the answer */
    growbuf body;       /* owned: at most lim.max_body bytes (set in begin) */
    bool too_large;
    const http_policy *pol; /* held from arrival until on_done; NULL = none */
    uint64_t t0_us;         /* arrival, monotonic microseconds */
    char id[32];            /* request id */
    uint8_t addr[16];       /* client address (after trusted proxies) */
    char ip[INET6_ADDRSTRLEN + 1];
    const char *label;   /* route label for the log ("-" until routed) */
    int metric;          /* metrics_route index; -1 = unmatched */
    const char *limited; /* "ip" / "subject" when refused with 429 */
    bool preflight;      /* a CORS preflight (its answer has its own CORS headers) */
    http_req_info info;
    http_hold *hold;         /* set by http_req_hold */
    http_resp held;          /* the response waiting for the hold's release */
    const http_route *route; /* whose error shape a failed hold answers in */
    http_server *srv;
} req_state;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

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
        libmhd.MHD_resume_connection(h->conn);
    pthread_mutex_unlock(&h->mu);
    hold_unref(h);
}

int http_server_new(const http_limits *lim, http_server **out)
{
    http_server *s = calloc(1, sizeof *s);
    if (!s)
        return RK_ENOMEM;
    s->lim = *lim;
    uint8_t r[4] = {0};
    if (rng_bytes(r, sizeof r) != RK_OK) {
        free(s);
        return RK_ECRYPTO;
    }
    s->id_prefix = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
    metrics_route(METRICS_ROUTE_UNMATCHED);
    *out = s;
    return RK_OK;
}

int http_server_add(http_server *s, const http_route *r)
{
    if (s->n_routes == HTTP_MAX_ROUTES)
        return RK_ETOOBIG;
    s->metric[s->n_routes] = metrics_route(r->label);
    s->probe[s->n_routes] = false;
    s->routes[s->n_routes++] = *r;
    return RK_OK;
}

int http_server_add_probe(http_server *s, const http_route *r)
{
    int rc = http_server_add(s, r);
    if (rc == RK_OK)
        s->probe[s->n_routes - 1] = true;
    return rc;
}

int http_server_add_table(http_server *s, const http_route *r, size_t n, bool probe)
{
    int rc = RK_OK;
    for (size_t i = 0; rc == RK_OK && i < n; i++)
        rc = probe ? http_server_add_probe(s, &r[i]) : http_server_add(s, &r[i]);
    return rc;
}

void http_server_set_unavailable(http_server *s, http_unavailable_fn fn, void *arg)
{
    s->unavailable = fn;
    s->unavailable_arg = arg;
}

void http_server_set_policy(http_server *s, http_policy_acquire acquire,
                            http_policy_release release, void *arg)
{
    s->acquire = acquire;
    s->release = release;
    s->policy_arg = arg;
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

bool http_resp_has_header(const http_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->n_hdr; i++)
        if (strcasecmp(resp->hdr_name[i], name) == 0)
            return true;
    return false;
}

const char *http_req_header(const http_req *req, const char *name)
{
    return libmhd.MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND,
                                              name);
}

const char *http_req_query(const http_req *req, const char *name)
{
    return libmhd.MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
                                              MHD_GET_ARGUMENT_KIND, name);
}

/* Collects query parameter names for http_req_query_names. */
typedef struct name_list {
    const char **names;
    size_t cap;
    size_t n;
} name_list;

static enum MHD_Result collect_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind, (void)value;
    name_list *l = cls;
    if (l->n < l->cap)
        l->names[l->n] = key;
    l->n++;
    return MHD_YES;
}

size_t http_req_query_names(const http_req *req, const char **names, size_t cap)
{
    name_list l = {names, cap, 0};
    libmhd.MHD_get_connection_values((struct MHD_Connection *)req->conn, MHD_GET_ARGUMENT_KIND,
                                     collect_name, &l);
    return l.n;
}

void http_req_set_subject(const http_req *req, const char *subject)
{
    if (req->info && subject)
        text_copy(req->info->subject, sizeof req->info->subject, subject);
}

void http_req_set_jti(const http_req *req, const char *jti)
{
    if (req->info && jti)
        text_copy(req->info->jti, sizeof req->info->jti, jti);
}

void http_req_set_auth_fail(const http_req *req, const char *reason)
{
    if (req->info)
        req->info->auth_fail = reason;
}

void http_req_rate_limited(const http_req *req, unsigned retry_after_s)
{
    if (req->info)
        req->info->retry_after = retry_after_s ? retry_after_s : 1;
}

/* Fallback error shape (NestJS's) for requests no route claims. */
static void default_errors(http_resp *resp, int status, const char *message)
{
    const char *reason = status == 404   ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 413 ? "Payload Too Large"
                         : status == 431 ? "Request Header Fields Too Large"
                         : status == 501 ? "Not Implemented"
                         : status == 503 ? "Service Unavailable"
                         : status >= 500 ? "Internal Server Error"
                                         : "Bad Request";
    char buf[2 * HTTP_MAX_PATH + 256]; /* an escaped message of up to HTTP_MAX_PATH + 64 */
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    JSONW_KEY(&w, "statusCode");
    jsonw_int(&w, status);
    JSONW_KEY(&w, "message");
    jsonw_str(&w, message);
    JSONW_KEY(&w, "error");
    jsonw_str(&w, reason);
    jsonw_obj_close(&w);
    if (w.err) /* a message that is not UTF-8, or too long: the reason alone */
        snprintf(buf, sizeof buf, "{\"statusCode\":%d,\"message\":\"%s\",\"error\":\"%s\"}", status,
                 reason, reason);
    http_resp_json(resp, status, buf, strlen(buf));
}

/* A header field of an answer, handed to a header_fn. */
typedef void (*header_fn)(void *ctx, const char *name, const char *value);

/* each_header calls fn with every header field of resp's answer but
 * Content-Length and Date, in order: Content-Type (JSON unless resp says),
 * X-Content-Type-Options, Connection: close when close_conn, resp's own
 * fields, and Cache-Control: no-store unless resp set one. */
static void each_header(const http_resp *resp, bool close_conn, header_fn fn, void *ctx)
{
    fn(ctx, MHD_HTTP_HEADER_CONTENT_TYPE,
       resp->content_type ? resp->content_type : "application/json; charset=utf-8");
    fn(ctx, "X-Content-Type-Options", "nosniff");
    if (close_conn)
        fn(ctx, MHD_HTTP_HEADER_CONNECTION, "close");
    bool cache_set = false; /* a handler may allow caching (console files) */
    for (size_t i = 0; i < resp->n_hdr; i++) {
        cache_set |= strcasecmp(resp->hdr_name[i], MHD_HTTP_HEADER_CACHE_CONTROL) == 0;
        fn(ctx, resp->hdr_name[i], resp->hdr_value[i]);
    }
    if (!cache_set)
        fn(ctx, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

static void mhd_header(void *ctx, const char *name, const char *value)
{
    libmhd.MHD_add_response_header(ctx, name, value);
}

/* send frees resp's buffers in every case and queues the response. */
static enum MHD_Result send_resp(struct MHD_Connection *c, http_resp *resp, bool close_conn)
{
    if (!resp->body) {
        resp->body = strdup("");
        resp->body_len = 0;
    }
    struct MHD_Response *r = NULL;
    if (resp->body)
        r = libmhd.MHD_create_response_from_buffer(resp->body_len, resp->body,
                                                   MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(resp->body);
        for (size_t i = 0; i < resp->n_hdr; i++)
            free(resp->hdr_value[i]);
        return MHD_NO;
    }
    each_header(resp, close_conn, mhd_header, r);
    for (size_t i = 0; i < resp->n_hdr; i++)
        free(resp->hdr_value[i]);
    enum MHD_Result ret = libmhd.MHD_queue_response(c, (unsigned)resp->status, r);
    libmhd.MHD_destroy_response(r);
    return ret;
}

/* An answer written by RoomKey itself rather than by libmicrohttpd. */
#define RAW_ANSWER_MAX 4096
typedef struct raw_answer {
    char buf[RAW_ANSWER_MAX];
    size_t len;
    bool over; /* did not fit */
} raw_answer;

static void raw_put(void *ctx, const char *name, const char *value)
{
    raw_answer *a = ctx;
    int n = snprintf(a->buf + a->len, sizeof a->buf - a->len, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= sizeof a->buf - a->len)
        a->over = true;
    else
        a->len += (size_t)n;
}

/* raw_format writes resp as a whole HTTP/1.1 answer with Connection: close
 * into *a: the same header fields as send_resp's, Content-Length, and Date
 * when date (an answer made once and sent later leaves it out). RK_ETOOBIG
 * when it exceeds RAW_ANSWER_MAX. resp stays the caller's. */
static int raw_format(const http_resp *resp, bool date, raw_answer *a)
{
    const char *reason = libmhd.MHD_get_reason_phrase_for((unsigned)resp->status);
    a->len = (size_t)snprintf(a->buf, sizeof a->buf, "HTTP/1.1 %d %s\r\n", resp->status,
                              reason && *reason ? reason : "Error");
    a->over = false;
    if (date) {
        char when[64];
        struct tm tm;
        time_t now = time(NULL);
        strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
        raw_put(a, MHD_HTTP_HEADER_DATE, when);
    }
    each_header(resp, true, raw_put, a);
    char cl[24];
    snprintf(cl, sizeof cl, "%zu", resp->body_len);
    raw_put(a, MHD_HTTP_HEADER_CONTENT_LENGTH, cl);
    if (a->over || a->len + 2 + resp->body_len > sizeof a->buf)
        return RK_ETOOBIG;
    memcpy(a->buf + a->len, "\r\n", 2);
    a->len += 2;
    if (resp->body_len)
        memcpy(a->buf + a->len, resp->body, resp->body_len);
    a->len += resp->body_len;
    return RK_OK;
}

/* discard_resp frees a response that will not be sent. */
static void discard_resp(http_resp *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->n_hdr; i++)
        free(resp->hdr_value[i]);
    *resp = (http_resp){0};
}

/* server_error renders the route's 500 into resp (replacing what it
 * held), or its 503 with Retry-After while a dependency is unavailable
 * (http_server_set_unavailable). */
static void server_error(http_server *s, http_error_renderer errors, http_resp *resp)
{
    bool down = s->unavailable && s->unavailable(s->unavailable_arg);
    for (size_t i = 0; i < resp->n_hdr; i++)
        free(resp->hdr_value[i]);
    resp->n_hdr = 0;
    free(resp->body);
    resp->body = NULL;
    if (!down) {
        errors(resp, 500, "Internal server error");
        return;
    }
    char secs[16];
    snprintf(secs, sizeof secs, "%u", HTTP_RETRY_UNAVAILABLE_S);
    errors(resp, 503, "Service temporarily unavailable, retry later");
    http_resp_header(resp, "Retry-After", secs);
}

/* when_down: while a dependency is unavailable, a handler's own 500
 * becomes the route's 503, and a handler's 503 gets its Retry-After. */
static void when_down(http_server *s, http_error_renderer errors, http_resp *resp)
{
    if ((resp->status != 500 && resp->status != 503) || !s->unavailable ||
        !s->unavailable(s->unavailable_arg))
        return;
    if (resp->status == 500) {
        server_error(s, errors, resp);
        return;
    }
    if (http_resp_has_header(resp, "Retry-After"))
        return;
    char secs[16];
    snprintf(secs, sizeof secs, "%u", HTTP_RETRY_UNAVAILABLE_S);
    http_resp_header(resp, "Retry-After", secs);
}

static enum MHD_Result finish(http_server *s, struct MHD_Connection *c, req_state *st,
                              const char *method, http_resp *resp);

/* finish_held sends st's held response, or the route's 500 when the hold
 * was released with ok = false, through finish (log line, CORS, metrics). */
static enum MHD_Result finish_held(http_server *s, struct MHD_Connection *c, req_state *st,
                                   const char *method)
{
    http_resp resp = st->held;
    st->held = (http_resp){0};
    if (!st->hold->ok) {
        discard_resp(&resp);
        server_error(s, st->route->errors, &resp);
    }
    atomic_fetch_sub(&s->holds, 1);
    return finish(s, c, st, method, &resp);
}

/* after_handler finishes resp, or, when the handler took a hold, keeps it
 * for hold_wait. It does not suspend the connection itself: libmicrohttpd
 * 0.9.75 keeps a connection suspended in this call waiting to read, and
 * after the resume it reads the end of a half-closed client's stream and
 * closes without answering. Returning without a response makes it wait for
 * the application instead and call again at once (hold_wait). */
static enum MHD_Result after_handler(http_server *s, struct MHD_Connection *c, req_state *st,
                                     const char *method, http_resp *resp)
{
    if (!st->hold)
        return finish(s, c, st, method, resp);
    st->held = *resp;
    return MHD_YES;
}

/* hold_wait runs on the calls after a handler took a hold: it sends the
 * held response once released, else suspends the connection until then. */
static enum MHD_Result hold_wait(http_server *s, struct MHD_Connection *c, req_state *st,
                                 const char *method)
{
    http_hold *h = st->hold;
    pthread_mutex_lock(&h->mu);
    bool done = h->done;
    if (!done && !h->suspended) {
        h->suspended = true;
        libmhd.MHD_suspend_connection(c);
    }
    pthread_mutex_unlock(&h->mu);
    return done ? finish_held(s, c, st, method) : MHD_YES;
}

/* json_content_type accepts "application/json" with optional parameters. */
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

/* peer_addr reads the TCP peer's address as 16 bytes (IPv4 mapped);
 * all zero when unknown. */
static void peer_addr(struct MHD_Connection *c, uint8_t out[16])
{
    memset(out, 0, 16);
    const union MHD_ConnectionInfo *ci =
        libmhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    }
}

/* Collects the last XFF_MAX_HEADERS X-Forwarded-For header values (in
 * order) for client_addr. A proxy may add a header of its own after the
 * client's (HAProxy's option forwardfor) rather than append to one, so the
 * lines dropped are the first ones: those a client can have sent. */
typedef struct xff_list {
    const char *v[XFF_MAX_HEADERS];
    size_t n;
} xff_list;

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    xff_list *l = cls;
    if (strcasecmp(key, "X-Forwarded-For") != 0 || !value)
        return MHD_YES;
    if (l->n == XFF_MAX_HEADERS) {
        memmove(l->v, l->v + 1, (XFF_MAX_HEADERS - 1) * sizeof l->v[0]);
        l->n--;
    }
    l->v[l->n++] = value;
    return MHD_YES;
}

/* client_addr sets st->addr and st->ip: the peer, or the client a trusted
 * proxy reports (clientip.h). */
static void client_addr(struct MHD_Connection *c, req_state *st)
{
    uint8_t peer[16];
    peer_addr(c, peer);
    xff_list l = {.n = 0};
    const http_policy *p = st->pol;
    if (p && p->n_trusted)
        libmhd.MHD_get_connection_values(c, MHD_HEADER_KIND, collect_xff, &l);
    clientip_resolve(peer, p ? p->trusted : NULL, p ? p->n_trusted : 0, l.v, l.n, st->addr);
    ipnet_addr_format(st->addr, st->ip, sizeof st->ip);
}

/* finish completes resp (CORS, request id, Retry-After), writes the
 * request log line, counts the request and queues the response. */
/* account adds the CORS fields and X-Request-Id to resp, writes the
 * request's log line and counts it in the metrics: everything finish does
 * but sending. */
static void account(http_server *s, struct MHD_Connection *c, req_state *st, const char *method,
                    http_resp *resp)
{
    (void)s;
    const http_policy *p = st->pol;
    if (p && p->cors && !st->preflight)
        cors_headers(p->cors, libmhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
                     resp);
    http_resp_header(resp, "X-Request-Id", st->id);
    uint64_t us = now_us() - st->t0_us;
    int status = resp->status ? resp->status : 500;
    const http_req_info *in = &st->info;
    const log_field f[] = {
        {"request_id", st->id, 0},
        {"method", strlen(method) <= 16 ? method : "?", 0},
        {"route", st->label, 0},
        {"status", NULL, status},
        {"duration_us", NULL, (long long)us},
        {"client_ip", st->ip, 0},
        {in->subject[0] ? "subject" : NULL, in->subject, 0},
        {in->jti[0] ? "jti" : NULL, in->jti, 0},
        {in->auth_fail ? "auth_fail" : NULL, in->auth_fail, 0},
        {st->limited ? "rate_limited" : NULL, st->limited, 0},
    };
    log_fields_buffered("info", "request", f, sizeof f / sizeof f[0]);
    metrics_request(st->metric, status, us);
}

static enum MHD_Result finish(http_server *s, struct MHD_Connection *c, req_state *st,
                              const char *method, http_resp *resp)
{
    account(s, c, st, method, resp);
    return send_resp(c, resp, st->close || atomic_load(&s->draining));
}

/* finish_raw answers like finish, but writes the answer to the socket
 * itself and has libmicrohttpd close the connection (MHD_NO): for a head
 * that filled the connection's memory pool, where libmicrohttpd 0.9.75 has
 * no room left to build the answer's header and would close without one.
 * The head is read whole, so nothing of this request is left unread. */
static enum MHD_Result finish_raw(http_server *s, struct MHD_Connection *c, req_state *st,
                                  const char *method, http_resp *resp)
{
    account(s, c, st, method, resp);
    raw_answer *a = malloc(sizeof *a);
    const union MHD_ConnectionInfo *fd =
        libmhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (a && fd && raw_format(resp, true, a) == RK_OK)
        (void)send(fd->connect_fd, a->buf, a->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(a);
    discard_resp(resp);
    return MHD_NO;
}

/* too_many renders a 429 with Retry-After in the family's shape. */
static void too_many(http_error_renderer errors, http_resp *resp, unsigned retry_after)
{
    char msg[64], secs[16];
    snprintf(secs, sizeof secs, "%u", retry_after);
    snprintf(msg, sizeof msg, "Too many requests: retry in %u s", retry_after);
    free(resp->body);
    resp->body = NULL;
    errors(resp, 429, msg);
    http_resp_header(resp, "Retry-After", secs);
}

/* ip_limited applies the per-IP limit; true (and a 429 in resp) when the
 * client has no token left. */
static bool ip_limited(req_state *st, bool probe, http_error_renderer errors, http_resp *resp)
{
    const http_policy *p = st->pol;
    if (!p || !p->ip_limits || (probe && !p->limit_probes))
        return false;
    uint8_t key[16];
    unsigned retry = 0;
    ratelimit_key_ip(st->addr, key);
    ratelimit_rule rule = {p->ip_rate, p->ip_burst};
    if (ratelimit_take(p->ip_limits, key, &rule, ratelimit_now_ms(), &retry) == RK_OK)
        return false;
    metrics_rate_limited(METRICS_SCOPE_IP);
    st->limited = "ip";
    too_many(errors, resp, retry);
    return true;
}

/* path_methods writes the methods of every route whose path matches url
 * into methods (capacity cap, ", "-separated, no repeats; cut to fit) and
 * returns the first such route's index, or -1 when no route has the path. */
static int path_methods(const http_server *s, const char *url, char *methods, size_t cap)
{
    size_t len = 0;
    int first = -1;
    route_params pp;
    methods[0] = '\0';
    for (size_t i = 0; i < s->n_routes; i++) {
        const http_route *r = &s->routes[i];
        if (!path_match(r->path, url, &pp))
            continue;
        if (first < 0)
            first = (int)i;
        if (!strstr(methods, r->method) && len + strlen(r->method) + 3 < cap)
            len += (size_t)snprintf(methods + len, cap - len, "%s%s", len ? ", " : "", r->method);
    }
    return first;
}

/* preflight answers a CORS preflight for url: 204 with the CORS headers,
 * 404 when no route has the path, 403 when the origin or method is not
 * allowed. */
static void preflight(http_server *s, req_state *st, struct MHD_Connection *c, const char *url,
                      http_resp *resp)
{
    char methods[128];
    int i = st->no_route ? -1 : path_methods(s, url, methods, sizeof methods);
    if (i < 0) {
        family_errors(s, url)(resp, 404, "No route for this path");
        return;
    }
    const http_route *r = &s->routes[i];
    http_error_renderer errors = r->errors ? r->errors : default_errors;
    st->label = r->label;
    st->metric = s->metric[i];
    const char *origin = libmhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *want =
        libmhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method");
    if (!cors_preflight(st->pol ? st->pol->cors : NULL, origin, want, methods, resp))
        errors(resp, 403,
               cors_allowed(st->pol ? st->pol->cors : NULL, origin)
                   ? "CORS: method not allowed for this path"
                   : "CORS: origin not allowed");
}

/* no_route answers a request no route takes: 405 (with Allow) when another
 * method of the path has a route (same), else 404. */
static void no_route(http_server *s, const http_route *same, const char *method, const char *url,
                     http_resp *resp)
{
    char msg[HTTP_MAX_PATH + 64];
    if (same) {
        snprintf(msg, sizeof msg, "Method %s not allowed", strlen(method) < 16 ? method : "?");
        same->errors(resp, 405, msg);
        char methods[128]; /* RFC 9110 section 15.5.6: a 405 lists what is allowed */
        if (path_methods(s, url, methods, sizeof methods) >= 0)
            http_resp_header(resp, "Allow", methods);
        return;
    }
    /* Echo the path only when it is plain ASCII without quotes. */
    bool plain = strlen(url) < 256;
    for (const char *p = url; plain && *p; p++)
        plain = *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
    snprintf(msg, sizeof msg, "Cannot %s %s", strlen(method) < 16 ? method : "?",
             plain ? url : "(path)");
    family_errors(s, url)(resp, 404, msg);
}

/* handle runs route r's handler on the request (its path parameters in pp)
 * and answers 500 when it gave no answer, 429 when the per-subject limit
 * refused it. */
static void handle(req_state *st, struct MHD_Connection *c, const http_route *r,
                   const route_params *pp, const char *method, const char *url, http_resp *resp)
{
    http_req req = {
        .method = method,
        .path = url,
        .body = st->body.buf ? st->body.buf : "",
        .body_len = st->body.len,
        .client_ip = st->ip,
        .route = r->label,
        .conn = c,
        .priv = st,
        .n_params = pp->n,
        .request_id = st->id,
        .info = &st->info,
    };
    for (size_t i = 0; i < pp->n; i++) {
        req.param_name[i] = pp->name[i];
        req.param_value[i] = pp->value[i];
    }
    st->route = r; /* a held response that fails answers in r's shape */
    const http_policy *p = st->pol;
    void *ctx = p && p->ctx && r->ctx == p->base_ctx ? p->ctx : r->ctx;
    int rc = r->fn(ctx, &req, resp);
    if (!st->info.retry_after && (!resp->status || (rc != RK_OK && !resp->body)))
        server_error(st->srv, r->errors, resp);
    else
        when_down(st->srv, r->errors, resp);
    if (st->info.retry_after) {
        st->limited = "subject";
        too_many(r->errors, resp, st->info.retry_after);
    }
}

/* route_and_handle answers a complete request: Host check, preflight,
 * per-IP limit, routing (404/405/415), the handler, the per-subject 429. */
static void route_and_handle(http_server *s, req_state *st, struct MHD_Connection *c,
                             const char *url, const char *method, const char *version,
                             http_resp *resp)
{
    /* HTTP/1.1 requires Host (RFC 9112 section 3.2). libmicrohttpd's own
     * check (its strict mode) sends a malformed double response in 0.9.75,
     * so the rule is enforced here, in the route family's error shape. */
    if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
        !libmhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)) {
        family_errors(s, url)(resp, 400, "HTTP/1.1 requests must have a Host header");
        return;
    }
    if (strcmp(method, "OPTIONS") == 0 &&
        libmhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin") &&
        libmhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method")) {
        st->preflight = true;
        if (!ip_limited(st, false, family_errors(s, url), resp))
            preflight(s, st, c, url, resp);
        return;
    }
    const http_route *same = NULL;
    route_params pp;
    const http_route *r = st->no_route ? NULL : find_route(s, method, url, &same, &pp);
    if (r) {
        st->label = r->label;
        st->metric = s->metric[r - s->routes];
    }
    if (ip_limited(st, r && s->probe[r - s->routes],
                   r      ? r->errors
                   : same ? same->errors
                          : family_errors(s, url),
                   resp))
        return;
    if (!r)
        no_route(s, same, method, url, resp);
    else if (r->json_body && !json_content_type(libmhd.MHD_lookup_connection_value(
                                 c, MHD_HEADER_KIND, "Content-Type")))
        r->errors(resp, 415, "Content-Type must be application/json");
    else
        handle(st, c, r, &pp, method, url, resp);
}

/* begin sets up a request's state on libmicrohttpd's first call to the
 * handler: policy, id, client address. st is what on_target made (NULL:
 * allocate here). NULL when out of memory. */
static req_state *begin(http_server *s, struct MHD_Connection *c, req_state *st)
{
    if (!st && !(st = calloc(1, sizeof *st)))
        return NULL;
    st->srv = s;
    st->body.max = s->lim.max_body;
    atomic_fetch_add(&s->in_flight, 1);
    metrics_in_flight(1);
    st->t0_us = now_us();
    st->pol = s->acquire ? s->acquire(s->policy_arg) : NULL;
    snprintf(st->id, sizeof st->id, "%08x-%llx", s->id_prefix,
             (unsigned long long)atomic_fetch_add(&s->next_id, 1) + 1);
    st->label = "-";
    st->metric = -1;
    client_addr(c, st);
    return st;
}

/* on_target runs when libmicrohttpd has read a request line, before it
 * decodes the target: it keeps the raw target's place and length and
 * checks it for %00 (head.h). Its result is the request's state. */
static void *on_target(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls, (void)c;
    req_state *st = calloc(1, sizeof *st);
    if (st && uri) {
        head_verdict v;
        st->target = uri;
        st->target_len = strlen(uri);
        st->target_bad = head_check_target(uri, st->target_len, &v) != RK_OK;
        st->no_route = head_path_has_encoded_slash(uri, st->target_len);
    }
    return st;
}

/* Header fields collected for head_refused. */
typedef struct field_list {
    head_field f[HEAD_MAX_FIELDS];
    size_t n;
} field_list;

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    field_list *l = cls;
    if (l->n < HEAD_MAX_FIELDS)
        l->f[l->n] = (head_field){key, key_size, value ? value : "", value ? value_size : 0};
    l->n++;
    return MHD_YES;
}

/* head_framed says whether the head read by libmicrohttpd 0.9.75 was framed
 * as RoomKey accepts: every line ended by CRLF and nothing hidden in it.
 * That version cuts a line at a NUL byte, accepts a bare LF as a line end
 * and joins folded lines without a word; what it does leave is its buffer,
 * where the request line and the fields lie in order, each line end turned
 * into two NULs. So the head is framed when each field starts two bytes
 * after the end of the line before it and the head ends four bytes after
 * the last one. */
static bool head_framed(const char *start, size_t size, const char *version, const field_list *l)
{
    uintptr_t end = (uintptr_t)start + size;
    uintptr_t at = (uintptr_t)version + strlen(version); /* end of the request line */
    for (size_t i = 0; i < l->n; i++) {
        const head_field *f = &l->f[i];
        if ((uintptr_t)f->name != at + 2 || (uintptr_t)f->value < (uintptr_t)f->name ||
            (uintptr_t)f->value + f->value_len >= end)
            return false;
        at = (uintptr_t)f->value + f->value_len;
    }
    return at + 4 == end;
}

/* head_refused applies head.h's rules and the header size limit to the
 * head libmicrohttpd read; true with the answer's status and message in v
 * when the request is refused. */
static bool head_refused(http_server *s, struct MHD_Connection *c, const req_state *st,
                         const char *method, const char *version, head_verdict *v)
{
    /* On the stack (4 KiB, bounded by HEAD_MAX_FIELDS): a malloc and free
     * per request otherwise. */
    field_list fl;
    field_list *l = &fl;
    const union MHD_ConnectionInfo *hs =
        libmhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t size = hs ? hs->header_size : 0;
    uint64_t cl;
    *v = (head_verdict){400, "Malformed request head"};
    l->n = 0;
    libmhd.MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_field, l);
    bool bad = true;
    if (size > s->lim.max_header || l->n > HEAD_MAX_FIELDS)
        *v = (head_verdict){431, "Request header fields too large"};
    else if (st->target_bad || (st->target && *version &&
                                (uintptr_t)version - 1 - (uintptr_t)st->target != st->target_len))
        *v = (head_verdict){400, "The request target must not contain a NUL byte"};
    else if (!st->target || !head_framed(method, size, version, l))
        *v = (head_verdict){400, "Malformed header field"};
    else
        bad = head_check_method(method, v) != RK_OK ||
              head_check_fields(l->f, l->n, s->lim.max_body, &cl, v) != RK_OK;
    return bad;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    http_server *s = cls;
    req_state *st = *con_cls;
    http_resp resp = {0};
    if (!st || !st->srv) {
        st = begin(s, c, st);
        if (!st)
            return MHD_NO;
        *con_cls = st;
        head_verdict v;
        if (head_refused(s, c, st, method, version, &v)) {
            /* One answer, then the connection is closed (head.h). */
            st->close = true;
            st->too_large = v.status == 413;
            family_errors(s, url)(&resp, v.status, v.message);
            if (v.status == 431)
                return finish_raw(s, c, st, method, &resp);
            return finish(s, c, st, method, &resp);
        }
        const union MHD_ConnectionInfo *sc =
            libmhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        st->gc = sc ? sc->socket_context : NULL;
        connguard_enter(s->guard, st->gc, CONNGUARD_BODY);
        return MHD_YES;
    }
    if (st->hold)
        return hold_wait(s, c, st, method);
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        int rc = st->too_large ? RK_ETOOBIG : growbuf_append(&st->body, upload_data, n);
        if (rc == RK_ETOOBIG)
            st->too_large = true; /* keep draining; answer 413 at the end */
        else if (rc)
            return MHD_NO;
        return MHD_YES;
    }
    connguard_enter(s->guard, st->gc, CONNGUARD_ANSWER);
    if (st->too_large)
        family_errors(s, url)(&resp, 413, "Request body too large");
    else
        route_and_handle(s, st, c, url, method, version, &resp);
    return after_handler(s, c, st, method, &resp);
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
    (void)c, (void)code;
    http_server *s = cls;
    req_state *st = *con_cls;
    if (st && !st->srv) { /* a request line only: the handler never ran */
        free(st);
        *con_cls = NULL;
        return;
    }
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
        if (st->pol && s->release)
            s->release(s->policy_arg, st->pol);
        connguard_enter(s->guard, st->gc, CONNGUARD_HEAD); /* the next request's */
        growbuf_free(&st->body);
        free(st);
        *con_cls = NULL;
        atomic_fetch_sub(&s->in_flight, 1);
        metrics_in_flight(-1);
    }
}

/* peer_trusted says whether addr is a trusted proxy of the current policy
 * (its connections are not counted against the per-IP cap). */
static bool peer_trusted(http_server *s, const uint8_t addr[16])
{
    const http_policy *p = s->acquire ? s->acquire(s->policy_arg) : NULL;
    bool trusted = false;
    for (size_t i = 0; p && i < p->n_trusted && !trusted; i++)
        trusted = ipnet_contains(&p->trusted[i], addr);
    if (p && s->release)
        s->release(s->policy_arg, p);
    return trusted;
}

/* on_connection tells the guard about connections opened and closed. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        connguard_close(s->guard, *socket_context);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fd =
        libmhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    uint8_t addr[16];
    peer_addr(c, addr);
    connguard_conn *gc = NULL;
    if (fd &&
        connguard_open(s->guard, fd->connect_fd, addr, peer_trusted(s, addr), &gc) == RK_ELIMITED)
        metrics_connection_refused();
    *socket_context = gc;
}

/* listen_on makes the listening socket for ai: SO_REUSEADDR (a restart may
 * bind while old connections linger in TIME_WAIT) but never SO_REUSEPORT,
 * so a port another process listens on is refused, not shared. */
static int listen_on(const struct addrinfo *ai, const char *host, uint16_t port, int *fd_out,
                     char *why, size_t cap)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return rk_fail(RK_EIO, why, cap, "cannot listen on %s:%u: %s", host, port, strerror(errno));
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            return rk_fail(RK_EIO, why, cap,
                           "cannot listen on %s:%u: the address is already in use (is another "
                           "roomkey or another server running on this port?)",
                           host, port);
        return rk_fail(RK_EIO, why, cap, "cannot listen on %s:%u: %s", host, port, strerror(e));
    }
    *fd_out = fd;
    return RK_OK;
}

/* refusal_answer renders what a connection over the per-IP cap is sent
 * before it is closed (no request is read: the default error shape) into a
 * new raw_answer (the caller frees it); NULL when out of memory. */
static raw_answer *refusal_answer(void)
{
    raw_answer *a = malloc(sizeof *a);
    http_resp r = {0};
    default_errors(&r, 503, "Too many connections from this client address");
    http_resp_header(&r, "Retry-After", "1");
    if (a && raw_format(&r, false, a) != RK_OK) {
        free(a);
        a = NULL;
    }
    discard_resp(&r);
    return a;
}

int http_server_start(http_server *s, const char *host, uint16_t port, char *why, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char portstr[8];
    if (mhd_lib_load(why, cap) != RK_OK)
        return RK_EIO;
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
    int fd = -1;
    int rc = listen_on(ai, host, port, &fd, why, cap);
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    freeaddrinfo(ai);
    raw_answer *ra = refusal_answer();
    connguard_limits gl = {s->lim.max_conns_per_ip, s->lim.head_timeout_s, s->lim.body_timeout_s,
                           ra ? ra->buf : NULL, ra ? ra->len : 0};
    if (rc == RK_OK && (rc = connguard_new(&gl, &s->guard)) != RK_OK) {
        close(fd);
        snprintf(why, cap, "cannot start the connection watchdog");
    }
    free(ra);
    if (rc != RK_OK)
        return rc;
    /* The per-connection memory pool holds the request line and headers:
     * a request whose headers exceed it is refused by libmicrohttpd.
     * MHD_USE_ITC: required by MHD_quiesce_daemon (graceful shutdown);
     * suspend/resume: held responses (http_req_hold). */
    size_t pool = s->lim.max_header + 4096;
    s->d = libmhd.MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, s->lim.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        s->lim.conn_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, s, MHD_OPTION_URI_LOG_CALLBACK, on_target, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!s->d) {
        close(fd);
        connguard_free(s->guard);
        s->guard = NULL;
        snprintf(why, cap, "cannot start the HTTP server on %s:%u", host, port);
        return RK_EIO;
    }
    struct sockaddr_storage sa;
    socklen_t salen = sizeof sa;
    s->port = port;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
        s->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                                 : ((struct sockaddr_in *)&sa)->sin_port);
    return RK_OK;
}

uint16_t http_server_port(const http_server *s)
{
    return s->port;
}

size_t http_server_in_flight(http_server *s)
{
    return atomic_load(&s->in_flight);
}

size_t http_server_shutdown(http_server *s, unsigned timeout_ms)
{
    if (!s->d)
        return 0;
    atomic_store(&s->draining, true);
    MHD_socket fd = libmhd.MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    uint64_t until = now_us() + (uint64_t)timeout_ms * 1000u;
    while (atomic_load(&s->in_flight) > 0 && now_us() < until) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    size_t left = atomic_load(&s->in_flight);
    http_server_stop(s);
    return left;
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
        libmhd.MHD_stop_daemon(s->d);
        s->d = NULL;
        connguard_free(s->guard);
        s->guard = NULL;
    }
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    http_server_stop(s);
    free(s);
}
