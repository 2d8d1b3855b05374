/* jwks.c - JSON Web Key Sets (RFC 7517) for verifying session JWTs.
 *
 * Parses a JWKS document into OpenSSL public keys (RSA, EC P-256, Ed25519),
 * loads it from a file or fetches it over https with libcurl (bounded in size
 * and time, cached, re-fetched on an unknown kid at most once per cooldown),
 * and checks RS256/PS256/ES256/EdDSA signatures with the EVP API.
 *
 * Thread model: the current keys are an immutable, reference-counted keyset.
 * A mutex guards the pointer to it and the fetch bookkeeping; verifiers take
 * a reference under the lock and verify without it. At most one fetch runs
 * at a time (the "fetching" flag); the thread that claims it fetches without
 * the lock while others keep using the old set, and a thread that needs the
 * result (unknown kid) waits on a condition variable instead of fetching
 * again. A failed fetch leaves the last good set in place. */
#include "jwks.h"
#include "../util/b64url.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/httpc.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KID_MAX         256  /* bytes of a kid; keys with longer ones are skipped */
#define SOURCE_MAX      4096 /* bytes of a file path or URL */
#define RSA_MIN_BITS    2048
#define RSA_MAX_BITS    8192
#define RSA_N_MAX       (RSA_MAX_BITS / 8 + 1) /* one leading zero octet tolerated */
#define RSA_E_MAX       8                      /* bytes of a public exponent */
#define P256_COORD      32
#define ED25519_LEN     32
#define JOSE_ES256_LEN  64
#define ED25519_SIG_LEN 64
#define DER_SIG_MAX     80 /* DER ECDSA-Sig-Value of two 256-bit integers is at most 72 */
#define TIMEOUT_MAX_MS  600000
#define NEVER           INT64_MIN

enum kty { KTY_NONE = 0, KTY_RSA, KTY_EC, KTY_OKP };
enum alg { ALG_ANY = 0, ALG_RS256, ALG_PS256, ALG_ES256, ALG_EDDSA, ALG_OTHER };

typedef struct jkey {
    char *kid; /* owned (malloc); NULL when the JWK has no kid */
    enum kty kty;
    enum alg alg;   /* the JWK's own "alg"; ALG_ANY when absent */
    EVP_PKEY *pkey; /* owned */
} jkey;

/* An immutable key set shared by reference count: jwks holds one reference,
 * each verify in progress holds one. The last set_unref frees it. */
typedef struct keyset {
    atomic_uint refs;
    size_t n;
    jkey keys[JWKS_MAX_KEYS];
} keyset;

struct jwks {
    char *url;     /* owned; NULL for a file or a fixed set (no refresh) */
    char *ca_file; /* owned copy of opts->ca_file, or NULL */
    int allow_http;
    int64_t refresh_s, cooldown_s, timeout_ms;

    pthread_mutex_t mu;      /* guards everything below */
    pthread_cond_t fetch_cv; /* signalled when a fetch ends */
    keyset *set;             /* never NULL; jwks owns one reference */
    int fetching;            /* a thread is fetching; no one else may start */
    int64_t last_attempt;    /* "now" of the last fetch attempt, NEVER if none */
    int64_t last_good;       /* time of the last successful load, NEVER if none */
    uint64_t fetches;        /* fetch attempts */
};

/* ---- key sets ---------------------------------------------------------- */

/* set_new returns an empty set with one reference (owned by the caller), or
 * NULL when out of memory. */
static keyset *set_new(void)
{
    keyset *s = calloc(1, sizeof *s);
    if (s)
        atomic_init(&s->refs, 1);
    return s;
}

/* set_ref adds a reference to s; the caller must already hold one or hold
 * the jwks mutex that protects the owning pointer. Returns s. */
static keyset *set_ref(keyset *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

/* set_unref drops one reference; the last one frees the keys and the set. */
static void set_unref(keyset *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->keys[i].kid);
        EVP_PKEY_free(s->keys[i].pkey);
    }
    free(s);
}

