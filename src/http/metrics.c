/* metrics.c - process-wide atomic counters and their Prometheus text. */
#include "metrics.h"
#include "../util/err.h"
#include "../util/version.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 65 /* route labels and role names, NUL included */

/* The status codes counted one by one; any other is counted by class. */
static const int CODES[] = {200, 201, 204, 301, 302, 304, 400, 401, 403, 404,
                            405, 409, 413, 415, 429, 500, 502, 503, 504};
#define N_CODES   (sizeof CODES / sizeof CODES[0])
#define N_STATUS  (N_CODES + 5) /* + classes 1xx..5xx */
#define N_BUCKETS 15

/* Upper bounds of the latency buckets, microseconds (the last is +Inf). */
static const uint64_t BUCKET_US[N_BUCKETS - 1] = {500,     1000,    2500,    5000,    10000,
                                                  25000,   50000,   100000,  250000,  500000,
                                                  1000000, 2500000, 5000000, 10000000};
static const char *const BUCKET_LE[N_BUCKETS] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                                 "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                                 "1",      "2.5",   "5",      "10",    "+Inf"};

/* One route's counters. */
typedef struct route_stats {
    char label[LABEL_MAX];
    _Atomic uint64_t status[N_STATUS];
    _Atomic uint64_t bucket[N_BUCKETS]; /* non-cumulative; summed when rendered */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t count;
} route_stats;

/* One (route, role) series of the token counter. */
typedef struct token_series {
    char route[LABEL_MAX];
    char role[LABEL_MAX];
    _Atomic uint64_t n;
} token_series;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER; /* guards registration */
static route_stats routes[METRICS_MAX_ROUTES];
static _Atomic size_t n_routes;
static token_series tokens[METRICS_MAX_TOKEN_SERIES];
static _Atomic size_t n_tokens;
static _Atomic uint64_t limited[2];
static _Atomic uint64_t refused_per_ip;
static _Atomic int64_t in_flight;

static void copy_label(char *dst, const char *src)
{
    snprintf(dst, LABEL_MAX, "%s", src ? src : "");
}

/* find_route returns the index of label among the first n routes, or -1. */
static int find_route(const char *label, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(routes[i].label, label, LABEL_MAX - 1) == 0)
            return (int)i;
    return -1;
}

int metrics_route(const char *label)
{
    pthread_mutex_lock(&reg_mu);
    size_t n = atomic_load(&n_routes);
    int i = find_route(label, n);
    if (i < 0) {
        /* The last slot is kept for "other". */
        const char *name = n + 1 < METRICS_MAX_ROUTES ? label : "other";
        i = find_route(name, n);
        if (i < 0) {
            copy_label(routes[n].label, name);
            i = (int)n;
            atomic_store(&n_routes, n + 1);
        }
    }
    pthread_mutex_unlock(&reg_mu);
    return i;
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < N_CODES; i++)
        if (CODES[i] == status)
            return i;
    int cls = status / 100;
    return N_CODES + (size_t)(cls >= 1 && cls <= 5 ? cls - 1 : 4);
}

