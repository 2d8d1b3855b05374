/* policy.c - rooms, memberships and roles to grants and lifetimes. */
#include "policy.h"
#include "../util/b64url.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "../util/log.h"
#include "../util/rng.h"
#include "../util/utf8.h"

#include <openssl/crypto.h>

#include <inttypes.h>

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

static const char *const TEXT[VERDICT_COUNT] = {
    [VERDICT_OK] = "allowed",
    [VERDICT_ROOM_NOT_FOUND] = "room not found",
    [VERDICT_SESSION_REQUIRED] = "this room admits signed-in user sessions only",
    [VERDICT_ANON_REFUSED] = "this room refuses anonymous sessions",
    [VERDICT_IDENTITY_NOT_CALLER] = "identity must be the authenticated caller",
    [VERDICT_IDENTITY_RESERVED] =
        "identities starting with \"" POLICY_ANON_PREFIX "\" are reserved for anonymous callers",
    [VERDICT_IDENTITY_TOO_LONG] = "identity too long",
    [VERDICT_NAME_TOO_LONG] = "name too long",
    [VERDICT_NAME_UNSAFE] = "name holds a control or bidi control character",
    [VERDICT_NOT_MEMBER] = "not a member of this room",
    [VERDICT_NO_ROLE] = "no role applies",
    [VERDICT_ROLE_TOO_POWERFUL] = "the room's default role is too powerful for anonymous callers",
    [VERDICT_METADATA_REFUSED] = "the role may not set participant metadata or attributes",
    [VERDICT_ATTR_RESERVED] = "the \"" POLICY_SEAT_ATTR "\" attribute is set by RoomKey only",
    [VERDICT_AGENTS_REFUSED] = "the role may not dispatch agents",
    [VERDICT_NO_SEATS] = "no such seat in this room",
    [VERDICT_SEAT_ROLE] = "the role may not take a seat",
    [VERDICT_SEAT_TAKEN] = "the seat is taken",
    [VERDICT_ROOM_CONFIG_NAME] = "room_config.name must be the room of room_name",
    [VERDICT_TTL_ABOVE_CAP] = "ttl above the maximum",
    [VERDICT_BANNED] = "banned from this room",
    [VERDICT_ROOM_FULL] = "the room is full",
    [VERDICT_ROOM_CLOSED] = "the room is closed",
    [VERDICT_FAILED] = "internal error",
};

const char *policy_verdict_text(verdict v)
{
    return (unsigned)v < VERDICT_COUNT ? TEXT[v] : "unknown verdict";
}

const policy_room_rules *policy_room_rules_find(const policy_rules *rules, const char *room)
{
    for (size_t i = 0; rules && i < rules->n; i++)
        if (strcmp(rules->rooms[i].room, room) == 0)
            return &rules->rooms[i];
    return NULL;
}

verdict policy_session_rule(const policy_room_rules *r, const caller *who)
{
    if (!r || !r->user_sessions)
        return VERDICT_OK;
    if (who->is_api_key || !who->user_session)
        return VERDICT_SESSION_REQUIRED;
    if (who->is_anonymous && !r->allow_anonymous)
        return VERDICT_ANON_REFUSED;
    return VERDICT_OK;
}

/* choose_identity sets d->identity: the caller's subject by default, another
 * identity only for mint_any API keys, "anon:<identity>" when anonymous. */
/* anonymous_identity writes a fresh "anon:<22 base64url chars>" (128
 * random bits) into d->identity: nobody can name, guess or take it over. */
static verdict anonymous_identity(decision *d, verdict_detail *why)
{
    uint8_t raw[POLICY_ANON_RANDOM_BYTES];
    const size_t prefix = strlen(POLICY_ANON_PREFIX);
    size_t len = 0;
    memcpy(d->identity, POLICY_ANON_PREFIX, prefix);
    int rc = rng_bytes(raw, sizeof raw);
    if (rc == RK_OK)
        rc =
            b64url_encode(raw, sizeof raw, d->identity + prefix, sizeof d->identity - prefix, &len);
    OPENSSL_cleanse(raw, sizeof raw);
    why->rc = rc;
    return rc ? VERDICT_FAILED : VERDICT_OK;
}