/* ---- algorithms -------------------------------------------------------- */

/* alg_from_name maps a JOSE alg name to ALG_*, ALG_OTHER when unsupported
 * (or NULL). Matching is exact, as JOSE names are case-sensitive. */
static enum alg alg_from_name(const char *name)
{
    static const char *const NAMES[ALG_OTHER] = {
        [ALG_RS256] = "RS256", [ALG_PS256] = "PS256", [ALG_ES256] = "ES256", [ALG_EDDSA] = "EdDSA"};
    for (enum alg a = ALG_RS256; name && a < ALG_OTHER; a++)
        if (strcmp(name, NAMES[a]) == 0)
            return a;
    return ALG_OTHER;
}

/* alg_kty is the only key type that can verify alg. */
static enum kty alg_kty(enum alg a)
{
    switch (a) {
    case ALG_RS256:
    case ALG_PS256:
        return KTY_RSA;
    case ALG_ES256:
        return KTY_EC;
    case ALG_EDDSA:
        return KTY_OKP;
    default:
        return KTY_NONE;
    }
}

/* key_fits says whether key k may verify alg a: its type must fit and its
 * own "alg", when present, must be a. */
static int key_fits(const jkey *k, enum alg a)
{
    return k->kty == alg_kty(a) && (k->alg == ALG_ANY || k->alg == a);
}

/* ---- JWK parsing ------------------------------------------------------- */

/* get_str looks up member name of obj: returns 1 with *s (borrowed from obj)
 * and *len for a string without NUL bytes, 0 when absent, -1 otherwise. */
static int get_str(const json_t *obj, const char *name, const char **s, size_t *len)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return -1;
    *s = json_string_value(v);
    *len = json_string_length(v);
    if (strlen(*s) != *len)
        return -1;
    return 1;
}

/* get_b64 decodes the base64url string member name of obj into out
 * (capacity cap, owned by the caller). Returns RK_OK with *n, RK_EINVAL when
 * the member is absent, not a string or not strict base64url, RK_ETOOBIG
 * when it decodes to more than cap bytes. */
static int get_b64(const json_t *obj, const char *name, uint8_t *out, size_t cap, size_t *n)
{
    const char *s;
    size_t len;
    if (get_str(obj, name, &s, &len) != 1)
        return RK_EINVAL;
    if (len == 0)
        return RK_EINVAL;
    return b64url_decode(s, len, out, cap, n);
}

/* pkey_fromdata builds a public EVP_PKEY of type name ("RSA", "EC") from
 * the parameters in bld. The caller keeps bld; *out is the caller's. */
static int pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
    int rc = RK_ECRYPTO;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    *out = NULL;
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
        rc = RK_OK;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return rc;
}

/* rsa_key builds an RSA public key from the JWK members n and e; the key
 * (*out) is the caller's. Moduli outside RSA_MIN_BITS..RSA_MAX_BITS, even
 * moduli and exponents that aren't odd and > 1 are refused (RK_EINVAL). */
static int rsa_key(const json_t *jwk, EVP_PKEY **out)
{
    uint8_t nb[RSA_N_MAX], eb[RSA_E_MAX];
    size_t nlen, elen;
    if (get_b64(jwk, "n", nb, sizeof nb, &nlen) != RK_OK ||
        get_b64(jwk, "e", eb, sizeof eb, &elen) != RK_OK)
        return RK_EINVAL;
    int rc = RK_EINVAL;
    BIGNUM *n = BN_bin2bn(nb, (int)nlen, NULL);
    BIGNUM *e = BN_bin2bn(eb, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!n || !e || !bld) {
        rc = RK_ENOMEM;
        goto out;
    }
    int bits = BN_num_bits(n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || !BN_is_odd(n) || !BN_is_odd(e) ||
        BN_is_one(e) || BN_cmp(e, n) >= 0)
        goto out;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        rc = RK_ECRYPTO;
        goto out;
    }
    rc = pkey_fromdata("RSA", bld, out);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return rc;
}

