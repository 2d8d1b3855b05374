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

/* base64url of {"alg":"HS256","typ":"JWT"} followed by the dot. */
static const char HEADER_DOT[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.";
#define HEADER_DOT_LEN (sizeof HEADER_DOT - 1)
#define SIG_B64_LEN    43 /* 32 bytes */

struct minter {
    const keyring_entry *key; /* signing key (borrowed from the keyring) */
    EVP_MAC_CTX *mac;         /* this thread's keyed HMAC context (owned) */
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
    m->mac = EVP_MAC_CTX_dup(key->mac);
    if (!m->mac) {
        free(m);
        return RK_ECRYPTO;
    }
    *out = m;
    return RK_OK;
}

void minter_free(minter *m)
{
    if (!m)
        return;
    EVP_MAC_CTX_free(m->mac);
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

    uint8_t jti_raw[16];
    if ((rc = rng_bytes(jti_raw, sizeof jti_raw)))
        return rc;
    size_t jti_len;
    b64url_encode(jti_raw, sizeof jti_raw, info->jti, sizeof info->jti, &jti_len);
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
    size_t sig_len = 0;
    if (EVP_MAC_init(m->mac, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(m->mac, (const unsigned char *)t, n) != 1 ||
        EVP_MAC_final(m->mac, sig, &sig_len, sizeof sig) != 1 || sig_len != sizeof sig)
        return RK_ECRYPTO;
    t[n++] = '.';
    rc = b64url_encode(sig, sizeof sig, t + n, m->token_cap - n, &enc);
    if (rc)
        return rc;
    n += enc;
    *tok = t;
    *tok_len = n;
    return RK_OK;
}