static verdict choose_identity(const caller *who, const policy_ask *ask, bool mint_any, decision *d,
                               verdict_detail *why)
{
    if (ask->anonymous)
        return anonymous_identity(d, why);
    const char *identity = ask->identity ? ask->identity : who->subject;
    if (strcmp(identity, who->subject) != 0 && !mint_any)
        return VERDICT_IDENTITY_NOT_CALLER;
    /* The anon: namespace belongs to anonymous callers: no other caller (a
     * session whose subject happens to start with it, a backend key) takes
     * (and so disconnects) an anonymous participant's identity. */
    if (strncmp(identity, POLICY_ANON_PREFIX, strlen(POLICY_ANON_PREFIX)) == 0)
        return VERDICT_IDENTITY_RESERVED;
    if (strlen(identity) >= sizeof d->identity)
        return VERDICT_IDENTITY_TOO_LONG;
    strcpy(d->identity, identity);
    return VERDICT_OK;
}

/* session_role returns the role the session's role claim gives in a room
 * with rules r (mapped when r has a role map), or NULL. */
static const config_role *session_role(const config *cfg, const policy_room_rules *r,
                                       const caller *who)
{
    if (!who->role[0])
        return NULL;
    if (!r || r->n_roles == 0)
        return config_role_find(cfg, who->role);
    for (size_t i = 0; i < r->n_roles; i++)
        if (strcmp(r->roles[i].session_role, who->role) == 0)
            return config_role_find(cfg, r->roles[i].role);
    return NULL; /* an unmapped session role gives no role in this room */
}

/* choose_role sets d->role: membership, then the session's role claim, then
 * the room's default role (anonymous asks: the default role only). */
static verdict choose_role(const policy_ctx *pc, const policy_room_rules *r, const caller *who,
                           const policy_ask *ask, bool mint_any, decision *d, verdict_detail *why)
{
    const config_role *role = NULL;
    bool members_only = d->room.mode == STORE_MODE_MEMBERS;
    if (ask->anonymous && members_only)
        return VERDICT_NOT_MEMBER;
    if (!ask->anonymous) {
        store_member m;
        int rc = store_member_get(pc->st, d->room.name, who->subject, &m);
        if (rc && rc != RK_ENOTFOUND) {
            why->rc = rc;
            return VERDICT_FAILED;
        }
        if (members_only && rc != RK_OK && !mint_any)
            return VERDICT_NOT_MEMBER;
        if (rc == RK_OK && !(role = config_role_find(pc->cfg, m.role))) {
            /* A membership bounds its member's powers: one naming a role
             * this config lacks (a typo, a role removed by a reload) must
             * not fall through to the session's or the room's. */
            log_event("warn", "membership_role_unknown", "room", d->room.name, "role", m.role,
                      NULL);
            return VERDICT_NO_ROLE;
        }
        if (!role)
            role = session_role(pc->cfg, r, who);
    }
    if (!role)
        role = config_role_find(pc->cfg, d->room.default_role);
    if (!role)
        return VERDICT_NO_ROLE;
    /* An anonymous caller never gets powers over other participants or the
     * room, whatever the room's default role says. */
    if (ask->anonymous && (role->room_admin || role->hidden || role->recorder))
        return VERDICT_ROLE_TOO_POWERFUL;
    d->role = role;
    return VERDICT_OK;
}

/* already_in says whether identity is in room or was issued a token for it
 * since `since` (it holds its place already). */
static bool already_in(store *st, const char *room, const char *identity, int64_t since)
{
    int64_t last = 0;
    if (store_audit_last_issued(st, room, identity, &last) == RK_OK && last >= since)
        return true;
    return store_presence_has(st, room, identity);
}

/* occupancy reads room's places from the store into *taken: those in the
 * room plus those issued a token since `since` who have not joined. */
static int occupancy(store *st, const char *room, int64_t since, int64_t *taken)
{
    int64_t present = 0, pending = 0;
    int rc = store_occupancy(st, room, since, &present, &pending);
    *taken = present + pending;
    return rc;
}

/* check_full refuses d's identity a place in its full room (ROOM_FULL);
 * with pc->places it runs in the room's turn, counts the places tokens
 * being issued hold too and takes one (d->place). */