/* ec_key builds a P-256 public key from the JWK members x and y (32 bytes
 * each); the key (*out) is the caller's. Points off the curve are refused. */
static int ec_key(const json_t *jwk, EVP_PKEY **out)
{
    uint8_t pt[1 + 2 * P256_COORD];
    size_t xl, yl;
    pt[0] = 0x04; /* uncompressed point */
    if (get_b64(jwk, "x", pt + 1, P256_COORD, &xl) != RK_OK || xl != P256_COORD ||
        get_b64(jwk, "y", pt + 1 + P256_COORD, P256_COORD, &yl) != RK_OK || yl != P256_COORD)
        return RK_EINVAL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld)
        return RK_ENOMEM;
    int rc = RK_ECRYPTO;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt))
        rc = pkey_fromdata("EC", bld, out);
    OSSL_PARAM_BLD_free(bld);
    if (rc != RK_OK)
        return RK_EINVAL; /* most likely a point that isn't on the curve */
    /* Belt and braces: the decoder checks the point is on the curve; the
     * public check also refuses the point at infinity. */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
    int ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return RK_EINVAL;
    }
    return RK_OK;
}

/* ed_key builds an Ed25519 public key from the JWK member x (32 bytes); the
 * key (*out) is the caller's. */
static int ed_key(const json_t *jwk, EVP_PKEY **out)
{
    uint8_t x[ED25519_LEN];
    size_t xl;
    if (get_b64(jwk, "x", x, sizeof x, &xl) != RK_OK || xl != sizeof x)
        return RK_EINVAL;
    *out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, sizeof x);
    return *out ? RK_OK : RK_EINVAL;
}

/* for_signatures says whether a JWK may verify signatures: "use", when
 * present, is "sig", and "key_ops" (RFC 7517 4.3), when present, allows
 * "verify". */
static bool for_signatures(const json_t *jwk)
{
    const char *s;
    size_t len;
    int r = get_str(jwk, "use", &s, &len);
    if (r < 0 || (r == 1 && strcmp(s, "sig") != 0))
        return false;
    json_t *ops = json_object_get(jwk, "key_ops");
    if (!ops)
        return true;
    if (!json_is_array(ops))
        return false;
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
            return true;
    }
    return false;
}

/* jwk_pkey reads the public key of k's type (RSA; EC on P-256; OKP
 * Ed25519) from jwk into k->pkey. */
static int jwk_pkey(const json_t *jwk, jkey *k)
{
    const char *crv;
    size_t crvlen;
    if (k->kty == KTY_RSA)
        return rsa_key(jwk, &k->pkey);
    const char *want = k->kty == KTY_EC ? "P-256" : "Ed25519";
    if (get_str(jwk, "crv", &crv, &crvlen) != 1 || strcmp(crv, want) != 0)
        return RK_EINVAL;
    return k->kty == KTY_EC ? ec_key(jwk, &k->pkey) : ed_key(jwk, &k->pkey);
}

/* parse_jwk turns one JWK into *k (kid and pkey owned by the caller).
 * Returns RK_OK, RK_EINVAL for a key to skip (unsupported or malformed), or
 * RK_ENOMEM. */
