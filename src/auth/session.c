/* session.c - session JWT and API key authentication. */
#include "session.h"
#include "apikey.h"
#include "../token/keyring.h"
#include "../util/err.h"
#include "../util/jws.h"
#include "../util/text.h"
#include "../util/utf8.h"
#include "jwks.h"

#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct authn {
    const config *cfg;
    keyring *hs;                                     /* HS256 secrets, id "i<N>" for issuer N */
    const keyring_entry *hs_key[CONFIG_MAX_ISSUERS]; /* issuer N's entry in hs, or NULL */
    jwks *keys[CONFIG_MAX_ISSUERS];                  /* JWKS per asymmetric issuer */
};

const char *auth_fail_name(auth_fail f)
{
    static const char *const names[] = {"none",     "missing",   "malformed", "algorithm",
                                        "issuer",   "signature", "expired",   "not_yet_valid",
                                        "audience", "claims",    "api_key",   "ambiguous"};
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "unknown";
}

/* Failed authentications by reason, process-wide (see authn_fail_counts). */
static _Atomic uint64_t fail_counts[AUTH_FAIL_COUNT];

void authn_fail_counts(uint64_t out[AUTH_FAIL_COUNT])
{
    for (size_t i = 0; i < AUTH_FAIL_COUNT; i++)
        out[i] = atomic_load_explicit(&fail_counts[i], memory_order_relaxed);
}

bool authn_jwks_ready(authn *a, int64_t now, int64_t max_age_s, char *why, size_t cap)
{
    for (size_t i = 0; i < a->cfg->n_issuers; i++) {
        if (!a->keys[i])
            continue;
        jwks_refresh(a->keys[i], now);
        int64_t age = jwks_age(a->keys[i], now);
        if (age < 0 || age > max_age_s) {
            snprintf(why, cap, age < 0 ? "issuer %s: JWKS never loaded" : "issuer %s: JWKS stale",
                     a->cfg->issuers[i].name);
            return false;
        }
    }
    return true;
}

int authn_new(const config *cfg, authn **out, char *why, size_t cap)
{
    authn *a = calloc(1, sizeof *a);
    if (!a)
        return RK_ENOMEM;
    a->cfg = cfg;
    int rc = keyring_new(&a->hs);
    for (size_t i = 0; rc == RK_OK && i < cfg->n_issuers; i++) {
        const config_issuer *is = &cfg->issuers[i];
        if (is->hs_secret) {
            char id[32];
            snprintf(id, sizeof id, "i%zu", i);
            rc = keyring_add(a->hs, id, (const char *)is->hs_secret, is->hs_secret_len, true, why,
                             cap);
            /* Entries sit in the keyring's fixed array: the pointer stays valid. */
            if (rc == RK_OK)
                a->hs_key[i] = keyring_find(a->hs, id, strlen(id));
        } else if (is->jwks[0]) {
            jwks_opts o = {.allow_http = is->allow_http_jwks,
                           .refresh_s = is->jwks_refresh,
                           .cooldown_s = is->jwks_cooldown};
            rc = jwks_new(is->jwks, &o, &a->keys[i], why, cap);
        }
    }
    if (rc)
        authn_free(a);
    else
        *out = a;
    return rc;
}

void authn_free(authn *a)
{
    if (!a)
        return;
    keyring_free(a->hs);
    for (size_t i = 0; i < CONFIG_MAX_ISSUERS; i++)
        jwks_free(a->keys[i]);
    free(a);
}

/* date reads a NumericDate; RK_ENOTFOUND when absent. */
static int date(const json_t *claims, const char *name, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    if (!v)
        return RK_ENOTFOUND;
    if (!json_is_number(v))
        return RK_EINVAL;
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0 || d > 9.2e15)
        return RK_EINVAL;
    *out = (int64_t)floor(d);
    return RK_OK;
}

static bool alg_allowed(const config_issuer *is, const char *alg)
{
    for (size_t i = 0; i < is->n_algs; i++)
        if (strcmp(is->algs[i], alg) == 0)
            return true;
    return false;
}

