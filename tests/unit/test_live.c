/* test_live.c - live rooms (src/api/live.c) over a real SQLite store,
 * without a LiveKit host: webhook events move presence, release a judge's
 * seat when the judge leaves, move a meeting's status on room_started and
 * room_finished, and change nothing when repeated; decisions are recorded
 * as actions for the serving instance to carry out. */
#include "api/live.h"
#include "check.h"
#include "config/config.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/err.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static lk_webhook_event event(const char *name, const char *id, const char *room, const char *sid,
                              const char *identity)
{
    lk_webhook_event ev = {.has_room = true};
    snprintf(ev.event, sizeof ev.event, "%s", name);
    snprintf(ev.id, sizeof ev.id, "%s", id);
    snprintf(ev.room.name, sizeof ev.room.name, "%s", room);
    if (sid) {
        ev.has_participant = true;
        snprintf(ev.participant.sid, sizeof ev.participant.sid, "%s", sid);
        snprintf(ev.participant.identity, sizeof ev.participant.identity, "%s", identity);
        snprintf(ev.participant.kind, sizeof ev.participant.kind, "standard");
        ev.participant.joined_at = 1000;
    }
    return ev;
}

static size_t present(store *st, const char *room)
{
    store_presence *ps = NULL;
    size_t n = 0;
    if (store_presence_list(st, room, &ps, &n) != RK_OK)
        return (size_t)-1;
    free(ps);
    return n;
}

static void test_presence_and_seats(live *l, store *st)
{
    int64_t now = clock_now();
    store_room r = {.mode = STORE_MODE_AUTHENTICATED};
    snprintf(r.name, sizeof r.name, "stage");
    CHECK(store_room_create(st, &r) == RK_OK);
    store_seat seat = {.seat = 1, .exp = now + 600};
    snprintf(seat.room, sizeof seat.room, "stage");
    snprintf(seat.subject, sizeof seat.subject, "judge-1");
    CHECK(store_seat_claim(st, &seat, now) == RK_OK);

    lk_webhook_event j1 = event("participant_joined", "EV_1", "stage", "PA_1", "judge-1");
    CHECK(live_on_event(l, &j1, now) == LIVE_APPLIED);
    CHECK(live_on_event(l, &j1, now) == LIVE_DUPLICATE);
    lk_webhook_event j2 = event("participant_joined", "EV_2", "stage", "PA_2", "judge-1");
    CHECK(live_on_event(l, &j2, now) == LIVE_APPLIED); /* a second session */
    CHECK(present(st, "stage") == 2);
    lk_webhook_event l1 = event("participant_left", "EV_3", "stage", "PA_1", "judge-1");
    CHECK(live_on_event(l, &l1, now) == LIVE_APPLIED);
    store_seat *seats = NULL;
    size_t n = 0;
    CHECK(store_seat_list(st, "stage", now, &seats, &n) == RK_OK && n == 1); /* still there */
    free(seats);
    lk_webhook_event l2 =
        event("participant_connection_aborted", "EV_4", "stage", "PA_2", "judge-1");
    CHECK(live_on_event(l, &l2, now) == LIVE_APPLIED);
    CHECK(store_seat_list(st, "stage", now, &seats, &n) == RK_OK && n == 0); /* released */
    free(seats);
    CHECK(present(st, "stage") == 0);

    /* LiveKit's "left" of a session comes before its "joined": the session
     * is not counted as in the room */
    lk_webhook_event late_left = event("participant_left", "EV_4b", "stage", "PA_4", "racer");
    CHECK(live_on_event(l, &late_left, now) == LIVE_APPLIED);
    lk_webhook_event late_join = event("participant_joined", "EV_4c", "stage", "PA_4", "racer");
    CHECK(live_on_event(l, &late_join, now) == LIVE_APPLIED);
    CHECK(present(st, "stage") == 0);

    lk_webhook_event other = event("track_published", "EV_5", "stage", NULL, NULL);
    CHECK(live_on_event(l, &other, now) == LIVE_IGNORED);
    lk_webhook_event j3 = event("participant_joined", "EV_6", "stage", "PA_3", "guest");
    CHECK(live_on_event(l, &j3, now) == LIVE_APPLIED);
    lk_webhook_event fin = event("room_finished", "EV_7", "stage", NULL, NULL);
    CHECK(live_on_event(l, &fin, now) == LIVE_APPLIED);
    CHECK(present(st, "stage") == 0);

    /* A join LiveKit delivers after its room session's room_finished (its
     * left never comes) is not counted: that session ended */
    lk_webhook_event fin_a = event("room_finished", "EV_8", "stage", NULL, NULL);
    snprintf(fin_a.room.sid, sizeof fin_a.room.sid, "RM_A");
    CHECK(live_on_event(l, &fin_a, now) == LIVE_APPLIED);
    lk_webhook_event fin_a2 = fin_a; /* sent again under another event id */
    snprintf(fin_a2.id, sizeof fin_a2.id, "EV_8b");
    CHECK(live_on_event(l, &fin_a2, now) == LIVE_APPLIED);
    lk_webhook_event after = event("participant_joined", "EV_9", "stage", "PA_5", "latecomer");
    snprintf(after.room.sid, sizeof after.room.sid, "RM_A");
    CHECK(live_on_event(l, &after, now) == LIVE_APPLIED);
    CHECK(present(st, "stage") == 0);
    CHECK(!store_presence_has(st, "stage", "latecomer"));
    /* the room's next session (another SID) counts its joins */
    lk_webhook_event next = event("participant_joined", "EV_10", "stage", "PA_6", "latecomer");
    snprintf(next.room.sid, sizeof next.room.sid, "RM_B");
    CHECK(live_on_event(l, &next, now) == LIVE_APPLIED);
    CHECK(present(st, "stage") == 1);
    lk_webhook_event bye = event("participant_left", "EV_11", "stage", "PA_6", "latecomer");
    CHECK(live_on_event(l, &bye, now) == LIVE_APPLIED);
    CHECK(present(st, "stage") == 0);
}

