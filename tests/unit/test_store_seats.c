/* test_store_seats.c - seats and meetings in the store (store.h) on its
 * SQLite backend, against a database in a fresh temporary directory: the
 * claim rules, the race for one seat, meeting lifecycle and cascades. */
#include "check.h"
#include "store/store.h"
#include "util/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];

#define NOW 1700000000

static store_seat mkseat(const char *room, int64_t seat, const char *subject, int64_t exp)
{
    store_seat s = {0};
    snprintf(s.room, sizeof s.room, "%s", room);
    snprintf(s.subject, sizeof s.subject, "%s", subject);
    s.seat = seat;
    s.exp = exp;
    return s;
}

static store_meeting mkmeeting(const char *id, const char *creator)
{
    store_meeting m = {0};
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.room, sizeof m.room, "meeting-%s", id);
    snprintf(m.heading, sizeof m.heading, "Heading %s", id);
    snprintf(m.description, sizeof m.description, "About %s", id);
    snprintf(m.status, sizeof m.status, "PROCESSING");
    snprintf(m.creator, sizeof m.creator, "%s", creator);
    return m;
}

/* holder returns the live holder of seat in room ("" when free). */
static const char *holder(store *st, const char *room, int64_t seat, int64_t now)
{
    static char who[STORE_MAX_NAME + 1];
    store_seat *list = NULL;
    size_t n = 0;
    who[0] = '\0';
    if (store_seat_list(st, room, now, &list, &n) == RK_OK)
        for (size_t i = 0; i < n; i++)
            if (list[i].seat == seat)
                snprintf(who, sizeof who, "%s", list[i].subject);
    free(list);
    return who;
}

static void test_seats(store *st)
{
    store_room r = {.mode = STORE_MODE_AUTHENTICATED};
    snprintf(r.name, sizeof r.name, "audition-room");
    CHECK(store_room_create(st, &r) == RK_OK);

    /* free seat: claimed; the same subject again keeps it, with the later exp */
    store_seat a1 = mkseat("audition-room", 1, "judge-a", NOW + 600);
    CHECK(store_seat_claim(st, &a1, NOW) == RK_OK);
    CHECK_STR(holder(st, "audition-room", 1, NOW), "judge-a");
    store_seat a1_short = mkseat("audition-room", 1, "judge-a", NOW + 60);
    CHECK(store_seat_claim(st, &a1_short, NOW) == RK_OK);
    store_seat *list = NULL;
    size_t n = 0;
    CHECK(store_seat_list(st, "audition-room", NOW, &list, &n) == RK_OK);
    CHECK(n == 1 && list[0].exp == NOW + 600 && list[0].seat == 1);
    free(list);

    /* another subject: conflict while the claim is live, nothing changes */
    store_seat b1 = mkseat("audition-room", 1, "judge-b", NOW + 900);
    CHECK(store_seat_claim(st, &b1, NOW) == RK_ECONFLICT);
    CHECK(store_seat_claim(st, &b1, NOW + 599) == RK_ECONFLICT);
    CHECK_STR(holder(st, "audition-room", 1, NOW), "judge-a");

    /* a second seat for judge-b; then moving judge-a to seat 3 frees seat 1 */
    store_seat b2 = mkseat("audition-room", 2, "judge-b", NOW + 600);
    CHECK(store_seat_claim(st, &b2, NOW) == RK_OK);
    store_seat a3 = mkseat("audition-room", 3, "judge-a", NOW + 600);
    CHECK(store_seat_claim(st, &a3, NOW) == RK_OK);
    CHECK_STR(holder(st, "audition-room", 1, NOW), "");
    CHECK_STR(holder(st, "audition-room", 3, NOW), "judge-a");
    /* a conflicting claim leaves the subject's current seat alone */
    store_seat a2 = mkseat("audition-room", 2, "judge-a", NOW + 600);
    CHECK(store_seat_claim(st, &a2, NOW) == RK_ECONFLICT);
    CHECK_STR(holder(st, "audition-room", 3, NOW), "judge-a");

    /* expiry: at exp the claim holds nothing and another subject takes it */
    CHECK_STR(holder(st, "audition-room", 2, NOW + 600), "");
    store_seat c2 = mkseat("audition-room", 2, "judge-c", NOW + 1200);
    CHECK(store_seat_claim(st, &c2, NOW + 600) == RK_OK);
    CHECK_STR(holder(st, "audition-room", 2, NOW + 600), "judge-c");

    /* release: only live claims, only the holder's (or anyone's with NULL) */
    CHECK(store_seat_release(st, "audition-room", 2, "judge-a", NOW + 600) == RK_ENOTFOUND);
    CHECK(store_seat_release(st, "audition-room", 0, "judge-c", NOW + 600) == RK_OK);
    CHECK_STR(holder(st, "audition-room", 2, NOW + 600), "");
    CHECK(store_seat_release(st, "audition-room", 0, "judge-c", NOW + 600) == RK_ENOTFOUND);
    CHECK(store_seat_release(st, "audition-room", 3, NULL, NOW) == RK_OK);
    CHECK(store_seat_release(st, "audition-room", 3, "judge-a", 0) == RK_ENOTFOUND);

    /* refused input */
    store_seat bad = mkseat("audition-room", 0, "judge-a", NOW + 600);
    CHECK(store_seat_claim(st, &bad, NOW) == RK_EINVAL);
    bad.seat = STORE_MAX_SEATS + 1;
    CHECK(store_seat_claim(st, &bad, NOW) == RK_EINVAL);
    bad = mkseat("audition-room", 1, "judge-a", NOW);
    CHECK(store_seat_claim(st, &bad, NOW) == RK_EINVAL); /* exp must be after now */
    bad = mkseat("audition-room", 1, "", NOW + 600);
    CHECK(store_seat_claim(st, &bad, NOW) == RK_EINVAL);
    CHECK(store_seat_release(st, "audition-room", 0, NULL, NOW) == RK_EINVAL);
    CHECK(store_seat_release(st, "audition-room", -1, "x", NOW) == RK_EINVAL);
    bad = mkseat("no-such-room", 1, "judge-a", NOW + 600);
    CHECK(store_seat_claim(st, &bad, NOW) == RK_ENOTFOUND);

    /* deleting the room drops its claims */
    CHECK(store_seat_claim(st, &b2, NOW) == RK_OK);
    CHECK(store_room_delete(st, "audition-room") == RK_OK);
    CHECK(store_seat_list(st, "audition-room", NOW, &list, &n) == RK_OK);
    CHECK(n == 0 && list == NULL);
}

