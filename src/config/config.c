/* config.c - loads RoomKey's configuration: built-in defaults, then the YAML
 * file, then the environment, then whole-config validation. The top-level
 * keys and what each means belong to the sections in the table below (see
 * section.h); this file only runs them in order. Every refusal names the
 * key; on failure nothing stays allocated. */
#include "config.h"
#include "envsecret.h"
#include "section.h"
#include "../util/err.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the sections, in the order they run ----------------------------------
 * The keyring is built last, once every other check has passed (then the
 * issuers' secrets are checked against it); the route
 * families' sections (config_family_section) run after all of these, so
 * they may read roles' names. */

extern const config_section config_dev_mode_section, config_server_section, config_database_section,
    config_database_timeout_section, config_livekit_section, config_issuers_section,
    config_api_keys_section, config_admin_key_section, config_admin_key_file_section,
    config_roles_section, config_rooms_section, config_members_section, config_rate_limit_section,
    config_cors_section, config_trusted_proxies_section, config_shutdown_section,
    config_audit_section, config_keyring_section, config_issuer_secrets_section,
    config_console_section, config_live_rooms_section;

static const config_section *const SECTIONS[] = {
    &config_dev_mode_section,        &config_server_section,
    &config_database_section,        &config_database_timeout_section,
    &config_livekit_section,         &config_issuers_section,
    &config_api_keys_section,        &config_admin_key_section,
    &config_admin_key_file_section,  &config_roles_section,
    &config_rooms_section,           &config_members_section,
    &config_rate_limit_section,      &config_cors_section,
    &config_trusted_proxies_section, &config_shutdown_section,
    &config_audit_section,           &config_keyring_section,
    &config_issuer_secrets_section,  &config_console_section,
    &config_live_rooms_section,
};
#define N_SECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])
#define MAX_ALL    (N_SECTIONS + CONFIG_MAX_EXT_SECTIONS)

/* n_all counts this table and the route families' sections. */
static size_t n_all(void)
{
    size_t n = config_family_section_count();
    return N_SECTIONS + (n < CONFIG_MAX_EXT_SECTIONS ? n : CONFIG_MAX_EXT_SECTIONS);
}

/* section returns section i of n_all(): this table's, then the families'. */
static const config_section *section(size_t i)
{
    return i < N_SECTIONS ? SECTIONS[i] : config_family_section(i - N_SECTIONS);
}

/* ---- the route families' settings ------------------------------------------
 * Each family section with a size gets a 16-byte aligned block of the
 * config's extension area, in table order. */

/* ext_offset finds s's block: true with *off set, or false. */
static bool ext_offset(const config_section *s, size_t *off)
{
    size_t at = 0;
    for (size_t i = N_SECTIONS; i < n_all(); i++) {
        const config_section *e = section(i);
        if (e == s) {
            *off = at;
            return s->size > 0 && at + s->size <= CONFIG_EXT_BYTES;
        }
        at += (e->size + 15) / 16 * 16;
    }
    return false;
}

const void *config_ext(const config *cfg, const config_section *s)
{
    size_t off = 0;
    return ext_offset(s, &off) ? cfg->ext + off : NULL;
}

void *config_ext_mut(config *cfg, const config_section *s)
{
    size_t off = 0;
    return ext_offset(s, &off) ? cfg->ext + off : NULL;
}

/* ext_fits checks every family section's block fits the extension area. */
static bool ext_fits(void)
{
    size_t at = 0;
    for (size_t i = N_SECTIONS; i < n_all(); i++)
        at += (section(i)->size + 15) / 16 * 16;
    return at <= CONFIG_EXT_BYTES && config_family_section_count() <= CONFIG_MAX_EXT_SECTIONS;
}

/* ---- helpers for sections ------------------------------------------------ */

const char *config_env(const char *name)
{
    /* Secrets taken out of the environment at start come from envsecret.h. */
    const char *v = envsecret_get(name);
    if (!v)
        v = getenv(name);
    return v && *v ? v : NULL;
}

int config_env_text(config_loader *ld, const char *name, size_t max, const char **out)
{
    *out = config_env(name);
    if (*out && strlen(*out) > max) {
        *out = NULL;
        return yaml_fail(&ld->y, RK_ETOOBIG, "env: %s is longer than %zu bytes", name, max);
    }
    return RK_OK;
}

int config_env_str(config_loader *ld, const char *name, char *dst, size_t cap)
{
    const char *v = NULL;
    int rc = config_env_text(ld, name, cap - 1, &v);
    if (v)
        memcpy(dst, v, strlen(v) + 1);
    return rc;
}

int config_env_list(config_loader *ld, const char *name, config_add_fn add)
{
    const char *v = config_env(name);
    char where[64];
    snprintf(where, sizeof where, "env: %s", name);
    for (const char *p = v; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t l = strcspn(p, ", ");
        int rc = l ? add(ld, where, p, l) : RK_OK;
        if (rc)
            return rc;
        p += l;
    }
    return RK_OK;
}

/* str_item reads string item n (at path ip) of a list and hands it to add. */
static int str_item(config_loader *ld, const ynode *n, const char *ip, config_add_fn add)
{
    char item[CONFIG_MAX_STR], where[YAML_PATH_CAP + 8];
    snprintf(where, sizeof where, "config: %s", ip);
    int rc = yaml_get_str(&ld->y, n, ip, item, sizeof item, 1);
    return rc ? rc : add(ld, where, item, strlen(item));
}

/* each_item checks n is a list of at most max items and reads each one: an
 * entry (config_each) when entry is set, else a string for add
 * (config_str_list); it stops at the first failure. */
static int each_item(config_loader *ld, const ynode *n, const char *path, size_t max,
                     config_entry_fn entry, config_add_fn add)
{
    size_t count = 0;
    int rc = yaml_seq_items(&ld->y, n, path, max, &count);
    for (size_t i = 0; !rc && i < count; i++) {
        char ip[YAML_PATH_CAP];
        yaml_path_idx(ip, sizeof ip, path, i);
        rc = entry ? entry(ld, n->kids[i], ip, i) : str_item(ld, n->kids[i], ip, add);
    }
    return rc;
}

int config_each(config_loader *ld, const ynode *n, const char *path, size_t max,
                config_entry_fn entry)
{
    return each_item(ld, n, path, max, entry, NULL);
}

int config_str_list(config_loader *ld, const ynode *n, const char *path, size_t max,
                    config_add_fn add)
{
    return each_item(ld, n, path, max, NULL, add);
}

bool config_ident_ok(const char *s, bool loose)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  (loose && ((c >= 'A' && c <= 'Z') || c == '.'));
        if (!ok)
            return false;
    }
    return true;
}

