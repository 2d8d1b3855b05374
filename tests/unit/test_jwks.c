/* test_jwks.c - JWK sets: parsing, key selection, RS256/PS256/ES256/EdDSA
 * checks against in-process OpenSSL keys, file loading, and URL fetching
 * (cache, cooldown, failures, size limit) against a loopback HTTP server. */
#include "check.h"
#include "auth/jwks.h"
#include "util/b64url.h"
#include "util/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NOW 1800000000LL
#define MSG "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"

static char why[256];
static EVP_PKEY *rsa1, *rsa2, *rsa_small, *ec1, *ec2, *ed1;

/* ---- key export and signing helpers ------------------------------------ */

static void b64(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t n;
    if (b64url_encode(in, len, out, cap, &n))
        abort();
}

/* bn_b64 base64url-encodes the BIGNUM parameter param of k (padded to pad
 * bytes when pad > 0) into out. */
static void bn_b64(EVP_PKEY *k, const char *param, int pad, char *out, size_t cap)
{
    BIGNUM *bn = NULL;
    uint8_t buf[1024];
    if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
        abort();
    int n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    if (n <= 0)
        abort();
    b64(buf, (size_t)n, out, cap);
}

/* jwk writes the public JWK of k into out: kid NULL for none, extra is
 * appended inside the object (e.g. ",\"alg\":\"RS256\""). Returns out. */
static char *jwk(EVP_PKEY *k, const char *kid, const char *extra, char *out, size_t cap)
{
    int w;
    char kidm[300] = "", a[1400], b[1400];
    if (kid)
        snprintf(kidm, sizeof kidm, ",\"kid\":\"%s\"", kid);
    if (EVP_PKEY_is_a(k, "RSA")) {
        bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0, a, sizeof a);
        bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0, b, sizeof b);
        w = snprintf(out, cap, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s%s}", a, b, kidm,
                     extra);
    } else if (EVP_PKEY_is_a(k, "EC")) {
        bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32, a, sizeof a);
        bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32, b, sizeof b);
        w = snprintf(out, cap, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"%s%s}",
                     a, b, kidm, extra);
    } else {
        uint8_t raw[32];
        size_t n = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1)
            abort();
        b64(raw, n, a, sizeof a);
        w = snprintf(out, cap, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s%s}", a, kidm,
                     extra);
    }
    if (w < 0 || (size_t)w >= cap)
        abort();
    return out;
}

/* sign signs msg with k for alg into sig (capacity 512); ES256 comes out
 * as JOSE r||s unless der is set. Returns the signature length. */
static size_t sign_ex(EVP_PKEY *k, const char *alg, const char *msg, uint8_t *sig, int der)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    const char *md = strcmp(alg, "EdDSA") == 0 ? NULL : "SHA256";
    uint8_t buf[512];
    size_t len = sizeof buf;
    if (!m || EVP_DigestSignInit_ex(m, &p, md, NULL, NULL, k, NULL) != 1)
        abort();
    if (strcmp(alg, "PS256") == 0 && (EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) <= 0 ||
                                      EVP_PKEY_CTX_set_rsa_mgf1_md(p, EVP_sha256()) <= 0 ||
                                      EVP_PKEY_CTX_set_rsa_pss_saltlen(p, 32) <= 0))
        abort();
    if (EVP_DigestSign(m, buf, &len, (const uint8_t *)msg, strlen(msg)) != 1)
        abort();
    EVP_MD_CTX_free(m);
    if (strcmp(alg, "ES256") != 0 || der) {
        memcpy(sig, buf, len);
        return len;
    }
    const uint8_t *q = buf;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)len);
    if (!es)
        abort();
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32)
        abort();
    ECDSA_SIG_free(es);
    return 64;
}

static size_t sign(EVP_PKEY *k, const char *alg, const char *msg, uint8_t *sig)
{
    return sign_ex(k, alg, msg, sig, 0);
}

static int vfy(jwks *j, const char *kid, const char *alg, const char *msg, const uint8_t *sig,
               size_t len, int64_t now)
{
    return jwks_verify(j, kid, alg, (const uint8_t *)msg, strlen(msg), sig, len, now);
}

static jwks *from_json(const char *doc)
{
    jwks *j = NULL;
    if (jwks_new_from_json(doc, strlen(doc), &j, why, sizeof why) != RK_OK) {
        fprintf(stderr, "jwks_new_from_json: %s\n", why);
        abort();
    }
    return j;
}

static void gen_keys(void)
{
    rsa1 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    ec1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ed1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!rsa1 || !rsa2 || !rsa_small || !ec1 || !ec2 || !ed1)
        abort();
}

