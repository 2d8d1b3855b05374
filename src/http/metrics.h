/* metrics.h - the process's counters for GET /metrics, in the Prometheus
 * text exposition format (version 0.0.4).
 *
 * Counters are process-wide (one registry, like Prometheus client
 * libraries' default one), lock-free atomics on the request path, and live
 * as long as the process: a config reload does not reset them. Every series
 * set is bounded: routes by METRICS_MAX_ROUTES, (route, role) pairs of the
 * token counter by METRICS_MAX_TOKEN_SERIES (later pairs are counted under
 * role="other"); label values are escaped.
 *
 * Metrics written by metrics_render:
 *   roomkey_http_requests_total{route,code}          counter
 *   roomkey_http_request_duration_seconds{route}     histogram
 *   roomkey_tokens_issued_total{route,role}          counter
 *   roomkey_rate_limited_total{scope="ip"|"subject"} counter
 *   roomkey_http_connections_refused_total           counter (per-IP cap)
 *   roomkey_http_requests_in_flight                  gauge
 *   roomkey_build_info{version,commit}               gauge, always 1
 * Other layers' counters (auth failures, JWKS fetches) are added by the
 * caller with metrics_header / metrics_sample. */
#ifndef RK_METRICS_H
#define RK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_ROUTES       96
#define METRICS_MAX_TOKEN_SERIES 256
#define METRICS_MAX_TEXT         (1024u * 1024) /* the rendered page, bytes */
#define METRICS_ROUTE_UNMATCHED  "unmatched"    /* label of requests no route claims */
#define METRICS_SCOPE_IP         0
#define METRICS_SCOPE_SUBJECT    1

/* metrics_route returns the index of route label (registering it the first
 * time; label is copied). Past METRICS_MAX_ROUTES it returns the index of
 * the label "other". Thread-safe. */
int metrics_route(const char *label);

/* metrics_request counts one answered request of route index route (from
 * metrics_route; -1 = unmatched) with HTTP status and its duration. */
void metrics_request(int route, int status, uint64_t micros);

/* metrics_in_flight adds delta (+1 when a request arrives, -1 when it is
 * done) to the in-flight gauge. */
void metrics_in_flight(int delta);

/* metrics_token_issued counts a minted token for route label and role. */
void metrics_token_issued(const char *route, const char *role);

/* metrics_rate_limited counts a request refused by the limiter of scope
 * METRICS_SCOPE_IP or METRICS_SCOPE_SUBJECT. */
void metrics_rate_limited(int scope);

/* metrics_connection_refused counts a connection closed at once because
 * its client address was at the per-IP connection cap. */
void metrics_connection_refused(void);

/* A bounded, growable text buffer for the page. The first failure (out of
 * memory, or past METRICS_MAX_TEXT) latches in err; later writes do nothing. */
typedef struct metrics_text {
    char *buf; /* owned; NUL-terminated while err is 0 */
    size_t len;
    size_t cap;
    int err; /* RK_OK, RK_ENOMEM or RK_ETOOBIG */
} metrics_text;

/* metrics_text_free frees t's buffer (t itself is the caller's). */
void metrics_text_free(metrics_text *t);

/* metrics_header writes the # HELP and # TYPE lines of one metric. */
void metrics_header(metrics_text *t, const char *name, const char *type, const char *help);

/* metrics_sample writes `name{label="value"} v` (no braces when label is
 * NULL); value is escaped as the format requires. */
void metrics_sample(metrics_text *t, const char *name, const char *label, const char *value,
                    uint64_t v);

/* metrics_sample2 writes `name{l1="v1",l2="v2"} v` (values escaped). */
void metrics_sample2(metrics_text *t, const char *name, const char *l1, const char *v1,
                     const char *l2, const char *v2, uint64_t v);

/* metrics_render appends every metric this module counts to t. */
void metrics_render(metrics_text *t);

#endif