/* typ_allowed checks the JWT header's typ (NULL: none, which counts as
 * "JWT") against is's list, without case and without an "application/"
 * prefix (RFC 7515 4.1.9). */
static bool typ_allowed(const config_issuer *is, const char *typ)
{
    if (!typ)
        typ = "JWT";
    else if (!strncasecmp(typ, "application/", 12))
        typ += 12;
    for (size_t i = 0; i < is->n_typs; i++)
        if (strcasecmp(is->typs[i], typ) == 0)
            return true;
    return false;
}

static bool aud_ok(const config_issuer *is, const json_t *claims)
{
    if (!is->aud[0])
        return true;
    json_t *aud = json_object_get(claims, "aud");
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), is->aud) == 0;
    if (json_is_array(aud)) {
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) if (json_is_string(v) &&
                                          strcmp(json_string_value(v), is->aud) == 0) return true;
    }
    return false;
}

/* claim_path follows a dotted path ("app_metadata.role") to a string. */
static const char *claim_path(const json_t *claims, const char *path)
{
    if (!strchr(path, '.')) { /* one segment, e.g. "sub": no copy to split */
        const json_t *v = json_object_get(claims, path);
        return json_is_string(v) ? json_string_value(v) : NULL;
    }
    char buf[130]; /* config_issuer's claim names fit */
    text_copy(buf, sizeof buf, path);
    const json_t *cur = claims;
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, seg);
    return json_is_string(cur) ? json_string_value(cur) : NULL;
}

static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* verify_sig checks the signature with issuer i's key material. */
static int verify_sig(authn *a, size_t i, const char *alg, const char *kid, const jws *j,
                      int64_t now)
{
    if (strcmp(alg, "HS256") == 0) {
        const keyring_entry *e = a->hs_key[i];
        unsigned char mac[32];
        if (!e || keyring_hmac(e, j->signing, j->signing_len, mac))
            return RK_EVERIFY;
        if (j->sig_len != sizeof mac || CRYPTO_memcmp(mac, j->sig, sizeof mac) != 0)
            return RK_EVERIFY;
        return RK_OK;
    }
    if (!a->keys[i])
        return RK_EVERIFY;
    return jwks_verify(a->keys[i], kid, alg, (const uint8_t *)j->signing, j->signing_len, j->sig,
                       j->sig_len, now) == RK_OK
               ? RK_OK
               : RK_EVERIFY;
}

/* times_ok checks a verified payload's exp (required), nbf and iat
 * against now with is's leeway; on false *fail says why. */
static bool times_ok(const config_issuer *is, json_t *payload, int64_t now, auth_fail *fail)
{
    int64_t exp, nbf, iat;
    int e = date(payload, "exp", &exp);
    if (e != RK_OK) {
        *fail = AUTH_CLAIMS;
        return false;
    }
    if (now > exp + is->leeway) {
        *fail = AUTH_EXPIRED;
        return false;
    }
    e = date(payload, "nbf", &nbf);
    if (e == RK_EINVAL || (e == RK_OK && now + is->leeway < nbf)) {
        *fail = e == RK_EINVAL ? AUTH_CLAIMS : AUTH_NOT_YET;
        return false;
    }
    e = date(payload, "iat", &iat);
    if (e == RK_EINVAL || (e == RK_OK && now + is->leeway < iat)) {
        *fail = e == RK_EINVAL ? AUTH_CLAIMS : AUTH_NOT_YET;
        return false;
    }
    return true;
}

/* aud_checked is aud_ok that says AUTH_AUDIENCE in *fail on false. */
static bool aud_checked(const config_issuer *is, json_t *payload, auth_fail *fail)
{
    if (aud_ok(is, payload))
        return true;
    *fail = AUTH_AUDIENCE;
    return false;
}

/* session_kind notes what the verified payload says of the session itself:
 * a signed-in user (role "authenticated") and an anonymous sign-in. */
static void session_kind(const json_t *payload, caller *out)
{
    json_t *role = json_object_get(payload, "role");
    out->user_session =
        json_is_string(role) && strcmp(json_string_value(role), "authenticated") == 0;
    out->is_anonymous = json_is_true(json_object_get(payload, "is_anonymous"));
}