static int parse_jwk(const json_t *jwk, jkey *k)
{
    memset(k, 0, sizeof *k);
    if (!json_is_object(jwk))
        return RK_EINVAL;
    const char *s;
    size_t len;
    if (get_str(jwk, "kty", &s, &len) != 1)
        return RK_EINVAL;
    if (strcmp(s, "RSA") == 0)
        k->kty = KTY_RSA;
    else if (strcmp(s, "EC") == 0)
        k->kty = KTY_EC;
    else if (strcmp(s, "OKP") == 0)
        k->kty = KTY_OKP;
    else
        return RK_EINVAL; /* "oct" (RFC 8725: no HS keys from a JWKS) or unknown */

    if (!for_signatures(jwk))
        return RK_EINVAL;
    int r = get_str(jwk, "alg", &s, &len);
    if (r < 0)
        return RK_EINVAL;
    if (r == 1) {
        k->alg = alg_from_name(s);
        if (alg_kty(k->alg) != k->kty)
            return RK_EINVAL; /* unsupported alg, or one the key can't do */
    }
    const char *kid = NULL;
    size_t kidlen = 0;
    r = get_str(jwk, "kid", &kid, &kidlen);
    if (r < 0 || kidlen > KID_MAX)
        return RK_EINVAL;

    int rc = jwk_pkey(jwk, k);
    ERR_clear_error(); /* a refused key may leave OpenSSL errors queued */
    if (rc != RK_OK)
        return rc == RK_ENOMEM ? RK_ENOMEM : RK_EINVAL;
    if (kid && !(k->kid = strdup(kid))) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
        return RK_ENOMEM;
    }
    return RK_OK;
}

/* has_kid says whether set s already has a key with this kid. */
static int has_kid(const keyset *s, const char *kid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->keys[i].kid && strcmp(s->keys[i].kid, kid) == 0)
            return 1;
    return 0;
}

/* parse_doc parses a JWKS document (json[0..len), owned by the caller) into
 * a new set with one reference, *out, which the caller must set_unref.
 * Unusable keys are skipped; a later key whose kid repeats an earlier one is
 * dropped. Returns RK_OK, RK_EINVAL (not an object with a "keys" array),
 * RK_ETOOBIG (document or key count over the limits) or RK_ENOMEM. */
static int parse_doc(const char *json, size_t len, keyset **out, char *why, size_t cap)
{
    if (len > JWKS_MAX_DOC)
        return rk_fail(RK_ETOOBIG, why, cap, "JWKS document over %u bytes", JWKS_MAX_DOC);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return rk_fail(RK_EINVAL, why, cap, "JWKS is not valid JSON (line %d: %s)", jerr.line,
                       jerr.text);
    int rc = RK_OK;
    keyset *s = NULL;
    json_t *keys = json_is_object(root) ? json_object_get(root, "keys") : NULL;
    if (!json_is_array(keys)) {
        rc = rk_fail(RK_EINVAL, why, cap, "JWKS is not an object with a \"keys\" array");
        goto out;
    }
    if (json_array_size(keys) > JWKS_MAX_KEYS) {
        rc = rk_fail(RK_ETOOBIG, why, cap, "JWKS has more than %d keys", JWKS_MAX_KEYS);
        goto out;
    }
    if (!(s = set_new())) {
        rc = RK_ENOMEM;
        goto out;
    }
    size_t i;
    json_t *jwk;
    json_array_foreach(keys, i, jwk)
    {
        jkey k;
        int r = parse_jwk(jwk, &k);
        if (r == RK_ENOMEM) {
            rc = RK_ENOMEM;
            goto out;
        }
        if (r != RK_OK)
            continue;
        if (k.kid && has_kid(s, k.kid)) {
            free(k.kid);
            EVP_PKEY_free(k.pkey);
            continue;
        }
        s->keys[s->n++] = k;
    }
out:
    json_decref(root);
    if (rc != RK_OK) {
        set_unref(s);
        return rc == RK_ENOMEM ? rk_fail(rc, why, cap, "out of memory") : rc;
    }
    *out = s;
    return RK_OK;
}

/* find_key picks the key in s for kid and alg (a supported ALG_*): *k is
 * borrowed from s. Returns RK_OK, RK_ENOTFOUND (no such kid; kid NULL and
 * not exactly one fitting key) or RK_EVERIFY (the kid's key can't do alg). */
static int find_key(const keyset *s, const char *kid, enum alg a, const jkey **k)
{
    if (kid) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->keys[i].kid && strcmp(s->keys[i].kid, kid) == 0) {
                if (!key_fits(&s->keys[i], a))
                    return RK_EVERIFY;
                *k = &s->keys[i];
                return RK_OK;
            }
        }
        return RK_ENOTFOUND;
    }
    const jkey *found = NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (!key_fits(&s->keys[i], a))
            continue;
        if (found)
            return RK_ENOTFOUND; /* ambiguous */
        found = &s->keys[i];
    }
    if (!found)
        return RK_ENOTFOUND;
    *k = found;
    return RK_OK;
}

