/* test_policy.c - policy_decide and the seat rules on a real SQLite store
 * (a file in a temp dir: the store refuses in-memory databases, one
 * connection per thread), every verdict at least once. */
#include "check.h"
#include "policy/policy.h"
#include "util/clock.h"
#include "store/store.h"
#include "util/err.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/rk-policy-XXXXXX";
static char db_path[128];
static store *st;
static config *cfg;
static policy_rules rules;
static policy_ctx pc;

static config_role *add_role(const char *name)
{
    config_role *r = &cfg->roles[cfg->n_roles++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->can_subscribe = true;
    return r;
}

static void add_room(const char *name, const char *alias, int mode, const char *role,
                     int64_t max_ttl)
{
    store_room r = {.mode = mode, .max_ttl = max_ttl};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.alias, sizeof r.alias, "%s", alias);
    snprintf(r.default_role, sizeof r.default_role, "%s", role);
    CHECK(store_room_create(st, &r) == RK_OK);
}

static void add_member(const char *room, const char *subject, const char *role)
{
    store_member m = {0};
    snprintf(m.room, sizeof m.room, "%s", room);
    snprintf(m.subject, sizeof m.subject, "%s", subject);
    snprintf(m.role, sizeof m.role, "%s", role);
    CHECK(store_member_set(st, &m) == RK_OK);
}

/* A signed-in session caller with subject sub and session role role. */
static caller session(const char *sub, const char *role)
{
    caller c = {.user_session = true};
    snprintf(c.subject, sizeof c.subject, "%s", sub);
    snprintf(c.role, sizeof c.role, "%s", role);
    snprintf(c.issuer, sizeof c.issuer, "app");
    return c;
}

static caller api_key(const char *id, unsigned perms)
{
    caller c = {.is_api_key = true, .perms = perms};
    snprintf(c.subject, sizeof c.subject, "%s", id);
    snprintf(c.issuer, sizeof c.issuer, "api-key");
    return c;
}

static decision d;
static verdict_detail why;

static verdict decide(caller who, const policy_ask *ask)
{
    return policy_decide(&pc, &who, ask, &d, &why);
}

static bool participant(caller who, const char *room, const char *creator)
{
    bool yes = false;
    CHECK(policy_participant(&pc, &who, room, creator, &yes) == RK_OK);
    return yes;
}

static void setup(void)
{
    CHECK(mkdtemp(dir) != NULL);
    snprintf(db_path, sizeof db_path, "%s/policy.db", dir);
    char err[256] = "";
    CHECK(store_open(db_path, &st, err, sizeof err) == RK_OK);
    cfg = calloc(1, sizeof *cfg);
    cfg->default_ttl = 3600;
    cfg->max_ttl = 86400;
    add_role("member")->can_publish = true;
    config_role *mod = add_role("moderator");
    mod->room_admin = true;
    add_role("listener")->max_ttl = 600;
    config_role *meta = add_role("chatty");
    meta->can_update_own_metadata = true;
    meta->may_dispatch_agents = true;
    add_role("judge");
    add_role("performer");
    add_room("open", "lobby", STORE_MODE_AUTHENTICATED, "member", 0);
    add_room("staff", "", STORE_MODE_MEMBERS, "member", 0);
    add_room("bare", "", STORE_MODE_AUTHENTICATED, "", 0);
    add_room("walkin-admin", "", STORE_MODE_AUTHENTICATED, "moderator", 0);
    add_room("short", "", STORE_MODE_AUTHENTICATED, "member", 1800);
    add_room("show", "", STORE_MODE_AUTHENTICATED, "", 0);
    add_member("staff", "alice", "moderator");
    add_member("show", "carol", "performer");
    policy_room_rules *r = &rules.rooms[rules.n++];
    *r = (policy_room_rules){
        .room = "show", .seats = 3, .seat_role = "judge", .user_sessions = true};
    r->roles[r->n_roles++] = (policy_role_map){"judge", "judge"};
    r->roles[r->n_roles++] = (policy_role_map){"contestant", "performer"};
    pc = (policy_ctx){.cfg = cfg, .st = st, .rules = &rules};
}

