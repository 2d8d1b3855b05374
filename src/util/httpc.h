/* httpc.h - one outbound HTTP request over libcurl, bounded in time and size.
 *
 * Used for the LiveKit server API (src/livekit/) and open to any caller that
 * needs one request and its whole answer: no redirects, TLS peers verified,
 * a total timeout, and a hard cap on the answer's size. libcurl's global
 * initialisation happens once, on first use. */
#ifndef RK_HTTPC_H
#define RK_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#define HTTPC_MAX_HEADERS 8

typedef struct httpc_req {
    const char *url;                        /* http:// or https:// */
    const char *headers[HTTPC_MAX_HEADERS]; /* "Name: value" lines, NULL-ended */
    const char *body;                       /* POST body; NULL makes a GET */
    size_t body_len;
    long timeout_ms;     /* whole transfer, connect included */
    size_t max_answer;   /* bytes; a longer answer fails */
    bool allow_http;     /* else https only */
    const char *ca_file; /* CA bundle; NULL = the system's */
    const char *user_agent;
} httpc_req;

typedef struct httpc_answer {
    long status; /* HTTP status; 0 when no answer came */
    char *body;  /* NUL-terminated, malloc'd: free with httpc_answer_clear */
    size_t len;
    char error[256]; /* transport failure, when the call returned RK_EIO */
} httpc_answer;

/* httpc_do performs r. RK_OK when any HTTP answer arrived (whatever its
 * status: the caller judges it), with *a filled (the caller clears it with
 * httpc_answer_clear). RK_EIO when none did (refused, timed out, TLS; a
 * reason in a->error), RK_ETOOBIG when the answer passed r->max_answer,
 * RK_ENOMEM. On failure nothing is left allocated in *a. */
int httpc_do(const httpc_req *r, httpc_answer *a);

/* httpc_answer_clear frees a's body. Safe on a zeroed answer. */
void httpc_answer_clear(httpc_answer *a);

#endif