/* ---- signature checks -------------------------------------------------- */

/* jose_to_der converts a JOSE ES256 signature r||s (64 bytes) into a DER
 * ECDSA-Sig-Value in der (capacity cap, the caller's). Returns RK_OK with
 * *der_len, or RK_ENOMEM/RK_ECRYPTO. */
static int jose_to_der(const uint8_t *sig, uint8_t *der, size_t cap, size_t *der_len)
{
    BIGNUM *r = BN_bin2bn(sig, JOSE_ES256_LEN / 2, NULL);
    BIGNUM *s = BN_bin2bn(sig + JOSE_ES256_LEN / 2, JOSE_ES256_LEN / 2, NULL);
    ECDSA_SIG *es = ECDSA_SIG_new();
    if (!r || !s || !es || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return RK_ENOMEM;
    }
    /* es now owns r and s */
    int rc = RK_ECRYPTO;
    int n = i2d_ECDSA_SIG(es, NULL);
    if (n > 0 && (size_t)n <= cap) {
        unsigned char *p = der;
        if (i2d_ECDSA_SIG(es, &p) == n) {
            *der_len = (size_t)n;
            rc = RK_OK;
        }
    }
    ECDSA_SIG_free(es);
    return rc;
}

/* verify_sig checks sig over msg with key k (which fits alg a). Every buffer
 * is the caller's. Returns RK_OK, RK_EVERIFY or RK_ECRYPTO/RK_ENOMEM. */
static int verify_sig(const jkey *k, enum alg a, const uint8_t *msg, size_t msg_len,
                      const uint8_t *sig, size_t sig_len)
{
    uint8_t der[DER_SIG_MAX];
    size_t der_len = 0;
    int rc;
    switch (a) {
    case ALG_RS256:
    case ALG_PS256:
        if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey))
            return RK_EVERIFY;
        break;
    case ALG_ES256:
        if (sig_len != JOSE_ES256_LEN)
            return RK_EVERIFY;
        if ((rc = jose_to_der(sig, der, sizeof der, &der_len)) != RK_OK)
            return rc;
        sig = der;
        sig_len = der_len;
        break;
    case ALG_EDDSA:
        if (sig_len != ED25519_SIG_LEN)
            return RK_EVERIFY;
        break;
    default:
        return RK_EVERIFY;
    }
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (!mctx)
        return RK_ENOMEM;
    EVP_PKEY_CTX *pctx = NULL;
    const char *md = a == ALG_EDDSA ? NULL : "SHA256";
    rc = RK_ECRYPTO;
    if (EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, k->pkey, NULL) != 1)
        goto out;
    if (a == ALG_RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
        goto out;
    if (a == ALG_PS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0 ||
                           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) <= 0))
        goto out;
    rc = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1 ? RK_OK : RK_EVERIFY;
out:
    EVP_MD_CTX_free(mctx);
    ERR_clear_error(); /* don't leave a failed check's errors in this thread's queue */
    return rc;
}

/* ---- fetching ---------------------------------------------------------- */

/* fetch_doc GETs j->url (through httpc). On RK_OK *out (malloc'd) and
 * *out_len hold the body; the caller frees *out. j's settings are only
 * read, so no lock is needed. */