static void test_rooms_and_identity(void)
{
    caller bob = session("bob", "");
    CHECK(decide(bob, &(policy_ask){.room = "open"}) == VERDICT_OK);
    CHECK_STR(d.identity, "bob");
    CHECK_STR(d.role->name, "member");
    CHECK(d.ttl == 3600 && d.claims.video.can_publish == TRI_TRUE);
    CHECK(decide(bob, &(policy_ask){.room = "lobby"}) == VERDICT_OK);
    CHECK_STR(d.room.name, "open");
    CHECK(decide(bob, &(policy_ask){.room = "nowhere"}) == VERDICT_ROOM_NOT_FOUND);
    CHECK(decide(bob, &(policy_ask){.room = "open", .identity = "eve"}) ==
          VERDICT_IDENTITY_NOT_CALLER);
    caller backend = api_key("backend", PERM_MINT_ANY);
    CHECK(decide(backend, &(policy_ask){.room = "open", .identity = "eve"}) == VERDICT_OK);
    CHECK_STR(d.identity, "eve");
    caller anon_sub = session("anon:x", "");
    CHECK(decide(anon_sub, &(policy_ask){.room = "open"}) == VERDICT_IDENTITY_RESERVED);
    /* not even a backend key takes an anonymous participant's identity */
    CHECK(decide(backend, &(policy_ask){.room = "open", .identity = "anon:x"}) ==
          VERDICT_IDENTITY_RESERVED);
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK(decide(bob, &(policy_ask){.room = "open", .name = long_name}) == VERDICT_NAME_TOO_LONG);
}