static verdict check_full(const policy_ctx *pc, decision *d, int64_t since, verdict_detail *why)
{
    const char *room = d->room.name;
    for (;;) {
        int64_t taken = 0;
        size_t flying = 0;
        bool holds = false;
        /* Places in flight first, the store second: a place released in
         * between was committed before its release, so the store read
         * sees it (counted once or twice, never not at all). */
        if (pc->places)
            admission_count(pc->places, room, d->identity, &flying, &holds);
        int rc = occupancy(pc->st, room, since, &taken);
        if (rc) {
            why->rc = rc;
            return VERDICT_FAILED;
        }
        if (!holds && taken >= d->room.max_participants)
            return already_in(pc->st, room, d->identity, since) ? VERDICT_OK : VERDICT_ROOM_FULL;
        /* Places in flight may be committed already (counted twice): wait
         * for them and count again rather than refuse. */
        if (!holds && taken + (int64_t)flying >= d->room.max_participants) {
            admission_settle(pc->places, room);
            continue;
        }
        if (pc->places && (rc = admission_take(pc->places, room, d->identity)) != RK_OK) {
            why->rc = rc;
            return VERDICT_FAILED;
        }
        d->place = pc->places != NULL;
        return VERDICT_OK;
    }
}

/* check_live refuses a banned identity (BANNED) and a full room
 * (ROOM_FULL); see policy.h. */
static verdict check_live(const policy_ctx *pc, decision *d, verdict_detail *why)
{
    int64_t now = clock_now();
    if (pc->banned && pc->banned(pc->banned_arg, d->room.name, d->identity, now))
        return VERDICT_BANNED;
    if (d->room.max_participants <= 0)
        return VERDICT_OK;
    if (!pc->places)
        return check_full(pc, d, now - POLICY_PENDING_S, why);
    int rc = admission_begin(pc->places, d->room.name);
    if (rc) {
        why->rc = rc;
        return VERDICT_FAILED;
    }
    verdict v = check_full(pc, d, now - POLICY_PENDING_S, why);
    admission_end(pc->places, d->room.name);
    return v;
}

/* check_extras applies the role's and the room's rules to what the ask adds
 * to the token: metadata, attributes, agents and a seat. */
static verdict check_extras(const policy_room_rules *r, const policy_ask *ask, decision *d,
                            verdict_detail *why)
{
    const config_role *role = d->role;
    for (size_t i = 0; r && i < ask->n_attrs; i++)
        if (strcmp(ask->attrs[i].key, POLICY_SEAT_ATTR) == 0)
            return VERDICT_ATTR_RESERVED;
    if ((ask->metadata || ask->n_attrs) && !role->can_update_own_metadata)
        return VERDICT_METADATA_REFUSED;
    if (ask->n_agents && !role->may_dispatch_agents)
        return VERDICT_AGENTS_REFUSED;
    if (ask->seat) {
        why->seat = ask->seat;
        why->seats = r ? r->seats : 0;
        if (!r || ask->seat < 1 || ask->seat > r->seats)
            return VERDICT_NO_SEATS;
        if (strcmp(role->name, r->seat_role) != 0) {
            why->seat_role = r->seat_role;
            return VERDICT_SEAT_ROLE;
        }
        d->seat = ask->seat;
    }
    return VERDICT_OK;
}

/* choose_name_ttl sets d's display name and lifetime. */
static verdict choose_name_ttl(const config *cfg, const caller *who, const policy_ask *ask,
                               decision *d, verdict_detail *why)
{
    const char *name = ask->name ? ask->name : who->name;
    if (ask->anonymous && !name[0])
        name = d->identity; /* "anon:...", never a bare name that looks like a user's */
    if (strlen(name) >= sizeof d->name)
        return VERDICT_NAME_TOO_LONG;
    /* other participants' screens show it, as they show the identity; a
     * session's name claim was checked when the session was (session.c) */
    if (ask->name && utf8_has_unsafe(ask->name))
        return VERDICT_NAME_UNSAFE;
    strcpy(d->name, name);
    int64_t cap = min_cap(min_cap(cfg->max_ttl, d->role->max_ttl), d->room.max_ttl);
    d->max_ttl = cap;
    d->ttl = ask->ttl ? ask->ttl : (cfg->default_ttl < cap ? cfg->default_ttl : cap);
    if (d->ttl > cap) {
        why->max_ttl = cap;
        return VERDICT_TTL_ABOVE_CAP;
    }
    return VERDICT_OK;
}