static void free_keys(void)
{
    EVP_PKEY_free(rsa1);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(rsa_small);
    EVP_PKEY_free(ec1);
    EVP_PKEY_free(ec2);
    EVP_PKEY_free(ed1);
}

/* main_doc: r1 (RSA), e1 (EC), d1 (Ed25519). */
static char *main_doc(char *doc, size_t cap)
{
    char a[2048], b[1024], c[1024];
    snprintf(doc, cap, "{\"keys\":[%s,%s,%s]}", jwk(rsa1, "r1", "", a, sizeof a),
             jwk(ec1, "e1", "", b, sizeof b), jwk(ed1, "d1", "", c, sizeof c));
    return doc;
}

/* ---- fixed sets -------------------------------------------------------- */

static void test_algs(void)
{
    char doc[8192];
    jwks *j = from_json(main_doc(doc, sizeof doc));
    uint8_t sig[512];
    size_t n;

    n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, NULL, "RS256", MSG, sig, n, NOW) == RK_OK); /* sole RSA key */
    CHECK(vfy(j, "r1", "RS256", MSG "x", sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "r1", "PS256", MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n - 1, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "e1", "RS256", MSG, sig, n, NOW) == RK_EVERIFY); /* RS256 vs EC key */
    CHECK(vfy(j, "d1", "RS256", MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "zz", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    CHECK(vfy(j, "R1", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND); /* kid is exact */
    CHECK(vfy(j, "r", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    CHECK(vfy(j, "r1x", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    CHECK(vfy(j, "", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    sig[10] ^= 1;
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, NOW) == RK_EVERIFY);

    n = sign(rsa1, "PS256", MSG, sig);
    CHECK(vfy(j, "r1", "PS256", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, NULL, "PS256", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, NOW) == RK_EVERIFY); /* PS256 sig as RS256 */
    CHECK(vfy(j, "r1", "PS256", "x" MSG, sig, n, NOW) == RK_EVERIFY);
    sig[n - 1] ^= 0x80;
    CHECK(vfy(j, "r1", "PS256", MSG, sig, n, NOW) == RK_EVERIFY);

    n = sign(ec1, "ES256", MSG, sig);
    CHECK(n == 64);
    CHECK(vfy(j, "e1", "ES256", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, NULL, "ES256", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, "e1", "ES256", MSG "x", sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "r1", "ES256", MSG, sig, n, NOW) == RK_EVERIFY); /* ES256 vs RSA key */
    CHECK(vfy(j, "d1", "ES256", MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "e1", "ES256", MSG, sig, 63, NOW) == RK_EVERIFY);
    uint8_t longer[65];
    memcpy(longer, sig, 64);
    longer[64] = 0;
    CHECK(vfy(j, "e1", "ES256", MSG, longer, 65, NOW) == RK_EVERIFY);
    longer[0] = 0;
    memcpy(longer + 1, sig, 64);
    CHECK(vfy(j, "e1", "ES256", MSG, longer, 65, NOW) == RK_EVERIFY);
    uint8_t zero[64] = {0};
    CHECK(vfy(j, "e1", "ES256", MSG, zero, 64, NOW) == RK_EVERIFY); /* r = s = 0 */
    sig[40] ^= 4;
    CHECK(vfy(j, "e1", "ES256", MSG, sig, 64, NOW) == RK_EVERIFY);
    n = sign_ex(ec1, "ES256", MSG, sig, 1); /* DER, as OpenSSL makes it */
    CHECK(n != 64);
    CHECK(vfy(j, "e1", "ES256", MSG, sig, n, NOW) == RK_EVERIFY);

    n = sign(ed1, "EdDSA", MSG, sig);
    CHECK(vfy(j, "d1", "EdDSA", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, NULL, "EdDSA", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, "d1", "EdDSA", MSG "x", sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "d1", "EdDSA", MSG, sig, n - 1, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "r1", "EdDSA", MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "e1", "EdDSA", MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "d1", "Ed25519", MSG, sig, n, NOW) == RK_EVERIFY);
    sig[3] ^= 1;
    CHECK(vfy(j, "d1", "EdDSA", MSG, sig, n, NOW) == RK_EVERIFY);

    /* unsupported algorithms, whatever the key */
    n = sign(rsa1, "RS256", MSG, sig);
    const char *bad[] = {"HS256", "none", "RS512", "rs256", "", "ES384", "PS384", "EdDSA "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(vfy(j, "r1", bad[i], MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, "r1", NULL, MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, NULL, "none", MSG, NULL, 0, NOW) == RK_EVERIFY);
    CHECK(jwks_fetch_count(j) == 0);
    CHECK(jwks_age(j, time(NULL) + 5) >= 5);
    jwks_free(j);
}

static void test_selection(void)
{
    char doc[16384], a[2048], b[2048], c[1024], d[1024];
    uint8_t sig[512];
    size_t n;

    /* two RSA keys, one EC: kid NULL works only for the unambiguous type */
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s,%s]}", jwk(rsa1, "r1", "", a, sizeof a),
             jwk(rsa2, "r2", "", b, sizeof b), jwk(ec1, NULL, "", c, sizeof c));
    jwks *j = from_json(doc);
    n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, NULL, "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, NOW) == RK_OK);
    CHECK(vfy(j, "r2", "RS256", MSG, sig, n, NOW) == RK_EVERIFY);
    n = sign(ec1, "ES256", MSG, sig);
    CHECK(vfy(j, NULL, "ES256", MSG, sig, n, NOW) == RK_OK); /* the kid-less EC key */
    CHECK(vfy(j, "e1", "ES256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    n = sign(ed1, "EdDSA", MSG, sig);
    CHECK(vfy(j, NULL, "EdDSA", MSG, sig, n, NOW) == RK_ENOTFOUND);
    jwks_free(j);

    /* duplicate kids: the first wins */
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s,%s]}", jwk(rsa1, "dup", "", a, sizeof a),
             jwk(rsa2, "dup", "", b, sizeof b), jwk(ec1, "dup", "", c, sizeof c));
    j = from_json(doc);
    n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, "dup", "RS256", MSG, sig, n, NOW) == RK_OK);
    n = sign(rsa2, "RS256", MSG, sig);
    CHECK(vfy(j, "dup", "RS256", MSG, sig, n, NOW) == RK_EVERIFY);
    n = sign(ec1, "ES256", MSG, sig);
    CHECK(vfy(j, "dup", "ES256", MSG, sig, n, NOW) == RK_EVERIFY);
    n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, NULL, "RS256", MSG, sig, n, NOW) == RK_OK); /* the dropped one doesn't count */
    jwks_free(j);

    /* the key's own alg and use */
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s,%s,%s]}",
             jwk(rsa1, "a", ",\"alg\":\"RS256\",\"use\":\"sig\"", a, sizeof a),
             jwk(rsa2, "enc", ",\"use\":\"enc\"", b, sizeof b),
             jwk(ec1, "wrongalg", ",\"alg\":\"RS256\"", c, sizeof c),
             jwk(ed1, "ops", ",\"key_ops\":[\"sign\"]", d, sizeof d));
    j = from_json(doc);
    n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, "a", "RS256", MSG, sig, n, NOW) == RK_OK);
    n = sign(rsa1, "PS256", MSG, sig);
    CHECK(vfy(j, "a", "PS256", MSG, sig, n, NOW) == RK_EVERIFY);
    CHECK(vfy(j, NULL, "PS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    n = sign(rsa2, "RS256", MSG, sig);
    CHECK(vfy(j, "enc", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    n = sign(ec1, "ES256", MSG, sig);
    CHECK(vfy(j, "wrongalg", "ES256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    n = sign(ed1, "EdDSA", MSG, sig);
    CHECK(vfy(j, "ops", "EdDSA", MSG, sig, n, NOW) == RK_ENOTFOUND);
    jwks_free(j);

    snprintf(doc, sizeof doc, "{\"keys\":[%s]}",
             jwk(ed1, "ops", ",\"key_ops\":[\"verify\"],\"alg\":\"EdDSA\"", d, sizeof d));
    j = from_json(doc);
    CHECK(vfy(j, "ops", "EdDSA", MSG, sig, n, NOW) == RK_OK);
    jwks_free(j);
}

static void test_skipped(void)
{
    char doc[32768], a[2048], b[2048], c[1024], d[1024];
    uint8_t sig[512];
    size_t n;

    /* only an oct key: loads, but nothing verifies */
    {
        const char *oct = "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":"
                          "\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"}]}";
        jwks *j = from_json(oct);
        memset(sig, 1, 32);
        CHECK(vfy(j, "h", "HS256", MSG, sig, 32, NOW) == RK_EVERIFY);
        CHECK(vfy(j, NULL, "HS256", MSG, sig, 32, NOW) == RK_EVERIFY);
        n = sign(rsa1, "RS256", MSG, sig);
        CHECK(vfy(j, "h", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
        CHECK(vfy(j, NULL, "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
        jwks_free(j);
    }

    /* RSA 1024 is skipped; the others still load */
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s]}", jwk(rsa_small, "small", "", a, sizeof a),
             jwk(rsa1, "r1", "", b, sizeof b));
    jwks *j = from_json(doc);
    n = sign(rsa_small, "RS256", MSG, sig);
    CHECK(vfy(j, "small", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, NULL, "RS256", MSG, sig, n, NOW) == RK_OK); /* small one isn't counted */
    jwks_free(j);

    /* malformed or unsupported members: each key skipped, the good one kept */
    char x[64], y[64], yoff[64];
    bn_b64(ec1, OSSL_PKEY_PARAM_EC_PUB_X, 32, x, sizeof x);
    bn_b64(ec1, OSSL_PKEY_PARAM_EC_PUB_Y, 32, y, sizeof y);
    {
        BIGNUM *bn = NULL;
        uint8_t raw[32];
        EVP_PKEY_get_bn_param(ec1, OSSL_PKEY_PARAM_EC_PUB_Y, &bn);
        BN_bn2binpad(bn, raw, 32);
        BN_free(bn);
        raw[31] ^= 1; /* (x, y^1) is not on the curve */
        b64(raw, 32, yoff, sizeof yoff);
    }
    char bad[16][512];
    int nb = 0;
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"b\",\"x\":\"%s\","
             "\"y\":\"%s\"}",
             x, y);
    snprintf(bad[nb++], 512, "{\"kty\":\"EC\",\"kid\":\"b\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"%s\",\"y\":\"%s\"}", x, yoff);
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"%.42s\",\"y\":\"%s\"}", x, y);
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"%s=\",\"y\":\"%s\"}", x, y);
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"%s\",\"y\":5}", x);
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":7,\"x\":\"%s\","
             "\"y\":\"%s\"}",
             x, y);
    snprintf(bad[nb++], 512, "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"b\",\"x\":\"%s\"}", x);
    snprintf(bad[nb++], 512, "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"kid\":\"b\",\"x\":\"%s\"}", x);
    snprintf(bad[nb++], 512, "{\"kty\":\"XYZ\",\"kid\":\"b\"}");
    snprintf(bad[nb++], 512, "{\"kid\":\"b\"}");
    snprintf(bad[nb++], 512, "\"not an object\"");
    snprintf(bad[nb++], 512, "{\"kty\":\"RSA\",\"kid\":\"b\",\"n\":\"AQAB\",\"e\":\"AQAB\"}");
    snprintf(bad[nb++], 512, "{\"kty\":\"RSA\",\"kid\":\"b\",\"e\":\"AQAB\"}");
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"%s\",\"y\":\"%s\","
             "\"alg\":\"ES512\"}",
             x, y);
    snprintf(bad[nb++], 512,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"%s\",\"y\":\"%s\","
             "\"use\":5}",
             x, y);
    n = sign(ec1, "ES256", MSG, sig);
    for (int i = 0; i < nb; i++) {
        snprintf(doc, sizeof doc, "{\"keys\":[%s,%s]}", bad[i], jwk(ed1, "good", "", c, sizeof c));
        jwks *k = NULL;
        CHECK(jwks_new_from_json(doc, strlen(doc), &k, why, sizeof why) == RK_OK);
        if (!k)
            continue;
        if (vfy(k, "b", "ES256", MSG, sig, n, NOW) != RK_ENOTFOUND)
            fprintf(stderr, "bad key %d was not skipped\n", i);
        CHECK(vfy(k, "b", "ES256", MSG, sig, n, NOW) == RK_ENOTFOUND);
        uint8_t es[64];
        size_t en = sign(ed1, "EdDSA", MSG, es);
        CHECK(vfy(k, "good", "EdDSA", MSG, es, en, NOW) == RK_OK);
        jwks_free(k);
    }
    /* the well-formed version of the same EC key is accepted */
    snprintf(doc, sizeof doc,
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"%s\",\"y\":\"%s\","
             "\"alg\":\"ES256\",\"extra\":{\"ignored\":true}}]}",
             x, y);
    j = from_json(doc);
    CHECK(vfy(j, "b", "ES256", MSG, sig, n, NOW) == RK_OK);
    jwks_free(j);
    (void)a;
    (void)b;
    (void)d;
}