int config_secret_env(config_loader *ld, const ynode *n, const char *path, size_t max, char **out,
                      size_t *len)
{
    char name[256];
    int rc = yaml_get_str(&ld->y, n, path, name, sizeof name, 1);
    if (rc)
        return rc;
    const char *val = config_env(name);
    if (!val)
        return yaml_fail(&ld->y, RK_EINVAL, "config: %s: environment variable %s is not set", path,
                         name);
    size_t l = strlen(val);
    if (l > max)
        return yaml_fail(&ld->y, RK_ETOOBIG, "config: %s: %s is longer than %zu bytes", path, name,
                         max);
    char *s = strdup(val);
    if (!s)
        return yaml_fail(&ld->y, RK_ENOMEM, "config: out of memory");
    *out = s;
    *len = l;
    return RK_OK;
}

int config_secret_file(config_loader *ld, const ynode *n, const char *path, char **out, size_t *len)
{
    char file[CONFIG_MAX_STR];
    int rc = yaml_get_str(&ld->y, n, path, file, sizeof file, 1);
    if (rc)
        return rc;
    return yaml_read_small(&ld->y, "config", path, file, false, out, len);
}

/* ---- the loader ---------------------------------------------------------- */

/* parse_root hands each top-level key's value to its section; root is
 * borrowed. Unknown and repeated keys are refused. */
static int parse_root(config_loader *ld, const ynode *root)
{
    const char *names[MAX_ALL];
    const ynode *v[MAX_ALL];
    size_t nn = 0;
    const config_section *owner[MAX_ALL];
    for (size_t i = 0; i < n_all(); i++)
        if (section(i)->key) {
            owner[nn] = section(i);
            names[nn++] = section(i)->key;
        }
    int rc = yaml_map_fields(&ld->y, root, "", names, nn, v);
    for (size_t i = 0; !rc && i < nn; i++)
        if (v[i] && owner[i]->parse)
            rc = owner[i]->parse(ld, v[i]);
    return rc;
}

/* load_file reads and parses the YAML file at path into ld->cfg. */
static int load_file(config_loader *ld, const char *path)
{
    ynode *root = NULL;
    int rc = yaml_load(&ld->y, path, &root);
    if (!rc && root)
        rc = parse_root(ld, root);
    ynode_free(root);
    return rc;
}

/* config_load: *out gets a new config owned by the caller (config_free). */
int config_load(const char *path, config **out, char *why, size_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    config_loader ld = {.y = {.why = why, .cap = why ? why_cap : 0}};
    config *c = calloc(1, sizeof *c);
    if (!c)
        return yaml_fail(&ld.y, RK_ENOMEM, "config: out of memory");
    ld.cfg = c;
    if (!ext_fits()) {
        free(c);
        return yaml_fail(&ld.y, RK_ETOOBIG, "config: the route families' settings do not fit");
    }
    for (size_t i = 0; i < n_all(); i++)
        if (section(i)->defaults)
            section(i)->defaults(c);
    if (!path)
        path = config_env("ROOMKEY_CONFIG");
    int rc = path ? load_file(&ld, path) : RK_OK;
    for (size_t i = 0; !rc && i < n_all(); i++)
        if (section(i)->env)
            rc = section(i)->env(&ld);
    for (size_t i = 0; !rc && i < n_all(); i++)
        if (section(i)->validate)
            rc = section(i)->validate(&ld);
    for (size_t i = 0; i < n_all(); i++)
        if (section(i)->wipe)
            section(i)->wipe(&ld);
    OPENSSL_cleanse(&ld, sizeof ld);
    if (rc == RK_OK)
        *out = c;
    else
        config_free(c);
    return rc;
}

/* config_free lets each section free what it owns, then wipes the struct. */
void config_free(config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < n_all(); i++)
        if (section(i)->release)
            section(i)->release(cfg);
    OPENSSL_cleanse(cfg, sizeof *cfg);
    free(cfg);
}