/* The race: RACERS threads, each a different subject, claim the same free
 * seat at once, through one store and through a second handle (another
 * "process" on the same file). Exactly one claim may win. */
#define RACERS 8

struct racer {
    store *st;
    int id;
    int rc;
    atomic_int *go;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    char subject[32];
    snprintf(subject, sizeof subject, "racer-%d", r->id);
    store_seat s = mkseat("race", 1, subject, NOW + 600);
    while (!atomic_load(r->go))
        ;
    r->rc = store_seat_claim(r->st, &s, NOW);
    return NULL;
}

static void test_seat_race(store *a)
{
    char why[256] = "";
    store *b = NULL;
    CHECK(store_open(db_path, &b, why, sizeof why) == RK_OK);
    if (!b)
        return;
    for (int round = 0; round < 20; round++) {
        store_room r = {.mode = STORE_MODE_AUTHENTICATED};
        snprintf(r.name, sizeof r.name, "race");
        CHECK(store_room_create(a, &r) == RK_OK);
        atomic_int go = 0;
        pthread_t th[RACERS];
        struct racer rs[RACERS];
        for (int i = 0; i < RACERS; i++) {
            rs[i] = (struct racer){i % 2 ? b : a, i, -100, &go};
            CHECK(pthread_create(&th[i], NULL, racer_main, &rs[i]) == 0);
        }
        atomic_store(&go, 1);
        int won = 0, lost = 0, winner = -1;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
            if (rs[i].rc == RK_OK) {
                won++;
                winner = i;
            } else if (rs[i].rc == RK_ECONFLICT) {
                lost++;
            }
        }
        CHECK(won == 1 && lost == RACERS - 1);
        char want[32];
        snprintf(want, sizeof want, "racer-%d", winner);
        CHECK_STR(holder(a, "race", 1, NOW), want);
        CHECK(store_room_delete(a, "race") == RK_OK);
    }
    store_close(b);
}

