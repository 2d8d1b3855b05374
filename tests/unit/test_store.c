/* test_store.c - the store front end and its SQLite backend, against a
 * database in a fresh temporary directory. */
#include "check.h"
#include "store/store.h"
#include "util/err.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];

/* count_rows runs a fixed `SELECT count(*) ...` directly on the file; -1 on
 * error. */
static int count_rows(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static store_room mkroom(const char *name, const char *alias, int mode, const char *role)
{
    store_room r = {0};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.alias, sizeof r.alias, "%s", alias);
    snprintf(r.default_role, sizeof r.default_role, "%s", role);
    r.mode = mode;
    return r;
}

static store_member mkmember(const char *room, const char *subject, const char *role)
{
    store_member m = {0};
    snprintf(m.room, sizeof m.room, "%s", room);
    snprintf(m.subject, sizeof m.subject, "%s", subject);
    snprintf(m.role, sizeof m.role, "%s", role);
    return m;
}

static store_audit mkaudit(const char *jti, const char *subject, const char *room,
                           int64_t issued_at)
{
    store_audit a = {0};
    snprintf(a.jti, sizeof a.jti, "%s", jti);
    snprintf(a.subject, sizeof a.subject, "%s", subject);
    snprintf(a.identity, sizeof a.identity, "id-%s", subject);
    snprintf(a.room, sizeof a.room, "%s", room);
    snprintf(a.role, sizeof a.role, "member");
    snprintf(a.grants, sizeof a.grants, "{\"roomJoin\":true,\"room\":\"%s\"}", room);
    snprintf(a.client_ip, sizeof a.client_ip, "192.0.2.1");
    snprintf(a.route, sizeof a.route, "/token");
    a.issued_at = issued_at;
    a.exp = issued_at + 600;
    return a;
}