/* starts_with reports whether s begins with prefix p. */
static bool starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* foreign_subject reports whether subject, formed by issuer is, lies in a
 * namespace that is not is's: the API keys' ("api-key:"), or that of
 * another issuer whose subject_prefix is longer and begins with is's (with
 * prefixes "" and "okta:", a sub "okta:alice" from the first would be the
 * second's alice). So no two issuers with different prefixes, nor an
 * issuer and an API key, can ever form the same subject. */
static bool foreign_subject(const config *cfg, const config_issuer *is, const char *subject)
{
    if (starts_with(subject, CONFIG_APIKEY_PREFIX))
        return true;
    size_t own = strlen(is->subject_prefix);
    for (size_t i = 0; i < cfg->n_issuers; i++) {
        const char *p = cfg->issuers[i].subject_prefix;
        if (strlen(p) > own && starts_with(p, is->subject_prefix) && starts_with(subject, p))
            return true;
    }
    return false;
}

/* fill_caller fills *out from a verified payload: subject (required, is's
 * subject_prefix + the subject claim), name and role by is's claim names,
 * and is's name; AUTH_CLAIMS when one is unusable, the subject falls in
 * another namespace (foreign_subject), or the subject or the name holds a
 * control or bidi control character (utf8_has_unsafe: they become the
 * identity and the display name other participants' screens, logs and
 * terminals show). */
static bool fill_caller(const config *cfg, const config_issuer *is, json_t *payload, caller *out,
                        auth_fail *fail)
{
    const char *sub = claim_path(payload, is->subject_claim);
    const char *name = is->name_claim[0] ? claim_path(payload, is->name_claim) : NULL;
    const char *role = is->role_claim[0] ? claim_path(payload, is->role_claim) : NULL;
    memset(out, 0, sizeof *out);
    int n = sub && sub[0]
                ? snprintf(out->subject, sizeof out->subject, "%s%s", is->subject_prefix, sub)
                : -1;
    if (n < 0 || (size_t)n >= sizeof out->subject || foreign_subject(cfg, is, out->subject) ||
        utf8_has_unsafe(out->subject) ||
        (name && (!copy_str(out->name, sizeof out->name, name) || utf8_has_unsafe(out->name))) ||
        (role && !copy_str(out->role, sizeof out->role, role))) {
        memset(out, 0, sizeof *out);
        *fail = AUTH_CLAIMS;
        return false;
    }
    copy_str(out->issuer, sizeof out->issuer, is->name);
    session_kind(payload, out);
    return true;
}

/* verify_session checks session JWT tok and fills *out; with claims
 * non-NULL, *claims gets a new reference to its verified payload on RK_OK. */
static int verify_session(authn *a, const char *tok, size_t len, int64_t now, caller *out,
                          auth_fail *fail, json_t **claims)
{
    jws j;
    const char *reason;
    if (len > SESSION_MAX_TOKEN || jws_parse(tok, len, &j, &reason) != RK_OK) {
        *fail = AUTH_MALFORMED;
        return RK_EDENIED;
    }
    int rc = RK_EDENIED;
    const char *alg = json_string_value(json_object_get(j.header, "alg"));
    json_t *kidv = json_object_get(j.header, "kid");
    json_t *typ = json_object_get(j.header, "typ");
    if (!alg || strcmp(alg, "none") == 0 || (kidv && !json_is_string(kidv)) ||
        json_object_get(j.header, "crit") || (typ && !json_is_string(typ))) {
        *fail = !alg || strcmp(alg, "none") == 0 ? AUTH_ALG : AUTH_MALFORMED;
        goto out;
    }
    const char *iss = json_string_value(json_object_get(j.payload, "iss"));
    /* Candidates: issuers whose iss matches; an HS issuer with no iss
     * configured accepts tokens with any or no iss. */
    *fail = AUTH_ISSUER;
    for (size_t i = 0; i < a->cfg->n_issuers; i++) {
        const config_issuer *is = &a->cfg->issuers[i];
        if (is->iss[0] ? !(iss && strcmp(iss, is->iss) == 0) : !is->hs_secret)
            continue;
        if (!alg_allowed(is, alg)) {
            *fail = AUTH_ALG;
            continue;
        }
        if (!typ_allowed(is, json_string_value(typ))) {
            *fail = AUTH_MALFORMED; /* e.g. an ID token where access tokens are wanted */
            continue;
        }
        if (verify_sig(a, i, alg, json_string_value(kidv), &j, now) != RK_OK) {
            *fail = AUTH_SIGNATURE;
            continue;
        }
        if (times_ok(is, j.payload, now, fail) && aud_checked(is, j.payload, fail) &&
            fill_caller(a->cfg, is, j.payload, out, fail)) {
            if (claims)
                *claims = json_incref(j.payload);
            *fail = AUTH_NONE;
            rc = RK_OK;
        }
        goto out;
    }
out:
    jws_clear(&j);
    return rc;
}