static void test_documents(void)
{
    jwks *j = NULL;
    char a[2048];
    const char *bad[] = {
        "",
        "{",
        "[]",
        "\"keys\"",
        "{}",
        "{\"keys\":{}}",
        "{\"keys\":null}",
        "{\"keys\":[],\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"oct\",\"kty\":\"RSA\"}]}",
        "{\"keys\":[]} x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = NULL;
        CHECK(jwks_new_from_json(bad[i], strlen(bad[i]), &j, why, sizeof why) != RK_OK);
        CHECK(j == NULL);
    }
    CHECK(jwks_new_from_json("{\"keys\":[]}", 11, &j, why, sizeof why) == RK_OK);
    uint8_t sig[512];
    size_t n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    CHECK(vfy(j, NULL, "RS256", MSG, sig, n, NOW) == RK_ENOTFOUND);
    jwks_free(j);

    /* a duplicated member in a real key */
    char doc[8192];
    jwk(rsa1, "r1", ",\"kid\":\"r2\"", a, sizeof a);
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", a);
    j = NULL;
    CHECK(jwks_new_from_json(doc, strlen(doc), &j, why, sizeof why) == RK_EINVAL);
    CHECK(j == NULL);

    /* key count limit */
    static char many[JWKS_MAX_KEYS * 64 + 64];
    for (int count = JWKS_MAX_KEYS; count <= JWKS_MAX_KEYS + 1; count++) {
        size_t o = (size_t)snprintf(many, sizeof many, "{\"keys\":[");
        for (int i = 0; i < count; i++)
            o += (size_t)snprintf(many + o, sizeof many - o, "%s{\"kty\":\"oct\",\"k\":\"AAAA\"}",
                                  i ? "," : "");
        snprintf(many + o, sizeof many - o, "]}");
        j = NULL;
        int rc = jwks_new_from_json(many, strlen(many), &j, why, sizeof why);
        CHECK(count == JWKS_MAX_KEYS ? rc == RK_OK : rc == RK_ETOOBIG);
        jwks_free(j);
    }

    /* document size limit */
    char *big = malloc(JWKS_MAX_DOC + 2);
    memset(big, ' ', JWKS_MAX_DOC + 1);
    memcpy(big, "{\"keys\":[]}", 11);
    j = NULL;
    CHECK(jwks_new_from_json(big, JWKS_MAX_DOC, &j, why, sizeof why) == RK_OK);
    jwks_free(j);
    j = NULL;
    CHECK(jwks_new_from_json(big, JWKS_MAX_DOC + 1, &j, why, sizeof why) == RK_ETOOBIG);
    CHECK(j == NULL);
    free(big);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len)
        abort();
    fclose(f);
}

