/* supabase_settings.c - `supabase:`, the supabase family's room types. */
#include "supabase_settings.h"
#include "../config/section.h"
#include "../store/store.h"
#include "../util/err.h"

#include <string.h>

const char *supabase_missing(const config *cfg)
{
    const supabase_settings *sb = config_ext(cfg, &supabase_section);
    return sb->n_room_types ? NULL : "supabase.room_types";
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
static int parse_role_map(config_loader *ld, const ynode *n, const char *path,
                          supabase_room_type *t)
{
    if (n->kind != YN_MAP)
        return yaml_type_err(&ld->y, path, n, "a mapping of session role to role");
    if (n->n / 2 > SUPABASE_MAX_ROLE_MAP)
        return yaml_fail(&ld->y, RK_ETOOBIG, "config: %s: more than %d entries", path,
                         SUPABASE_MAX_ROLE_MAP);
    for (size_t k = 0; k + 1 < n->n; k += 2) {
        const ynode *key = n->kids[k];
        char p[YAML_PATH_CAP];
        yaml_path_key(p, sizeof p, path, key->str, key->len);
        supabase_role_map *m = &t->roles[t->n_roles];
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
 * without room_types there are no room types (the family is not
 * configured, see supabase_missing). */
static int parse_supabase(config_loader *ld, const ynode *n)
{
    enum { TYPES, ANON, NF };
    static const char *const names[NF] = {"room_types", "allow_anonymous"};
    enum { ROOM, ROLES, SEATS, SEAT_ROLE, NT };
    static const char *const tnames[NT] = {"room", "roles", "seats", "seat_role"};
    const ynode *v[NF];
    char p[YAML_PATH_CAP];
    supabase_settings *sb = config_ext_mut(ld->cfg, &supabase_section);
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
    if (types->n / 2 > SUPABASE_MAX_ROOM_TYPES)
        return yaml_fail(&ld->y, RK_ETOOBIG, "config: supabase.room_types: more than %d entries",
                         SUPABASE_MAX_ROOM_TYPES);
    sb->n_room_types = 0;
    for (size_t k = 0; k + 1 < types->n; k += 2) {
        const ynode *key = types->kids[k];
        char path[YAML_PATH_CAP];
        yaml_path_key(path, sizeof path, "supabase.room_types", key->str, key->len);
        supabase_room_type *t = &sb->room_types[sb->n_room_types];
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

const config_section supabase_section = {
    .key = "supabase", .size = sizeof(supabase_settings), .parse = parse_supabase};
