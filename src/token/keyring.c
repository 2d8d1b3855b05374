/* keyring.c - API keys held as keyed HMAC contexts. */
#include "keyring.h"
#include "../util/err.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entries are an array that grows as keys are added (a keyring is
 * built, then only read), so an empty or small keyring costs no memory
 * for the KEYRING_MAX_KEYS it may hold. */
struct keyring {
    keyring_entry *keys;
    size_t n, cap;
    size_t signer;
    uint64_t serial; /* unique per keyring made by this process */
};

static _Atomic uint64_t next_serial;    /* keyrings and entries draw from it */
static _Atomic uint64_t keyrings_freed; /* bumped by keyring_free */

int keyring_new(keyring **out)
{
    keyring *kr = calloc(1, sizeof *kr);
    if (!kr)
        return RK_ENOMEM;
    kr->serial = atomic_fetch_add(&next_serial, 1) + 1;
    *out = kr;
    return RK_OK;
}

/* reserve makes room in kr for at least want entries (<= KEYRING_MAX_KEYS):
 * RK_OK or RK_ENOMEM (kr unchanged). Entries move: the keyring is still
 * being built. */
static int reserve(keyring *kr, size_t want)
{
    if (want <= kr->cap)
        return RK_OK;
    size_t cap = kr->cap ? kr->cap : 4;
    while (cap < want)
        cap *= 2;
    if (cap > KEYRING_MAX_KEYS)
        cap = KEYRING_MAX_KEYS;
    keyring_entry *keys = realloc(kr->keys, cap * sizeof *keys);
    if (!keys)
        return RK_ENOMEM;
    kr->keys = keys;
    kr->cap = cap;
    return RK_OK;
}

int keyring_dup(const keyring *kr, keyring **out)
{
    keyring *d;
    int rc = keyring_new(&d);
    if (rc == RK_OK && (rc = reserve(d, kr->n)) != RK_OK)
        keyring_free(d);
    if (rc)
        return rc;
    for (size_t i = 0; i < kr->n; i++) {
        keyring_entry *e = &d->keys[i];
        *e = kr->keys[i];
        e->mac = EVP_MAC_CTX_dup(kr->keys[i].mac);
        e->serial = atomic_fetch_add(&next_serial, 1) + 1;
        d->n = i + 1;
        if (!e->mac) {
            d->n = i;
            keyring_free(d);
            return RK_ECRYPTO;
        }
    }
    d->signer = kr->signer;
    *out = d;
    return RK_OK;
}

uint64_t keyring_serial(const keyring *kr)
{
    return kr ? kr->serial : 0;
}

void keyring_free(keyring *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->n; i++)
        EVP_MAC_CTX_free(kr->keys[i].mac);
    if (kr->keys)
        OPENSSL_cleanse(kr->keys, kr->cap * sizeof *kr->keys);
    free(kr->keys);
    OPENSSL_cleanse(kr, sizeof *kr);
    free(kr);
    atomic_fetch_add(&keyrings_freed, 1); /* threads drop their cached copies */
}

/* API keys are identifiers: letters, digits, '-', '_' and '.' (LiveKit's
 * look like "APIxxxxxxxx"). This also means they never need JSON escaping. */
static bool id_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* keyed_ctx returns a new HMAC-SHA256 context keyed with secret. */
static EVP_MAC_CTX *keyed_ctx(const char *secret, size_t len)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (!mac)
        return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (!ctx)
        return NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx, (const unsigned char *)secret, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int keyring_add(keyring *kr, const char *id, const char *secret, size_t secret_len,
                bool allow_short, char *why, size_t cap)
{
    size_t id_len = strnlen(id, KEYRING_MAX_KEY_ID + 1);
    if (id_len == 0)
        return rk_fail(RK_EINVAL, why, cap, "API key is empty");
    if (id_len > KEYRING_MAX_KEY_ID)
        return rk_fail(RK_ETOOBIG, why, cap, "API key is longer than %d bytes", KEYRING_MAX_KEY_ID);
    for (size_t i = 0; i < id_len; i++)
        if (!id_char_ok(id[i]))
            return rk_fail(RK_EINVAL, why, cap,
                           "API key may hold only letters, digits, '-', '_' and '.'");
    if (secret_len == 0)
        return rk_fail(RK_EINVAL, why, cap, "API secret for key %s is empty", id);
    if (secret_len > KEYRING_MAX_SECRET)
        return rk_fail(RK_ETOOBIG, why, cap, "API secret for key %s is longer than %d bytes", id,
                       KEYRING_MAX_SECRET);
    if (secret_len < KEYRING_MIN_SECRET && !allow_short)
        return rk_fail(RK_EINVAL, why, cap,
                       "API secret for key %s is %zu bytes; at least %d are required "
                       "(for development only: the --dev flag, or dev_mode: true / "
                       "ROOMKEY_DEV_MODE=1 for the service, allows shorter)",
                       id, secret_len, KEYRING_MIN_SECRET);
    if (keyring_find(kr, id, id_len))
        return rk_fail(RK_ECONFLICT, why, cap, "API key %s is configured twice", id);
    if (kr->n == KEYRING_MAX_KEYS)
        return rk_fail(RK_ETOOBIG, why, cap, "more than %d API keys", KEYRING_MAX_KEYS);
    if (reserve(kr, kr->n + 1) != RK_OK)
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    EVP_MAC_CTX *ctx = keyed_ctx(secret, secret_len);
    if (!ctx)
        return rk_fail(RK_ECRYPTO, why, cap, "OpenSSL could not set up HMAC-SHA256");
    keyring_entry *e = &kr->keys[kr->n++];
    memcpy(e->id, id, id_len);
    e->id[id_len] = '\0';
    e->id_len = id_len;
    e->mac = ctx;
    e->serial = atomic_fetch_add(&next_serial, 1) + 1;
    return RK_OK;
}