static int fetch_doc(const jwks *j, char **out, size_t *out_len, char *why, size_t cap)
{
    httpc_req r = {
        .url = j->url,
        .timeout_ms = (long)j->timeout_ms,
        .max_answer = JWKS_MAX_DOC,
        .allow_http = j->allow_http,
        .ca_file = j->ca_file,
        .user_agent = "roomkey-jwks",
    };
    httpc_answer a;
    int rc = httpc_do(&r, &a);
    if (rc == RK_ETOOBIG)
        return rk_fail(rc, why, cap, "JWKS fetch: body over %u bytes", JWKS_MAX_DOC);
    if (rc)
        return rk_fail(rc, why, cap, "JWKS fetch: %s", a.error[0] ? a.error : rk_strerror(rc));
    if (a.status < 200 || a.status > 299) {
        httpc_answer_clear(&a);
        return rk_fail(RK_EIO, why, cap, "JWKS fetch: HTTP status %ld", a.status);
    }
    *out = a.body;
    *out_len = a.len;
    return RK_OK;
}

/* elapsed says whether at least s seconds passed from then (NEVER: always)
 * to now; a now before then counts as not elapsed. */
static int elapsed(int64_t now, int64_t then, int64_t s)
{
    if (then == NEVER)
        return 1;
    return now >= then && (uint64_t)now - (uint64_t)then >= (uint64_t)s;
}

/* claim_fetch marks a fetch as started at now. The caller holds j->mu, has
 * checked that no fetch runs, and must then call do_fetch. */
static void claim_fetch(jwks *j, int64_t now)
{
    j->fetching = 1;
    j->last_attempt = now;
    j->fetches++;
}

/* do_fetch fetches and parses j's URL without the lock, then swaps the new
 * set in (on success), clears the claim and wakes waiters. The caller must
 * have claimed the fetch with claim_fetch and must not hold j->mu. */
/* Process-wide fetch outcomes (see jwks_fetches_total). */
static _Atomic uint64_t fetches_ok, fetches_failed;

void jwks_fetches_total(uint64_t *ok, uint64_t *failed)
{
    *ok = atomic_load_explicit(&fetches_ok, memory_order_relaxed);
    *failed = atomic_load_explicit(&fetches_failed, memory_order_relaxed);
}

static int do_fetch(jwks *j, int64_t now, char *why, size_t cap)
{
    char *doc = NULL;
    size_t len = 0;
    keyset *s = NULL;
    int rc = fetch_doc(j, &doc, &len, why, cap);
    if (rc == RK_OK)
        rc = parse_doc(doc ? doc : "", len, &s, why, cap);
    free(doc);
    atomic_fetch_add_explicit(rc == RK_OK ? &fetches_ok : &fetches_failed, 1, memory_order_relaxed);
    keyset *old = NULL;
    pthread_mutex_lock(&j->mu);
    if (rc == RK_OK) {
        old = j->set;
        j->set = s;
        j->last_good = now;
    }
    j->fetching = 0;
    pthread_cond_broadcast(&j->fetch_cv);
    pthread_mutex_unlock(&j->mu);
    set_unref(old);
    return rc;
}

/* ---- public API -------------------------------------------------------- */

/* jwks_alloc returns a new jwks with an empty set (the caller frees it with
 * jwks_free), or NULL when out of memory. */
static jwks *jwks_alloc(void)
{
    jwks *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    if (!(j->set = set_new())) {
        free(j);
        return NULL;
    }
    if (pthread_mutex_init(&j->mu, NULL) != 0) {
        set_unref(j->set);
        free(j);
        return NULL;
    }
    if (pthread_cond_init(&j->fetch_cv, NULL) != 0) {
        pthread_mutex_destroy(&j->mu);
        set_unref(j->set);
        free(j);
        return NULL;
    }
    j->last_attempt = NEVER;
    j->last_good = NEVER;
    j->refresh_s = 3600;
    j->cooldown_s = 30;
    j->timeout_ms = 3000;
    return j;
}

/* jwks_free frees j, its URL/CA copies and its reference to the key set.
 * No other thread may be using j. NULL is allowed. */
void jwks_free(jwks *j)
{
    if (!j)
        return;
    set_unref(j->set);
    pthread_cond_destroy(&j->fetch_cv);
    pthread_mutex_destroy(&j->mu);
    free(j->url);
    free(j->ca_file);
    free(j);
}