static void test_file(void)
{
    char path[] = "/tmp/test_jwks_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    char doc[8192];
    main_doc(doc, sizeof doc);
    write_file(path, doc, strlen(doc));

    jwks *j = NULL;
    int64_t before = time(NULL);
    CHECK(jwks_new(path, NULL, &j, why, sizeof why) == RK_OK);
    uint8_t sig[512];
    size_t n = sign(ec1, "ES256", MSG, sig);
    CHECK(vfy(j, "e1", "ES256", MSG, sig, n, NOW) == RK_OK);
    CHECK(jwks_fetch_count(j) == 0);
    int64_t age = jwks_age(j, before + 1000);
    CHECK(age <= 1000 && age >= 900);
    jwks_free(j);

    /* over the limit: refused; exactly at it: accepted */
    char *big = malloc(JWKS_MAX_DOC + 1);
    memset(big, ' ', JWKS_MAX_DOC + 1);
    memcpy(big, doc, strlen(doc));
    write_file(path, big, JWKS_MAX_DOC + 1);
    j = NULL;
    CHECK(jwks_new(path, NULL, &j, why, sizeof why) == RK_ETOOBIG);
    CHECK(j == NULL);
    CHECK(strstr(why, "bytes") != NULL);
    write_file(path, big, JWKS_MAX_DOC);
    CHECK(jwks_new(path, NULL, &j, why, sizeof why) == RK_OK);
    CHECK(vfy(j, "e1", "ES256", MSG, sig, n, NOW) == RK_OK);
    jwks_free(j);
    free(big);

    write_file(path, "{\"nokeys\":1}", 12);
    j = NULL;
    CHECK(jwks_new(path, NULL, &j, why, sizeof why) == RK_EINVAL);
    CHECK(j == NULL);
    unlink(path);
    CHECK(jwks_new(path, NULL, &j, why, sizeof why) == RK_EIO);
    CHECK(j == NULL);

    /* sources that aren't files or allowed URLs */
    CHECK(jwks_new("http://127.0.0.1:1/jwks", NULL, &j, why, sizeof why) == RK_EINVAL);
    jwks_opts o = {0};
    CHECK(jwks_new("http://127.0.0.1:1/jwks", &o, &j, why, sizeof why) == RK_EINVAL);
    CHECK(jwks_new("ftp://example.com/jwks", NULL, &j, why, sizeof why) == RK_EINVAL);
    CHECK(jwks_new("file:///etc/passwd", NULL, &j, why, sizeof why) == RK_EINVAL);
    CHECK(jwks_new("", NULL, &j, why, sizeof why) == RK_EINVAL);
    CHECK(j == NULL);
}