static const char *trim(char *s, char **end)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *e = '\0';
    if (end)
        *end = e;
    return s;
}

int keyring_parse(keyring *kr, const char *text, bool allow_short, char *why, size_t cap)
{
    size_t len = strnlen(text, KEYRING_MAX_TEXT + 1);
    if (len > KEYRING_MAX_TEXT)
        return rk_fail(RK_ETOOBIG, why, cap, "key list is larger than %u bytes", KEYRING_MAX_TEXT);
    char *copy = malloc(len + 1);
    if (!copy)
        return RK_ENOMEM;
    memcpy(copy, text, len + 1);
    int rc = RK_OK;
    char *save = NULL;
    for (char *item = strtok_r(copy, "\n,", &save); item; item = strtok_r(NULL, "\n,", &save)) {
        const char *t = trim(item, NULL);
        if (*t == '\0' || *t == '#')
            continue;
        char *colon = strchr(t, ':');
        if (!colon) {
            rc = rk_fail(RK_EINVAL, why, cap, "key list entry is not \"key: secret\"");
            break;
        }
        *colon = '\0';
        char *idcopy = (char *)t;
        const char *id = trim(idcopy, NULL);
        const char *secret = trim(colon + 1, NULL);
        rc = keyring_add(kr, id, secret, strlen(secret), allow_short, why, cap);
        if (rc)
            break;
    }
    OPENSSL_cleanse(copy, len + 1);
    free(copy);
    return rc;
}

int keyring_set_signer(keyring *kr, const char *id)
{
    for (size_t i = 0; i < kr->n; i++) {
        if (strcmp(kr->keys[i].id, id) == 0) {
            kr->signer = i;
            return RK_OK;
        }
    }
    return RK_ENOTFOUND;
}

const keyring_entry *keyring_signer(const keyring *kr)
{
    return kr->n ? &kr->keys[kr->signer] : NULL;
}

const keyring_entry *keyring_find(const keyring *kr, const char *id, size_t len)
{
    for (size_t i = 0; i < kr->n; i++)
        if (kr->keys[i].id_len == len && memcmp(kr->keys[i].id, id, len) == 0)
            return &kr->keys[i];
    return NULL;
}

size_t keyring_count(const keyring *kr)
{
    return kr->n;
}

const keyring_entry *keyring_at(const keyring *kr, size_t i)
{
    return i < kr->n ? &kr->keys[i] : NULL;
}

/* Each thread keeps copies of the keyed contexts it used last, so that
 * verifying a token re-initialises a context (which reuses OpenSSL's
 * precomputed inner and outer key state) instead of duplicating one. Slots
 * are matched by entry serial, never by address, and all are dropped when
 * any keyring is freed (config reload), so no copy outlives its keyring by
 * more than one call of that thread. The thread's copies are freed (and
 * wiped by OpenSSL) at thread exit. */
#define HMAC_SLOTS 4

typedef struct hmac_cache {
    uint64_t serial[HMAC_SLOTS];
    EVP_MAC_CTX *ctx[HMAC_SLOTS];
    uint64_t freed_seen; /* keyrings_freed when the slots were filled */
    unsigned next;       /* slot to replace next */
} hmac_cache;

static pthread_key_t hmac_key;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_cache_clear(hmac_cache *hc)
{
    for (int i = 0; i < HMAC_SLOTS; i++) {
        EVP_MAC_CTX_free(hc->ctx[i]);
        hc->ctx[i] = NULL;
        hc->serial[i] = 0;
    }
}

static void hmac_cache_destroy(void *p)
{
    hmac_cache_clear(p);
    free(p);
}

static void hmac_key_init(void)
{
    if (pthread_key_create(&hmac_key, hmac_cache_destroy) != 0)
        abort(); /* only fails when the process is out of keys: a bug */
}

/* hmac_ctx returns this thread's copy of e's keyed context (owned by the
 * thread's cache; do not free), or NULL when out of memory. */
static EVP_MAC_CTX *hmac_ctx(const keyring_entry *e)
{
    pthread_once(&hmac_once, hmac_key_init);
    hmac_cache *hc = pthread_getspecific(hmac_key);
    if (!hc) {
        if (!(hc = calloc(1, sizeof *hc)))
            return NULL;
        if (pthread_setspecific(hmac_key, hc) != 0) {
            free(hc);
            return NULL;
        }
    }
    uint64_t freed = atomic_load(&keyrings_freed);
    if (hc->freed_seen != freed) {
        hmac_cache_clear(hc);
        hc->freed_seen = freed;
    }
    for (int i = 0; i < HMAC_SLOTS; i++)
        if (hc->ctx[i] && hc->serial[i] == e->serial)
            return hc->ctx[i];
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(e->mac);
    if (!c)
        return NULL;
    unsigned s = hc->next++ % HMAC_SLOTS;
    EVP_MAC_CTX_free(hc->ctx[s]);
    hc->ctx[s] = c;
    hc->serial[s] = e->serial;
    return c;
}

int keyring_hmac_ctx(EVP_MAC_CTX *c, const void *msg, size_t len, unsigned char out[32])
{
    size_t n = 0;
    int ok = EVP_MAC_init(c, NULL, 0, NULL) == 1 && EVP_MAC_update(c, msg, len) == 1 &&
             EVP_MAC_final(c, out, &n, 32) == 1 && n == 32;
    return ok ? RK_OK : RK_ECRYPTO;
}

int keyring_hmac(const keyring_entry *e, const void *msg, size_t len, unsigned char out[32])
{
    EVP_MAC_CTX *c = hmac_ctx(e);
    return c ? keyring_hmac_ctx(c, msg, len, out) : RK_ECRYPTO;
}
