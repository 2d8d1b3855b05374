/* jws.c - strict JOSE compact parsing. */
#include "jws.h"
#include "b64url.h"
#include "err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

int jws_parse_json_object(const char *s, size_t len, json_t **out)
{
    json_error_t jerr;
    json_t *v = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        return RK_EINVAL;
    if (!json_is_object(v)) {
        json_decref(v);
        return RK_EINVAL;
    }
    *out = v;
    return RK_OK;
}

/* decode_json decodes one base64url part and parses it as a JSON object. */
static int decode_json(const char *part, size_t len, json_t **out)
{
    size_t cap = B64URL_DECODED_MAX(len);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        return RK_ENOMEM;
    size_t n;
    int rc = b64url_decode(part, len, buf, cap, &n);
    if (rc == RK_OK)
        rc = jws_parse_json_object((const char *)buf, n, out);
    free(buf);
    return rc;
}

/* The last header this thread parsed, by its encoded bytes. Session JWTs
 * from one issuer carry byte-identical headers (e.g. {"alg":"HS256",
 * "typ":"JWT"}), so most parses reuse the object instead of decoding and
 * parsing it again. Only headers that parsed are kept; the object is shared
 * with callers (jws.h: read-only) and released when the thread exits. */
#define HEADER_CACHE_MAX 256 /* encoded bytes; longer headers are not kept */
typedef struct header_cache {
    size_t len;                 /* of enc; 0 = empty */
    char enc[HEADER_CACHE_MAX]; /* the encoded header */
    json_t *obj;                /* its parse (one reference held here) */
} header_cache;

static _Thread_local header_cache hcache;
static pthread_key_t hcache_key;
static pthread_once_t hcache_once = PTHREAD_ONCE_INIT;
static int hcache_key_ok; /* 0 until the key exists; no caching without it */

/* hcache_release drops a thread's cached header (the key's destructor). */
static void hcache_release(void *p)
{
    header_cache *c = p;
    json_decref(c->obj);
    c->obj = NULL;
    c->len = 0;
}

static void hcache_make_key(void)
{
    hcache_key_ok = pthread_key_create(&hcache_key, hcache_release) == 0;
}

/* header_parse sets *out to a new reference to the parsed header part
 * enc[0..len), from this thread's cache when enc is the last one parsed. */
static int header_parse(const char *enc, size_t len, json_t **out)
{
    if (hcache.obj && hcache.len == len && memcmp(hcache.enc, enc, len) == 0) {
        *out = json_incref(hcache.obj);
        return RK_OK;
    }
    int rc = decode_json(enc, len, out);
    if (rc != RK_OK || len > HEADER_CACHE_MAX)
        return rc;
    pthread_once(&hcache_once, hcache_make_key);
    if (!hcache_key_ok || pthread_setspecific(hcache_key, &hcache) != 0)
        return RK_OK; /* no destructor to release it: don't keep it */
    json_decref(hcache.obj);
    memcpy(hcache.enc, enc, len);
    hcache.len = len;
    hcache.obj = json_incref(*out);
    return RK_OK;
}

int jws_parse(const char *tok, size_t len, jws *out, const char **reason)
{
    memset(out, 0, sizeof *out);
    if (len > JWS_MAX_LEN) {
        *reason = "token too large";
        return RK_ETOOBIG;
    }
    const char *d1 = memchr(tok, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok))) {
        *reason = "not a compact JWS (need exactly three dot-separated parts)";
        return RK_EINVAL;
    }
    size_t hlen = (size_t)(d1 - tok), plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - tok);
    if (hlen == 0 || plen == 0 || slen == 0) {
        *reason = "empty JWS part";
        return RK_EINVAL;
    }
    if (hlen > JWS_MAX_HEADER_LEN) {
        *reason = "header too large";
        return RK_ETOOBIG;
    }
    if (slen > B64URL_ENCODED_LEN(JWS_MAX_SIG_LEN)) {
        *reason = "signature too large";
        return RK_ETOOBIG;
    }
    if (b64url_decode(d2 + 1, slen, out->sig, sizeof out->sig, &out->sig_len) != RK_OK) {
        *reason = "signature is not canonical base64url";
        return RK_EINVAL;
    }
    int rc = header_parse(tok, hlen, &out->header);
    if (rc) {
        *reason = rc == RK_ENOMEM ? "out of memory"
                                  : "header is not canonical base64url of a JSON object";
        return rc;
    }
    rc = decode_json(d1 + 1, plen, &out->payload);
    if (rc) {
        *reason = rc == RK_ENOMEM ? "out of memory"
                                  : "payload is not canonical base64url of a JSON object";
        jws_clear(out);
        return rc;
    }
    out->signing = tok;
    out->signing_len = (size_t)(d2 - tok);
    return RK_OK;
}

void jws_clear(jws *j)
{
    json_decref(j->header);
    json_decref(j->payload);
    j->header = j->payload = NULL;
}