static int authn_caller_uncounted(authn *a, const char *authorization, const char *x_api_key,
                                  int64_t now, caller *out, auth_fail *fail, json_t **claims);

int authn_caller(authn *a, const char *authorization, const char *x_api_key, int64_t now,
                 caller *out, auth_fail *fail)
{
    return authn_caller_claims(a, authorization, x_api_key, now, out, fail, NULL);
}

int authn_caller_claims(authn *a, const char *authorization, const char *x_api_key, int64_t now,
                        caller *out, auth_fail *fail, json_t **claims)
{
    int rc = authn_caller_uncounted(a, authorization, x_api_key, now, out, fail, claims);
    if (rc != RK_OK && (unsigned)*fail < AUTH_FAIL_COUNT)
        atomic_fetch_add_explicit(&fail_counts[*fail], 1, memory_order_relaxed);
    return rc;
}

/* authn_caller_uncounted is authn_caller_claims without the failure count. */
static int authn_caller_uncounted(authn *a, const char *authorization, const char *x_api_key,
                                  int64_t now, caller *out, auth_fail *fail, json_t **claims)
{
    if (claims)
        *claims = NULL;
    /* Two credentials would be two callers: whichever won, a proxy that adds
     * its backend key to a user's request (or a user who adds one) would
     * decide who mints. Refuse rather than guess. */
    if (authorization && x_api_key) {
        *fail = AUTH_AMBIGUOUS;
        return RK_EDENIED;
    }
    const char *cred = NULL;
    if (authorization) {
        if (strncasecmp(authorization, "Bearer ", 7) != 0) {
            *fail = AUTH_MALFORMED;
            return RK_EDENIED;
        }
        cred = authorization + 7;
        while (*cred == ' ')
            cred++;
    }
    bool api_key_only = false;
    if (!cred && x_api_key) {
        cred = x_api_key;
        api_key_only = true;
    }
    if (!cred) {
        *fail = AUTH_MISSING;
        return RK_EDENIED;
    }
    if (!*cred) { /* a header that is there but empty is a bad credential, not none */
        *fail = AUTH_MALFORMED;
        return RK_EDENIED;
    }
    size_t len = strnlen(cred, SESSION_MAX_TOKEN + 1);
    /* A credential with a dot is read as a JWT first; one that is no JWT at
     * all may still be an API key (a key may hold dots: "rk.live.x"). */
    int rc = RK_EDENIED;
    *fail = AUTH_API_KEY;
    if (!api_key_only && memchr(cred, '.', len)) {
        rc = verify_session(a, cred, len, now, out, fail, claims);
        if (rc == RK_OK || *fail != AUTH_MALFORMED)
            return rc;
    }
    const config_apikey *k = apikey_match(a->cfg, cred, len);
    if (!k) /* the JWT's reason when it was read as one */
        return rc;
    /* The key acts as "api-key:<id>", a subject no session can have
     * (foreign_subject), so a key never holds a user's membership or seat. */
    memset(out, 0, sizeof *out);
    snprintf(out->subject, sizeof out->subject, CONFIG_APIKEY_PREFIX "%s", k->id);
    copy_str(out->issuer, sizeof out->issuer, "api-key");
    out->is_api_key = true;
    out->perms = k->perms;
    *fail = AUTH_NONE;
    return RK_OK;
}