/* jwks_new_from_json: json[0..len) stays the caller's; *out is the caller's
 * (jwks_free). why (capacity why_cap) is the caller's. */
int jwks_new_from_json(const char *json, size_t len, jwks **out, char *why, size_t why_cap)
{
    if (!json || !out)
        return rk_fail(RK_EINVAL, why, why_cap, "no JWKS document");
    keyset *s;
    int rc = parse_doc(json, len, &s, why, why_cap);
    if (rc != RK_OK)
        return rc;
    jwks *j = jwks_alloc();
    if (!j) {
        set_unref(s);
        return rk_fail(RK_ENOMEM, why, why_cap, "out of memory");
    }
    set_unref(j->set);
    j->set = s;
    j->last_good = clock_now();
    *out = j;
    return RK_OK;
}

/* read_doc reads the file at path into *out (malloc'd, the caller frees it)
 * and *len, refusing files over JWKS_MAX_DOC bytes. */
static int read_doc(const char *path, char **out, size_t *len, char *why, size_t cap)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return rk_fail(RK_EIO, why, cap, "JWKS file %s: cannot open", path);
    char *buf = malloc(JWKS_MAX_DOC + 1);
    if (!buf) {
        fclose(f);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    size_t n = fread(buf, 1, JWKS_MAX_DOC + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return rk_fail(RK_EIO, why, cap, "JWKS file %s: read error", path);
    }
    if (n > JWKS_MAX_DOC) {
        free(buf);
        return rk_fail(RK_ETOOBIG, why, cap, "JWKS file %s: over %u bytes", path, JWKS_MAX_DOC);
    }
    *out = buf;
    *len = n;
    return RK_OK;
}

/* jwks_new: source and opts stay the caller's (they are copied); *out is
 * the caller's (jwks_free). For a URL whose first fetch fails the result is
 * RK_OK with an empty set, and why (if given) says why the fetch failed;
 * otherwise why is set only on failure. */
int jwks_new(const char *source, const jwks_opts *opts, jwks **out, char *why, size_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    if (!source || !source[0] || !out)
        return rk_fail(RK_EINVAL, why, why_cap, "no JWKS source");
    if (strlen(source) > SOURCE_MAX)
        return rk_fail(RK_ETOOBIG, why, why_cap, "JWKS source over %d bytes", SOURCE_MAX);
    int allow_http = opts && opts->allow_http;
    int is_url = strncasecmp(source, "https://", 8) == 0;
    if (!is_url && strncasecmp(source, "http://", 7) == 0) {
        if (!allow_http)
            return rk_fail(RK_EINVAL, why, why_cap, "JWKS URL must be https://");
        is_url = 1;
    }
    if (!is_url && strstr(source, "://"))
        return rk_fail(RK_EINVAL, why, why_cap, "JWKS URL scheme not supported: %s", source);

    if (!is_url) {
        char *doc = NULL;
        size_t len = 0;
        int rc = read_doc(source, &doc, &len, why, why_cap);
        if (rc != RK_OK)
            return rc;
        rc = jwks_new_from_json(doc, len, out, why, why_cap);
        free(doc);
        return rc;
    }

    jwks *j = jwks_alloc();
    if (!j)
        return rk_fail(RK_ENOMEM, why, why_cap, "out of memory");
    if (opts) {
        if (opts->refresh_s > 0)
            j->refresh_s = opts->refresh_s;
        if (opts->cooldown_s > 0)
            j->cooldown_s = opts->cooldown_s;
        if (opts->timeout_ms > 0)
            j->timeout_ms = opts->timeout_ms > TIMEOUT_MAX_MS ? TIMEOUT_MAX_MS : opts->timeout_ms;
    }
    j->allow_http = allow_http;
    if (!(j->url = strdup(source)) ||
        (opts && opts->ca_file && !(j->ca_file = strdup(opts->ca_file)))) {
        jwks_free(j);
        return rk_fail(RK_ENOMEM, why, why_cap, "out of memory");
    }
    int64_t now = clock_now();
    pthread_mutex_lock(&j->mu);
    claim_fetch(j, now);
    pthread_mutex_unlock(&j->mu);
    int rc = do_fetch(j, now, why, why_cap);
    if (rc == RK_ENOMEM) {
        jwks_free(j);
        return rc;
    }
    /* Any other failure: start empty, retry on use (after the cooldown). */
    *out = j;
    return RK_OK;
}

