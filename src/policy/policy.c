/* policy.c - rooms, memberships and roles to grants and lifetimes. */
#include "policy.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fill_claims builds d's claims from its role and the ask's extras. */
static void fill_claims(decision *d, const policy_ask *ask)
{
    const config_role *r = d->role;
    lk_claims *c = &d->claims;
    memset(c, 0, sizeof *c);
    c->identity = d->identity;
    c->name = d->name[0] ? d->name : NULL;
    c->metadata = ask->metadata;
    c->attrs = ask->attrs;
    c->n_attrs = ask->n_attrs;
    if (ask->n_agents) {
        d->room_config.agents = ask->agents;
        d->room_config.n_agents = ask->n_agents;
        c->room_config = &d->room_config;
    }
    lk_video_grant *v = &c->video;
    v->room_join = TRI_TRUE;
    v->room = d->room.name;
    v->can_publish = r->can_publish ? TRI_TRUE : TRI_FALSE;
    v->can_subscribe = r->can_subscribe ? TRI_TRUE : TRI_FALSE;
    v->can_publish_data = r->can_publish_data ? TRI_TRUE : TRI_FALSE;
    if (r->can_update_own_metadata)
        v->can_update_own_metadata = TRI_TRUE;
    if (r->room_admin)
        v->room_admin = TRI_TRUE;
    if (r->hidden)
        v->hidden = TRI_TRUE;
    if (r->recorder)
        v->recorder = TRI_TRUE;
    if (r->sources_set) {
        v->sources = r->sources;
        v->sources_set = true;
    }
}

static int64_t min_cap(int64_t a, int64_t b)
{
    return b > 0 && b < a ? b : a;
}

/* choose_identity sets d->identity: the caller's subject by default, another
 * identity only for mint_any API keys, "anon:<identity>" when anonymous. */
static int choose_identity(const caller *who, const policy_ask *ask, bool mint_any, decision *d,
                           const char **why)
{
    if (ask->anonymous) {
        int n = ask->identity && ask->identity[0] ? snprintf(d->identity, sizeof d->identity,
                                                             POLICY_ANON_PREFIX "%s", ask->identity)
                                                  : -1;
        if (n < 0 || (size_t)n >= sizeof d->identity) {
            *why = n < 0 ? "an anonymous caller must name an identity" : "identity too long";
            return RK_EINVAL;
        }
        return RK_OK;
    }
    const char *identity = ask->identity ? ask->identity : who->subject;
    if (strcmp(identity, who->subject) != 0 && !mint_any) {
        *why = "identity must be the authenticated caller";
        return RK_EDENIED;
    }
    /* The anon: namespace belongs to anonymous callers: a session whose
     * subject happens to start with it must not take (and so disconnect)
     * an anonymous participant's identity, nor the other way round. */
    if (!mint_any && strncmp(identity, POLICY_ANON_PREFIX, strlen(POLICY_ANON_PREFIX)) == 0) {
        *why = "identities starting with \"" POLICY_ANON_PREFIX
               "\" are reserved for anonymous callers";
        return RK_EDENIED;
    }
    if (strlen(identity) >= sizeof d->identity) {
        *why = "identity too long";
        return RK_EINVAL;
    }
    strcpy(d->identity, identity);
    return RK_OK;
}

/* choose_role sets d->role: membership, then the session's role claim, then
 * the room's default role (anonymous asks: the default role only). */
static int choose_role(const config *cfg, store *st, const caller *who, const policy_ask *ask,
                       bool mint_any, decision *d, const char **why)
{
    const config_role *role = NULL;
    if (!ask->anonymous) {
        store_member m;
        int rc = store_member_get(st, d->room.name, who->subject, &m);
        if (rc && rc != RK_ENOTFOUND)
            return rc;
        bool member = rc == RK_OK;
        if (d->room.mode == STORE_MODE_MEMBERS && !member && !mint_any) {
            *why = "not a member of this room";
            return RK_EDENIED;
        }
        if (member)
            role = config_role_find(cfg, m.role);
        if (!role && who->role[0])
            role = config_role_find(cfg, who->role);
    }
    if (ask->anonymous && d->room.mode == STORE_MODE_MEMBERS) {
        *why = "not a member of this room";
        return RK_EDENIED;
    }
    if (!role)
        role = config_role_find(cfg, d->room.default_role);
    if (!role) {
        *why = "no role applies";
        return RK_EDENIED;
    }
    /* An anonymous caller never gets powers over other participants or the
     * room, whatever the room's default role says. */
    if (ask->anonymous && (role->room_admin || role->hidden || role->recorder)) {
        *why = "the room's default role is too powerful for anonymous callers";
        return RK_EDENIED;
    }
    if ((ask->metadata || ask->n_attrs) && !role->can_update_own_metadata) {
        *why = "the role may not set participant metadata or attributes";
        return RK_EDENIED;
    }
    if (ask->n_agents && !role->may_dispatch_agents) {
        *why = "the role may not dispatch agents";
        return RK_EDENIED;
    }
    d->role = role;
    return RK_OK;
}

