/* families.c - the route families' own settings: `families:` (which are
 * served), `voice_agent:`, `token_source:`, `supabase:` and `console:`. */
#include "section.h"
#include "../store/store.h"
#include "../util/err.h"

#include <stdio.h>
#include <string.h>

/* The YAML name of each family, under `families:`. */
static const char *const family_names[FAMILY_COUNT] = {
    [FAMILY_LIVEKIT] = "livekit",           [FAMILY_VOICE_AGENT] = "voice_agent",
    [FAMILY_SUPABASE] = "supabase",         [FAMILY_MEETINGS] = "meetings",
    [FAMILY_TOKEN_SOURCE] = "token_source",
};

/* config_family_name: a static string. */
const char *config_family_name(enum config_family f)
{
    return (unsigned)f < FAMILY_COUNT ? family_names[f] : "?";
}

/* parse_families reads `families:`, a mapping of family name to bool. */
static int parse_families(config_loader *ld, const ynode *n)
{
    const ynode *v[FAMILY_COUNT];
    char p[YAML_PATH_CAP];
    int rc = yaml_map_fields(&ld->y, n, "families", family_names, FAMILY_COUNT, v);
    for (size_t i = 0; rc == RK_OK && i < FAMILY_COUNT; i++)
        if (v[i])
            rc = yaml_get_bool(&ld->y, v[i], yaml_sub(p, "families", family_names[i]),
                               &ld->cfg->families[i]);
    return rc;
}

