/* livekit_keys.c - `livekit:`: where clients and the server API are
 * reached, token lifetimes, and the keys tokens are signed with (with
 * LIVEKIT_API_KEY/SECRET, LIVEKIT_KEYS, LIVEKIT_URL/SERVER_URL, LIVEKIT_HOST
 * and LIVEKIT_DEFAULT_TOKEN_TTL). Key material waits in the loader until
 * dev mode is final; validate builds the keyring from it. */
#include "section.h"
#include "../token/minter.h"
#include "../util/duration.h"
#include "../util/err.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* url_ok accepts ws://, wss://, http:// and https:// URLs with a host. */
static bool url_ok(const char *u)
{
    static const char *const schemes[] = {"ws://", "wss://", "http://", "https://"};
    for (size_t i = 0; i < 4; i++) {
        size_t l = strlen(schemes[i]);
        if (strncmp(u, schemes[i], l) == 0) {
            if (u[l] == '\0' || u[l] == '/')
                return false;
            for (const char *c = u; *c; c++)
                if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                    return false;
            return true;
        }
    }
    return false;
}

/* drop wipes and frees *s (len bytes) and sets it to NULL. */
static void drop(char **s, size_t len)
{
    if (*s) {
        OPENSSL_cleanse(*s, len);
        free(*s);
        *s = NULL;
    }
}

/* drop_map wipes and frees the pending livekit.keys. */
static void drop_map(config_loader *ld)
{
    for (size_t i = 0; i < ld->n_lk_map; i++)
        drop(&ld->lk_map[i].secret, ld->lk_map[i].len);
    ld->n_lk_map = 0;
}

/* livekit_wipe wipes and frees the key material kept in ld. */
static void livekit_wipe(config_loader *ld)
{
    drop(&ld->lk_secret, ld->lk_secret_len);
    drop_map(ld);
    if (ld->lk_text)
        drop(&ld->lk_text, strlen(ld->lk_text));
}

/* livekit_defaults: tokens live 1 h by default, 24 h at most. */
static void livekit_defaults(config *c)
{
    c->default_ttl = 3600;
    c->max_ttl = 86400;
}

/* livekit_release frees the keyring (it wipes its secrets). */
static void livekit_release(config *c)
{
    keyring_free(c->keys);
    c->keys = NULL;
}

/* parse_urls reads url, host and region. */
static int parse_urls(config_loader *ld, const ynode *url, const ynode *host, const ynode *region)
{
    yaml_ctx *y = &ld->y;
    config *c = ld->cfg;
    int rc;
    if (url) {
        if ((rc = yaml_get_str(y, url, "livekit.url", c->livekit_url, sizeof c->livekit_url, 1)))
            return rc;
        if (!url_ok(c->livekit_url))
            return yaml_fail(y, RK_EINVAL,
                             "config: livekit.url: expected a ws://, wss://, http:// "
                             "or https:// URL");
    }
    if (host) {
        if ((rc =
                 yaml_get_str(y, host, "livekit.host", c->livekit_host, sizeof c->livekit_host, 1)))
            return rc;
        if (!url_ok(c->livekit_host))
            return yaml_fail(y, RK_EINVAL,
                             "config: livekit.host: expected an http:// or https:// "
                             "(or ws://, wss://) URL");
    }
    if (region)
        return yaml_get_str(y, region, "livekit.region", c->region, sizeof c->region, 0);
    return RK_OK;
}

/* parse_signing_key reads api_key with api_secret or api_secret_file. */
static int parse_signing_key(config_loader *ld, const ynode *key, const ynode *secret,
                             const ynode *secret_file)
{
    yaml_ctx *y = &ld->y;
    int rc;
    if (key) {
        if ((rc = yaml_get_str(y, key, "livekit.api_key", ld->lk_key, sizeof ld->lk_key, 1)))
            return rc;
        ld->has_lk_key = true;
    }
    if (secret && secret_file)
        return yaml_fail(y, RK_EINVAL,
                         "config: livekit.api_secret and livekit.api_secret_file are both set");
    if (secret && (rc = yaml_get_secret(y, secret, "livekit.api_secret", KEYRING_MAX_SECRET,
                                        &ld->lk_secret, &ld->lk_secret_len)))
        return rc;
    if (secret_file && (rc = config_secret_file(ld, secret_file, "livekit.api_secret_file",
                                                &ld->lk_secret, &ld->lk_secret_len)))
        return rc;
    if (ld->has_lk_key && !ld->lk_secret)
        return yaml_fail(y, RK_EINVAL,
                         "config: livekit.api_key: set without livekit.api_secret "
                         "(or livekit.api_secret_file)");
    if (!ld->has_lk_key && ld->lk_secret)
        return yaml_fail(y, RK_EINVAL, "config: livekit.api_secret: set without livekit.api_key");
    return RK_OK;
}

