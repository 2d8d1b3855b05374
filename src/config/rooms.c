/* rooms.c - `rooms:` and `members:`, seeded into the store at start-up.
 * Names and aliases are unique; the roles they name are checked in
 * validate, once every role is known. */
#include "section.h"
#include "../store/store.h"
#include "../token/minter.h"
#include "../util/err.h"

#include <string.h>

/* room_unique refuses r (the last room) when its name or alias is taken. */
static int room_unique(config_loader *ld, const char *path, const config_room *r)
{
    config *c = ld->cfg;
    for (size_t j = 0; j + 1 < c->n_rooms; j++) {
        const config_room *o = &c->rooms[j];
        if (!strcmp(o->name, r->name) || (o->alias[0] && !strcmp(o->alias, r->name)))
            return yaml_fail(&ld->y, RK_EINVAL, "config: %s.name: \"%s\" is used by rooms[%zu]",
                             path, r->name, j);
        if (r->alias[0] && (!strcmp(o->name, r->alias) || !strcmp(o->alias, r->alias)))
            return yaml_fail(&ld->y, RK_EINVAL, "config: %s.alias: \"%s\" is used by rooms[%zu]",
                             path, r->alias, j);
    }
    if (r->alias[0] && !strcmp(r->alias, r->name))
        return yaml_fail(&ld->y, RK_EINVAL, "config: %s.alias: the same as the room's name", path);
    return RK_OK;
}

/* room_entry reads the i-th `rooms:` entry into the next room. */
static int room_entry(config_loader *ld, const ynode *n, const char *path, size_t i)
{
    enum { NAME, ALIAS, MODE, DROLE, MAXP, TTL, NF };
    static const char *const names[NF] = {
        "name", "alias", "mode", "default_role", "max_participants", "max_ttl"};
    config_room *r = &ld->cfg->rooms[ld->cfg->n_rooms++];
    yaml_fields f;
    (void)i;
    if (yaml_fields_open(&f, &ld->y, n, path, names, NF))
        return f.rc;
    r->mode = STORE_MODE_MEMBERS;
    if (yaml_field_need(&f, NAME) || yaml_field_str(&f, NAME, r->name, sizeof r->name, 1) ||
        yaml_field_str(&f, ALIAS, r->alias, sizeof r->alias, 0))
        return f.rc;
    if (f.v[MODE]) {
        char mode[32];
        if (yaml_field_str(&f, MODE, mode, sizeof mode, 1) ||
            (strcmp(mode, "members") && strcmp(mode, "authenticated")))
            return yaml_fail(&ld->y, RK_EINVAL, "config: %s: expected members or authenticated",
                             f.p);
        r->mode = mode[0] == 'a' ? STORE_MODE_AUTHENTICATED : STORE_MODE_MEMBERS;
    }
    if (yaml_field_str(&f, DROLE, r->default_role, sizeof r->default_role, 0) ||
        yaml_field_int(&f, MAXP, 0, UINT32_MAX, &r->max_participants) ||
        yaml_field_dur(&f, TTL, 0, MINTER_MAX_TTL, &r->max_ttl))
        return f.rc;
    return room_unique(ld, path, r);
}

/* rooms_parse reads `rooms:`. */
static int rooms_parse(config_loader *ld, const ynode *n)
{
    return config_each(ld, n, "rooms", CONFIG_MAX_ROOMS, room_entry);
}

/* rooms_validate checks each room's default role exists and its max_ttl is
 * within livekit.max_ttl. */
static int rooms_validate(config_loader *ld)
{
    config *c = ld->cfg;
    for (size_t i = 0; i < c->n_rooms; i++) {
        const config_room *r = &c->rooms[i];
        if (r->default_role[0] && !config_role_find(c, r->default_role))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: rooms[%zu].default_role: no role named \"%s\"", i,
                             r->default_role);
        if (r->max_ttl > c->max_ttl)
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: rooms[%zu].max_ttl is above livekit.max_ttl (%llds)", i,
                             (long long)c->max_ttl);
    }
    return RK_OK;
}

/* member_entry reads the i-th `members:` entry into the next member (the
 * role defaults to "member"). */
static int member_entry(config_loader *ld, const ynode *n, const char *path, size_t i)
{
    enum { ROOM, SUBJ, ROLE, NF };
    static const char *const names[NF] = {"room", "subject", "role"};
    config *c = ld->cfg;
    config_member *m = &c->members[c->n_members++];
    yaml_fields f;
    (void)i;
    if (yaml_fields_open(&f, &ld->y, n, path, names, NF))
        return f.rc;
    strcpy(m->role, "member");
    if (yaml_field_need(&f, ROOM) || yaml_field_need(&f, SUBJ) ||
        yaml_field_str(&f, ROOM, m->room, sizeof m->room, 1) ||
        yaml_field_str(&f, SUBJ, m->subject, sizeof m->subject, 1) ||
        yaml_field_str(&f, ROLE, m->role, sizeof m->role, 1))
        return f.rc;
    for (size_t j = 0; j + 1 < c->n_members; j++)
        if (!strcmp(c->members[j].room, m->room) && !strcmp(c->members[j].subject, m->subject))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: %s: %s is already a member of %s (members[%zu])", path,
                             m->subject, m->room, j);
    return RK_OK;
}

/* members_parse reads `members:`. */
static int members_parse(config_loader *ld, const ynode *n)
{
    return config_each(ld, n, "members", CONFIG_MAX_MEMBERS, member_entry);
}

/* members_validate checks each member's role exists. */
static int members_validate(config_loader *ld)
{
    config *c = ld->cfg;
    for (size_t i = 0; i < c->n_members; i++)
        if (!config_role_find(c, c->members[i].role))
            return yaml_fail(&ld->y, RK_EINVAL, "config: members[%zu].role: no role named \"%s\"",
                             i, c->members[i].role);
    return RK_OK;
}

const config_section config_rooms_section = {
    .key = "rooms", .parse = rooms_parse, .validate = rooms_validate};
const config_section config_members_section = {
    .key = "members", .parse = members_parse, .validate = members_validate};
