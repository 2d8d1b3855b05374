/* minter.c - HS256 LiveKit token signing. */
#include "minter.h"
#include "grant_tmpl.h"
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
/* Grants a minter keeps a payload tail for: a worker thread serving a few
 * busy rooms and roles at once reuses each one's. */
#define MINTER_TEMPLATES 4

struct minter {
    EVP_MAC_CTX *mac; /* the minter's own copy of the signing key's keyed context */
    char *payload;    /* payload JSON scratch (owned) */
    size_t payload_cap;
    char *token; /* output buffer (owned) */
    size_t token_cap;
    size_t token_start; /* bytes of start the token buffer begins with */
    /* {"iss":"<key>","sub": (key ids need no escaping), its length, and
     * the token's start when a payload begins with it: the header, its dot
     * and the base64url of the prefix's first start_bytes bytes (its whole
     * groups of 3). */
    char prefix[KEYRING_MAX_KEY_ID + 24];
    size_t prefix_len, start_bytes, start_len;
    char start[HEADER_DOT_LEN + B64URL_ENCODED_LEN(KEYRING_MAX_KEY_ID + 24) + 1];
    /* ,"iat":<iat>,"nbf":<iat>,"exp":<exp>,"jti":" for times_iat and
     * times_exp (times_len bytes), then the last token's jti and quote */
    char times[96 + MINTER_JTI_LEN];
    size_t times_len;
    int64_t times_iat, times_exp;
    /* payload tails for the last MINTER_TEMPLATES grants minted (owned),
     * replaced in turn */
    grant_tmpl *tmpl[MINTER_TEMPLATES];
    unsigned tmpl_next;
};

int minter_new(const keyring *kr, minter **out)
{
    const keyring_entry *key = keyring_signer(kr);
    if (!key)
        return RK_ENOTFOUND;
    minter *m = calloc(1, sizeof *m);
    if (!m)
        return RK_ENOMEM;
    for (int i = 0; i < MINTER_TEMPLATES; i++)
        if (grant_tmpl_new(&m->tmpl[i])) {
            minter_free(m);
            return RK_ENOMEM;
        }
    if (!(m->mac = EVP_MAC_CTX_dup(key->mac))) {
        minter_free(m);
        return RK_ENOMEM;
    }
    m->prefix_len =
        (size_t)snprintf(m->prefix, sizeof m->prefix, "{\"iss\":\"%s\",\"sub\":", key->id);
    m->start_bytes = m->prefix_len / 3 * 3;
    memcpy(m->start, HEADER_DOT, HEADER_DOT_LEN);
    size_t n;
    b64url_encode((const uint8_t *)m->prefix, m->start_bytes, m->start + HEADER_DOT_LEN,
                  sizeof m->start - HEADER_DOT_LEN, &n);
    m->start_len = HEADER_DOT_LEN + n;
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
    for (int i = 0; i < MINTER_TEMPLATES; i++)
        grant_tmpl_free(m->tmpl[i]);
    EVP_MAC_CTX_free(m->mac); /* OpenSSL wipes its key state */
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

/* put64 writes the low 6 * n bits of v as n characters of SORTED64, most
 * significant first. */
static void put64(uint64_t v, char *out, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = SORTED64[v & 63u];
        v >>= 6;
    }
}

/* jti_make writes a jti into out (MINTER_JTI_LEN bytes, NUL-terminated):
 * MINTER_JTI_TIME_CHARS characters of the wall clock in microseconds (54
 * bits, order-preserving), then MINTER_JTI_RANDOM_BYTES random bytes as
 * base64url characters (6 bits each). The time prefix makes successive
 * jtis sort in issue order, so the audit table's unique jti index grows at
 * its right edge instead of touching a random page per insert; uniqueness
 * and unpredictability come from the random part. The clock is the coarse
 * one (a read costs a few ns where the precise one costs about 30 on a
 * virtual machine): jtis of the same tick (4 ms here) share their time
 * and fall in random order among themselves, all at the index's end. The
 * coarse clock can still be in the second before now (the token's iat,
 * read from the precise clock just after a second began): the time is
 * then the start of now's second, so a jti's time is never before its
 * token's iat. (A now further ahead than that is not the clock's: tests
 * mint at fixed times.) */