static void test_meeting_status(live *l, store *st)
{
    int64_t now = clock_now();
    store_meeting m = {0};
    snprintf(m.id, sizeof m.id, "m1");
    snprintf(m.room, sizeof m.room, "meeting-m1");
    snprintf(m.heading, sizeof m.heading, "Weekly");
    snprintf(m.status, sizeof m.status, "SCHEDULED");
    snprintf(m.creator, sizeof m.creator, "owner");
    CHECK(store_meeting_create(st, &m, "member", "member") == RK_OK);
    lk_webhook_event s = event("room_started", "EV_M1", "meeting-m1", NULL, NULL);
    CHECK(live_on_event(l, &s, now) == LIVE_APPLIED);
    CHECK(store_meeting_get(st, "m1", &m) == RK_OK);
    CHECK_STR(m.status, "PROCESSING");
    lk_webhook_event f = event("room_finished", "EV_M2", "meeting-m1", NULL, NULL);
    CHECK(live_on_event(l, &f, now) == LIVE_APPLIED);
    CHECK(store_meeting_get(st, "m1", &m) == RK_OK);
    CHECK_STR(m.status, "COMPLETED");
    /* a later start does not reopen a completed meeting */
    lk_webhook_event s2 = event("room_started", "EV_M3", "meeting-m1", NULL, NULL);
    CHECK(live_on_event(l, &s2, now) == LIVE_APPLIED);
    CHECK(store_meeting_get(st, "m1", &m) == RK_OK);
    CHECK_STR(m.status, "COMPLETED");
    /* a canceled meeting stays canceled when its room finishes */
    CHECK(store_meeting_set_status(st, "m1", "CANCELED") == RK_OK);
    lk_webhook_event f2 = event("room_finished", "EV_M4", "meeting-m1", NULL, NULL);
    CHECK(live_on_event(l, &f2, now) == LIVE_APPLIED);
    CHECK(store_meeting_get(st, "m1", &m) == RK_OK);
    CHECK_STR(m.status, "CANCELED");
}

static void test_decisions(live *l, store *st)
{
    int64_t now = clock_now();
    store_audit a = {.issued_at = now - 10, .exp = now + 600};
    snprintf(a.jti, sizeof a.jti, "jti-live-unit");
    snprintf(a.subject, sizeof a.subject, "sam");
    snprintf(a.identity, sizeof a.identity, "sam-phone");
    snprintf(a.room, sizeof a.room, "stage");
    snprintf(a.role, sizeof a.role, "member");
    snprintf(a.grants, sizeof a.grants, "{}");
    snprintf(a.client_ip, sizeof a.client_ip, "127.0.0.1");
    snprintf(a.route, sizeof a.route, "test");
    CHECK(store_audit_add(st, &a) == RK_OK);
    /* removing sam kicks sam and every identity sam was issued a token for */
    CHECK(live_member_removed(st, "stage", "sam", now) == RK_OK);
    store_action_filter f = {.pending = 1, .live_after = now, .since = now - 86400};
    store_action *acts = NULL;
    size_t n = 0;
    CHECK(store_action_list(st, &f, &acts, &n) == RK_OK && n == 2);
    if (n == 2) {
        CHECK_STR(acts[0].identity, "sam");
        CHECK_STR(acts[1].identity, "sam-phone");
        CHECK_STR(acts[1].reason, "membership_removed");
        CHECK(acts[1].until == 0 && acts[1].created_at == now); /* the reader's window applies */
    }
    free(acts);
    CHECK(live_member_role_changed(st, "stage", "sam", "member", "listener", now) == RK_OK);
    f.since = 0; /* a kick without a ban is not kept live by `until` */
    CHECK(store_action_list(st, &f, &acts, &n) == RK_OK && n == 0);
    free(acts);
    f.since = now - 86400;
    /* a ban is seen in memory once the poller looked (it runs every 50 ms) */
    CHECK(live_kick(l, "stage", "troll", "admin_kick", now + 600, now) == RK_OK);
    bool banned = false;
    for (int i = 0; i < 200 && !banned; i++) {
        banned = live_banned(l, "stage", "troll", now);
        if (!banned)
            usleep(10000);
    }
    CHECK(banned);
    CHECK(!live_banned(l, "stage", "troll", now + 601));
    CHECK(!live_banned(l, "stage", "sam", now));
    /* without a LiveKit host nothing is carried out: actions stay pending */
    CHECK(store_action_list(st, &f, &acts, &n) == RK_OK && n == 5);
    free(acts);
}

