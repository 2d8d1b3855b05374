/* verifier.c - HS256 LiveKit token verification. */
#include "verifier.h"
#include "../util/err.h"
#include "../util/jws.h"

#include <math.h>
#include <openssl/crypto.h>
#include <string.h>

int lktoken_numeric_date(const json_t *claims, const char *name, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    if (!v)
        return RK_ENOTFOUND;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return RK_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d < -9.2e18 || d > 9.2e18)
            return RK_EINVAL;
        *out = (int64_t)floor(d);
        return RK_OK;
    }
    return RK_EINVAL;
}

/* check_header allows exactly alg HS256, typ JWT when present, and no crit. */
static int check_header(const json_t *h, const char **reason)
{
    const char *alg = json_string_value(json_object_get(h, "alg"));
    if (!alg || strcmp(alg, "HS256") != 0) {
        *reason = "alg must be HS256";
        return RK_EVERIFY;
    }
    json_t *typ = json_object_get(h, "typ");
    if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) {
        *reason = "typ must be JWT";
        return RK_EVERIFY;
    }
    if (json_object_get(h, "crit")) {
        *reason = "crit header parameters are not supported";
        return RK_EVERIFY;
    }
    return RK_OK;
}

int lktoken_verify(const keyring *kr, const char *tok, size_t len, int64_t now, int64_t leeway,
                   json_t **claims, const char **reason)
{
    if (leeway < 0 || leeway > VERIFIER_MAX_LEEWAY) {
        *reason = "leeway out of range";
        return RK_EINVAL;
    }
    jws j;
    int rc = jws_parse(tok, len, &j, reason);
    if (rc)
        return rc;
    if ((rc = check_header(j.header, reason)))
        goto out;
    json_t *iss = json_object_get(j.payload, "iss");
    if (!json_is_string(iss)) {
        *reason = "iss (API key) missing";
        rc = RK_EVERIFY;
        goto out;
    }
    const keyring_entry *key = keyring_find(kr, json_string_value(iss), json_string_length(iss));
    if (!key) {
        *reason = "unknown API key";
        rc = RK_EVERIFY;
        goto out;
    }
    unsigned char mac[32];
    if ((rc = keyring_hmac(key, j.signing, j.signing_len, mac))) {
        *reason = "HMAC failed";
        goto out;
    }
    if (j.sig_len != sizeof mac || CRYPTO_memcmp(mac, j.sig, sizeof mac) != 0) {
        *reason = "signature mismatch";
        rc = RK_EVERIFY;
        goto out;
    }
    int64_t exp, nbf;
    rc = lktoken_numeric_date(j.payload, "exp", &exp);
    if (rc) {
        *reason = rc == RK_ENOTFOUND ? "exp missing" : "exp is not a number";
        rc = RK_EVERIFY;
        goto out;
    }
    if (now > exp + leeway) {
        *reason = "token expired";
        rc = RK_EEXPIRED;
        goto out;
    }
    rc = lktoken_numeric_date(j.payload, "nbf", &nbf);
    if (rc == RK_EINVAL) {
        *reason = "nbf is not a number";
        rc = RK_EVERIFY;
        goto out;
    }
    if (rc == RK_OK && now + leeway < nbf) {
        *reason = "token not yet valid";
        rc = RK_ENOTYET;
        goto out;
    }
    json_t *sub = json_object_get(j.payload, "sub");
    if (sub && !json_is_string(sub)) {
        *reason = "sub is not a string";
        rc = RK_EVERIFY;
        goto out;
    }
    *claims = json_incref(j.payload);
    rc = RK_OK;
out:
    jws_clear(&j);
    return rc;
}
