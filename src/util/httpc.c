/* httpc.c - one outbound HTTP request over libcurl. */
#include "httpc.h"
#include "curl_lib.h"
#include "err.h"
#include "growbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sink collects the answer in a growbuf up to the caller's max_answer;
 * over marks an answer that would pass it. */
typedef struct sink {
    growbuf b;
    bool over;
} sink;

static size_t sink_write(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    int rc = growbuf_append(&s->b, p, n);
    s->over = rc == RK_ETOOBIG;
    return rc ? 0 : n;
}

/* setup applies r to c; headers become *list (the caller frees it). */
static int setup(CURL *c, const httpc_req *r, sink *s, char *err, struct curl_slist **list)
{
    for (int i = 0; i < HTTPC_MAX_HEADERS && r->headers[i]; i++) {
        struct curl_slist *l = libcurl.slist_append(*list, r->headers[i]);
        if (!l)
            return RK_ENOMEM;
        *list = l;
    }
    const char *protos = r->allow_http ? "http,https" : "https";
    bool ok = libcurl.easy_setopt(c, CURLOPT_URL, r->url) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_USERAGENT, r->user_agent) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_ERRORBUFFER, err) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_WRITEDATA, s) == CURLE_OK &&
              libcurl.easy_setopt(c, CURLOPT_HTTPHEADER, *list) == CURLE_OK &&
              (!r->ca_file || libcurl.easy_setopt(c, CURLOPT_CAINFO, r->ca_file) == CURLE_OK);
    if (ok && r->body)
        ok = libcurl.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) ==
                 CURLE_OK &&
             libcurl.easy_setopt(c, CURLOPT_POSTFIELDS, r->body) == CURLE_OK;
    return ok ? RK_OK : RK_EIO;
}

int httpc_do(const httpc_req *r, httpc_answer *a)
{
    memset(a, 0, sizeof *a);
    if (curl_lib_load(a->error, sizeof a->error) != RK_OK)
        return RK_EIO;
    CURL *c = libcurl.easy_init();
    if (!c)
        return RK_ENOMEM;
    char err[CURL_ERROR_SIZE] = "";
    sink s = {.b = {.max = r->max_answer}};
    struct curl_slist *list = NULL;
    int rc = setup(c, r, &s, err, &list);
    if (rc == RK_OK) {
        CURLcode cr = libcurl.easy_perform(c);
        libcurl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
        if (s.over)
            rc = rk_fail(RK_ETOOBIG, a->error, sizeof a->error, "answer over %zu bytes", s.b.max);
        else if (cr != CURLE_OK)
            rc = rk_fail(RK_EIO, a->error, sizeof a->error, "%s",
                         err[0] ? err : libcurl.easy_strerror(cr));
    }
    libcurl.slist_free_all(list);
    libcurl.easy_cleanup(c);
    if (rc != RK_OK) {
        growbuf_free(&s.b);
        a->status = 0;
        return rc;
    }
    a->body = s.b.buf ? s.b.buf : calloc(1, 1); /* the caller's now */
    a->len = s.b.len;
    return a->body ? RK_OK : RK_ENOMEM;
}

void httpc_answer_clear(httpc_answer *a)
{
    free(a->body);
    a->body = NULL;
    a->len = 0;
}