static int jti_make(char *out, int64_t now)
{
    uint8_t raw[MINTER_JTI_RANDOM_BYTES];
    int rc = rng_bytes(raw, sizeof raw);
    if (rc)
        return rc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    uint64_t iat_us = now > 0 ? (uint64_t)now * 1000000u : 0;
    if (us < iat_us && iat_us - us <= 1000000u) /* a tick behind iat's second */
        us = iat_us;
    put64(us, out, MINTER_JTI_TIME_CHARS);
    /* 96 bits: two halves of 48 bits, 8 characters each */
    for (int h = 0; h < 2; h++) {
        uint64_t v = 0;
        for (int i = 0; i < 6; i++)
            v = v << 8 | raw[6 * h + i];
        put64(v, out + MINTER_JTI_TIME_CHARS + 8 * h, 8);
    }
    OPENSSL_cleanse(raw, sizeof raw);
    out[MINTER_JTI_LEN - 1] = '\0';
    return RK_OK;
}

/* check_claims checks c (all of it, or only its per-token claims when
 * one of m's templates holds its grants), finds or makes the template c's
 * payload ends in (*tmpl; NULL when c has none) and makes m's buffers big
 * enough. */
static int check_claims(minter *m, const lk_claims *c, grant_tmpl **tmpl, char *why, size_t why_cap)
{
    size_t bound;
    int rc;
    *tmpl = NULL;
    bool usable = grant_tmpl_usable(c);
    for (int i = 0; usable && i < MINTER_TEMPLATES && !*tmpl; i++)
        if (grant_tmpl_matches(m->tmpl[i], c))
            *tmpl = m->tmpl[i];
    if (*tmpl) {
        rc = lk_claims_check_own(c, &bound, why, why_cap);
    } else {
        rc = lk_claims_check(c, &bound, why, why_cap);
        grant_tmpl *t = m->tmpl[m->tmpl_next % MINTER_TEMPLATES];
        /* out of memory for the template: the payload is written whole */
        if (!rc && usable && grant_tmpl_set(t, c, bound) == RK_OK) {
            *tmpl = t;
            m->tmpl_next++;
        }
    }
    if (rc)
        return rc;
    bound += 2 * KEYRING_MAX_KEY_ID + 128; /* iss, jti, numbers */
    size_t tail = *tmpl ? grant_tmpl_encoded_max(*tmpl) : 0;
    const char *token = m->token;
    if ((rc = reserve(&m->payload, &m->payload_cap, bound)) ||
        (rc = reserve(&m->token, &m->token_cap,
                      HEADER_DOT_LEN + B64URL_ENCODED_LEN(bound) + tail + 1 + SIG_B64_LEN + 1)))
        return rc;
    if (m->token != token) /* a new buffer: nothing written yet */
        m->token_start = 0;
    return RK_OK;
}

/* times_jti returns ,"iat":<iat>,"nbf":<iat>,"exp":<exp>,"jti":"<jti>"
 * (borrowed from m; *len its length) for info. The part before the jti
 * is written again only when iat or exp changed: tokens minted in the same
 * second for the same lifetime share it. */
static const char *times_jti(minter *m, const mint_info *info, size_t *len)
{
    if (!m->times_len || m->times_iat != info->iat || m->times_exp != info->exp) {
        jsonw w;
        jsonw_init(&w, m->times, sizeof m->times);
        w.comma = true;
        JSONW_KEY(&w, "iat");
        jsonw_int(&w, info->iat);
        JSONW_KEY(&w, "nbf");
        jsonw_int(&w, info->iat);
        JSONW_KEY(&w, "exp");
        jsonw_int(&w, info->exp);
        JSONW_KEY(&w, "jti");
        jsonw_raw(&w, "\"", 1);
        m->times_len = w.len; /* 3 numbers of 20 characters at most fit */
        m->times_iat = info->iat;
        m->times_exp = info->exp;
    }
    memcpy(m->times + m->times_len, info->jti, MINTER_JTI_LEN - 1);
    m->times[m->times_len + MINTER_JTI_LEN - 1] = '"';
    *len = m->times_len + MINTER_JTI_LEN;
    return m->times;
}

