/* jws.c - strict JOSE compact parsing. */
#include "jws.h"
#include "b64url.h"
#include "err.h"

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
    int rc = decode_json(tok, hlen, &out->header);
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
