/* apikey.c - backend API keys and the admin key: their config sections
 * (`api_keys:`, `admin_key:` / `admin_key_file:`, ROOMKEY_ADMIN_KEY), which
 * keep only hashes (each plaintext is wiped and freed at once), and
 * matching a presented key. */
#include "apikey.h"
#include "../config/section.h"
#include "../util/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int apikey_hash(const void *key, size_t len, unsigned char out[APIKEY_HASH_LEN])
{
    unsigned int n = 0;
    if (EVP_Digest(key, len, out, &n, EVP_sha256(), NULL) != 1 || n != APIKEY_HASH_LEN)
        return RK_ECRYPTO;
    return RK_OK;
}

/* apikey_match hashes key (the hash is wiped) and compares it with every
 * configured hash, selecting the match without a branch. */
const config_apikey *apikey_match(const config *cfg, const char *key, size_t len)
{
    unsigned char h[APIKEY_HASH_LEN];
    if (!key || apikey_hash(key, len, h))
        return NULL;
    size_t found = 0, idx = 0;
    for (size_t i = 0; i < cfg->n_apikeys; i++) {
        size_t eq = (size_t)(CRYPTO_memcmp(cfg->apikeys[i].hash, h, sizeof h) == 0);
        size_t mask = (size_t)0 - eq; /* all ones on a match, without a branch */
        idx = (idx & ~mask) | (i & mask);
        found |= eq;
    }
    OPENSSL_cleanse(h, sizeof h);
    return found ? &cfg->apikeys[idx] : NULL;
}

/* apikey_is_admin: key is borrowed; its hash is wiped after the compare. */
bool apikey_is_admin(const config *cfg, const char *key, size_t len)
{
    unsigned char h[APIKEY_HASH_LEN];
    if (!key || apikey_hash(key, len, h))
        return false;
    bool eq = CRYPTO_memcmp(cfg->admin_key_hash, h, sizeof h) == 0;
    OPENSSL_cleanse(h, sizeof h);
    return cfg->has_admin_key && eq;
}

/* ---- config sections ----------------------------------------------------- */

/* The keys of one `api_keys:` entry. */
enum { ID, KEY, KEY_FILE, KEY_ENV, KEY_SHA, PERMS, NF };

