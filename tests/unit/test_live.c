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

    lk_webhook_event other = event("track_published", "EV_5", "stage", NULL, NULL);
    CHECK(live_on_event(l, &other, now) == LIVE_IGNORED);
    lk_webhook_event j3 = event("participant_joined", "EV_6", "stage", "PA_3", "guest");
    CHECK(live_on_event(l, &j3, now) == LIVE_APPLIED);
    lk_webhook_event fin = event("room_finished", "EV_7", "stage", NULL, NULL);
    CHECK(live_on_event(l, &fin, now) == LIVE_APPLIED);
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
    }
    config_free(cfg);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_summary();
}
