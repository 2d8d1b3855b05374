/* section.h - how a module reads its own part of the configuration.
 *
 * Each top-level YAML key is served by one section: a descriptor with the
 * key and hooks that config_load calls in table order (the table is in
 * config.c). A module adds a key by writing a `const config_section` in its
 * own file and one line in that table. The hooks, all optional:
 *   defaults(cfg)   fill the built-in defaults (cfg starts zeroed);
 *   parse(ld, n)    read the key's YAML value n (only when the key is set);
 *   env(ld)         overlay environment variables (after every parse);
 *   validate(ld)    whole-config checks, once the environment is applied;
 *   wipe(ld)        drop what the section kept in the loader (always run);
 *   release(cfg)    free what the section owns in a config (config_free).
 * Every refusal is written with yaml_fail(&ld->y, ...) and names the key or
 * the environment variable. */
#ifndef RK_CONFIG_SECTION_H
#define RK_CONFIG_SECTION_H

#include "config.h"
#include "yaml.h"

/* A LiveKit key from `livekit.keys`, held until dev mode is known. */
typedef struct config_pending_key {
    char id[KEYRING_MAX_KEY_ID + 1];
    char *secret; /* owned, wiped */
    size_t len;
} config_pending_key;

/* The state of one config_load: the config being built, where refusals go,
 * and what sections keep until validate (secrets whose checks depend on the
 * final dev mode, where a value came from). Owned secrets are wiped by the
 * owning section's wipe hook. */
typedef struct config_loader {
    yaml_ctx y;
    config *cfg;
    /* livekit: the signing key (livekit.api_key/api_secret or LIVEKIT_API_KEY/SECRET) */
    char lk_key[KEYRING_MAX_KEY_ID + 1];
    bool has_lk_key;
    bool lk_key_env;
    char *lk_secret; /* owned, wiped */
    size_t lk_secret_len;
    config_pending_key lk_map[KEYRING_MAX_KEYS]; /* livekit.keys */
    size_t n_lk_map;
    char *lk_text;           /* livekit.keys_file contents or LIVEKIT_KEYS (owned, wiped) */
    const char *lk_text_src; /* key or env name, for messages */
    bool ttl_env;            /* default_ttl from LIVEKIT_DEFAULT_TOKEN_TTL */
    /* issuers, roles */
    bool issuer_env[CONFIG_MAX_ISSUERS]; /* issuer came from ROOMKEY_SESSION_SECRET */
    bool role_set[CONFIG_MAX_ROLES];     /* role defined by the YAML */
} config_loader;

typedef struct config_section {
    const char *key; /* top-level YAML key; NULL for a section without one */
    size_t size;     /* a route family's section: bytes of its settings in the
                        config's extension area (config_ext); 0 = none */
    void (*defaults)(config *cfg);
    int (*parse)(config_loader *ld, const ynode *n);
    int (*env)(config_loader *ld);
    int (*validate)(config_loader *ld);
    void (*wipe)(config_loader *ld);
    void (*release)(config *cfg);
} config_section;

/* The route families' sections are defined above this layer, next to each
 * family (src/api/families.c lists them): config_load runs them after its
 * own, in this order (at most CONFIG_MAX_EXT_SECTIONS). */
#define CONFIG_MAX_EXT_SECTIONS 16
size_t config_family_section_count(void);
const config_section *config_family_section(size_t i);

/* config_ext_mut returns section s's settings in cfg (zeroed before its
 * defaults hook runs), or NULL when s is not a route family's section. */
void *config_ext_mut(config *cfg, const config_section *s);

/* config_env returns the value of env var name, or NULL when unset or
 * empty (borrowed from the environment, or from envsecret.h for the
 * secrets taken out of it at start). */
const char *config_env(const char *name);

/* config_env_text sets *out to env var name's value (borrowed, as
 * config_env; NULL when unset or empty), refusing a value longer than max
 * bytes (RK_ETOOBIG, *out NULL). */
int config_env_text(config_loader *ld, const char *name, size_t max, const char **out);

/* config_env_str copies env var name (when set) into dst[0..cap). */
int config_env_str(config_loader *ld, const char *name, char *dst, size_t cap);

/* An item adder for lists: add item[0..len) (where names the source in
 * messages, e.g. "config: cors.origins[2]" or "env: ROOMKEY_CORS_ORIGINS"). */
typedef int (*config_add_fn)(config_loader *ld, const char *where, const char *item, size_t len);

/* config_env_list calls add for each comma-separated item of env var name
 * (spaces around items ignored). */
int config_env_list(config_loader *ld, const char *name, config_add_fn add);

/* An entry reader for lists: read item n, the i-th entry (path names it). */
typedef int (*config_entry_fn)(config_loader *ld, const ynode *n, const char *path, size_t i);

/* config_each checks n is a list (null: empty) of at most max entries and
 * calls entry for each, stopping at the first failure. */
int config_each(config_loader *ld, const ynode *n, const char *path, size_t max,
                config_entry_fn entry);

/* config_str_list calls add for each string of the YAML list n (at most max). */
int config_str_list(config_loader *ld, const ynode *n, const char *path, size_t max,
                    config_add_fn add);

/* config_ident_ok: 1..64 bytes of [a-z0-9_-] (roles), or with upper case
 * and '.' as well when loose (issuer names, API key ids, room types). */
bool config_ident_ok(const char *s, bool loose);

/* config_secret_env reads the secret named by `*_env` key n (path names it)
 * from the environment into a new buffer (*out, *len; caller wipes and
 * frees), at most max bytes. */
int config_secret_env(config_loader *ld, const ynode *n, const char *path, size_t max, char **out,
                      size_t *len);

/* config_secret_file reads the secret in the file named by `*_file` key n
 * into a new buffer (*out, *len; caller wipes and frees). */
int config_secret_file(config_loader *ld, const ynode *n, const char *path, char **out,
                       size_t *len);

#endif