/* ---- a loopback HTTP server -------------------------------------------- */

enum srv_mode { SRV_OK, SRV_500, SRV_BIG_CL, SRV_BIG_NOCL, SRV_HANG };

static struct {
    int fd, port;
    pthread_t th;
    atomic_int requests, stop;
    pthread_mutex_t mu;
    enum srv_mode mode;
    char doc[16384];
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void send_all(int c, const char *p, size_t len)
{
    while (len) {
        ssize_t w = send(c, p, len, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

static void srv_answer(int c)
{
    char req[8192];
    size_t got = 0;
    while (got < sizeof req - 1) {
        ssize_t r = recv(c, req + got, sizeof req - 1 - got, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
        req[got] = '\0';
        if (got >= 4 && memcmp(req, "GET ", 4) != 0)
            return; /* not HTTP (e.g. a TLS ClientHello): hang up */
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    atomic_fetch_add(&srv.requests, 1);
    pthread_mutex_lock(&srv.mu);
    enum srv_mode mode = srv.mode;
    char doc[sizeof srv.doc];
    memcpy(doc, srv.doc, sizeof doc);
    pthread_mutex_unlock(&srv.mu);

    char head[256];
    if (mode == SRV_OK) {
        snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 strlen(doc));
        send_all(c, head, strlen(head));
        send_all(c, doc, strlen(doc));
    } else if (mode == SRV_500) {
        const char *r = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 11\r\n"
                        "Connection: close\r\n\r\n{\"keys\":[]}";
        send_all(c, r, strlen(r));
    } else if (mode == SRV_BIG_CL || mode == SRV_BIG_NOCL) {
        size_t len = JWKS_MAX_DOC + 1;
        char *big = malloc(len);
        memset(big, ' ', len);
        memcpy(big, doc, strlen(doc));
        if (mode == SRV_BIG_CL)
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", len);
        else
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        send_all(c, head, strlen(head));
        send_all(c, big, len);
        free(big);
    } else { /* SRV_HANG: say nothing until the client gives up */
        char sink[256];
        while (recv(c, sink, sizeof sink, 0) > 0)
            ;
    }
}

static void *srv_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (atomic_load(&srv.stop)) {
            close(c);
            break;
        }
        srv_answer(c);
        close(c);
    }
    return NULL;
}

static void srv_set(enum srv_mode mode, const char *doc)
{
    pthread_mutex_lock(&srv.mu);
    srv.mode = mode;
    if (doc)
        snprintf(srv.doc, sizeof srv.doc, "%s", doc);
    pthread_mutex_unlock(&srv.mu);
}

static void srv_start(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(srv.fd, 64) != 0 || getsockname(srv.fd, (struct sockaddr *)&sa, &sl) != 0)
        abort();
    srv.port = ntohs(sa.sin_port);
    if (pthread_create(&srv.th, NULL, srv_main, NULL) != 0)
        abort();
}

static void srv_stop(void)
{
    atomic_store(&srv.stop, 1);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)srv.port)};
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c >= 0) {
        (void)connect(c, (struct sockaddr *)&sa, sizeof sa);
        close(c);
    }
    pthread_join(srv.th, NULL);
    close(srv.fd);
}