/* An event the store could not wholly apply is applied when LiveKit
 * delivers it again (after the 503), not taken for a duplicate. A trigger
 * on another connection makes the presence write fail, as a full disk
 * would. */
static void test_event_retry(live *l, store *st, const char *path)
{
    int64_t now = clock_now();
    store_room r = {.mode = STORE_MODE_AUTHENTICATED};
    snprintf(r.name, sizeof r.name, "retry");
    CHECK(store_room_create(st, &r) == RK_OK);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK(sqlite3_exec(db,
                       "CREATE TRIGGER fail_presence BEFORE INSERT ON presence"
                       " BEGIN SELECT RAISE(ABORT, 'no space'); END",
                       NULL, NULL, NULL) == SQLITE_OK);
    lk_webhook_event j = event("participant_joined", "EV_retry", "retry", "PA_r", "rita");
    CHECK(live_on_event(l, &j, now) == LIVE_FAILED);
    CHECK(present(st, "retry") == 0);
    CHECK(sqlite3_exec(db, "DROP TRIGGER fail_presence", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(live_on_event(l, &j, now) == LIVE_APPLIED);
    CHECK(present(st, "retry") == 1);
    CHECK(live_on_event(l, &j, now) == LIVE_DUPLICATE);
    lk_webhook_event left = event("participant_left", "EV_retry_left", "retry", "PA_r", "rita");
    CHECK(live_on_event(l, &left, now) == LIVE_APPLIED);
}

/* Names of the longest length the store takes can be kicked; longer ones
 * are refused. */
static void test_kick_name_lengths(store *st)
{
    char name[STORE_MAX_NAME + 2];
    memset(name, 'n', sizeof name - 1);
    name[STORE_MAX_NAME] = '\0';
    CHECK(live_kick_record(st, name, name, "admin_kick", 0, clock_now()) == RK_OK);
    name[STORE_MAX_NAME] = 'n';
    name[STORE_MAX_NAME + 1] = '\0';
    CHECK(live_kick_record(st, name, "short", "admin_kick", 0, clock_now()) == RK_ETOOBIG);
    CHECK(live_kick_record(st, "short", name, "admin_kick", 0, clock_now()) == RK_ETOOBIG);
}

/* wait_banned polls live_banned (the poller runs every 50 ms) until it
 * says want, for up to 2 s; returns what it said last. */
static bool wait_banned(live *l, const char *room, const char *identity, bool want)
{
    bool banned = !want;
    for (int i = 0; i < 200 && banned != want; i++) {
        banned = live_banned(l, room, identity, clock_now());
        if (banned != want)
            usleep(10000);
    }
    return banned;
}

/* More bans hold than one list of the store returns (STORE_MAX_LIST, the
 * oldest first): the newest are enforced all the same, through the store. */
static void test_many_bans(live *l, const char *path)
{
    int64_t now = clock_now();
    sqlite3 *db = NULL;
    char sql[512];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)"
             " INSERT INTO live_actions (room, identity, kind, role, reason, created_at, until,"
             " ban_until, from_role) SELECT 'crowd', 'troll-' || i, 'kick', '', 'admin_kick',"
             " %lld, %lld, %lld, '' FROM c",
             STORE_MAX_LIST, (long long)now, (long long)now + 600, (long long)now + 600);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(live_kick(l, "crowd", "latecomer", "admin_kick", now + 600, now) == RK_OK);
    /* troll-1, among the listed, is banned again for longer beyond the list */
    CHECK(live_kick(l, "crowd", "troll-1", "admin_kick", now + 900, now) == RK_OK);
    CHECK(wait_banned(l, "crowd", "troll-1", true)); /* the poller read them */
    CHECK(live_banned(l, "crowd", "troll-10000", now));
    CHECK(live_banned(l, "crowd", "latecomer", now)); /* beyond the list */
    CHECK(!live_banned(l, "crowd", "latecomer", now + 601));
    CHECK(live_banned(l, "crowd", "troll-1", now + 700));
    CHECK(!live_banned(l, "crowd", "troll-1", now + 901));
    CHECK(!live_banned(l, "crowd", "passer-by", now));
    CHECK(!live_banned(l, "elsewhere", "latecomer", now));
}