/* refresh_if_stale refetches a stale URL set: the first thread to notice
 * does, the others carry on with the old set meanwhile. Returns 1 when this
 * call fetched. */
static int refresh_if_stale(jwks *j, int64_t now)
{
    int fetched = 0;
    pthread_mutex_lock(&j->mu);
    if (j->url && !j->fetching && elapsed(now, j->last_good, j->refresh_s) &&
        elapsed(now, j->last_attempt, j->cooldown_s)) {
        claim_fetch(j, now);
        fetched = 1;
    }
    pthread_mutex_unlock(&j->mu);
    if (fetched)
        (void)do_fetch(j, now, NULL, 0);
    return fetched;
}

void jwks_refresh(jwks *j, int64_t now)
{
    if (j)
        (void)refresh_if_stale(j, now);
}

/* jwks_verify: every buffer stays the caller's. The key set is referenced
 * for the duration of the check, so a concurrent refresh can't free it. */
int jwks_verify(jwks *j, const char *kid, const char *alg, const uint8_t *signing,
                size_t signing_len, const uint8_t *sig, size_t sig_len, int64_t now)
{
    if (!j || (!signing && signing_len) || (!sig && sig_len))
        return RK_EINVAL;
    enum alg a = alg_from_name(alg);
    if (a == ALG_OTHER)
        return RK_EVERIFY;

    int fetched = refresh_if_stale(j, now);

    pthread_mutex_lock(&j->mu);
    keyset *s = set_ref(j->set);
    pthread_mutex_unlock(&j->mu);
    const jkey *k = NULL;
    int rc = find_key(s, kid, a, &k);

    if (rc == RK_ENOTFOUND && j->url && !fetched) {
        /* Unknown kid: perhaps the keys rotated. If a fetch is running,
         * wait for it; if the set changed since we looked (a fetch ended
         * meanwhile), look again; otherwise fetch if the cooldown allows.
         * Holding a reference to s keeps its address from being reused, so
         * the pointer comparison is safe. */
        int changed = 0;
        pthread_mutex_lock(&j->mu);
        while (j->fetching)
            pthread_cond_wait(&j->fetch_cv, &j->mu);
        if (j->set != s) {
            changed = 1;
        } else if (elapsed(now, j->last_attempt, j->cooldown_s)) {
            claim_fetch(j, now);
            fetched = 1;
        }
        pthread_mutex_unlock(&j->mu);
        if (fetched)
            (void)do_fetch(j, now, NULL, 0);
        if (fetched || changed) {
            set_unref(s);
            pthread_mutex_lock(&j->mu);
            s = set_ref(j->set);
            pthread_mutex_unlock(&j->mu);
            rc = find_key(s, kid, a, &k);
        }
    }
    if (rc == RK_OK)
        rc = verify_sig(k, a, signing, signing_len, sig, sig_len);
    set_unref(s);
    return rc;
}

/* jwks_fetch_count: fetch attempts so far (URL sources only). */
uint64_t jwks_fetch_count(jwks *j)
{
    if (!j)
        return 0;
    pthread_mutex_lock(&j->mu);
    uint64_t n = j->fetches;
    pthread_mutex_unlock(&j->mu);
    return n;
}

/* jwks_age: now minus the time of the last good load, 0 if now is earlier,
 * -1 if there never was one. */
int64_t jwks_age(jwks *j, int64_t now)
{
    if (!j)
        return -1;
    pthread_mutex_lock(&j->mu);
    int64_t t = j->last_good;
    pthread_mutex_unlock(&j->mu);
    if (t == NEVER)
        return -1;
    return now > t ? now - t : 0;
}