/* find_room reads the asked room into d->room. */
static verdict find_room(const policy_ctx *pc, const policy_ask *ask, decision *d,
                         verdict_detail *why)
{
    int rc = store_room_get(pc->st, ask->room, &d->room);
    if (rc == RK_ENOTFOUND || rc == RK_EINVAL || rc == RK_ETOOBIG ||
        (rc == RK_OK && ask->anonymous && strcmp(d->room.name, ask->room) != 0))
        return VERDICT_ROOM_NOT_FOUND;
    why->rc = rc;
    return rc ? VERDICT_FAILED : VERDICT_OK;
}

verdict policy_decide(const policy_ctx *pc, const caller *who, const policy_ask *ask, decision *d,
                      verdict_detail *why)
{
    memset(d, 0, sizeof *d);
    memset(why, 0, sizeof *why);
    verdict v = find_room(pc, ask, d, why);
    if (v)
        return v;
    const policy_room_rules *r = policy_room_rules_find(pc->rules, d->room.name);
    if ((v = policy_session_rule(r, who)))
        return v;
    bool mint_any = !ask->anonymous && who->is_api_key && (who->perms & PERM_MINT_ANY);
    if ((v = choose_identity(who, ask, mint_any, d, why)) ||
        (v = choose_role(pc, r, who, ask, mint_any, d, why)) ||
        (v = d->room.closed ? VERDICT_ROOM_CLOSED : VERDICT_OK) ||
        (v = check_extras(r, ask, d, why)) || (v = choose_name_ttl(pc->cfg, who, ask, d, why)))
        return v;
    if (ask->room_config_name && strcmp(ask->room_config_name, d->room.name) != 0 &&
        strcmp(ask->room_config_name, ask->room) != 0)
        return VERDICT_ROOM_CONFIG_NAME;
    if ((v = check_live(pc, d, why)))
        return v;
    fill_claims(d, ask);
    if (d->room.max_participants > 0) {
        d->room_config.max_participants = (uint32_t)d->room.max_participants;
        d->claims.room_config = &d->room_config;
    }
    return VERDICT_OK;
}

/* seat_claim claims d's seat for subject until exp. */
static int seat_claim(store *st, const char *subject, const decision *d, int64_t exp, int64_t now)
{
    store_seat s = {.seat = d->seat, .exp = exp};
    snprintf(s.room, sizeof s.room, "%s", d->room.name);
    snprintf(s.subject, sizeof s.subject, "%s", subject);
    return store_seat_claim(st, &s, now);
}

verdict policy_seat_take(const policy_ctx *pc, const caller *who, decision *d, int64_t now,
                         verdict_detail *why)
{
    if (!d->seat)
        return VERDICT_OK;
    why->seat = d->seat;
    int rc = seat_claim(pc->st, who->subject, d, now + d->ttl, now);
    if (rc == RK_ECONFLICT)
        return VERDICT_SEAT_TAKEN;
    if (rc) {
        why->rc = rc;
        return VERDICT_FAILED;
    }
    snprintf(d->seat_value, sizeof d->seat_value, "%" PRId64, d->seat);
    d->seat_attr = (lk_attr){POLICY_SEAT_ATTR, d->seat_value};
    d->claims.attrs = &d->seat_attr;
    d->claims.n_attrs = 1;
    return VERDICT_OK;
}

void policy_seat_keep(store *st, const char *subject, const decision *d, int64_t exp,
                      const char *jti, int64_t now)
{
    if (d->seat && exp > now && seat_claim(st, subject, d, exp, now) != RK_OK)
        log_event("warn", "seat_extend_failed", "room", d->room.name, "jti", jti, NULL);
}

void policy_seat_give_back(store *st, const char *room, int64_t seat, const char *subject,
                           const char *why, int64_t now)
{
    if (!seat)
        return;
    char n[24];
    snprintf(n, sizeof n, "%" PRId64, seat);
    int rc = store_seat_release(st, room, seat, subject, now);
    log_event(rc ? "warn" : "info", rc ? "seat_release_failed" : "seat_released", "room", room,
              "seat", n, "subject", subject, "reason", why, NULL);
}

int policy_participant(const policy_ctx *pc, const caller *who, const char *room,
                       const char *creator, bool *yes)
{
    store_member mem;
    *yes = who->is_api_key ? (who->perms & PERM_MINT_ANY) != 0 : strcmp(who->subject, creator) == 0;
    if (*yes)
        return RK_OK;
    int rc = store_member_get(pc->st, room, who->subject, &mem);
    *yes = rc == RK_OK;
    return rc == RK_ENOTFOUND ? RK_OK : rc;
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