/* parse_voice_agent reads `voice_agent:` (the seed 003 family's options). */
static int parse_voice_agent(config_loader *ld, const ynode *n)
{
    enum { ANON, NF };
    static const char *const names[NF] = {"anonymous_rooms"};
    const ynode *v[NF];
    config_voice_agent *va = &ld->cfg->voice_agent;
    char p[YAML_PATH_CAP];
    size_t count = 0;
    int rc = yaml_map_fields(&ld->y, n, "voice_agent", names, NF, v);
    if (rc || !v[ANON])
        return rc;
    const char *lp = yaml_sub(p, "voice_agent", "anonymous_rooms");
    if ((rc = yaml_seq_items(&ld->y, v[ANON], lp, CONFIG_MAX_ANON_ROOMS, &count)))
        return rc;
    for (size_t i = 0; i < count; i++) {
        char ip[YAML_PATH_CAP];
        char *room = va->anonymous_rooms[i];
        yaml_path_idx(ip, sizeof ip, lp, i);
        if ((rc = yaml_get_str(&ld->y, v[ANON]->kids[i], ip, room, sizeof va->anonymous_rooms[0],
                               1)))
            return rc;
        if (strspn(room, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            strlen(room))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: %s: a room name of letters, digits, '-', '_'", ip);
        va->n_anonymous_rooms = i + 1;
    }
    return RK_OK;
}

/* parse_token_source reads `token_source:` (the standard endpoint's limits). */
static int parse_token_source(config_loader *ld, const ynode *n)
{
    enum { META, ATTRS, NF };
    static const char *const names[NF] = {"max_metadata", "max_attributes"};
    const ynode *v[NF];
    config_token_source *ts = &ld->cfg->token_source;
    char p[YAML_PATH_CAP];
    int64_t x = 0;
    int rc = yaml_map_fields(&ld->y, n, "token_source", names, NF, v);
    if (rc)
        return rc;
    if (v[META]) {
        if ((rc = yaml_get_int(&ld->y, v[META], yaml_sub(p, "token_source", "max_metadata"), 0,
                               65536, &x)))
            return rc;
        ts->max_metadata = (size_t)x;
    }
    if (v[ATTRS]) {
        if ((rc = yaml_get_int(&ld->y, v[ATTRS], yaml_sub(p, "token_source", "max_attributes"), 0,
                               65536, &x)))
            return rc;
        ts->max_attributes = (size_t)x;
    }
    return RK_OK;
}

/* supabase_defaults sets the room types of seed 002: audition ->
 * audition-room, main_show -> main-show, no role mapping, no seats. */
static void supabase_defaults(config_supabase *sb)
{
    static const char *const types[][2] = {{"audition", "audition-room"},
                                           {"main_show", "main-show"}};
    memset(sb, 0, sizeof *sb);
    for (size_t i = 0; i < 2; i++) {
        config_room_type *t = &sb->room_types[sb->n_room_types++];
        snprintf(t->type, sizeof t->type, "%s", types[i][0]);
        snprintf(t->room, sizeof t->room, "%s", types[i][1]);
        snprintf(t->seat_role, sizeof t->seat_role, "judge");
    }
}

/* role_ref reads a string that must name a configured role into dst[65]. */
static int role_ref(config_loader *ld, const ynode *n, const char *path, char *dst)
{
    int rc = yaml_get_str(&ld->y, n, path, dst, 65, 1);
    if (rc == RK_OK && !config_role_find(ld->cfg, dst))
        return yaml_fail(&ld->y, RK_EINVAL, "config: %s: no role named \"%s\"", path, dst);
    return rc;
}

/* parse_role_map reads a room type's `roles:` (session role -> role). */
static int parse_role_map(config_loader *ld, const ynode *n, const char *path, config_room_type *t)
{
    if (n->kind != YN_MAP)
        return yaml_type_err(&ld->y, path, n, "a mapping of session role to role");
    if (n->n / 2 > CONFIG_MAX_ROLE_MAP)
        return yaml_fail(&ld->y, RK_ETOOBIG, "config: %s: more than %d entries", path,
                         CONFIG_MAX_ROLE_MAP);
    for (size_t k = 0; k + 1 < n->n; k += 2) {
        const ynode *key = n->kids[k];
        char p[YAML_PATH_CAP];
        yaml_path_key(p, sizeof p, path, key->str, key->len);
        config_role_map *m = &t->roles[t->n_roles];
        int rc = yaml_get_str(&ld->y, key, p, m->session_role, sizeof m->session_role, 1);
        if (rc || (rc = role_ref(ld, n->kids[k + 1], p, m->role)))
            return rc;
        for (size_t j = 0; j < t->n_roles; j++)
            if (!strcmp(t->roles[j].session_role, m->session_role))
                return yaml_fail(&ld->y, RK_EINVAL, "config: %s: listed twice", p);
        t->n_roles++;
    }
    return RK_OK;
}

/* parse_supabase reads `supabase:` (after roles:, whose names it checks):
 * room_types, when given, replaces the default room types entirely. */
static int parse_supabase(config_loader *ld, const ynode *n)
{
    enum { TYPES, ANON, NF };
    static const char *const names[NF] = {"room_types", "allow_anonymous"};
    enum { ROOM, ROLES, SEATS, SEAT_ROLE, NT };
    static const char *const tnames[NT] = {"room", "roles", "seats", "seat_role"};
    const ynode *v[NF];
    char p[YAML_PATH_CAP];
    config_supabase *sb = &ld->cfg->supabase;
    int rc = yaml_map_fields(&ld->y, n, "supabase", names, NF, v);
    if (rc || (v[ANON] && (rc = yaml_get_bool(&ld->y, v[ANON], "supabase.allow_anonymous",
                                              &sb->allow_anonymous))))
        return rc;
    if (!v[TYPES])
        return RK_OK;
    const ynode *types = v[TYPES];
    if (types->kind != YN_MAP || types->n == 0)
        return yaml_type_err(&ld->y, "supabase.room_types", types,
                             "a non-empty mapping of roomType");
    if (types->n / 2 > CONFIG_MAX_ROOM_TYPES)
        return yaml_fail(&ld->y, RK_ETOOBIG, "config: supabase.room_types: more than %d entries",
                         CONFIG_MAX_ROOM_TYPES);
    sb->n_room_types = 0;
    for (size_t k = 0; k + 1 < types->n; k += 2) {
        const ynode *key = types->kids[k];
        char path[YAML_PATH_CAP];
        yaml_path_key(path, sizeof path, "supabase.room_types", key->str, key->len);
        config_room_type *t = &sb->room_types[sb->n_room_types];
        memset(t, 0, sizeof *t);
        strcpy(t->seat_role, "judge");
        if (key->len > 64 || strlen(key->str) != key->len || !config_ident_ok(key->str, true))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: %s: a roomType is 1-64 of letters, digits, '_', '-', '.'",
                             path);
        memcpy(t->type, key->str, key->len + 1);
        for (size_t j = 0; j < sb->n_room_types; j++)
            if (!strcmp(sb->room_types[j].type, t->type))
                return yaml_fail(&ld->y, RK_EINVAL, "config: %s: listed twice", path);
        const ynode *tv[NT];
        if ((rc = yaml_map_fields(&ld->y, types->kids[k + 1], path, tnames, NT, tv)))
            return rc;
        if (!tv[ROOM])
            return yaml_fail(&ld->y, RK_EINVAL, "config: %s: required", yaml_sub(p, path, "room"));
        if ((rc = yaml_get_str(&ld->y, tv[ROOM], yaml_sub(p, path, "room"), t->room, sizeof t->room,
                               1)) ||
            (tv[ROLES] && (rc = parse_role_map(ld, tv[ROLES], yaml_sub(p, path, "roles"), t))) ||
            (tv[SEATS] && (rc = yaml_get_int(&ld->y, tv[SEATS], yaml_sub(p, path, "seats"), 0,
                                             STORE_MAX_SEATS, &t->seats))) ||
            (tv[SEAT_ROLE] &&
             (rc = yaml_get_str(&ld->y, tv[SEAT_ROLE], yaml_sub(p, path, "seat_role"), t->seat_role,
                                sizeof t->seat_role, 1))))
            return rc;
        if (t->seats > 0 && !config_role_find(ld->cfg, t->seat_role))
            return yaml_fail(&ld->y, RK_EINVAL, "config: %s: no role named \"%s\" (seat_role)",
                             path, t->seat_role);
        sb->n_room_types++;
    }
    return RK_OK;
}

/* parse_console reads `console:` (the admin console, docs/console.md). */
static int parse_console(config_loader *ld, const ynode *n)
{
    static const char *const names[] = {"enabled"};
    const ynode *v[1];
    char p[YAML_PATH_CAP];
    int rc = yaml_map_fields(&ld->y, n, "console", names, 1, v);
    if (!rc && v[0])
        rc = yaml_get_bool(&ld->y, v[0], yaml_sub(p, "console", "enabled"),
                           &ld->cfg->console.enabled);
    return rc;
}

/* families_defaults: every family on; the family options' defaults. */
static void families_defaults(config *c)
{
    for (size_t i = 0; i < FAMILY_COUNT; i++)
        c->families[i] = true;
    c->token_source.max_metadata = 4096;
    c->token_source.max_attributes = 4096;
    supabase_defaults(&c->supabase);
}

const config_section config_families_section = {
    .key = "families", .defaults = families_defaults, .parse = parse_families};
const config_section config_voice_agent_section = {.key = "voice_agent",
                                                   .parse = parse_voice_agent};
const config_section config_token_source_section = {.key = "token_source",
                                                    .parse = parse_token_source};
const config_section config_supabase_section = {.key = "supabase", .parse = parse_supabase};
const config_section config_console_section = {.key = "console", .parse = parse_console};
