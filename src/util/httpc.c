/* httpc.c - one outbound HTTP request over libcurl. */
#include "httpc.h"
#include "err.h"
#include "growbuf.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

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
        struct curl_slist *l = curl_slist_append(*list, r->headers[i]);
        if (!l)
            return RK_ENOMEM;
        *list = l;
    }
    const char *protos = r->allow_http ? "http,https" : "https";
    bool ok = curl_easy_setopt(c, CURLOPT_URL, r->url) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_USERAGENT, r->user_agent) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_WRITEDATA, s) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_HTTPHEADER, *list) == CURLE_OK &&
              (!r->ca_file || curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file) == CURLE_OK);
    if (ok && r->body)
        ok =
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) == CURLE_OK &&
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body) == CURLE_OK;
    return ok ? RK_OK : RK_EIO;
}

int httpc_do(const httpc_req *r, httpc_answer *a)
{
    memset(a, 0, sizeof *a);
    pthread_once(&once, global_init);
    if (init_rc != CURLE_OK)
        return rk_fail(RK_EIO, a->error, sizeof a->error, "curl init failed");
    CURL *c = curl_easy_init();
    if (!c)
        return RK_ENOMEM;
    char err[CURL_ERROR_SIZE] = "";
    sink s = {.b = {.max = r->max_answer}};
    struct curl_slist *list = NULL;
    int rc = setup(c, r, &s, err, &list);
    if (rc == RK_OK) {
        CURLcode cr = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
        if (s.over)
            rc = rk_fail(RK_ETOOBIG, a->error, sizeof a->error, "answer over %zu bytes", s.b.max);
        else if (cr != CURLE_OK)
            rc = rk_fail(RK_EIO, a->error, sizeof a->error, "%s",
                         err[0] ? err : curl_easy_strerror(cr));
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
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