static void test_open(void)
{
    char why[256] = "";
    store *st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    CHECK(st != NULL);
    struct stat sb;
    CHECK(stat(db_path, &sb) == 0);
    CHECK(store_ping(st) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                     "('rooms', 'members', 'audit', 'schema_version')") == 4);
    CHECK(count_rows("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                     "('audit_room_id', 'audit_subject_id')") == 2);
    CHECK(count_rows("SELECT count(*) FROM schema_version") == 2);
    CHECK(count_rows("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") == 1);
    store_room r = mkroom("persist", "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_OK);
    store_close(st);

    /* reopen: migrations don't run again, data stays */
    st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM schema_version") == 2);
    store_room got;
    CHECK(store_room_get(st, "persist", &got) == RK_OK);
    store_close(st);

    /* prefixes */
    char url[160];
    snprintf(url, sizeof url, "sqlite:%s", db_path);
    st = NULL;
    CHECK(store_open(url, &st, why, sizeof why) == RK_OK);
    CHECK(st && store_room_get(st, "persist", &got) == RK_OK);
    store_close(st);
    snprintf(url, sizeof url, "file://%s", db_path);
    st = NULL;
    CHECK(store_open(url, &st, why, sizeof why) == RK_OK);
    CHECK(st && store_room_delete(st, "persist") == RK_OK);
    store_close(st);
    CHECK(count_rows("SELECT count(*) FROM schema_version") == 2);

    /* refused */
    st = NULL;
    CHECK(store_open("postgres://u@localhost/rk", &st, why, sizeof why) == RK_EINVAL);
    CHECK(st == NULL);
    CHECK(strstr(why, "PostgreSQL") != NULL);
    CHECK(store_open("postgresql://localhost", &st, why, sizeof why) == RK_EINVAL);
    CHECK(store_open("", &st, why, sizeof why) == RK_EINVAL);
    CHECK(store_open(NULL, &st, why, sizeof why) == RK_EINVAL);
    CHECK(store_open(":memory:", &st, why, sizeof why) == RK_EINVAL);
    CHECK(store_open("sqlite:", &st, why, sizeof why) == RK_EINVAL);
    why[0] = '\0';
    CHECK(store_open("/nonexistent-dir/x/rk.db", &st, why, sizeof why) == RK_EIO);
    CHECK(why[0] != '\0');
    store_close(NULL);
}

static void test_rooms(store *st)
{
    store_room r = mkroom("standup", "C0123", STORE_MODE_MEMBERS, "member");
    r.max_participants = 12;
    r.max_ttl = 3600;
    CHECK(store_room_create(st, &r) == RK_OK);
    r = mkroom("all-hands", "", STORE_MODE_AUTHENTICATED, "viewer");
    CHECK(store_room_create(st, &r) == RK_OK);
    r = mkroom("zeta", "", STORE_MODE_MEMBERS, "");
    CHECK(store_room_create(st, &r) == RK_OK);

    store_room got;
    memset(&got, 0x55, sizeof got);
    CHECK(store_room_get(st, "standup", &got) == RK_OK);
    CHECK_STR(got.name, "standup");
    CHECK_STR(got.alias, "C0123");
    CHECK(got.mode == STORE_MODE_MEMBERS);
    CHECK_STR(got.default_role, "member");
    CHECK(got.max_participants == 12);
    CHECK(got.max_ttl == 3600);
    CHECK(got.created_at > 1600000000);
    memset(&got, 0, sizeof got);
    CHECK(store_room_get(st, "C0123", &got) == RK_OK);
    CHECK_STR(got.name, "standup");
    CHECK(store_room_get(st, "all-hands", &got) == RK_OK);
    CHECK_STR(got.alias, "");
    CHECK(got.mode == STORE_MODE_AUTHENTICATED);
    CHECK(store_room_get(st, "nope", &got) == RK_ENOTFOUND);
    CHECK(store_room_get(st, "", &got) == RK_EINVAL);
    CHECK(store_room_get(st, NULL, &got) == RK_EINVAL);

    /* conflicts: name, alias, and across the two */
    r = mkroom("standup", "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_ECONFLICT);
    r = mkroom("other", "C0123", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_ECONFLICT);
    r = mkroom("C0123", "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_ECONFLICT);
    r = mkroom("other", "standup", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_ECONFLICT);
    CHECK(store_room_get(st, "other", &got) == RK_ENOTFOUND);

    /* limits */
    r = mkroom("", "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_EINVAL);
    r = mkroom("x", "", 2, "member");
    CHECK(store_room_create(st, &r) == RK_EINVAL);
    r = mkroom("x", "", -1, "member");
    CHECK(store_room_create(st, &r) == RK_EINVAL);
    r = mkroom("x", "", STORE_MODE_MEMBERS, "member");
    r.max_ttl = -1;
    CHECK(store_room_create(st, &r) == RK_EINVAL);
    r.max_ttl = 0;
    r.max_participants = -5;
    CHECK(store_room_create(st, &r) == RK_EINVAL);
    CHECK(store_room_create(NULL, &r) == RK_EINVAL);
    CHECK(store_room_create(st, NULL) == RK_EINVAL);
    r = mkroom("x", "", STORE_MODE_MEMBERS, "member");
    memset(r.name, 'n', sizeof r.name); /* 257 bytes, no NUL */
    CHECK(store_room_create(st, &r) == RK_ETOOBIG);
    r = mkroom("x", "", STORE_MODE_MEMBERS, "member");
    memset(r.alias, 'a', sizeof r.alias);
    CHECK(store_room_create(st, &r) == RK_ETOOBIG);
    r = mkroom("x", "", STORE_MODE_MEMBERS, "member");
    memset(r.default_role, 'r', sizeof r.default_role);
    CHECK(store_room_create(st, &r) == RK_ETOOBIG);
    char long_name[STORE_MAX_NAME + 2];
    memset(long_name, 'n', STORE_MAX_NAME + 1);
    long_name[STORE_MAX_NAME + 1] = '\0'; /* 257 bytes */
    CHECK(store_room_get(st, long_name, &got) == RK_ETOOBIG);
    CHECK(store_room_delete(st, long_name) == RK_ETOOBIG);
    long_name[STORE_MAX_NAME] = '\0'; /* 256 bytes: fits */
    r = mkroom(long_name, "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_OK);
    CHECK(store_room_get(st, long_name, &got) == RK_OK);
    CHECK(strlen(got.name) == STORE_MAX_NAME);
    CHECK(store_room_delete(st, long_name) == RK_OK);

    /* list, ordered by name */
    store_room *list = NULL;
    size_t n = 0;
    CHECK(store_room_list(st, &list, &n) == RK_OK);
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STR(list[0].name, "all-hands");
        CHECK_STR(list[1].name, "standup");
        CHECK_STR(list[2].name, "zeta");
        CHECK_STR(list[1].alias, "C0123");
        CHECK_STR(list[2].default_role, "");
    }
    free(list);

    /* delete cascades memberships */
    store_member m = mkmember("zeta", "alice", "host");
    CHECK(store_member_set(st, &m) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM members WHERE room = 'zeta'") == 1);
    CHECK(store_room_delete(st, "zeta") == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM members WHERE room = 'zeta'") == 0);
    CHECK(store_room_delete(st, "zeta") == RK_ENOTFOUND);
    CHECK(store_room_delete(st, "C0123") == RK_ENOTFOUND); /* by name only */
    CHECK(store_room_delete(st, "") == RK_EINVAL);
    r = mkroom("zeta", "", STORE_MODE_MEMBERS, "");
    CHECK(store_room_create(st, &r) == RK_OK);
    store_member *ml = NULL;
    CHECK(store_member_list(st, "zeta", &ml, &n) == RK_OK);
    CHECK(n == 0);
    free(ml);
    CHECK(store_room_delete(st, "zeta") == RK_OK);
}

static void test_members(store *st)
{
    store_member m = mkmember("standup", "bob", "member");
    CHECK(store_member_set(st, &m) == RK_OK);
    m = mkmember("standup", "alice", "host");
    CHECK(store_member_set(st, &m) == RK_OK);

    store_member got;
    CHECK(store_member_get(st, "standup", "alice", &got) == RK_OK);
    CHECK_STR(got.room, "standup");
    CHECK_STR(got.subject, "alice");
    CHECK_STR(got.role, "host");
    CHECK(got.created_at > 0);
    int64_t first = got.created_at;

    /* replace the role */
    m = mkmember("standup", "alice", "viewer");
    CHECK(store_member_set(st, &m) == RK_OK);
    CHECK(store_member_get(st, "standup", "alice", &got) == RK_OK);
    CHECK_STR(got.role, "viewer");
    CHECK(got.created_at == first);

    store_member *list = NULL;
    size_t n = 0;
    CHECK(store_member_list(st, "standup", &list, &n) == RK_OK);
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(list[0].subject, "alice");
        CHECK_STR(list[1].subject, "bob");
        CHECK_STR(list[1].role, "member");
    }
    free(list);

    CHECK(store_member_remove(st, "standup", "bob") == RK_OK);
    CHECK(store_member_get(st, "standup", "bob", &got) == RK_ENOTFOUND);
    CHECK(store_member_remove(st, "standup", "bob") == RK_ENOTFOUND);
    CHECK(store_member_remove(st, "nope", "bob") == RK_ENOTFOUND);

    /* missing room */
    m = mkmember("nope", "carol", "member");
    CHECK(store_member_set(st, &m) == RK_ENOTFOUND);
    CHECK(store_member_list(st, "nope", &list, &n) == RK_ENOTFOUND);
    CHECK(store_member_get(st, "nope", "carol", &got) == RK_ENOTFOUND);

    /* arguments */
    m = mkmember("standup", "", "member");
    CHECK(store_member_set(st, &m) == RK_EINVAL);
    m = mkmember("standup", "carol", "");
    CHECK(store_member_set(st, &m) == RK_EINVAL);
    m = mkmember("standup", "carol", "member");
    memset(m.role, 'r', sizeof m.role);
    CHECK(store_member_set(st, &m) == RK_ETOOBIG);
    CHECK(store_member_get(st, "standup", NULL, &got) == RK_EINVAL);
    CHECK(store_member_remove(st, "", "x") == RK_EINVAL);
    CHECK(store_member_list(st, "standup", NULL, &n) == RK_EINVAL);
}

static void test_audit(store *st)
{
    const int64_t t0 = 1700000000;
    /* ids 1..6 in insertion order */
    store_audit a;
    a = mkaudit("j1", "alice", "standup", t0);
    CHECK(store_audit_add(st, &a) == RK_OK);
    a = mkaudit("j2", "bob", "standup", t0 + 10);
    CHECK(store_audit_add(st, &a) == RK_OK);
    a = mkaudit("j3", "alice", "all-hands", t0 + 20);
    CHECK(store_audit_add(st, &a) == RK_OK);
    a = mkaudit("j4", "carol", "standup", t0 + 30);
    CHECK(store_audit_add(st, &a) == RK_OK);
    a = mkaudit("j5", "alice", "standup", t0 + 40);
    CHECK(store_audit_add(st, &a) == RK_OK);
    a = mkaudit("j6", "bob", "", t0 + 50);
    CHECK(store_audit_add(st, &a) == RK_OK);

    a = mkaudit("j3", "mallory", "x", t0);
    CHECK(store_audit_add(st, &a) == RK_ECONFLICT);
    a = mkaudit("", "alice", "x", t0);
    CHECK(store_audit_add(st, &a) == RK_EINVAL);
    a = mkaudit("j7", "alice", "x", t0);
    memset(a.jti, 'j', sizeof a.jti);
    CHECK(store_audit_add(st, &a) == RK_ETOOBIG);
    a = mkaudit("j7", "alice", "x", t0);
    memset(a.grants, '{', sizeof a.grants);
    CHECK(store_audit_add(st, &a) == RK_ETOOBIG);

    store_audit *list = NULL;
    size_t n = 0;
    CHECK(store_audit_list(st, NULL, &list, &n) == RK_OK);
    CHECK(n == 6);
    if (n == 6) {
        CHECK_STR(list[0].jti, "j6");
        CHECK_STR(list[5].jti, "j1");
        CHECK(list[0].id > list[1].id);
        CHECK_STR(list[5].subject, "alice");
        CHECK_STR(list[5].identity, "id-alice");
        CHECK_STR(list[5].room, "standup");
        CHECK_STR(list[5].role, "member");
        CHECK_STR(list[5].grants, "{\"roomJoin\":true,\"room\":\"standup\"}");
        CHECK_STR(list[5].client_ip, "192.0.2.1");
        CHECK_STR(list[5].route, "/token");
        CHECK(list[5].issued_at == t0);
        CHECK(list[5].exp == t0 + 600);
        CHECK_STR(list[0].room, "");
    }
    int64_t id_j4 = n == 6 ? list[2].id : 0;
    free(list);

    store_audit_filter f = {.room = "standup"};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 4);
    if (n == 4) {
        CHECK_STR(list[0].jti, "j5");
        CHECK_STR(list[1].jti, "j4");
        CHECK_STR(list[2].jti, "j2");
        CHECK_STR(list[3].jti, "j1");
    }
    free(list);

    f = (store_audit_filter){.subject = "alice"};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 3);
    if (n == 3)
        CHECK_STR(list[0].jti, "j5");
    free(list);

    f = (store_audit_filter){.room = "standup", .subject = "alice"};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 2);
    free(list);

    f = (store_audit_filter){.since = t0 + 30};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STR(list[0].jti, "j6");
        CHECK_STR(list[2].jti, "j4");
    }
    free(list);

    /* paging, newest first */
    f = (store_audit_filter){.limit = 2};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 2);
    int64_t last = n == 2 ? list[1].id : 0;
    if (n == 2)
        CHECK_STR(list[1].jti, "j5");
    free(list);
    f = (store_audit_filter){.limit = 2, .before_id = last};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(list[0].jti, "j4");
        CHECK_STR(list[1].jti, "j3");
        CHECK(list[0].id == id_j4);
    }
    free(list);
    f = (store_audit_filter){
        .room = "standup", .subject = "alice", .since = t0 + 1, .before_id = 1000000, .limit = 10};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 1);
    if (n == 1)
        CHECK_STR(list[0].jti, "j5");
    free(list);
    f = (store_audit_filter){.room = "nowhere"};
    list = (store_audit *)&f;
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 0 && list == NULL);

    /* bad filters */
    f = (store_audit_filter){.limit = STORE_MAX_LIST + 1};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_EINVAL);
    f = (store_audit_filter){.since = -1};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_EINVAL);
    f = (store_audit_filter){.before_id = -1};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_EINVAL);
    f = (store_audit_filter){.room = ""};
    CHECK(store_audit_list(st, &f, &list, &n) == RK_EINVAL);
}