static void test_meetings(store *st)
{
    store_meeting m = mkmeeting("m-123", "creator-1");
    CHECK(store_meeting_create(st, &m, "moderator", "member") == RK_OK);
    store_meeting got;
    CHECK(store_meeting_get(st, "m-123", &got) == RK_OK);
    CHECK_STR(got.id, "m-123");
    CHECK_STR(got.room, "meeting-m-123");
    CHECK_STR(got.heading, "Heading m-123");
    CHECK_STR(got.description, "About m-123");
    CHECK_STR(got.status, "PROCESSING");
    CHECK_STR(got.creator, "creator-1");
    CHECK(got.created_at > 0 && got.updated_at == got.created_at);

    /* its room: members-only, default role = the participant role; the
     * creator is a member with the creator role */
    store_room r;
    CHECK(store_room_get(st, "meeting-m-123", &r) == RK_OK);
    CHECK(r.mode == STORE_MODE_MEMBERS);
    CHECK_STR(r.default_role, "member");
    store_member mem;
    CHECK(store_member_get(st, "meeting-m-123", "creator-1", &mem) == RK_OK);
    CHECK_STR(mem.role, "moderator");

    /* taken id or room: conflict, nothing written */
    store_meeting dup = mkmeeting("m-123", "someone");
    CHECK(store_meeting_create(st, &dup, "member", "member") == RK_ECONFLICT);
    store_room plain = {.mode = STORE_MODE_MEMBERS};
    snprintf(plain.name, sizeof plain.name, "meeting-taken");
    CHECK(store_room_create(st, &plain) == RK_OK);
    store_meeting taken = mkmeeting("taken", "someone");
    CHECK(store_meeting_create(st, &taken, "member", "member") == RK_ECONFLICT);
    CHECK(store_meeting_get(st, "taken", &got) == RK_ENOTFOUND);
    CHECK(store_member_get(st, "meeting-taken", "someone", &mem) == RK_ENOTFOUND);
    store_meeting other_room = mkmeeting("m-123", "someone");
    snprintf(other_room.room, sizeof other_room.room, "elsewhere");
    CHECK(store_meeting_create(st, &other_room, "member", "member") == RK_ECONFLICT);
    CHECK(store_room_get(st, "elsewhere", &r) == RK_ENOTFOUND); /* rolled back */

    /* refused input */
    store_meeting bad = mkmeeting("x", "c");
    bad.heading[0] = '\0';
    CHECK(store_meeting_create(st, &bad, "member", "member") == RK_EINVAL);
    bad = mkmeeting("x", "");
    CHECK(store_meeting_create(st, &bad, "member", "member") == RK_EINVAL);
    bad = mkmeeting("x", "c");
    CHECK(store_meeting_create(st, &bad, "", "member") == RK_EINVAL);
    memset(bad.status, 'S', sizeof bad.status);
    CHECK(store_meeting_create(st, &bad, "member", "member") == RK_ETOOBIG);
    char long_id[STORE_MAX_MEETING_ID + 2];
    memset(long_id, 'i', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    CHECK(store_meeting_get(st, long_id, &got) == RK_ETOOBIG);
    CHECK(store_meeting_get(st, "", &got) == RK_EINVAL);

    /* description may be empty; a quote in values is data, not SQL */
    store_meeting q = mkmeeting("q'1", "o'brien");
    q.description[0] = '\0';
    snprintf(q.heading, sizeof q.heading, "'); DROP TABLE meetings; --");
    CHECK(store_meeting_create(st, &q, "member", "member") == RK_OK);
    CHECK(store_meeting_get(st, "q'1", &got) == RK_OK);
    CHECK_STR(got.heading, "'); DROP TABLE meetings; --");
    CHECK_STR(got.description, "");

    /* status */
    CHECK(store_meeting_set_status(st, "m-123", "COMPLETED") == RK_OK);
    CHECK(store_meeting_get(st, "m-123", &got) == RK_OK);
    CHECK_STR(got.status, "COMPLETED");
    CHECK(got.updated_at >= got.created_at);
    CHECK(store_meeting_set_status(st, "nope", "COMPLETED") == RK_ENOTFOUND);
    CHECK(store_meeting_set_status(st, "m-123", "") == RK_EINVAL);

    /* list, paged by id */
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        store_meeting p = mkmeeting(id, "lister");
        CHECK(store_meeting_create(st, &p, "member", "member") == RK_OK);
    }
    store_meeting *list = NULL;
    size_t n = 0;
    CHECK(store_meeting_list(st, NULL, 0, &list, &n) == RK_OK);
    CHECK(n == 7);
    for (size_t i = 1; i < n; i++)
        CHECK(strcmp(list[i - 1].id, list[i].id) < 0);
    free(list);
    CHECK(store_meeting_list(st, "p1", 2, &list, &n) == RK_OK);
    CHECK(n == 2 && !strcmp(list[0].id, "p2") && !strcmp(list[1].id, "p3"));
    free(list);
    CHECK(store_meeting_list(st, NULL, STORE_MAX_MEETING_LIST + 1, &list, &n) == RK_EINVAL);

    /* participants are the room's members; delete takes everything */
    store_member p = {0};
    snprintf(p.room, sizeof p.room, "meeting-m-123");
    snprintf(p.subject, sizeof p.subject, "guest-1");
    snprintf(p.role, sizeof p.role, "member");
    CHECK(store_member_set(st, &p) == RK_OK);
    store_seat s = mkseat("meeting-m-123", 1, "guest-1", NOW + 600);
    CHECK(store_seat_claim(st, &s, NOW) == RK_OK);
    CHECK(store_meeting_delete(st, "m-123") == RK_OK);
    CHECK(store_meeting_get(st, "m-123", &got) == RK_ENOTFOUND);
    CHECK(store_room_get(st, "meeting-m-123", &r) == RK_ENOTFOUND);
    CHECK(store_member_get(st, "meeting-m-123", "guest-1", &mem) == RK_ENOTFOUND);
    CHECK_STR(holder(st, "meeting-m-123", 1, NOW), "");
    CHECK(store_meeting_delete(st, "m-123") == RK_ENOTFOUND);

    /* deleting the room deletes the meeting */
    CHECK(store_room_delete(st, "meeting-p0") == RK_OK);
    CHECK(store_meeting_get(st, "p0", &got) == RK_ENOTFOUND);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/rk-seats-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db_path, sizeof db_path, "%s/roomkey.db", dir);
    char why[256] = "";
    store *st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    if (st) {
        test_seats(st);
        test_seat_race(st);
        test_meetings(st);
        store_close(st);
    } else {
        fprintf(stderr, "store_open: %s\n", why);
    }
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
    return check_summary();
}
