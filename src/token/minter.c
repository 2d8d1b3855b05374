/* minter.c - HS256 LiveKit token signing. */
#include "minter.h"
#include "../util/b64url.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "../util/rng.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* base64url of {"alg":"HS256","typ":"JWT"} followed by the dot. */
static const char HEADER_DOT[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.";
#define HEADER_DOT_LEN (sizeof HEADER_DOT - 1)
#define SIG_B64_LEN    43 /* 32 bytes */

struct minter {
    const keyring_entry *key; /* signing key (borrowed from the keyring) */
    char *payload;            /* payload JSON scratch (owned) */
    size_t payload_cap;
    char *token; /* output buffer (owned) */
    size_t token_cap;
    char prefix[KEYRING_MAX_KEY_ID + 16]; /* {"iss":"<key>" (key ids need no escaping) */
    size_t prefix_len;
};

int minter_new(const keyring *kr, minter **out)
{
    const keyring_entry *key = keyring_signer(kr);
    if (!key)
        return RK_ENOTFOUND;
    minter *m = calloc(1, sizeof *m);
    if (!m)
        return RK_ENOMEM;
    m->key = key;
    m->prefix_len = (size_t)snprintf(m->prefix, sizeof m->prefix, "{\"iss\":\"%s\"", key->id);
    *out = m;
    return RK_OK;
}

void minter_free(minter *m)
{
    if (!m)
        return;
    if (m->payload)
        OPENSSL_cleanse(m->payload, m->payload_cap);
    if (m->token)
        OPENSSL_cleanse(m->token, m->token_cap);
    free(m->payload);
    free(m->token);
    free(m);
}

/* reserve grows *buf to at least need bytes; contents are not kept. */
static int reserve(char **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return RK_OK;
    size_t n = need < 4096 ? 4096 : need;
    char *p = malloc(n);
    if (!p)
        return RK_ENOMEM;
    if (*buf)
        OPENSSL_cleanse(*buf, *cap);
    free(*buf);
    *buf = p;
    *cap = n;
    return RK_OK;
}

/* The 64 base64url characters in byte order, so that encoding a number with
 * them keeps numeric order in a byte-wise (C collation) comparison. */
static const char SORTED64[] = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/* jti_make writes a jti into out (MINTER_JTI_LEN bytes, NUL-terminated) and
 * its length into *len: MINTER_JTI_TIME_CHARS characters of the wall clock in
 * microseconds (54 bits, order-preserving), then base64url of
 * MINTER_JTI_RANDOM_BYTES random bytes. The time prefix makes successive jtis
 * sort in issue order, so the audit table's unique jti index grows at its
 * right edge instead of touching a random page per insert; uniqueness and
 * unpredictability come from the random part. */
static int jti_make(char *out, size_t *len)
{
    uint8_t raw[MINTER_JTI_RANDOM_BYTES];
    int rc = rng_bytes(raw, sizeof raw);
    if (rc)
        return rc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    for (int i = MINTER_JTI_TIME_CHARS - 1; i >= 0; i--) {
        out[i] = SORTED64[us & 63u];
        us >>= 6;
    }
    size_t rlen;
    b64url_encode(raw, sizeof raw, out + MINTER_JTI_TIME_CHARS,
                  MINTER_JTI_LEN - MINTER_JTI_TIME_CHARS, &rlen);
    *len = MINTER_JTI_TIME_CHARS + rlen;
    return RK_OK;
}

int minter_mint(minter *m, const lk_claims *c, int64_t now, int64_t ttl_s, const char **tok,
                size_t *tok_len, mint_info *info, char *why, size_t why_cap)
{
    if (ttl_s < 1 || ttl_s > MINTER_MAX_TTL) {
        if (why_cap)
            snprintf(why, why_cap, "ttl must be between 1 and %lld seconds", MINTER_MAX_TTL);
        return RK_EINVAL;
    }
    size_t bound;
    int rc = lk_claims_check(c, &bound, why, why_cap);
    if (rc)
        return rc;
    bound += 2 * KEYRING_MAX_KEY_ID + 128; /* iss, jti, numbers */
    if ((rc = reserve(&m->payload, &m->payload_cap, bound)) ||
        (rc = reserve(&m->token, &m->token_cap,
                      HEADER_DOT_LEN + B64URL_ENCODED_LEN(bound) + 1 + SIG_B64_LEN + 1)))
        return rc;

    size_t jti_len;
    if ((rc = jti_make(info->jti, &jti_len)))
        return rc;
    info->iat = now;
    info->exp = now + ttl_s;

    jsonw w;
    jsonw_init(&w, m->payload, m->payload_cap);
    jsonw_raw(&w, m->prefix, m->prefix_len); /* {"iss":"<key>" */
    w.comma = true;
    if (c->identity) {
        JSONW_KEY(&w, "sub");
        jsonw_str(&w, c->identity);
    }
    JSONW_KEY(&w, "iat");
    jsonw_int(&w, now);
    JSONW_KEY(&w, "nbf");
    jsonw_int(&w, now);
    JSONW_KEY(&w, "exp");
    jsonw_int(&w, info->exp);
    JSONW_KEY(&w, "jti");
    jsonw_strn(&w, info->jti, jti_len);
    lk_claims_write(&w, c);
    jsonw_obj_close(&w);
    if (w.err) {
        if (why_cap)
            snprintf(why, why_cap, "claims could not be encoded");
        return w.err;
    }

    char *t = m->token;
    memcpy(t, HEADER_DOT, HEADER_DOT_LEN);
    size_t n = HEADER_DOT_LEN, enc;
    rc = b64url_encode((const uint8_t *)m->payload, w.len, t + n, m->token_cap - n, &enc);
    if (rc)
        return rc;
    n += enc;

    unsigned char sig[32];
    if ((rc = keyring_hmac(m->key, t, n, sig)))
        return rc;
    t[n++] = '.';
    rc = b64url_encode(sig, sizeof sig, t + n, m->token_cap - n, &enc);
    if (rc)
        return rc;
    n += enc;
    *tok = t;
    *tok_len = n;
    return RK_OK;
}