/* ---- URL sources ------------------------------------------------------- */

static void test_url(void)
{
    char url[128], doc[8192], doc2[16384], a[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/.well-known/jwks.json", srv.port);
    main_doc(doc, sizeof doc);
    srv_set(SRV_OK, doc);
    atomic_store(&srv.requests, 0);

    jwks_opts o = {.refresh_s = 3600, .cooldown_s = 30, .timeout_ms = 5000, .allow_http = 1};
    jwks *j = NULL;
    CHECK(jwks_new(url, &o, &j, why, sizeof why) == RK_OK);
    int64_t t0 = time(NULL);
    CHECK(atomic_load(&srv.requests) == 1);
    CHECK(jwks_fetch_count(j) == 1);
    CHECK(jwks_age(j, t0 + 10) >= 10 && jwks_age(j, t0 + 10) <= 15);

    uint8_t sig[512], sig2[512];
    size_t n = sign(rsa1, "RS256", MSG, sig);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t0) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 1);

    /* unknown kid within the cooldown: no fetch */
    CHECK(vfy(j, "new", "RS256", MSG, sig, n, t0 + 1) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 1);
    /* after it: exactly one fetch, then the cooldown again */
    CHECK(vfy(j, "new", "RS256", MSG, sig, n, t0 + 100) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 2);
    CHECK(vfy(j, "new", "RS256", MSG, sig, n, t0 + 101) == RK_ENOTFOUND);
    CHECK(vfy(j, "new2", "RS256", MSG, sig, n, t0 + 110) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 2);
    CHECK(jwks_fetch_count(j) == 2);

    /* rotation: a new key appears and is found once the cooldown allows */
    char b[1024], c[1024], d[2048];
    snprintf(doc2, sizeof doc2, "{\"keys\":[%s,%s,%s,%s]}", jwk(rsa2, "r2", "", a, sizeof a),
             jwk(rsa1, "r1", "", d, sizeof d), jwk(ec1, "e1", "", b, sizeof b),
             jwk(ed1, "d1", "", c, sizeof c));
    srv_set(SRV_OK, doc2);
    size_t n2 = sign(rsa2, "RS256", MSG, sig2);
    CHECK(vfy(j, "r2", "RS256", MSG, sig2, n2, t0 + 120) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 2);
    CHECK(vfy(j, "r2", "RS256", MSG, sig2, n2, t0 + 200) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 3);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t0 + 201) == RK_OK);
    CHECK(jwks_age(j, t0 + 201) == 1);

    /* a failing server keeps the last good keys */
    srv_set(SRV_500, NULL);
    CHECK(vfy(j, "gone", "RS256", MSG, sig, n, t0 + 300) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 4);
    CHECK(vfy(j, "r2", "RS256", MSG, sig2, n2, t0 + 301) == RK_OK);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t0 + 301) == RK_OK);
    CHECK(jwks_age(j, t0 + 300) == 100);
    CHECK(jwks_fetch_count(j) == 4);

    /* periodic refresh: a stale set is re-fetched on use (known kid) */
    srv_set(SRV_OK, doc);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t0 + 200 + 3599) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 4);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t0 + 200 + 3600) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 5);
    CHECK(jwks_age(j, t0 + 200 + 3600) == 0);
    CHECK(vfy(j, "r2", "RS256", MSG, sig2, n2, t0 + 200 + 3601) == RK_ENOTFOUND); /* rotated out */
    CHECK(atomic_load(&srv.requests) == 5);

    /* a stale set whose refresh fails still verifies, and retries only per cooldown */
    int64_t t1 = t0 + 200 + 3600 + 3600;
    srv_set(SRV_500, NULL);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t1) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 6);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t1 + 5) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 6);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t1 + 30) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 7);

    /* bodies over JWKS_MAX_DOC are refused (with and without Content-Length) */
    srv_set(SRV_BIG_CL, "{\"keys\":[]}");
    CHECK(vfy(j, "x", "RS256", MSG, sig, n, t1 + 100) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 8);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t1 + 100) == RK_OK);
    srv_set(SRV_BIG_NOCL, "{\"keys\":[]}");
    CHECK(vfy(j, "x", "RS256", MSG, sig, n, t1 + 200) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 9);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t1 + 200) == RK_OK);
    CHECK(jwks_fetch_count(j) == 9);
    CHECK(jwks_age(j, t1) == 3600);

    /* a valid empty set replaces the old one */
    srv_set(SRV_OK, "{\"keys\":[]}");
    CHECK(vfy(j, "x", "RS256", MSG, sig, n, t1 + 300) == RK_ENOTFOUND);
    CHECK(vfy(j, "r1", "RS256", MSG, sig, n, t1 + 301) == RK_ENOTFOUND);
    CHECK(atomic_load(&srv.requests) == 10);
    jwks_free(j);
}