static void test_injection(store *st)
{
    static const char *const evil[] = {
        "x'); DROP TABLE rooms;--",
        "x\"; DROP TABLE members; --",
        "' OR '1'='1",
        "%s%n%x ?1 :room",
        "Robert'); DELETE FROM audit WHERE ('1'='1",
    };
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        char alias[64];
        snprintf(alias, sizeof alias, "%s-alias", evil[i]);
        store_room r = mkroom(evil[i], alias, STORE_MODE_MEMBERS, "member");
        CHECK(store_room_create(st, &r) == RK_OK);
        store_room got;
        CHECK(store_room_get(st, evil[i], &got) == RK_OK);
        CHECK_STR(got.name, evil[i]);
        CHECK(store_room_get(st, alias, &got) == RK_OK);
        CHECK_STR(got.name, evil[i]);
        store_member m = mkmember(evil[i], evil[i], "member");
        CHECK(store_member_set(st, &m) == RK_OK);
        store_member gm;
        CHECK(store_member_get(st, evil[i], evil[i], &gm) == RK_OK);
        CHECK_STR(gm.subject, evil[i]);
        char jti[16];
        snprintf(jti, sizeof jti, "evil-%zu", i);
        store_audit a = mkaudit(jti, evil[i], evil[i], 1700000100);
        CHECK(store_audit_add(st, &a) == RK_OK);
        store_audit_filter f = {.room = evil[i], .subject = evil[i]};
        store_audit *list = NULL;
        size_t n = 0;
        CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
        CHECK(n == 1);
        if (n == 1) {
            CHECK_STR(list[0].room, evil[i]);
            CHECK_STR(list[0].jti, jti);
        }
        free(list);
    }
    /* tables and the earlier rows survive */
    store_room got;
    CHECK(store_room_get(st, "standup", &got) == RK_OK);
    CHECK(store_room_get(st, "' OR '1'='2", &got) == RK_ENOTFOUND);
    CHECK(count_rows("SELECT count(*) FROM rooms") == 7);
    CHECK(count_rows("SELECT count(*) FROM members") == 6);
    CHECK(count_rows("SELECT count(*) FROM audit") == 11);
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++)
        CHECK(store_room_delete(st, evil[i]) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM members") == 1);
}