/* parse_key_map reads livekit.keys (key: secret) into ld->lk_map. */
static int parse_key_map(config_loader *ld, const ynode *m)
{
    yaml_ctx *y = &ld->y;
    if (yaml_is_null(m))
        return RK_OK;
    if (m->kind != YN_MAP)
        return yaml_type_err(y, "livekit.keys", m, "a mapping of key: secret");
    if (m->n / 2 > KEYRING_MAX_KEYS)
        return yaml_fail(y, RK_ETOOBIG, "config: livekit.keys: more than %d keys",
                         KEYRING_MAX_KEYS);
    for (size_t k = 0; k + 1 < m->n; k += 2) {
        config_pending_key *pk = &ld->lk_map[ld->n_lk_map];
        char p[YAML_PATH_CAP];
        int rc;
        yaml_path_key(p, sizeof p, "livekit.keys", m->kids[k]->str, m->kids[k]->len);
        if ((rc = yaml_get_str(y, m->kids[k], p, pk->id, sizeof pk->id, 1)) ||
            (rc = yaml_get_secret(y, m->kids[k + 1], p, KEYRING_MAX_SECRET, &pk->secret, &pk->len)))
            return rc;
        ld->n_lk_map++;
    }
    return RK_OK;
}

/* livekit_parse reads `livekit:`: URLs and TTLs into ld->cfg; key material
 * into ld (owned by ld, wiped by livekit_wipe) until the keyring is built. */
static int livekit_parse(config_loader *ld, const ynode *n)
{
    enum { URL, HOST, REGION, KEY, SECRET, SECRET_FILE, KEYS, KEYS_FILE, DTTL, MTTL, NF };
    static const char *const names[NF] = {
        "url",  "host",      "region",      "api_key", "api_secret", "api_secret_file",
        "keys", "keys_file", "default_ttl", "max_ttl"};
    const ynode *v[NF];
    yaml_ctx *y = &ld->y;
    config *c = ld->cfg;
    int rc = yaml_map_fields(y, n, "livekit", names, NF, v);
    if (rc || (rc = parse_urls(ld, v[URL], v[HOST], v[REGION])) ||
        (rc = parse_signing_key(ld, v[KEY], v[SECRET], v[SECRET_FILE])) ||
        (v[KEYS] && (rc = parse_key_map(ld, v[KEYS]))))
        return rc;
    if (v[KEYS_FILE]) {
        size_t len = 0;
        char file[CONFIG_MAX_STR];
        const char *k = "livekit.keys_file";
        if ((rc = yaml_get_str(y, v[KEYS_FILE], k, file, sizeof file, 1)) ||
            (rc = yaml_read_small(y, "config", k, file, true, &ld->lk_text, &len)))
            return rc;
        ld->lk_text_src = "config: livekit.keys_file";
    }
    if (v[MTTL] &&
        (rc = yaml_get_dur(y, v[MTTL], "livekit.max_ttl", 1, MINTER_MAX_TTL, &c->max_ttl)))
        return rc;
    if (v[DTTL] &&
        (rc = yaml_get_dur(y, v[DTTL], "livekit.default_ttl", 1, MINTER_MAX_TTL, &c->default_ttl)))
        return rc;
    return RK_OK;
}

/* env_signing_key reads LIVEKIT_API_KEY and LIVEKIT_API_SECRET (they replace
 * livekit.api_key / api_secret). */
static int env_signing_key(config_loader *ld)
{
    yaml_ctx *y = &ld->y;
    const char *key = config_env("LIVEKIT_API_KEY"), *secret = config_env("LIVEKIT_API_SECRET");
    if (key && !secret)
        return yaml_fail(y, RK_EINVAL, "env: LIVEKIT_API_KEY set without LIVEKIT_API_SECRET");
    if (!key && secret)
        return yaml_fail(y, RK_EINVAL, "env: LIVEKIT_API_SECRET set without LIVEKIT_API_KEY");
    if (!key)
        return RK_OK;
    if (strlen(key) >= sizeof ld->lk_key)
        return yaml_fail(y, RK_ETOOBIG, "env: LIVEKIT_API_KEY is longer than %d bytes",
                         KEYRING_MAX_KEY_ID);
    if (strlen(secret) > KEYRING_MAX_SECRET)
        return yaml_fail(y, RK_ETOOBIG, "env: LIVEKIT_API_SECRET is longer than %d bytes",
                         KEYRING_MAX_SECRET);
    char *copy = strdup(secret);
    if (!copy)
        return yaml_fail(y, RK_ENOMEM, "env: out of memory");
    drop(&ld->lk_secret, ld->lk_secret_len);
    ld->lk_secret = copy;
    ld->lk_secret_len = strlen(copy);
    strcpy(ld->lk_key, key);
    ld->has_lk_key = true;
    ld->lk_key_env = true;
    return RK_OK;
}

/* env_keys reads LIVEKIT_KEYS (it replaces livekit.keys and keys_file). */
static int env_keys(config_loader *ld)
{
    const char *v = NULL;
    int rc = config_env_text(ld, "LIVEKIT_KEYS", KEYRING_MAX_TEXT, &v);
    if (rc || !v)
        return rc;
    char *copy = strdup(v);
    if (!copy)
        return yaml_fail(&ld->y, RK_ENOMEM, "env: out of memory");
    drop_map(ld);
    if (ld->lk_text)
        drop(&ld->lk_text, strlen(ld->lk_text));
    ld->lk_text = copy;
    ld->lk_text_src = "env: LIVEKIT_KEYS";
    return RK_OK;
}