void metrics_request(int route, int status, uint64_t micros)
{
    if (route < 0)
        route = metrics_route(METRICS_ROUTE_UNMATCHED);
    if ((size_t)route >= atomic_load_explicit(&n_routes, memory_order_acquire))
        return;
    route_stats *r = &routes[route];
    size_t b = 0;
    while (b < N_BUCKETS - 1 && micros > BUCKET_US[b])
        b++;
    atomic_fetch_add_explicit(&r->status[status_index(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, micros, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

/* find_token returns the series of (route, role) among the first n, or NULL. */
static token_series *find_token(const char *route, const char *role, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(tokens[i].route, route, LABEL_MAX - 1) == 0 &&
            strncmp(tokens[i].role, role, LABEL_MAX - 1) == 0)
            return &tokens[i];
    return NULL;
}

void metrics_token_issued(const char *route, const char *role)
{
    route = route ? route : "";
    role = role ? role : "";
    /* Series are only appended, and published by the n_tokens store, so a
     * lookup among the published ones needs no lock. */
    token_series *t =
        find_token(route, role, atomic_load_explicit(&n_tokens, memory_order_acquire));
    if (!t) {
        pthread_mutex_lock(&reg_mu);
        size_t n = atomic_load(&n_tokens);
        t = find_token(route, role, n);
        if (!t && n + 1 >= METRICS_MAX_TOKEN_SERIES)
            t = find_token(route, "other", n);
        if (!t) {
            t = &tokens[n];
            copy_label(t->route, route);
            copy_label(t->role, n + 1 < METRICS_MAX_TOKEN_SERIES ? role : "other");
            atomic_store_explicit(&n_tokens, n + 1, memory_order_release);
        }
        pthread_mutex_unlock(&reg_mu);
    }
    atomic_fetch_add_explicit(&t->n, 1, memory_order_relaxed);
}

void metrics_in_flight(int delta)
{
    atomic_fetch_add_explicit(&in_flight, delta, memory_order_relaxed);
}

void metrics_rate_limited(int scope)
{
    atomic_fetch_add_explicit(&limited[scope == METRICS_SCOPE_SUBJECT], 1, memory_order_relaxed);
}

void metrics_connection_refused(void)
{
    atomic_fetch_add_explicit(&refused_per_ip, 1, memory_order_relaxed);
}

/* ---- text ------------------------------------------------------------- */

void metrics_text_free(metrics_text *t)
{
    free(t->buf);
    t->buf = NULL;
    t->len = t->cap = 0;
}

/* put appends s[0..n) to t, growing it up to METRICS_MAX_TEXT. */
static void put(metrics_text *t, const char *s, size_t n)
{
    if (t->err)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        if (cap > METRICS_MAX_TEXT) {
            t->err = RK_ETOOBIG;
            return;
        }
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->err = RK_ENOMEM;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void putf(metrics_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(metrics_text *t, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        t->err = t->err ? t->err : RK_ETOOBIG;
        return;
    }
    put(t, line, (size_t)n);
}

/* put_label writes label="value" with \, " and newline escaped. */
static void put_label(metrics_text *t, const char *label, const char *value)
{
    putf(t, "%s=\"", label);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            put(t, "\\", 1);
        if (*p == '\n')
            put(t, "\\n", 2);
        else
            put(t, p, 1);
    }
    put(t, "\"", 1);
}

void metrics_header(metrics_text *t, const char *name, const char *type, const char *help)
{
    putf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(metrics_text *t, const char *name, const char *label, const char *value,
                    uint64_t v)
{
    put(t, name, strlen(name));
    if (label) {
        put(t, "{", 1);
        put_label(t, label, value);
        put(t, "}", 1);
    }
    putf(t, " %llu\n", (unsigned long long)v);
}

void metrics_sample2(metrics_text *t, const char *name, const char *l1, const char *v1,
                     const char *l2, const char *v2, uint64_t v)
{
    put(t, name, strlen(name));
    put(t, "{", 1);
    put_label(t, l1, v1);
    put(t, ",", 1);
    put_label(t, l2, v2);
    putf(t, "} %llu\n", (unsigned long long)v);
}

/* status_label writes the code label of status index i into buf. */
static void status_label(size_t i, char *buf, size_t cap)
{
    if (i < N_CODES)
        snprintf(buf, cap, "%d", CODES[i]);
    else
        snprintf(buf, cap, "%zuxx", i - N_CODES + 1);
}

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void render_requests(metrics_text *t, size_t nr)
{
    metrics_header(t, "roomkey_http_requests_total", "counter",
                   "HTTP requests answered, by route and status code.");
    for (size_t r = 0; r < nr; r++) {
        for (size_t i = 0; i < N_STATUS; i++) {
            uint64_t v = load(&routes[r].status[i]);
            if (!v)
                continue;
            char code[8];
            status_label(i, code, sizeof code);
            put(t, "roomkey_http_requests_total{", 28);
            put_label(t, "route", routes[r].label);
            putf(t, ",code=\"%s\"} %llu\n", code, (unsigned long long)v);
        }
    }
}

static void render_latency(metrics_text *t, size_t nr)
{
    const char *name = "roomkey_http_request_duration_seconds";
    metrics_header(t, name, "histogram",
                   "Time from the request's arrival to its response, by route.");
    for (size_t r = 0; r < nr; r++) {
        uint64_t count = load(&routes[r].count);
        if (!count)
            continue;
        uint64_t cum = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cum += load(&routes[r].bucket[b]);
            putf(t, "%s_bucket{", name);
            put_label(t, "route", routes[r].label);
            putf(t, ",le=\"%s\"} %llu\n", BUCKET_LE[b], (unsigned long long)cum);
        }
        uint64_t us = load(&routes[r].sum_us);
        putf(t, "%s_sum{", name);
        put_label(t, "route", routes[r].label);
        putf(t, "} %llu.%06llu\n", (unsigned long long)(us / 1000000),
             (unsigned long long)(us % 1000000));
        putf(t, "%s_count{", name);
        put_label(t, "route", routes[r].label);
        putf(t, "} %llu\n", (unsigned long long)cum);
    }
}

void metrics_render(metrics_text *t)
{
    size_t nr = atomic_load_explicit(&n_routes, memory_order_acquire);
    render_requests(t, nr);
    render_latency(t, nr);
    metrics_header(t, "roomkey_tokens_issued_total", "counter",
                   "LiveKit tokens minted (and audited), by route and role.");
    size_t nt = atomic_load_explicit(&n_tokens, memory_order_acquire);
    for (size_t i = 0; i < nt; i++) {
        put(t, "roomkey_tokens_issued_total{", 28);
        put_label(t, "route", tokens[i].route);
        put(t, ",", 1);
        put_label(t, "role", tokens[i].role);
        putf(t, "} %llu\n", (unsigned long long)load(&tokens[i].n));
    }
    metrics_header(t, "roomkey_rate_limited_total", "counter",
                   "Requests refused with 429, by limiter (client IP or subject).");
    metrics_sample(t, "roomkey_rate_limited_total", "scope", "ip", load(&limited[0]));
    metrics_sample(t, "roomkey_rate_limited_total", "scope", "subject", load(&limited[1]));
    metrics_header(t, "roomkey_http_connections_refused_total", "counter",
                   "Connections closed at once: their client address already had "
                   "server.max_connections_per_ip open.");
    metrics_sample(t, "roomkey_http_connections_refused_total", NULL, NULL, load(&refused_per_ip));
    int64_t f = atomic_load_explicit(&in_flight, memory_order_relaxed);
    metrics_header(t, "roomkey_http_requests_in_flight", "gauge",
                   "Requests received and not yet answered (this scrape included).");
    metrics_sample(t, "roomkey_http_requests_in_flight", NULL, NULL, f > 0 ? (uint64_t)f : 0);
    metrics_header(t, "roomkey_build_info", "gauge",
                   "The running build: its version and commit (the value is always 1).");
    put(t, "roomkey_build_info{", 19);
    put_label(t, "version", rk_version());
    put(t, ",", 1);
    put_label(t, "commit", rk_commit());
    put(t, "} 1\n", 4);
}
