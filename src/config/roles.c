/* roles.c - `roles:`, the grants each role gives in a room. The built-ins
 * (member, listener, moderator) exist without config; a role of the same
 * name replaces its built-in. */
#include "section.h"
#include "../token/grants.h"
#include "../token/minter.h"
#include "../util/err.h"

#include <string.h>

/* roles_defaults adds the built-in roles. */
static void roles_defaults(config *c)
{
    config_role *r = c->roles;
    strcpy(r[0].name, "member");
    r[0].can_publish = r[0].can_subscribe = r[0].can_publish_data = true;
    strcpy(r[1].name, "listener");
    r[1].can_subscribe = true;
    strcpy(r[2].name, "moderator");
    r[2].can_publish = r[2].can_subscribe = r[2].can_publish_data = r[2].room_admin = true;
    c->n_roles = 3;
}

/* parse_sources reads a role's `sources:` (canPublishSources) into r. */
static int parse_sources(config_loader *ld, const ynode *n, const char *sp, config_role *r)
{
    size_t ns = 0;
    int rc = yaml_seq_items(&ld->y, n, sp, 8, &ns);
    if (rc)
        return rc;
    r->sources_set = true;
    for (size_t i = 0; i < ns; i++) {
        char s[32], ip[YAML_PATH_CAP];
        unsigned bit = 0;
        yaml_path_idx(ip, sizeof ip, sp, i);
        if (yaml_get_str(&ld->y, n->kids[i], ip, s, sizeof s, 1) || lk_source_parse(s, &bit))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: %s: expected camera, microphone, screen_share or "
                             "screen_share_audio",
                             ip);
        r->sources |= bit;
    }
    return RK_OK;
}

/* parse_role reads one role's grants into r (already zeroed and named). */
static int parse_role(config_loader *ld, const ynode *n, const char *path, config_role *r)
{
    enum { PUB, SUBS, DATA, META, ADMIN, HIDDEN, REC, SOURCES, TTL, AGENTS, NF };
    static const char *const names[NF] = {"can_publish",      "can_subscribe",
                                          "can_publish_data", "can_update_own_metadata",
                                          "room_admin",       "hidden",
                                          "recorder",         "sources",
                                          "max_ttl",          "may_dispatch_agents"};
    bool *flags[NF] = {[PUB] = &r->can_publish,       [SUBS] = &r->can_subscribe,
                       [DATA] = &r->can_publish_data, [META] = &r->can_update_own_metadata,
                       [ADMIN] = &r->room_admin,      [HIDDEN] = &r->hidden,
                       [REC] = &r->recorder,          [AGENTS] = &r->may_dispatch_agents};
    const ynode *v[NF];
    char p[YAML_PATH_CAP];
    int rc = yaml_map_fields(&ld->y, n, path, names, NF, v);
    if (rc)
        return rc;
    for (size_t i = 0; i < NF; i++)
        if (flags[i] && v[i] &&
            (rc = yaml_get_bool(&ld->y, v[i], yaml_sub(p, path, names[i]), flags[i])))
            return rc;
    if (v[TTL] && (rc = yaml_get_dur(&ld->y, v[TTL], yaml_sub(p, path, "max_ttl"), 0,
                                     MINTER_MAX_TTL, &r->max_ttl)))
        return rc;
    if (v[SOURCES])
        return parse_sources(ld, v[SOURCES], yaml_sub(p, path, "sources"), r);
    return RK_OK;
}

/* roles_parse reads `roles:`; a built-in's name replaces that built-in. */
static int roles_parse(config_loader *ld, const ynode *n)
{
    if (yaml_is_null(n))
        return RK_OK;
    if (n->kind != YN_MAP)
        return yaml_type_err(&ld->y, "roles", n, "a mapping of role name to grants");
    config *c = ld->cfg;
    for (size_t k = 0; k + 1 < n->n; k += 2) {
        const ynode *key = n->kids[k];
        char p[YAML_PATH_CAP], name[65];
        yaml_path_key(p, sizeof p, "roles", key->str, key->len);
        if (key->len > 64 || strlen(key->str) != key->len || !config_ident_ok(key->str, false))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: %s: a role name is 1-64 of a-z, 0-9, '_', '-'", p);
        memcpy(name, key->str, key->len + 1);
        size_t i = 0;
        while (i < c->n_roles && strcmp(c->roles[i].name, name) != 0)
            i++;
        if (i < c->n_roles && ld->role_set[i])
            return yaml_fail(&ld->y, RK_EINVAL, "config: %s: role \"%s\" is defined twice", p,
                             name);
        if (i == c->n_roles && c->n_roles == CONFIG_MAX_ROLES)
            return yaml_fail(&ld->y, RK_ETOOBIG,
                             "config: roles: more than %d roles (built-ins included)",
                             CONFIG_MAX_ROLES);
        config_role *r = &c->roles[i];
        memset(r, 0, sizeof *r);
        memcpy(r->name, name, sizeof r->name);
        if (i == c->n_roles)
            c->n_roles++;
        ld->role_set[i] = true;
        int rc = parse_role(ld, n->kids[k + 1], p, r);
        if (rc)
            return rc;
    }
    return RK_OK;
}

/* roles_validate checks no role outlives livekit.max_ttl. */
static int roles_validate(config_loader *ld)
{
    config *c = ld->cfg;
    for (size_t i = 0; i < c->n_roles; i++)
        if (c->roles[i].max_ttl > c->max_ttl)
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: roles.%s.max_ttl is above livekit.max_ttl (%llds)",
                             c->roles[i].name, (long long)c->max_ttl);
    return RK_OK;
}

/* config_role_find: the result is borrowed from cfg. */
const config_role *config_role_find(const config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_roles; i++)
        if (strcmp(cfg->roles[i].name, name) == 0)
            return &cfg->roles[i];
    return NULL;
}

const config_section config_roles_section = {
    .key = "roles", .defaults = roles_defaults, .parse = roles_parse, .validate = roles_validate};