struct worker {
    store *st;
    int id;
};

static atomic_int worker_errors;

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 200; i++) {
        char jti[32];
        snprintf(jti, sizeof jti, "w%d-%d", w->id, i);
        store_audit a = mkaudit(jti, "worker", "standup", 1700001000 + i);
        if (store_audit_add(w->st, &a) != RK_OK)
            atomic_fetch_add(&worker_errors, 1);
        store_room r;
        if (store_room_get(w->st, "standup", &r) != RK_OK || strcmp(r.name, "standup") != 0)
            atomic_fetch_add(&worker_errors, 1);
        if (i % 20 == 0) {
            store_room *list = NULL;
            size_t n = 0;
            if (store_room_list(w->st, &list, &n) != RK_OK || n < 2)
                atomic_fetch_add(&worker_errors, 1);
            free(list);
        }
    }
    return NULL;
}

static void test_concurrency(store *st)
{
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){st, i};
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&worker_errors) == 0);
    store_audit_filter f = {.subject = "worker", .limit = STORE_MAX_LIST};
    store_audit *list = NULL;
    size_t n = 0;
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == 800);
    for (size_t i = 1; i < n; i++) {
        if (list[i].id >= list[i - 1].id) {
            CHECK(!"audit list not newest first");
            break;
        }
    }
    free(list);
    CHECK(count_rows("SELECT count(DISTINCT jti) FROM audit WHERE subject = 'worker'") == 800);
}