static void test_url_first_fetch_fails(void)
{
    char url[128], doc[8192];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/jwks", srv.port);
    main_doc(doc, sizeof doc);
    srv_set(SRV_500, doc);
    atomic_store(&srv.requests, 0);
    jwks_opts o = {.cooldown_s = 10, .timeout_ms = 5000, .allow_http = 1};
    jwks *j = NULL;
    why[0] = '\0';
    CHECK(jwks_new(url, &o, &j, why, sizeof why) == RK_OK);
    int64_t t0 = time(NULL);
    CHECK(j != NULL);
    CHECK(strstr(why, "500") != NULL);
    CHECK(jwks_fetch_count(j) == 1);
    CHECK(jwks_age(j, t0) == -1);
    uint8_t sig[512];
    size_t n = sign(ed1, "EdDSA", MSG, sig);
    CHECK(vfy(j, "d1", "EdDSA", MSG, sig, n, t0 + 1) == RK_ENOTFOUND); /* cooldown */
    CHECK(atomic_load(&srv.requests) == 1);
    srv_set(SRV_OK, NULL);
    CHECK(vfy(j, NULL, "EdDSA", MSG, sig, n, t0 + 60) == RK_OK);
    CHECK(atomic_load(&srv.requests) == 2);
    CHECK(jwks_age(j, t0 + 61) == 1);
    jwks_free(j);

    /* bad body at first: empty set; a JSON error is not fatal either */
    srv_set(SRV_OK, "{\"keys\":5}");
    j = NULL;
    CHECK(jwks_new(url, &o, &j, why, sizeof why) == RK_OK);
    CHECK(strstr(why, "keys") != NULL);
    CHECK(jwks_age(j, t0) == -1);
    jwks_free(j);

    /* the time limit: a server that never answers */
    srv_set(SRV_HANG, NULL);
    o.timeout_ms = 300;
    j = NULL;
    CHECK(jwks_new(url, &o, &j, why, sizeof why) == RK_OK);
    CHECK(jwks_fetch_count(j) == 1);
    CHECK(jwks_age(j, t0) == -1);
    jwks_free(j);

    /* nothing listening */
    o.timeout_ms = 2000;
    j = NULL;
    CHECK(jwks_new("http://127.0.0.1:1/jwks", &o, &j, why, sizeof why) == RK_OK);
    CHECK(jwks_age(j, t0) == -1);
    jwks_free(j);

    /* https only by default: an https URL to a plain-HTTP server fails the TLS handshake */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/jwks", srv.port);
    srv_set(SRV_OK, doc);
    o.allow_http = 0;
    j = NULL;
    CHECK(jwks_new(url, &o, &j, why, sizeof why) == RK_OK);
    CHECK(jwks_age(j, t0) == -1);
    jwks_free(j);
}