/* is_anon_id says whether id is "anon:" + 22 base64url characters. */
static bool is_anon_id(const char *id)
{
    if (strncmp(id, POLICY_ANON_PREFIX, strlen(POLICY_ANON_PREFIX)) != 0)
        return false;
    const char *r = id + strlen(POLICY_ANON_PREFIX);
    return strlen(r) == 22 && strspn(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_") == 22;
}

static void test_anonymous(void)
{
    caller none = {0};
    CHECK(decide(none, &(policy_ask){.room = "open", .identity = "walk", .anonymous = true}) ==
          VERDICT_OK);
    CHECK(is_anon_id(d.identity)); /* generated: never the one asked for */
    CHECK_STR(d.name, d.identity);
    char first[sizeof d.identity];
    snprintf(first, sizeof first, "%s", d.identity);
    CHECK(decide(none, &(policy_ask){.room = "open", .identity = first, .anonymous = true}) ==
          VERDICT_OK);
    CHECK(is_anon_id(d.identity) && strcmp(d.identity, first) != 0); /* no takeover */
    CHECK(decide(none, &(policy_ask){.room = "open", .anonymous = true}) == VERDICT_OK);
    CHECK(is_anon_id(d.identity));
    CHECK(decide(none, &(policy_ask){.room = "lobby", .identity = "w", .anonymous = true}) ==
          VERDICT_ROOM_NOT_FOUND); /* names the room exactly, no alias */
    char long_id[300];
    memset(long_id, 'i', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    CHECK(decide(api_key("backend", PERM_MINT_ANY),
                 &(policy_ask){.room = "open", .identity = long_id}) == VERDICT_IDENTITY_TOO_LONG);
    CHECK(decide(none, &(policy_ask){.room = "staff", .identity = "w", .anonymous = true}) ==
          VERDICT_NOT_MEMBER);
    CHECK(decide(none, &(policy_ask){.room = "walkin-admin", .identity = "w", .anonymous = true}) ==
          VERDICT_ROLE_TOO_POWERFUL);
    CHECK(decide(none, &(policy_ask){.room = "show", .identity = "w", .anonymous = true}) ==
          VERDICT_SESSION_REQUIRED);
}

static void test_roles(void)
{
    caller alice = session("alice", ""), zed = session("zed", "moderator");
    CHECK(decide(alice, &(policy_ask){.room = "staff"}) == VERDICT_OK);
    CHECK_STR(d.role->name, "moderator"); /* the membership's role */
    CHECK(decide(zed, &(policy_ask){.room = "staff"}) == VERDICT_NOT_MEMBER);
    caller limited = api_key("limited", 0);
    CHECK(decide(limited, &(policy_ask){.room = "staff"}) == VERDICT_NOT_MEMBER);
    CHECK(decide(api_key("backend", PERM_MINT_ANY), &(policy_ask){.room = "staff"}) == VERDICT_OK);
    CHECK(decide(zed, &(policy_ask){.room = "open"}) == VERDICT_OK);
    CHECK_STR(d.role->name, "moderator"); /* the session's role claim */
    CHECK(decide(session("y", ""), &(policy_ask){.room = "bare"}) == VERDICT_NO_ROLE);
    CHECK(decide(session("y", "nope"), &(policy_ask){.room = "bare"}) == VERDICT_NO_ROLE);
    /* a membership naming a role the config lacks (a typo, a role removed
     * by a reload) gives no role: neither the session's nor the room's */
    add_member("open", "typo", "listner");
    add_member("staff", "typo", "listner");
    CHECK(decide(session("typo", "moderator"), &(policy_ask){.room = "open"}) == VERDICT_NO_ROLE);
    CHECK(decide(session("typo", ""), &(policy_ask){.room = "open"}) == VERDICT_NO_ROLE);
    CHECK(decide(session("typo", ""), &(policy_ask){.room = "staff"}) == VERDICT_NO_ROLE);
    caller backend = api_key("backend", PERM_MINT_ANY);
    CHECK(decide(backend, &(policy_ask){.room = "open", .identity = "typo"}) == VERDICT_OK);
}

static void test_room_rules(void)
{
    caller judge = session("j1", "judge"), contestant = session("c1", "contestant");
    CHECK(decide(judge, &(policy_ask){.room = "show"}) == VERDICT_OK);
    CHECK_STR(d.role->name, "judge");
    CHECK(decide(contestant, &(policy_ask){.room = "show"}) == VERDICT_OK);
    CHECK_STR(d.role->name, "performer"); /* mapped */
    /* A configured role that the room does not map gives nothing there. */
    CHECK(decide(session("m1", "moderator"), &(policy_ask){.room = "show"}) == VERDICT_NO_ROLE);
    CHECK(decide(session("carol", "moderator"), &(policy_ask){.room = "show"}) == VERDICT_OK);
    CHECK_STR(d.role->name, "performer"); /* the membership wins */
    caller not_user = judge;
    not_user.user_session = false;
    CHECK(decide(not_user, &(policy_ask){.room = "show"}) == VERDICT_SESSION_REQUIRED);
    CHECK(decide(api_key("backend", PERM_MINT_ANY), &(policy_ask){.room = "show"}) ==
          VERDICT_SESSION_REQUIRED);
    caller anon_signin = judge;
    anon_signin.is_anonymous = true;
    CHECK(decide(anon_signin, &(policy_ask){.room = "show"}) == VERDICT_ANON_REFUSED);
    rules.rooms[0].allow_anonymous = true;
    CHECK(decide(anon_signin, &(policy_ask){.room = "show"}) == VERDICT_OK);
    rules.rooms[0].allow_anonymous = false;
    CHECK(policy_session_rule(NULL, &not_user) == VERDICT_OK);
}

static void test_extras(void)
{
    caller chatty = session("ch", "chatty"), bob = session("bob", "");
    lk_attr seat = {"seat", "1"}, colour = {"colour", "red"};
    lk_agent_dispatch agent = {.agent_name = "helper"};
    CHECK(decide(bob, &(policy_ask){.room = "open", .metadata = "{}"}) == VERDICT_METADATA_REFUSED);
    CHECK(decide(chatty, &(policy_ask){.room = "open", .attrs = &colour, .n_attrs = 1}) ==
          VERDICT_OK);
    CHECK(decide(chatty, &(policy_ask){.room = "open", .attrs = &seat, .n_attrs = 1}) ==
          VERDICT_OK); /* no rules in this room: "seat" is an attribute like others */
    CHECK(decide(bob, &(policy_ask){.room = "open", .agents = &agent, .n_agents = 1}) ==
          VERDICT_AGENTS_REFUSED);
    CHECK(decide(chatty, &(policy_ask){.room = "open", .agents = &agent, .n_agents = 1}) ==
          VERDICT_OK);
    CHECK(d.claims.room_config && d.claims.room_config->n_agents == 1);
    /* In a room with rules, "seat" is reserved even for a role that may set
     * attributes (a membership makes chatty that role there). */
    add_member("show", "ch", "chatty");
    CHECK(decide(chatty, &(policy_ask){.room = "show", .attrs = &seat, .n_attrs = 1}) ==
          VERDICT_ATTR_RESERVED);
    CHECK(decide(chatty, &(policy_ask){.room = "open", .room_config_name = "elsewhere"}) ==
          VERDICT_ROOM_CONFIG_NAME);
    CHECK(decide(chatty, &(policy_ask){.room = "lobby", .room_config_name = "open"}) == VERDICT_OK);
}

static void test_ttl(void)
{
    caller bob = session("bob", ""), lis = session("l", "listener");
    CHECK(decide(bob, &(policy_ask){.room = "short", .ttl = 1801}) == VERDICT_TTL_ABOVE_CAP);
    CHECK(why.max_ttl == 1800);
    CHECK(decide(bob, &(policy_ask){.room = "short"}) == VERDICT_OK);
    CHECK(d.ttl == 1800);
    CHECK(decide(lis, &(policy_ask){.room = "open", .ttl = 601}) == VERDICT_TTL_ABOVE_CAP);
    CHECK(why.max_ttl == 600);
    CHECK(decide(bob, &(policy_ask){.room = "open", .ttl = 86401}) == VERDICT_TTL_ABOVE_CAP);
    CHECK(why.max_ttl == 86400);
}

static void test_seats(void)
{
    caller j1 = session("j1", "judge"), j2 = session("j2", "judge");
    caller contestant = session("c1", "contestant");
    CHECK(decide(j1, &(policy_ask){.room = "open", .seat = 1}) == VERDICT_NO_SEATS);
    CHECK(decide(j1, &(policy_ask){.room = "show", .seat = 4}) == VERDICT_NO_SEATS);
    CHECK(why.seats == 3);
    CHECK(decide(contestant, &(policy_ask){.room = "show", .seat = 1}) == VERDICT_SEAT_ROLE);
    CHECK_STR(why.seat_role, "judge");
    CHECK(decide(j1, &(policy_ask){.room = "show", .seat = 1}) == VERDICT_OK);
    CHECK(policy_seat_take(&pc, &j1, &d, 1000, &why) == VERDICT_OK);
    CHECK(d.claims.n_attrs == 1);
    CHECK_STR(d.claims.attrs[0].key, "seat");
    CHECK_STR(d.claims.attrs[0].value, "1");
    CHECK(decide(j2, &(policy_ask){.room = "show", .seat = 1}) == VERDICT_OK);
    CHECK(policy_seat_take(&pc, &j2, &d, 1001, &why) == VERDICT_SEAT_TAKEN);
    CHECK(why.seat == 1);
    /* A failed mint gives the seat back. */
    CHECK(decide(j2, &(policy_ask){.room = "show", .seat = 2}) == VERDICT_OK);
    CHECK(policy_seat_take(&pc, &j2, &d, 1002, &why) == VERDICT_OK);
    policy_seat_give_back(st, d.room.name, d.seat, j2.subject, "mint_failed", 1003);
    CHECK(decide(j1, &(policy_ask){.room = "show", .seat = 2}) == VERDICT_OK);
    CHECK(policy_seat_take(&pc, &j1, &d, 1004, &why) == VERDICT_OK);
    /* A later exp extends the claim: still taken past the first claim's end. */
    policy_seat_keep(st, j1.subject, &d, 1004 + 7200, "jti-1", 1005);
    CHECK(decide(j2, &(policy_ask){.room = "show", .seat = 2}) == VERDICT_OK);
    CHECK(policy_seat_take(&pc, &j2, &d, 1004 + 3600 + 1, &why) == VERDICT_SEAT_TAKEN);
    /* Past the holder's exp the seat is free. */
    CHECK(decide(j2, &(policy_ask){.room = "show", .seat = 2}) == VERDICT_OK);
    CHECK(policy_seat_take(&pc, &j2, &d, 1004 + 7200 + 1, &why) == VERDICT_OK);
}

static void test_participant(void)
{
    CHECK(participant(session("alice", ""), "staff", "zed"));
    CHECK(participant(session("zed", ""), "staff", "zed"));
    CHECK(!participant(session("eve", ""), "staff", "zed"));
    CHECK(!participant(api_key("limited", 0), "staff", "limited"));
    CHECK(participant(api_key("backend", PERM_MINT_ANY), "staff", "z"));
}

/* test_closed: an ended or canceled meeting's room refuses every token
 * (ROOM_CLOSED) to those it would admit, and reopens with the meeting;
 * others keep their own refusal. */
static void test_closed(void)
{
    store_meeting m = {0};
    snprintf(m.id, sizeof m.id, "m1");
    snprintf(m.room, sizeof m.room, "meeting-m1");
    snprintf(m.heading, sizeof m.heading, "Standup");
    snprintf(m.status, sizeof m.status, "PROCESSING");
    snprintf(m.creator, sizeof m.creator, "carol");
    CHECK(store_meeting_create(st, &m, "member", "member") == RK_OK);
    policy_ask ask = {.room = "meeting-m1"};
    CHECK(decide(session("carol", ""), &ask) == VERDICT_OK);
    CHECK(store_meeting_set_status(st, "m1", "COMPLETED") == RK_OK);
    CHECK(decide(session("carol", ""), &ask) == VERDICT_ROOM_CLOSED);
    CHECK(decide(api_key("backend", PERM_MINT_ANY), &ask) == VERDICT_ROOM_CLOSED);
    CHECK(decide(session("eve", ""), &ask) == VERDICT_NOT_MEMBER);
    CHECK(store_meeting_set_status(st, "m1", "CANCELED") == RK_OK);
    CHECK(decide(session("carol", ""), &ask) == VERDICT_ROOM_CLOSED);
    CHECK(store_meeting_set_status(st, "m1", "SCHEDULED") == RK_OK);
    CHECK(decide(session("carol", ""), &ask) == VERDICT_OK);
    store_room r;
    CHECK(store_room_get(st, "open", &r) == RK_OK && r.closed == 0); /* not a meeting's room */
}

/* banned_dave: a ban hook that bans "dave" from every room. */
static bool banned_dave(void *arg, const char *room, const char *identity, int64_t now)
{
    (void)room, (void)now;
    ++*(int *)arg;
    return strcmp(identity, "dave") == 0;
}

/* present puts identity into room as a live participant (webhook presence). */
static void present(const char *sid, const char *room, const char *identity)
{
    store_presence p = {.joined_at = 1000};
    snprintf(p.sid, sizeof p.sid, "%s", sid);
    snprintf(p.room, sizeof p.room, "%s", room);
    snprintf(p.identity, sizeof p.identity, "%s", identity);
    snprintf(p.kind, sizeof p.kind, "standard");
    CHECK(store_presence_apply(st, &p) == RK_OK);
}

/* test_live: live rooms' bans (the hook) and max_participants (presence). */
static void test_live(void)
{
    int asked = 0;
    policy_ctx live = pc;
    live.banned = banned_dave;
    live.banned_arg = &asked;
    caller dave = session("dave", "");
    CHECK(policy_decide(&live, &dave, &(policy_ask){.room = "open"}, &d, &why) == VERDICT_BANNED);
    CHECK(asked == 1);
    CHECK(decide(dave, &(policy_ask){.room = "open"}) == VERDICT_OK); /* no hook: no ban */
    caller erin = session("erin", "");
    CHECK(policy_decide(&live, &erin, &(policy_ask){.room = "open"}, &d, &why) == VERDICT_OK);
    CHECK(d.claims.room_config == NULL); /* no max_participants: no roomConfig */

    store_room small = {.mode = STORE_MODE_AUTHENTICATED, .max_participants = 2};
    snprintf(small.name, sizeof small.name, "small");
    snprintf(small.default_role, sizeof small.default_role, "member");
    CHECK(store_room_create(st, &small) == RK_OK);
    present("PA_1", "small", "p1");
    CHECK(decide(session("p2", ""), &(policy_ask){.room = "small"}) == VERDICT_OK);
    CHECK(d.claims.room_config != NULL && d.claims.room_config->max_participants == 2);
    present("PA_2", "small", "p2");
    CHECK(decide(session("p3", ""), &(policy_ask){.room = "small"}) == VERDICT_ROOM_FULL);
    CHECK(decide(session("p1", ""), &(policy_ask){.room = "small"}) == VERDICT_OK); /* already in */
}

/* capped_room creates room name (authenticated, member) with max_participants 2. */
static void capped_room(const char *name)
{
    store_room r = {.mode = STORE_MODE_AUTHENTICATED, .max_participants = 2};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.default_role, sizeof r.default_role, "member");
    CHECK(store_room_create(st, &r) == RK_OK);
}

/* audit_row writes the committed audit record of a token for identity in
 * room (thread-safe: no CHECK). */
static int audit_row(const char *room, const char *identity)
{
    static int serial;
    store_audit a = {.issued_at = clock_now(), .exp = clock_now() + 600};
    snprintf(a.jti, sizeof a.jti, "jti-%s-%d", identity, __atomic_add_fetch(&serial, 1, 0));
    snprintf(a.subject, sizeof a.subject, "%s", identity);
    snprintf(a.identity, sizeof a.identity, "%s", identity);
    snprintf(a.room, sizeof a.room, "%s", room);
    snprintf(a.role, sizeof a.role, "member");
    snprintf(a.grants, sizeof a.grants, "{}");
    snprintf(a.route, sizeof a.route, "test");
    return store_audit_add(st, &a);
}

/* One decider on a thread of its own; with issue set, it then does what
 * issuance does for a place: commits the audit record, then releases. */
typedef struct racer {
    pthread_t th;
    const policy_ctx *pc;
    const char *room;
    char sub[32];
    bool issue;
    verdict v;
    bool place;
    int rc;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    decision mine;
    verdict_detail w;
    caller who = session(r->sub, "");
    r->v = policy_decide(r->pc, &who, &(policy_ask){.room = r->room}, &mine, &w);
    r->place = mine.place;
    if (r->issue && r->v == VERDICT_OK) {
        r->rc = audit_row(r->room, r->sub);
        admission_release(r->pc->places, r->room, r->sub);
    }
    return NULL;
}

/* places_ctx returns pc with a new admission table (*places, freed by the
 * caller) and room name, capped at 2. */
static policy_ctx places_ctx(admission **places, const char *room)
{
    CHECK(admission_new(places) == RK_OK);
    policy_ctx live = pc;
    live.places = *places;
    capped_room(room);
    return live;
}

/* test_places: tokens being issued (audit records not committed) hold
 * their places; the same identity holds one; a released place is free; a
 * place committed but not yet released counts once. */
static void test_places(void)
{
    admission *places = NULL;
    policy_ctx live = places_ctx(&places, "cap");
    caller ann = session("ann", ""), bea = session("bea", ""), cid = session("cid", "");
    const policy_ask cap = {.room = "cap"};
    CHECK(policy_decide(&live, &ann, &cap, &d, &why) == VERDICT_OK && d.place);
    CHECK(policy_decide(&live, &ann, &cap, &d, &why) == VERDICT_OK && d.place); /* the same place */
    CHECK(policy_decide(&live, &bea, &cap, &d, &why) == VERDICT_OK && d.place);
    admission_release(places, "cap", "bea"); /* bea's record failed: her place is free */
    CHECK(policy_decide(&live, &cid, &cap, &d, &why) == VERDICT_OK && d.place);
    CHECK(audit_row("cap", "ann") == RK_OK && audit_row("cap", "cid") == RK_OK);
    admission_release(places, "cap", "ann");
    admission_release(places, "cap", "ann");
    admission_release(places, "cap", "cid");
    CHECK(policy_decide(&live, &bea, &cap, &d, &why) == VERDICT_ROOM_FULL && !d.place);
    CHECK(policy_decide(&live, &ann, &cap, &d, &why) == VERDICT_OK); /* issued a token: in */
    CHECK(!d.place);                                                 /* the store counts her */

    /* ann's record is committed, her place not released yet: dan waits
     * for the release rather than count her twice (whichever comes first). */
    capped_room("cap2");
    CHECK(policy_decide(&live, &ann, &(policy_ask){.room = "cap2"}, &d, &why) == VERDICT_OK);
    CHECK(audit_row("cap2", "ann") == RK_OK);
    racer r = {.pc = &live, .room = "cap2", .sub = "dan"};
    CHECK(pthread_create(&r.th, NULL, race, &r) == 0);
    admission_release(places, "cap2", "ann");
    pthread_join(r.th, NULL);
    CHECK(r.v == VERDICT_OK && r.place);
    admission_release(places, "cap2", "dan");
    admission_free(places);
}

/* test_places_at_once: 16 deciders at once for a room of 2 places, each
 * committing its record after a yes: exactly 2 yes, whatever the order. */
static void test_places_at_once(void)
{
    admission *places = NULL;
    policy_ctx live = places_ctx(&places, "crowd");
    racer rs[16];
    for (size_t i = 0; i < 16; i++) {
        rs[i] = (racer){.pc = &live, .room = "crowd", .issue = true};
        snprintf(rs[i].sub, sizeof rs[i].sub, "racer-%zu", i);
        CHECK(pthread_create(&rs[i].th, NULL, race, &rs[i]) == 0);
    }
    size_t ok = 0, full = 0;
    for (size_t i = 0; i < 16; i++) {
        pthread_join(rs[i].th, NULL);
        CHECK(rs[i].rc == RK_OK);
        ok += rs[i].v == VERDICT_OK && rs[i].place;
        full += rs[i].v == VERDICT_ROOM_FULL && !rs[i].place;
    }
    CHECK(ok == 2 && full == 14);
    store_audit *rows = NULL;
    size_t n = 0;
    CHECK(store_audit_list(st, &(store_audit_filter){.room = "crowd"}, &rows, &n) == RK_OK);
    CHECK(n == 2);
    free(rows);
    admission_free(places);
}

/* test_texts: every verdict has its own explanation. */
static void test_texts(void)
{
    for (int v = 0; v < VERDICT_COUNT; v++) {
        CHECK(policy_verdict_text((verdict)v)[0] != '\0');
        for (int w = 0; w < v; w++)
            CHECK(strcmp(policy_verdict_text((verdict)v), policy_verdict_text((verdict)w)) != 0);
    }
    CHECK_STR(policy_verdict_text(VERDICT_ROOM_FULL), "the room is full");
    CHECK_STR(policy_verdict_text(VERDICT_BANNED), "banned from this room");
}

/* test_failed: a store error is VERDICT_FAILED with its code, never a yes. */
static void test_failed(void)
{
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP TABLE members", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(decide(session("newcomer", ""), &(policy_ask){.room = "open"}) == VERDICT_FAILED);
    CHECK(why.rc != RK_OK);
}

int main(void)
{
    setup();
    test_rooms_and_identity();
    test_anonymous();
    test_roles();
    test_room_rules();
    test_extras();
    test_ttl();
    test_seats();
    test_participant();
    test_closed();
    test_live();
    test_places();
    test_places_at_once();
    test_texts();
    test_failed();
    store_close(st);
    config_free(cfg);
    char p[160];
    static const char *const files[] = {"policy.db", "policy.db-wal", "policy.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return check_summary();
}