static void test_two_handles(store *a)
{
    char why[256];
    store *b = NULL;
    CHECK(store_open(db_path, &b, why, sizeof why) == RK_OK);
    if (!b)
        return;
    store_room got;
    CHECK(store_room_get(b, "live", &got) == RK_ENOTFOUND);
    /* warm a's statements, then change the database through b */
    CHECK(store_room_get(a, "live", &got) == RK_ENOTFOUND);
    store_room r = mkroom("live", "L1", STORE_MODE_AUTHENTICATED, "guest");
    CHECK(store_room_create(b, &r) == RK_OK);
    CHECK(store_room_get(a, "L1", &got) == RK_OK);
    CHECK_STR(got.default_role, "guest");
    store_member m = mkmember("live", "dave", "host");
    CHECK(store_member_set(a, &m) == RK_OK);
    store_member gm;
    CHECK(store_member_get(b, "live", "dave", &gm) == RK_OK);
    CHECK(store_room_delete(b, "live") == RK_OK);
    CHECK(store_room_get(a, "live", &got) == RK_ENOTFOUND);
    CHECK(store_member_get(a, "live", "dave", &gm) == RK_ENOTFOUND);
    store_close(b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/rk-store-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db_path, sizeof db_path, "%s/roomkey.db", dir);

    test_open();
    char why[256] = "";
    store *st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    if (st) {
        test_rooms(st);
        test_members(st);
        test_audit(st);
        test_injection(st);
        test_concurrency(st);
        test_two_handles(st);
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