/* ---- concurrency ------------------------------------------------------- */

typedef struct worker {
    jwks *j;
    const char *kid;
    const uint8_t *sig;
    size_t n;
    int64_t start, step;
    int iters, ok, notfound, other;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->iters; i++) {
        int rc = vfy(w->j, w->kid, "ES256", MSG, w->sig, w->n, w->start + (int64_t)i * w->step);
        if (rc == RK_OK)
            w->ok++;
        else if (rc == RK_ENOTFOUND)
            w->notfound++;
        else
            w->other++;
    }
    return NULL;
}

static void test_concurrency(void)
{
    char url[128], doc[8192];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/jwks", srv.port);
    main_doc(doc, sizeof doc);
    srv_set(SRV_OK, doc);
    atomic_store(&srv.requests, 0);
    jwks_opts o = {.refresh_s = 100, .cooldown_s = 30, .timeout_ms = 5000, .allow_http = 1};
    jwks *j = NULL;
    CHECK(jwks_new(url, &o, &j, why, sizeof why) == RK_OK);
    int64_t t0 = time(NULL);
    uint8_t sig[64];
    size_t n = sign(ec1, "ES256", MSG, sig);

    /* many threads, same unknown kid, same moment past the cooldown: one fetch */
    enum { T = 8 };
    pthread_t th[T];
    worker w[T];
    for (int i = 0; i < T; i++) {
        w[i] =
            (worker){.j = j, .kid = "unknown", .sig = sig, .n = n, .start = t0 + 50, .iters = 20};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].notfound == 20);
    }
    CHECK(atomic_load(&srv.requests) == 2);
    CHECK(jwks_fetch_count(j) == 2);

    /* a key rotated in: every thread finds it (waiting for the one fetch
     * rather than giving up while it runs) */
    char rot[8192], a[2048], b[1024];
    snprintf(rot, sizeof rot, "{\"keys\":[%s,%s]}", jwk(ec1, "e1", "", a, sizeof a),
             jwk(ec2, "e2", "", b, sizeof b));
    srv_set(SRV_OK, rot);
    uint8_t sig2[64];
    size_t n2 = sign(ec2, "ES256", MSG, sig2);
    for (int i = 0; i < T; i++) {
        w[i] = (worker){.j = j, .kid = "e2", .sig = sig2, .n = n2, .start = t0 + 100, .iters = 20};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].ok == 20);
    }
    CHECK(atomic_load(&srv.requests) == 3);
    srv_set(SRV_OK, doc);

    /* known kid while time runs across several refresh intervals: every check
     * passes and fetches never overlap (the server counts them one by one) */
    for (int i = 0; i < T; i++) {
        w[i] = (worker){
            .j = j, .kid = "e1", .sig = sig, .n = n, .start = t0 + 1000, .step = 7, .iters = 200};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        CHECK(w[i].other == 0 && w[i].notfound == 0);
    }
    CHECK(ok == T * 200);
    int reqs = atomic_load(&srv.requests);
    CHECK((uint64_t)reqs == jwks_fetch_count(j));
    CHECK(reqs > 3 && reqs <= 3 + 200 * 7 / 100 + 2);
    jwks_free(j);
}

int main(void)
{
    gen_keys();
    test_algs();
    test_selection();
    test_skipped();
    test_documents();
    test_file();
    srv_start();
    test_url();
    test_url_first_fetch_fails();
    test_concurrency();
    srv_stop();
    free_keys();
    return check_summary();
}