/* Two bans of one pair: the longer holds, whichever came first. */
static void test_ban_pairs(live *l)
{
    int64_t now = clock_now();
    CHECK(live_kick(l, "pairs", "pat", "admin_kick", now + 900, now) == RK_OK);
    CHECK(live_kick(l, "pairs", "pat", "admin_kick", now + 60, now) == RK_OK);
    CHECK(live_kick(l, "pairs", "pam", "admin_kick", now + 60, now) == RK_OK);
    CHECK(wait_banned(l, "pairs", "pam", true));
    CHECK(live_banned(l, "pairs", "pat", now + 300));
    CHECK(!live_banned(l, "pairs", "pam", now + 300));
    CHECK(!live_banned(l, "pairs", "pa", now));
}

/* actions_of counts the live actions of identity in the store at path;
 * -1 on error. */
static int actions_of(const char *path, const char *identity)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM live_actions WHERE identity = ?", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, identity, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A kick is kept a day after its window has passed (docs/live-rooms.md),
 * then pruned by the poller (its first pass prunes). */
static void test_prune_keeps_a_day(const config *cfg, store *st, const char *path)
{
    int64_t now = clock_now();
    int64_t window = cfg->live.kick_window_s ? cfg->live.kick_window_s : cfg->max_ttl;
    CHECK(live_kick_record(st, "stage", "kept", "admin_kick", 0, now - window - 3600) == RK_OK);
    CHECK(live_kick_record(st, "stage", "gone", "admin_kick", 0, now - window - 86400 - 60) ==
          RK_OK);
    CHECK(actions_of(path, "gone") == 1);
    live *l = NULL;
    char why[256] = "";
    CHECK(live_start(cfg, st, &l, why, sizeof why) == RK_OK);
    for (int i = 0; i < 200 && actions_of(path, "gone") != 0; i++)
        usleep(10000);
    CHECK(actions_of(path, "gone") == 0);
    CHECK(actions_of(path, "kept") == 1);
    live_stop(l);
}

int main(void)
{
    char dir[] = "/tmp/rk-live-XXXXXX", path[64], why[256] = "";
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/live.db", dir);
    store *st = NULL;
    config *cfg = NULL;
    unsetenv("LIVEKIT_HOST");
    CHECK(store_open(path, &st, why, sizeof why) == RK_OK);
    CHECK(config_load(NULL, &cfg, why, sizeof why) == RK_OK);
    live *l = NULL;
    if (st && cfg) {
        cfg->live.poll_ms = 50;
        CHECK(live_start(cfg, st, &l, why, sizeof why) == RK_OK);
    }
    if (l) {
        test_presence_and_seats(l, st);
        test_meeting_status(l, st);
        test_decisions(l, st);
        test_event_retry(l, st, path);
        test_kick_name_lengths(st);
        test_ban_pairs(l);
        test_many_bans(l, path);
        metrics_text t = {0};
        live_metrics(l, &t);
        CHECK(t.buf && strstr(t.buf, "roomkey_live_webhooks_total{event=\"participant_joined\","
                                     "outcome=\"duplicate\"} 2\n"));
        CHECK(t.buf && strstr(t.buf, "roomkey_live_webhooks_total{event=\"participant_joined\","
                                     "outcome=\"failed\"} 1\n"));
        CHECK(t.buf && strstr(t.buf, "roomkey_live_participants_all 0\n"));
        metrics_text_free(&t);
    }
    live_stop(l);
    if (l) {
        /* another start over the same store: the ban recorded above holds
         * for the very first request, before any pass of the poller */
        live *again = NULL;
        cfg->live.poll_ms = 3600000;
        CHECK(live_start(cfg, st, &again, why, sizeof why) == RK_OK);
        CHECK(again && live_banned(again, "stage", "troll", clock_now()));
        CHECK(again && !live_banned(again, "stage", "sam", clock_now()));
        live_stop(again);
        cfg->live.poll_ms = 50;
        test_prune_keeps_a_day(cfg, st, path);
    }
    config_free(cfg);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_summary();
}