/* raw appends trusted JSON text s[0..n) to w, with no comma before or
 * after it. */
static void raw(jsonw *w, const char *s, size_t n)
{
    w->comma = false;
    jsonw_raw(w, s, n);
    w->comma = false;
}

/* write_payload writes c's payload into m->payload, without its tail when
 * tmpl (the template holds it). *len gets its length. */
static int write_payload(minter *m, const lk_claims *c, const grant_tmpl *tmpl,
                         const mint_info *info, size_t *len)
{
    jsonw w;
    jsonw_init(&w, m->payload, m->payload_cap);
    if (c->identity) {
        raw(&w, m->prefix, m->prefix_len); /* {"iss":"<key>","sub": */
        jsonw_str(&w, c->identity);
    } else {
        raw(&w, m->prefix, m->prefix_len - sizeof ",\"sub\":" + 1); /* {"iss":"<key>" */
    }
    size_t tl;
    const char *t = times_jti(m, info, &tl);
    raw(&w, t, tl);
    w.comma = true;
    lk_claims_write_name(&w, c);
    if (!tmpl) {
        lk_claims_write_rest(&w, c);
        jsonw_obj_close(&w);
    }
    *len = w.len;
    return w.err;
}

/* encode_payload writes the token's signing input into m->token: the
 * header, its dot and the base64url of the payload in m->payload (plen
 * bytes; without its tail when tmpl). When the payload starts with m's
 * whole prefix (with_sub), that prefix's encoding is the token's start
 * (copied only when the last token started otherwise); with a
 * template, the payload's last plen % 3 bytes are encoded with the tail's
 * first. *len gets the length. */
static int encode_payload(minter *m, bool with_sub, grant_tmpl *tmpl, size_t plen, size_t *len)
{
    char *t = m->token;
    size_t from = with_sub ? m->start_bytes : 0;
    size_t n = with_sub ? m->start_len : HEADER_DOT_LEN, enc;
    if (m->token_start != n) { /* the last token started otherwise */
        memcpy(t, m->start, n);
        m->token_start = n;
    }
    size_t carry = tmpl ? plen % 3 : 0;
    int rc = b64url_encode((const uint8_t *)m->payload + from, plen - carry - from, t + n,
                           m->token_cap - n, &enc);
    n += enc;
    if (!rc && tmpl) {
        rc = grant_tmpl_encode(tmpl, m->payload + plen - carry, carry, t + n, m->token_cap - n,
                               &enc);
        n += enc;
    }
    *len = n;
    return rc;
}

int minter_mint(minter *m, const lk_claims *c, int64_t now, int64_t ttl_s, const char **tok,
                size_t *tok_len, mint_info *info, char *why, size_t why_cap)
{
    if (ttl_s < 1 || ttl_s > MINTER_MAX_TTL) {
        if (why_cap)
            snprintf(why, why_cap, "ttl must be between 1 and %lld seconds", MINTER_MAX_TTL);
        return RK_EINVAL;
    }
    grant_tmpl *tmpl;
    int rc = check_claims(m, c, &tmpl, why, why_cap);
    if (rc)
        return rc;
    size_t plen;
    if ((rc = jti_make(info->jti, now)))
        return rc;
    info->iat = now;
    info->exp = now + ttl_s;
    if ((rc = write_payload(m, c, tmpl, info, &plen))) {
        if (why_cap)
            snprintf(why, why_cap, "claims could not be encoded");
        return rc;
    }

    size_t n;
    if ((rc = encode_payload(m, c->identity != NULL, tmpl, plen, &n)))
        return rc;
    char *t = m->token;
    unsigned char sig[32];
    size_t enc;
    if ((rc = keyring_hmac_ctx(m->mac, t, n, sig)))
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