/* already_in says whether identity is in room or was issued a token for it
 * since `since` (it holds its place already). */
static bool already_in(store *st, const char *room, const char *identity, int64_t since)
{
    int64_t last = 0;
    if (store_audit_last_issued(st, room, identity, &last) == RK_OK && last >= since)
        return true;
    store_presence *ps = NULL;
    size_t n = 0;
    bool in = false;
    if (store_presence_list(st, room, &ps, &n) == RK_OK)
        for (size_t i = 0; i < n && !in; i++)
            in = strcmp(ps[i].identity, identity) == 0;
    free(ps);
    return in;
}

/* check_live refuses a banned identity and a full room (see policy.h). */
static int check_live(store *st, const policy_ask *ask, const decision *d, const char **why)
{
    int64_t now = clock_now();
    if (ask->banned && ask->banned(ask->banned_arg, d->room.name, d->identity, now)) {
        *why = "banned from this room";
        return RK_EDENIED;
    }
    if (d->room.max_participants <= 0)
        return RK_OK;
    int64_t present = 0, pending = 0, since = now - POLICY_PENDING_S;
    int rc = store_occupancy(st, d->room.name, since, &present, &pending);
    if (rc)
        return rc;
    if (present + pending >= d->room.max_participants &&
        !already_in(st, d->room.name, d->identity, since)) {
        *why = "room is full";
        return RK_EFULL;
    }
    return RK_OK;
}

int policy_decide(const config *cfg, store *st, const caller *who, const policy_ask *ask,
                  decision *d, const char **why)
{
    memset(d, 0, sizeof *d);
    int rc = store_room_get(st, ask->room, &d->room);
    if (rc == RK_ENOTFOUND || rc == RK_EINVAL || rc == RK_ETOOBIG ||
        (rc == RK_OK && ask->anonymous && strcmp(d->room.name, ask->room) != 0)) {
        *why = "room not found";
        return RK_ENOTFOUND;
    }
    if (rc)
        return rc;
    bool mint_any = !ask->anonymous && who->is_api_key && (who->perms & PERM_MINT_ANY);
    if ((rc = choose_identity(who, ask, mint_any, d, why)) ||
        (rc = choose_role(cfg, st, who, ask, mint_any, d, why)))
        return rc;

    const char *name = ask->name ? ask->name : who->name;
    if (ask->anonymous && !name[0])
        name = d->identity; /* "anon:...", never a bare name that looks like a user's */
    if (strlen(name) >= sizeof d->name) {
        *why = "name too long";
        return RK_EINVAL;
    }
    strcpy(d->name, name);

    int64_t cap = min_cap(min_cap(cfg->max_ttl, d->role->max_ttl), d->room.max_ttl);
    d->max_ttl = cap;
    d->ttl = ask->ttl ? ask->ttl : (cfg->default_ttl < cap ? cfg->default_ttl : cap);
    if (d->ttl > cap) {
        *why = "ttl above the maximum";
        return RK_EINVAL;
    }
    if ((rc = check_live(st, ask, d, why)))
        return rc;
    fill_claims(d, ask);
    if (d->room.max_participants > 0) {
        d->room_config.max_participants = (uint32_t)d->room.max_participants;
        d->claims.room_config = &d->room_config;
    }
    return RK_OK;
}

/* cut_utf8 returns how many bytes of s to keep to stay within max bytes
 * without splitting a UTF-8 sequence. */
static size_t cut_utf8(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n == max)
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    return n;
}

int policy_grants_json(const decision *d, char *out, size_t cap)
{
    const lk_claims *c = &d->claims;
    const lk_room_config *rc = c->room_config;
    jsonw w;
    jsonw_init(&w, out, cap);
    jsonw_obj_open(&w);
    lk_claims only_video = {0};
    only_video.video = c->video;
    lk_claims_write(&w, &only_video);
    if (c->metadata || c->n_attrs || (rc && rc->n_agents)) {
        JSONW_KEY(&w, "extras");
        jsonw_obj_open(&w);
        if (c->metadata) {
            JSONW_KEY(&w, "metadataBytes");
            jsonw_int(&w, (int64_t)strlen(c->metadata));
        }
        if (c->n_attrs) {
            JSONW_KEY(&w, "attributes");
            jsonw_int(&w, (int64_t)c->n_attrs);
        }
        if (rc && rc->n_agents) {
            JSONW_KEY(&w, "agents");
            jsonw_arr_open(&w);
            for (size_t i = 0; i < rc->n_agents; i++) {
                const char *n = rc->agents[i].agent_name ? rc->agents[i].agent_name : "";
                jsonw_strn(&w, n, cut_utf8(n, POLICY_AUDIT_AGENT_NAME));
            }
            jsonw_arr_close(&w);
        }
        jsonw_obj_close(&w);
    }
    jsonw_obj_close(&w);
    return w.err;
}