/* env_urls reads LIVEKIT_URL (alias LIVEKIT_SERVER_URL) and LIVEKIT_HOST. */
static int env_urls(config_loader *ld)
{
    yaml_ctx *y = &ld->y;
    config *c = ld->cfg;
    int rc;
    const char *url = config_env("LIVEKIT_URL"), *surl = config_env("LIVEKIT_SERVER_URL");
    if (url && surl && strcmp(url, surl) != 0)
        return yaml_fail(y, RK_EINVAL,
                         "env: LIVEKIT_URL and LIVEKIT_SERVER_URL are both set and "
                         "differ");
    if (url || surl) {
        const char *name = url ? "LIVEKIT_URL" : "LIVEKIT_SERVER_URL";
        if ((rc = config_env_str(ld, name, c->livekit_url, sizeof c->livekit_url)))
            return rc;
        if (!url_ok(c->livekit_url))
            return yaml_fail(y, RK_EINVAL,
                             "env: %s: expected a ws://, wss://, http:// or https:// URL", name);
    }
    if ((rc = config_env_str(ld, "LIVEKIT_HOST", c->livekit_host, sizeof c->livekit_host)))
        return rc;
    if (config_env("LIVEKIT_HOST") && !url_ok(c->livekit_host))
        return yaml_fail(y, RK_EINVAL, "env: LIVEKIT_HOST: expected an http:// or https:// URL");
    return RK_OK;
}

/* livekit_env overlays the LiveKit env vars (they win over livekit:). */
static int livekit_env(config_loader *ld)
{
    int rc;
    if ((rc = env_signing_key(ld)) || (rc = env_keys(ld)) || (rc = env_urls(ld)))
        return rc;
    const char *v = config_env("LIVEKIT_DEFAULT_TOKEN_TTL");
    if (v) {
        int64_t s = 0;
        if (duration_parse_whole_seconds(v, &s) || s < 1 || s > MINTER_MAX_TTL)
            return yaml_fail(&ld->y, RK_EINVAL,
                             "env: LIVEKIT_DEFAULT_TOKEN_TTL: expected a duration (e.g. 1h) or "
                             "seconds from 1s to 30 days");
        ld->cfg->default_ttl = s;
        ld->ttl_env = true;
    }
    return RK_OK;
}

/* build_keyring turns the pending LiveKit keys into c->keys: the signing key
 * first, then livekit.keys, then the key file / LIVEKIT_KEYS. */
static int build_keyring(config_loader *ld)
{
    yaml_ctx *y = &ld->y;
    config *c = ld->cfg;
    char kwhy[256] = "";
    int rc = keyring_new(&c->keys);
    if (rc)
        return yaml_fail(y, rc, "config: out of memory");
    bool dev = c->dev_mode;
    if (ld->has_lk_key) {
        rc = keyring_add(c->keys, ld->lk_key, ld->lk_secret, ld->lk_secret_len, dev, kwhy,
                         sizeof kwhy);
        if (rc)
            return yaml_fail(y, rc, "%s: %s",
                             ld->lk_key_env ? "env: LIVEKIT_API_KEY" : "config: livekit.api_key",
                             kwhy);
    }
    for (size_t i = 0; i < ld->n_lk_map; i++) {
        const config_pending_key *pk = &ld->lk_map[i];
        rc = keyring_add(c->keys, pk->id, pk->secret, pk->len, dev, kwhy, sizeof kwhy);
        if (rc)
            return yaml_fail(y, rc, "config: livekit.keys.%s: %s", pk->id, kwhy);
    }
    if (ld->lk_text) {
        rc = keyring_parse(c->keys, ld->lk_text, dev, kwhy, sizeof kwhy);
        if (rc)
            return yaml_fail(y, rc, "%s: %s", ld->lk_text_src, kwhy);
    }
    return RK_OK;
}

/* livekit_validate checks the TTL order, then builds the keyring (with the
 * final dev mode). */
static int livekit_validate(config_loader *ld)
{
    config *c = ld->cfg;
    if (c->default_ttl > c->max_ttl)
        return yaml_fail(&ld->y, RK_EINVAL, "%s (%llds) is above livekit.max_ttl (%llds)",
                         ld->ttl_env ? "env: LIVEKIT_DEFAULT_TOKEN_TTL"
                                     : "config: livekit.default_ttl",
                         (long long)c->default_ttl, (long long)c->max_ttl);
    return RK_OK;
}

const config_section config_livekit_section = {.key = "livekit",
                                               .defaults = livekit_defaults,
                                               .parse = livekit_parse,
                                               .env = livekit_env,
                                               .validate = livekit_validate,
                                               .wipe = livekit_wipe,
                                               .release = livekit_release};

/* The keyring is built last, once every other check has passed. */
const config_section config_keyring_section = {.validate = build_keyring};