/* hex_hash reads 64 hex digits (a SHA-256) into out. */
static bool hex_hash(const char *hex, unsigned char out[APIKEY_HASH_LEN])
{
    if (strlen(hex) != 2 * APIKEY_HASH_LEN ||
        strspn(hex, "0123456789abcdefABCDEF") != 2 * APIKEY_HASH_LEN)
        return false;
    for (size_t b = 0; b < APIKEY_HASH_LEN; b++) {
        int hi = hex[2 * b] <= '9' ? hex[2 * b] - '0' : (hex[2 * b] | 0x20) - 'a' + 10;
        int lo = hex[2 * b + 1] <= '9' ? hex[2 * b + 1] - '0' : (hex[2 * b + 1] | 0x20) - 'a' + 10;
        out[b] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* hash_plain hashes plain (owned: wiped and freed here) into out; src names
 * the key in messages. rc is an earlier failure, returned as it is. */
static int hash_plain(config_loader *ld, int rc, const char *src, char *plain, size_t len,
                      unsigned char out[APIKEY_HASH_LEN])
{
    if (!plain)
        return rc;
    int hrc = rc ? rc : apikey_hash(plain, len, out);
    OPENSSL_cleanse(plain, len);
    free(plain);
    if (hrc && !rc)
        return yaml_fail(&ld->y, hrc, "%s: SHA-256 failed", src);
    return rc;
}

/* key_hash reads the one key source of entry v (key, key_file, key_env or
 * key_sha256) into k->hash. */
static int key_hash(config_loader *ld, const ynode *const *v, const char *path, config_apikey *k)
{
    yaml_ctx *y = &ld->y;
    char p[YAML_PATH_CAP], src[YAML_PATH_CAP + 8];
    if (!!v[KEY] + !!v[KEY_FILE] + !!v[KEY_ENV] + !!v[KEY_SHA] != 1)
        return yaml_fail(y, RK_EINVAL,
                         "config: %s: set exactly one of key, key_file, key_env, key_sha256",
                         yaml_sub(p, path, "key"));
    if (v[KEY_SHA]) {
        char hex[80];
        const char *kp = yaml_sub(p, path, "key_sha256");
        int rc = yaml_get_str(y, v[KEY_SHA], kp, hex, sizeof hex, 1);
        if (rc)
            return rc;
        if (!hex_hash(hex, k->hash))
            return yaml_fail(y, RK_EINVAL, "config: %s: expected 64 hex digits (a SHA-256)", kp);
        return RK_OK;
    }
    char *plain = NULL;
    size_t plen = 0;
    int rc;
    if (v[KEY])
        rc = yaml_get_secret(y, v[KEY], yaml_sub(p, path, "key"), CONFIG_MAX_STR, &plain, &plen);
    else if (v[KEY_FILE])
        rc = config_secret_file(ld, v[KEY_FILE], yaml_sub(p, path, "key_file"), &plain, &plen);
    else
        rc = config_secret_env(ld, v[KEY_ENV], yaml_sub(p, path, "key_env"), SIZE_MAX, &plain,
                               &plen);
    snprintf(src, sizeof src, "config: %s", path);
    return hash_plain(ld, rc, src, plain, plen, k->hash);
}

/* key_perms reads an entry's `permissions:` (mint_any, admin) into k. */
static int key_perms(config_loader *ld, const ynode *n, const char *path, config_apikey *k)
{
    yaml_ctx *y = &ld->y;
    char pp[YAML_PATH_CAP];
    size_t np = 0;
    int rc = yaml_seq_items(y, n, yaml_sub(pp, path, "permissions"), 8, &np);
    for (size_t j = 0; !rc && j < np; j++) {
        char perm[32], ip[YAML_PATH_CAP];
        yaml_path_idx(ip, sizeof ip, pp, j);
        if (yaml_get_str(y, n->kids[j], ip, perm, sizeof perm, 1) ||
            (strcmp(perm, "mint_any") && strcmp(perm, "admin")))
            return yaml_fail(y, RK_EINVAL, "config: %s: expected mint_any or admin", ip);
        k->perms |= perm[0] == 'a' ? PERM_ADMIN : PERM_MINT_ANY;
    }
    return rc;
}

/* api_key_entry reads the i-th `api_keys:` entry into the next API key. */
static int api_key_entry(config_loader *ld, const ynode *n, const char *path, size_t i)
{
    static const char *const names[NF] = {"id",      "key",        "key_file",
                                          "key_env", "key_sha256", "permissions"};
    yaml_ctx *y = &ld->y;
    config *c = ld->cfg;
    config_apikey *k = &c->apikeys[c->n_apikeys++];
    yaml_fields f;
    (void)i;
    if (yaml_fields_open(&f, y, n, path, names, NF) || yaml_field_need(&f, ID) ||
        yaml_field_str(&f, ID, k->id, sizeof k->id, 1))
        return f.rc;
    if (!config_ident_ok(k->id, true))
        return yaml_fail(y, RK_EINVAL, "config: %s: use 1-64 letters, digits, '-', '_' or '.'",
                         f.p);
    for (size_t j = 0; j + 1 < c->n_apikeys; j++)
        if (strcmp(c->apikeys[j].id, k->id) == 0)
            return yaml_fail(y, RK_EINVAL, "config: %s: API key id \"%s\" is used twice", f.p,
                             k->id);
    int rc = key_hash(ld, f.v, path, k);
    if (rc)
        return rc;
    for (size_t j = 0; j + 1 < c->n_apikeys; j++)
        if (CRYPTO_memcmp(c->apikeys[j].hash, k->hash, APIKEY_HASH_LEN) == 0)
            return yaml_fail(y, RK_EINVAL, "config: %s: the same key as api_keys[%zu]", path, j);
    return f.v[PERMS] ? key_perms(ld, f.v[PERMS], path, k) : RK_OK;
}

/* api_keys_parse reads `api_keys:`. */
static int api_keys_parse(config_loader *ld, const ynode *n)
{
    return config_each(ld, n, "api_keys", CONFIG_MAX_APIKEYS, api_key_entry);
}

/* set_admin_key hashes plain (owned: wiped and freed here) as the admin key;
 * rc is an earlier failure, returned as it is. */
static int set_admin_key(config_loader *ld, int rc, const char *src, char *plain, size_t len)
{
    rc = hash_plain(ld, rc, src, plain, len, ld->cfg->admin_key_hash);
    if (!rc && plain)
        ld->cfg->has_admin_key = true;
    return rc;
}

/* admin_key_parse hashes `admin_key`. */
static int admin_key_parse(config_loader *ld, const ynode *n)
{
    char *plain = NULL;
    size_t plen = 0;
    int rc = yaml_get_secret(&ld->y, n, "admin_key", CONFIG_MAX_STR, &plain, &plen);
    return set_admin_key(ld, rc, "config: admin_key", plain, plen);
}

/* admin_key_file_parse hashes the key in `admin_key_file` (not with admin_key). */
static int admin_key_file_parse(config_loader *ld, const ynode *n)
{
    if (ld->cfg->has_admin_key)
        return yaml_fail(&ld->y, RK_EINVAL, "config: admin_key and admin_key_file are both set");
    char *plain = NULL;
    size_t plen = 0;
    int rc = config_secret_file(ld, n, "admin_key_file", &plain, &plen);
    return set_admin_key(ld, rc, "config: admin_key", plain, plen);
}

/* admin_key_env hashes ROOMKEY_ADMIN_KEY (it replaces the config's key). */
static int admin_key_env(config_loader *ld)
{
    const char *v = NULL;
    int rc = config_env_text(ld, "ROOMKEY_ADMIN_KEY", CONFIG_MAX_STR, &v);
    if (rc || !v)
        return rc;
    if (apikey_hash(v, strlen(v), ld->cfg->admin_key_hash))
        return yaml_fail(&ld->y, RK_ECRYPTO, "env: ROOMKEY_ADMIN_KEY: SHA-256 failed");
    ld->cfg->has_admin_key = true;
    return RK_OK;
}

const config_section config_api_keys_section = {.key = "api_keys", .parse = api_keys_parse};
const config_section config_admin_key_section = {
    .key = "admin_key", .parse = admin_key_parse, .env = admin_key_env};
const config_section config_admin_key_file_section = {.key = "admin_key_file",
                                                      .parse = admin_key_file_parse};
