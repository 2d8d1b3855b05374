/* test_store.c - the store front end and its backends. The whole suite
 * runs against SQLite (a database in a fresh temporary directory) and,
 * when ROOMKEY_TEST_PG_URL names a PostgreSQL server (make test starts one
 * with scripts/pg-test-server.sh), against PostgreSQL in a fresh database;
 * then each backend's own checks. */
#include "check.h"
#include "store/audit_queue.h"
#include "store/conn_list.h"
#include "store/pq_lib.h"
#include "store/store.h"
#include "store/store_pg.h"
#include "store/wal_checkpointer.h"
#include "util/err.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];
static char url[512]; /* the database under test: db_path or a PostgreSQL URL */
static PGconn *pg;    /* a direct connection to the PostgreSQL test database, NULL for SQLite */

/* pg_count runs a fixed `SELECT count(*) ...` on the PostgreSQL test
 * database; -1 on error. */
static int pg_count(const char *sql)
{
    PGresult *r = libpq.PQexec(pg, sql);
    int n = libpq.PQresultStatus(r) == PGRES_TUPLES_OK && libpq.PQntuples(r) == 1 &&
                    !libpq.PQgetisnull(r, 0, 0)
                ? atoi(libpq.PQgetvalue(r, 0, 0))
                : -1;
    libpq.PQclear(r);
    return n;
}

/* count_rows runs a fixed `SELECT count(*) ...` directly on the database
 * under test; -1 on error. */
static int count_rows(const char *sql)
{
    if (pg)
        return pg_count(sql);
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

/* schema_current: every migration ran exactly once, and at least the
 * versions this file tests (2: audit.id without AUTOINCREMENT; 7: rooms
 * and members WITHOUT ROWID). */
static bool schema_current(void)
{
    int n = count_rows("SELECT count(*) FROM schema_version");
    return n >= 7 && n == count_rows("SELECT max(version) FROM schema_version") &&
           count_rows("SELECT count(*) FROM sqlite_master WHERE name = 'audit' AND "
                      "sql LIKE '%AUTOINCREMENT%'") == 0 &&
           count_rows("SELECT count(*) FROM sqlite_master WHERE name IN ('rooms', 'members') AND "
                      "sql LIKE '%WITHOUT ROWID'") == 2;
}

/* exec_sql runs sql directly on the file (creating it); false on error. */
static bool exec_sql(const char *sql)
{
    sqlite3 *db = NULL;
    bool ok = sqlite3_open(db_path, &db) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
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

static void test_open_sqlite(void)
{
    char why[256] = "";
    store *st = NULL;
    mode_t old_mask = umask(022); /* what a shell usually has */
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    umask(old_mask);
    CHECK(st != NULL);
    struct stat sb;
    CHECK(stat(db_path, &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0600); /* the audit is private whatever the umask */
    CHECK(store_ping(st) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                     "('rooms', 'members', 'audit', 'schema_version')") == 4);
    CHECK(count_rows("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                     "('audit_room_id', 'audit_subject_id')") == 2);
    CHECK(schema_current());
    CHECK(count_rows("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") == 1);
    store_room r = mkroom("persist", "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_OK);
    store_close(st);

    /* reopen: migrations don't run again, data stays */
    st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    CHECK(schema_current());
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
    CHECK(schema_current());

    /* refused */
    st = NULL;
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

/* room_update: settings change by name; alias, created_at and members stay. */
static void test_room_update(store *st)
{
    store_room r = mkroom("editable", "ed-1", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_OK);
    store_member m = mkmember("editable", "ann", "member");
    CHECK(store_member_set(st, &m) == RK_OK);
    store_room before, got;
    CHECK(store_room_get(st, "editable", &before) == RK_OK);
    CHECK(store_room_get(st, "ed-1", &got) == RK_OK); /* warms the lookup cache */
    r = before;
    r.mode = STORE_MODE_AUTHENTICATED;
    snprintf(r.default_role, sizeof r.default_role, "listener");
    r.max_participants = 7;
    r.max_ttl = 7200;
    CHECK(store_room_update(st, &r) == RK_OK);
    memset(&got, 0x55, sizeof got);
    CHECK(store_room_get(st, "ed-1", &got) == RK_OK); /* the cache saw the change */
    CHECK_STR(got.name, "editable");
    CHECK_STR(got.alias, "ed-1");
    CHECK(got.mode == STORE_MODE_AUTHENTICATED);
    CHECK_STR(got.default_role, "listener");
    CHECK(got.max_participants == 7 && got.max_ttl == 7200);
    CHECK(got.created_at == before.created_at);
    r.default_role[0] = '\0'; /* no default role */
    r.max_participants = r.max_ttl = 0;
    CHECK(store_room_update(st, &r) == RK_OK);
    CHECK(store_room_get(st, "editable", &got) == RK_OK);
    CHECK_STR(got.default_role, "");
    CHECK(got.max_participants == 0 && got.max_ttl == 0);
    store_member gm;
    CHECK(store_member_get(st, "editable", "ann", &gm) == RK_OK);
    /* by name only; bad fields refused before the store is asked */
    store_room a = r;
    snprintf(a.name, sizeof a.name, "ed-1");
    CHECK(store_room_update(st, &a) == RK_ENOTFOUND);
    snprintf(a.name, sizeof a.name, "nope");
    CHECK(store_room_update(st, &a) == RK_ENOTFOUND);
    a = r;
    a.mode = 2;
    CHECK(store_room_update(st, &a) == RK_EINVAL);
    a = r;
    a.max_ttl = -1;
    CHECK(store_room_update(st, &a) == RK_EINVAL);
    a = r;
    a.name[0] = '\0';
    CHECK(store_room_update(st, &a) == RK_EINVAL);
    CHECK(store_room_update(NULL, &r) == RK_EINVAL && store_room_update(st, NULL) == RK_EINVAL);
    CHECK(store_room_delete(st, "editable") == RK_OK);
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

/* threads counts this process's threads (/proc/self/task). */
static int threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* store_audit_start starts the writer once, before any record: the first
 * record then finds it running. */
static void test_audit_start(store *st)
{
    int before = threads();
    CHECK(store_audit_start(st) == RK_OK);
    CHECK(threads() == before + 1);
    CHECK(store_audit_start(st) == RK_OK);
    CHECK(threads() == before + 1);
    CHECK(store_audit_start(NULL) == RK_EINVAL);
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

/* One batch: a refused record (duplicate jti, even within the batch) gets
 * its own RK_ECONFLICT and the others are committed. */
static void test_batch(store *st)
{
    store_audit x = mkaudit("batch-1", "batcher", "r", 10);
    store_audit dup = mkaudit("batch-1", "batcher", "r", 11);
    store_audit y = mkaudit("batch-2", "batcher", "r", 12);
    const store_audit *recs[] = {&x, &dup, &y};
    int rcs[3] = {1, 1, 1};
    CHECK(st->ops->audit_add_batch(st, recs, 3, rcs) == RK_OK);
    CHECK(rcs[0] == RK_OK && rcs[1] == RK_ECONFLICT && rcs[2] == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE subject = 'batcher'") == 2);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE jti = 'batch-1' AND issued_at = 10") == 1);
}

/* A batch longer than one multi-row INSERT (45 = 32 + 8 + 4 + 1), with a
 * refused record inside the second INSERT: every other record is written
 * with each of its fields in its own column, and only the refused one gets
 * RK_ECONFLICT. */
static void test_batch_rows(store *st)
{
    enum { N = 45, DUP = 37, DUP_OF = 3 };
    static store_audit recs[N];
    const store_audit *ptrs[N];
    int rcs[N];
    for (int i = 0; i < N; i++) {
        store_audit *a = &recs[i];
        memset(a, 0, sizeof *a);
        snprintf(a->jti, sizeof a->jti, "rows-%02d", i == DUP ? DUP_OF : i);
        snprintf(a->subject, sizeof a->subject, "rower");
        snprintf(a->identity, sizeof a->identity, "ident-%d", i);
        snprintf(a->room, sizeof a->room, "room-%d", i);
        snprintf(a->role, sizeof a->role, "role%d", i);
        snprintf(a->grants, sizeof a->grants, "{\"n\":%d}", i);
        a->issued_at = 1000 + i;
        a->exp = 5000 + i;
        snprintf(a->client_ip, sizeof a->client_ip, "198.51.100.%d", i);
        snprintf(a->route, sizeof a->route, "/r/%d", i);
        ptrs[i] = a;
        rcs[i] = 99;
    }
    CHECK(st->ops->audit_add_batch(st, ptrs, N, rcs) == RK_OK);
    for (int i = 0; i < N; i++)
        CHECK(rcs[i] == (i == DUP ? RK_ECONFLICT : RK_OK));
    store_audit_filter f = {.subject = "rower", .limit = 100};
    store_audit *list = NULL;
    size_t n = 0;
    CHECK(store_audit_list(st, &f, &list, &n) == RK_OK);
    CHECK(n == N - 1);
    int seen = 0;
    for (size_t k = 0; k < n; k++) {
        int i = atoi(list[k].jti + 5);
        if (i < 0 || i >= N || i == DUP) {
            CHECK(!"unexpected jti");
            continue;
        }
        const store_audit *a = &recs[i];
        seen += strcmp(list[k].identity, a->identity) == 0 && strcmp(list[k].room, a->room) == 0 &&
                strcmp(list[k].role, a->role) == 0 && strcmp(list[k].grants, a->grants) == 0 &&
                list[k].issued_at == a->issued_at && list[k].exp == a->exp &&
                strcmp(list[k].client_ip, a->client_ip) == 0 &&
                strcmp(list[k].route, a->route) == 0;
    }
    CHECK(seen == N - 1);
    /* the record refused for its jti kept the first one's fields */
    CHECK(count_rows("SELECT count(*) FROM audit WHERE jti = 'rows-03' AND identity = 'ident-3'") ==
          1);
    free(list);
}

static void test_two_handles(store *a)
{
    char why[256];
    store *b = NULL;
    CHECK(store_open(url, &b, why, sizeof why) == RK_OK);
    if (!b)
        return;
    store_room got;
    CHECK(store_room_get(b, "live", &got) == RK_ENOTFOUND);
    /* warm a's statements and cache, then change the database through b */
    CHECK(store_room_get(a, "live", &got) == RK_ENOTFOUND);
    store_room r = mkroom("live", "L1", STORE_MODE_AUTHENTICATED, "guest");
    CHECK(store_room_create(b, &r) == RK_OK);
    CHECK(store_room_get(a, "L1", &got) == RK_OK); /* not cached yet: read */
    CHECK_STR(got.default_role, "guest");
    /* a's cached miss for "live" is dropped by the change feed */
    store_notify_changed(a);
    CHECK(store_room_get(a, "live", &got) == RK_OK);
    store_member m = mkmember("live", "dave", "host");
    CHECK(store_member_set(a, &m) == RK_OK);
    store_member gm;
    CHECK(store_member_get(b, "live", "dave", &gm) == RK_OK);
    CHECK(store_member_get(a, "live", "dave", &gm) == RK_OK); /* now cached in a */

    /* removed through b (as the CLI does): a may answer from its cache for
     * at most the cache lifetime (500 ms), never longer */
    CHECK(store_member_remove(b, "live", "dave") == RK_OK);
    usleep(1000 * 1000);
    CHECK(store_member_get(a, "live", "dave", &gm) == RK_ENOTFOUND);
    /* and with the change feed at once */
    CHECK(store_member_set(b, &m) == RK_OK);
    store_notify_changed(a);
    CHECK(store_member_get(a, "live", "dave", &gm) == RK_OK);
    /* a write through a drops a's cache at once */
    CHECK(store_member_remove(a, "live", "dave") == RK_OK);
    CHECK(store_member_get(a, "live", "dave", &gm) == RK_ENOTFOUND);
    CHECK(store_member_set(a, &m) == RK_OK);
    CHECK(store_member_get(a, "live", "dave", &gm) == RK_OK);

    CHECK(store_room_delete(b, "live") == RK_OK);
    store_notify_changed(a);
    CHECK(store_room_get(a, "live", &got) == RK_ENOTFOUND);
    CHECK(store_member_get(a, "live", "dave", &gm) == RK_ENOTFOUND);
    store_close(b);
}

/* A database made by schema version 1 (audit.id AUTOINCREMENT, members
 * with a rowid) is upgraded in place: rows and ids kept, new ids continue
 * after them, memberships kept and still tied to their room. */
static void test_upgrade_v1(void)
{
    unlink(db_path);
    CHECK(exec_sql(
        "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY,"
        " applied_at BIGINT NOT NULL);"
        "INSERT INTO schema_version VALUES (1, 0);"
        "CREATE TABLE rooms (name TEXT NOT NULL PRIMARY KEY, alias TEXT UNIQUE,"
        " mode INTEGER NOT NULL DEFAULT 0 CHECK (mode IN (0, 1)),"
        " default_role TEXT NOT NULL DEFAULT '', max_participants BIGINT NOT NULL DEFAULT 0,"
        " max_ttl BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);"
        "CREATE TABLE members (room TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,"
        " subject TEXT NOT NULL, role TEXT NOT NULL, created_at BIGINT NOT NULL,"
        " PRIMARY KEY (room, subject));"
        "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, jti TEXT NOT NULL UNIQUE,"
        " subject TEXT NOT NULL, identity TEXT NOT NULL, room TEXT NOT NULL, role TEXT NOT NULL,"
        " grants TEXT NOT NULL, issued_at BIGINT NOT NULL, exp BIGINT NOT NULL,"
        " client_ip TEXT NOT NULL, route TEXT NOT NULL);"
        "CREATE INDEX audit_room_id ON audit (room, id);"
        "CREATE INDEX audit_subject_id ON audit (subject, id);"
        "INSERT INTO audit VALUES (7, 'old-jti', 'alice', 'alice', 'r', 'member', '{}', 1, 2,"
        " '192.0.2.1', '/token');"
        "INSERT INTO rooms (name, created_at) VALUES ('old-room', 5), ('other', 5);"
        "INSERT INTO members VALUES ('old-room', 'carol', 'moderator', 6),"
        " ('other', 'carol', 'member', 6);"));
    char why[256] = "";
    store *st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    CHECK(schema_current());
    if (!st)
        return;
    store_member m;
    CHECK(store_member_get(st, "old-room", "carol", &m) == RK_OK);
    CHECK(strcmp(m.role, "moderator") == 0 && m.created_at == 6);
    CHECK(store_room_delete(st, "old-room") == RK_OK); /* the cascade still holds */
    CHECK(count_rows("SELECT count(*) FROM members WHERE room = 'old-room'") == 0);
    CHECK(count_rows("SELECT count(*) FROM members WHERE room = 'other'") == 1);
    store_audit *list = NULL;
    size_t n = 0;
    CHECK(store_audit_list(st, NULL, &list, &n) == RK_OK && n == 1);
    CHECK(n == 1 && list[0].id == 7 && strcmp(list[0].jti, "old-jti") == 0);
    free(list);
    store_audit a = mkaudit("new-jti", "bob", "r", 3);
    CHECK(store_audit_add(st, &a) == RK_OK);
    CHECK(store_audit_add(st, &a) == RK_ECONFLICT); /* jti still unique */
    list = NULL;
    CHECK(store_audit_list(st, NULL, &list, &n) == RK_OK && n == 2);
    CHECK(n == 2 && list[0].id == 8 && strcmp(list[0].jti, "new-jti") == 0);
    free(list);
    store_close(st);
    CHECK(count_rows("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                     "('audit_room_id', 'audit_subject_id')") == 2);
    unlink(db_path);
}

#define T0 1700000000 /* "now" for seat claims */

static store_seat mkseat(const char *room, int64_t seat, const char *subject, int64_t exp)
{
    store_seat s = {.seat = seat, .exp = exp};
    snprintf(s.room, sizeof s.room, "%s", room);
    snprintf(s.subject, sizeof s.subject, "%s", subject);
    return s;
}

/* seat_holder returns who holds seat of room at time now ("" = nobody). */
static const char *seat_holder(store *st, const char *room, int64_t seat, int64_t now)
{
    static char who[STORE_MAX_NAME + 1];
    store_seat *list = NULL;
    size_t n = 0;
    who[0] = '\0';
    CHECK(store_seat_list(st, room, now, &list, &n) == RK_OK);
    for (size_t i = 0; i < n; i++)
        if (list[i].seat == seat)
            snprintf(who, sizeof who, "%s", list[i].subject);
    free(list);
    return who;
}

struct seat_racer {
    store *st;
    pthread_barrier_t *go;
    int id, rc;
};

static void *seat_racer_main(void *arg)
{
    struct seat_racer *r = arg;
    char who[32];
    snprintf(who, sizeof who, "racer-%d", r->id);
    store_seat s = mkseat("race", 1, who, T0 + 600);
    pthread_barrier_wait(r->go);
    r->rc = store_seat_claim(r->st, &s, T0);
    return NULL;
}

static store_meeting mkmeet(const char *id, const char *room, const char *creator)
{
    store_meeting m = {0};
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.room, sizeof m.room, "%s", room);
    snprintf(m.heading, sizeof m.heading, "About %s", id);
    snprintf(m.status, sizeof m.status, "PROCESSING");
    snprintf(m.creator, sizeof m.creator, "%s", creator);
    return m;
}

/* mkmeeting: meeting id in room meeting-{id}, with a heading and a
 * description. */
static store_meeting mkmeeting(const char *id, const char *creator)
{
    char room[STORE_MAX_NAME + 1];
    snprintf(room, sizeof room, "meeting-%s", id);
    store_meeting m = mkmeet(id, room, creator);
    snprintf(m.heading, sizeof m.heading, "Heading %s", id);
    snprintf(m.description, sizeof m.description, "About %s", id);
    return m;
}

/* Schema version 7 rebuilds rooms, which memberships, seats and meetings
 * refer to: a store at version 6 (rooms with a rowid) keeps them all, and
 * foreign keys hold again afterwards (a room's delete takes them along, a
 * membership of no room is refused). */
static void test_upgrade_v6(void)
{
    char why[256] = "";
    store *st = NULL;
    unlink(db_path);
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    if (!st)
        return;
    store_meeting m = mkmeeting("v6", "v6-creator");
    store_seat seat = mkseat("meeting-v6", 1, "v6-creator", T0 + 600);
    CHECK(store_meeting_create(st, &m, "moderator", "member") == RK_OK);
    CHECK(store_seat_claim(st, &seat, T0) == RK_OK);
    store_close(st);
    CHECK(exec_sql("PRAGMA foreign_keys=OFF; BEGIN;"
                   "CREATE TABLE rooms_v6 (name TEXT NOT NULL PRIMARY KEY, alias TEXT UNIQUE,"
                   " mode INTEGER NOT NULL DEFAULT 0 CHECK (mode IN (0, 1)),"
                   " default_role TEXT NOT NULL DEFAULT '',"
                   " max_participants BIGINT NOT NULL DEFAULT 0,"
                   " max_ttl BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);"
                   "INSERT INTO rooms_v6 SELECT * FROM rooms; DROP TABLE rooms;"
                   "ALTER TABLE rooms_v6 RENAME TO rooms;"
                   "DELETE FROM schema_version WHERE version = 7; COMMIT;"));
    CHECK(count_rows("SELECT count(*) FROM sqlite_master WHERE name = 'rooms' AND "
                     "sql LIKE '%WITHOUT ROWID'") == 0);
    st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    CHECK(schema_current());
    if (!st)
        return;
    store_member got;
    store_meeting gm;
    CHECK(store_member_get(st, "meeting-v6", "v6-creator", &got) == RK_OK);
    CHECK(store_meeting_get(st, "v6", &gm) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM seats WHERE room = 'meeting-v6'") == 1);
    store_member stray = mkmember("no-such-room", "v6-creator", "member");
    CHECK(store_member_set(st, &stray) == RK_ENOTFOUND);
    CHECK(store_room_delete(st, "meeting-v6") == RK_OK);
    CHECK(count_rows("SELECT (SELECT count(*) FROM members) + (SELECT count(*) FROM seats) +"
                     " (SELECT count(*) FROM meetings)") == 0);
    store_close(st);
    unlink(db_path);
}

/* Seats: the claim rules, each claim one statement. */
static void test_seats(store *st)
{
    store_room r = {.mode = STORE_MODE_AUTHENTICATED};
    snprintf(r.name, sizeof r.name, "audition-room");
    CHECK(store_room_create(st, &r) == RK_OK);

    /* free seat: claimed; the same subject again keeps it, with the later exp */
    store_seat a1 = mkseat("audition-room", 1, "judge-a", T0 + 600);
    CHECK(store_seat_claim(st, &a1, T0) == RK_OK);
    CHECK_STR(seat_holder(st, "audition-room", 1, T0), "judge-a");
    store_seat a1_short = mkseat("audition-room", 1, "judge-a", T0 + 60);
    CHECK(store_seat_claim(st, &a1_short, T0) == RK_OK);
    store_seat *list = NULL;
    size_t n = 0;
    CHECK(store_seat_list(st, "audition-room", T0, &list, &n) == RK_OK);
    CHECK(n == 1 && list[0].exp == T0 + 600 && list[0].seat == 1 && list[0].claimed_at == T0);
    free(list);

    /* another subject: conflict while the claim is live, nothing changes */
    store_seat b1 = mkseat("audition-room", 1, "judge-b", T0 + 900);
    CHECK(store_seat_claim(st, &b1, T0) == RK_ECONFLICT);
    CHECK(store_seat_claim(st, &b1, T0 + 599) == RK_ECONFLICT);
    CHECK_STR(seat_holder(st, "audition-room", 1, T0), "judge-a");

    /* a second seat for judge-b; then moving judge-a to seat 3 frees seat 1 */
    store_seat b2 = mkseat("audition-room", 2, "judge-b", T0 + 600);
    CHECK(store_seat_claim(st, &b2, T0) == RK_OK);
    store_seat a3 = mkseat("audition-room", 3, "judge-a", T0 + 600);
    CHECK(store_seat_claim(st, &a3, T0) == RK_OK);
    CHECK_STR(seat_holder(st, "audition-room", 1, T0), "");
    CHECK_STR(seat_holder(st, "audition-room", 3, T0), "judge-a");
    /* a conflicting claim leaves the subject's current seat alone */
    store_seat a2 = mkseat("audition-room", 2, "judge-a", T0 + 600);
    CHECK(store_seat_claim(st, &a2, T0) == RK_ECONFLICT);
    CHECK_STR(seat_holder(st, "audition-room", 3, T0), "judge-a");

    /* expiry: at exp the claim holds nothing and another subject takes it */
    CHECK_STR(seat_holder(st, "audition-room", 2, T0 + 600), "");
    store_seat c2 = mkseat("audition-room", 2, "judge-c", T0 + 1200);
    CHECK(store_seat_claim(st, &c2, T0 + 600) == RK_OK);
    CHECK_STR(seat_holder(st, "audition-room", 2, T0 + 600), "judge-c");

    /* release: only live claims, only the holder's (or anyone's with NULL) */
    CHECK(store_seat_release(st, "audition-room", 2, "judge-a", T0 + 600) == RK_ENOTFOUND);
    CHECK(store_seat_release(st, "audition-room", 0, "judge-c", T0 + 600) == RK_OK);
    CHECK_STR(seat_holder(st, "audition-room", 2, T0 + 600), "");
    CHECK(store_seat_release(st, "audition-room", 0, "judge-c", T0 + 600) == RK_ENOTFOUND);
    CHECK(store_seat_release(st, "audition-room", 3, NULL, T0) == RK_OK);
    CHECK(store_seat_release(st, "audition-room", 3, "judge-a", 0) == RK_ENOTFOUND);

    /* refused input */
    store_seat bad = mkseat("audition-room", 0, "judge-a", T0 + 600);
    CHECK(store_seat_claim(st, &bad, T0) == RK_EINVAL);
    bad.seat = STORE_MAX_SEATS + 1;
    CHECK(store_seat_claim(st, &bad, T0) == RK_EINVAL);
    bad = mkseat("audition-room", 1, "judge-a", T0);
    CHECK(store_seat_claim(st, &bad, T0) == RK_EINVAL); /* exp must be after now */
    bad = mkseat("audition-room", 1, "", T0 + 600);
    CHECK(store_seat_claim(st, &bad, T0) == RK_EINVAL);
    CHECK(store_seat_release(st, "audition-room", 0, NULL, T0) == RK_EINVAL);
    CHECK(store_seat_release(st, "audition-room", -1, "x", T0) == RK_EINVAL);
    bad = mkseat("no-such-room", 1, "judge-a", T0 + 600);
    CHECK(store_seat_claim(st, &bad, T0) == RK_ENOTFOUND);

    /* deleting the room drops its claims */
    CHECK(store_seat_claim(st, &b2, T0) == RK_OK);
    CHECK(store_room_delete(st, "audition-room") == RK_OK);
    CHECK(store_seat_list(st, "audition-room", T0, &list, &n) == RK_OK);
    CHECK(n == 0 && list == NULL);
    CHECK(count_rows("SELECT count(*) FROM seats WHERE room = 'audition-room'") == 0);
}

/* The race: eight subjects claim one free seat at once, through two
 * handles on the same database (two processes or instances): exactly one
 * wins, every round. */
static void test_seat_race(store *a)
{
    char why[256];
    store *b = NULL;
    CHECK(store_open(url, &b, why, sizeof why) == RK_OK);
    if (!b)
        return;
    enum { N = 8 };
    for (int round = 0; round < 20; round++) {
        store_room r = mkroom("race", "", STORE_MODE_AUTHENTICATED, "member");
        CHECK(store_room_create(a, &r) == RK_OK);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, N);
        pthread_t th[N];
        struct seat_racer rs[N];
        for (int i = 0; i < N; i++) {
            rs[i] = (struct seat_racer){i % 2 ? b : a, &go, i, 1};
            CHECK(pthread_create(&th[i], NULL, seat_racer_main, &rs[i]) == 0);
        }
        int won = 0, lost = 0, winner = -1;
        for (int i = 0; i < N; i++) {
            pthread_join(th[i], NULL);
            won += rs[i].rc == RK_OK;
            lost += rs[i].rc == RK_ECONFLICT;
            winner = rs[i].rc == RK_OK ? i : winner;
        }
        pthread_barrier_destroy(&go);
        CHECK(won == 1 && lost == N - 1);
        char want[32];
        snprintf(want, sizeof want, "racer-%d", winner);
        CHECK_STR(seat_holder(a, "race", 1, T0), want);
        CHECK(store_room_delete(a, "race") == RK_OK);
    }
    store_close(b);
}

/* Meetings: each change one transaction, their rooms and cascades. */
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
    store_seat s = mkseat("meeting-m-123", 1, "guest-1", T0 + 600);
    CHECK(store_seat_claim(st, &s, T0) == RK_OK);
    CHECK(store_meeting_delete(st, "m-123") == RK_OK);
    CHECK(store_meeting_get(st, "m-123", &got) == RK_ENOTFOUND);
    CHECK(store_room_get(st, "meeting-m-123", &r) == RK_ENOTFOUND);
    CHECK(store_member_get(st, "meeting-m-123", "guest-1", &mem) == RK_ENOTFOUND);
    CHECK_STR(seat_holder(st, "meeting-m-123", 1, T0), "");
    CHECK(store_meeting_delete(st, "m-123") == RK_ENOTFOUND);

    /* deleting the room deletes the meeting */
    CHECK(store_room_delete(st, "meeting-p0") == RK_OK);
    CHECK(store_meeting_get(st, "p0", &got) == RK_ENOTFOUND);

    /* leave no meeting behind for the checks that follow */
    static const char *const rest[] = {"p1", "p2", "p3", "p4", "q'1"};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        CHECK(store_meeting_delete(st, rest[i]) == RK_OK);
    CHECK(store_room_delete(st, "meeting-taken") == RK_OK);
    CHECK(store_meeting_list(st, NULL, 0, &list, &n) == RK_OK && n == 0);
}

/* SQLite only: the audit writer's WAL is restarted under continuous group
 * commits (its checkpointer, see wal_checkpointer.h), so the -wal file
 * stays bounded however many records go through; all of them are kept. */
static void test_wal_bounded(void)
{
    char why[256] = "", wal[160];
    store *st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    if (!st)
        return;
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    enum { BATCHES = 3000, PER = 16 };
    static store_audit recs[PER];
    const store_audit *ptrs[PER];
    int rcs[PER];
    off_t max = 0;
    int refused = 0;
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < PER; i++) {
            char jti[32];
            snprintf(jti, sizeof jti, "wal-%05d-%02d", b, i);
            recs[i] = mkaudit(jti, "waller", "wal-room", 2000 + b);
            ptrs[i] = &recs[i];
        }
        refused += st->ops->audit_add_batch(st, ptrs, PER, rcs) != RK_OK;
        struct stat sb;
        if (stat(wal, &sb) == 0 && sb.st_size > max)
            max = sb.st_size;
    }
    CHECK(refused == 0);
    /* the hard limit plus the commit that crosses it, in 4 KiB frames */
    CHECK(max > 0 && max <= (off_t)(WAL_CKPT_HARD_FRAMES + 64) * (24 + 4096) + 32);
    if (max > (off_t)(WAL_CKPT_HARD_FRAMES + 64) * (24 + 4096) + 32)
        fprintf(stderr, "WAL grew to %lld bytes\n", (long long)max);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE subject = 'waller'") == BATCHES * PER);
    store_close(st);
}

/* run_suite runs the backend-neutral checks against the database at url. */
/* ---- retention ----------------------------------------------------------- */

#define PRUNE_T     4000000000LL /* later than every record the suite wrote before */
#define PRUNE_OLD   60           /* records issued before the date */
#define PRUNE_NEW   25           /* records issued at or after it */
#define PRUNE_WIN   7            /* records per step */
#define PRUNE_ADDER 40           /* records another thread adds during the prune */

/* What the prune's step hook sees: each step's deletions, and a record
 * written by another thread while the prune is paused inside a step
 * boundary (if the prune kept the write lock, that write would not finish). */
typedef struct prune_probe {
    store *st;
    size_t steps, last_total, max_step;
    pthread_t adder;
    bool adder_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int added, add_errors;
} prune_probe;

static void *prune_adder(void *arg)
{
    prune_probe *p = arg;
    for (int i = 0; i < PRUNE_ADDER; i++) {
        char jti[32];
        snprintf(jti, sizeof jti, "during-%02d", i);
        store_audit a = mkaudit(jti, "during", "r", PRUNE_T + 1000 + i);
        int rc = store_audit_add(p->st, &a);
        pthread_mutex_lock(&p->mu);
        p->added++;
        p->add_errors += rc != RK_OK;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* prune_step: after the first step, starts the adder and waits (liveness
 * bound 10 s) until its first record is committed, with the prune paused. */
static bool prune_step(void *arg, size_t total)
{
    prune_probe *p = arg;
    size_t step = total - p->last_total;
    p->last_total = total;
    p->steps++;
    if (step > p->max_step)
        p->max_step = step;
    if (p->steps == 1 && pthread_create(&p->adder, NULL, prune_adder, p) == 0) {
        p->adder_started = true;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10;
        pthread_mutex_lock(&p->mu);
        while (p->added == 0 && pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0)
            ;
        pthread_mutex_unlock(&p->mu);
    }
    return true;
}

/* Retention: records issued before the date go, in steps of at most the
 * window; the others stay; a token record written during the prune is
 * committed while it runs. Runs last: it deletes the suite's older records. */
static void test_prune(store *st)
{
    int before_total = count_rows("SELECT count(*) FROM audit");
    for (int i = 0; i < PRUNE_OLD + PRUNE_NEW; i++) {
        char jti[32];
        snprintf(jti, sizeof jti, "prune-%03d", i);
        int64_t at = i < PRUNE_OLD ? PRUNE_T - PRUNE_OLD + i : PRUNE_T + i;
        store_audit a = mkaudit(jti, "pruned", "r", at);
        CHECK(store_audit_add(st, &a) == RK_OK);
    }
    CHECK(count_rows("SELECT count(*) FROM audit WHERE issued_at >= 4000000000") == PRUNE_NEW);
    int old = count_rows("SELECT count(*) FROM audit WHERE issued_at < 4000000000");
    CHECK(old == before_total + PRUNE_OLD);

    /* one step by itself: at most the window, oldest first */
    int64_t cursor = 0;
    size_t n = 0;
    CHECK(st->ops->audit_prune(st, PRUNE_T, PRUNE_WIN, &cursor, &n) == RK_OK);
    CHECK(n > 0 && n <= PRUNE_WIN && cursor > 0);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE issued_at < 4000000000") == old - (int)n);

    prune_probe p = {.st = st};
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    size_t total = 0;
    CHECK(store_audit_prune(st, PRUNE_T, PRUNE_WIN, prune_step, &p, &total) == RK_OK);
    CHECK(total == (size_t)old - n);
    CHECK(p.max_step > 0 && p.max_step <= PRUNE_WIN);
    CHECK(p.steps >= (total + PRUNE_WIN - 1) / PRUNE_WIN);
    pthread_mutex_lock(&p.mu);
    int added_during = p.added;
    pthread_mutex_unlock(&p.mu);
    CHECK(p.adder_started && added_during >= 1); /* committed while the prune was paused */
    if (p.adder_started)
        pthread_join(p.adder, NULL);
    CHECK(p.added == PRUNE_ADDER && p.add_errors == 0);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);

    CHECK(count_rows("SELECT count(*) FROM audit WHERE issued_at < 4000000000") == 0);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE subject = 'pruned'") == PRUNE_NEW);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE subject = 'during'") == PRUNE_ADDER);
    /* nothing left to prune; a window past the end; bad windows refused */
    CHECK(store_audit_prune(st, PRUNE_T, 0, NULL, NULL, &total) == RK_OK && total == 0);
    CHECK(store_audit_prune(st, PRUNE_T, STORE_PRUNE_MAX_WINDOW + 1, NULL, NULL, &total) ==
          RK_EINVAL);
    /* a later date takes the rest in one call, but for the newest record,
     * and the next id is still larger than every id before */
    CHECK(store_audit_prune(st, PRUNE_T + 100000, 3, NULL, NULL, &total) == RK_OK);
    CHECK(total == PRUNE_NEW + PRUNE_ADDER - 1);
    CHECK(count_rows("SELECT count(*) FROM audit") == 1);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE jti = 'during-39'") == 1);
    store_audit a = mkaudit("after-prune", "pruned", "r", PRUNE_T + 200000);
    CHECK(store_audit_add(st, &a) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE jti = 'after-prune' AND"
                     " id > (SELECT id FROM audit WHERE jti = 'during-39')") == 1);
}

static store_presence mkpresence(const char *sid, const char *room, const char *identity,
                                 int64_t joined, int64_t left)
{
    store_presence p = {.joined_at = joined, .left_at = left};
    snprintf(p.sid, sizeof p.sid, "%s", sid);
    snprintf(p.room, sizeof p.room, "%s", room);
    snprintf(p.identity, sizeof p.identity, "%s", identity);
    snprintf(p.name, sizeof p.name, "%s N", identity);
    snprintf(p.kind, sizeof p.kind, "standard");
    return p;
}

/* Presence by SID, webhook ids, live actions and occupancy. */
static void test_live(store *st)
{
    store_presence a1 = mkpresence("PA_a1", "live-room", "alice", T0, 0);
    store_presence b1 = mkpresence("PA_b1", "live-room", "bob", T0 + 1, 0);
    store_presence c1 = mkpresence("PA_c1", "other-room", "carol", T0 + 2, 0);
    CHECK(store_presence_apply(st, &a1) == RK_OK);
    CHECK(store_presence_apply(st, &a1) == RK_OK); /* a duplicate join: nothing changes */
    CHECK(store_presence_apply(st, &b1) == RK_OK);
    CHECK(store_presence_apply(st, &c1) == RK_OK);
    store_presence *list = NULL;
    size_t n = 0;
    CHECK(store_presence_list(st, "live-room", &list, &n) == RK_OK && n == 2);
    if (n == 2) {
        CHECK_STR(list[0].identity, "alice");
        CHECK_STR(list[0].name, "alice N");
        CHECK(list[0].joined_at == T0 && list[0].left_at == 0);
        CHECK_STR(list[1].sid, "PA_b1");
    }
    free(list);
    CHECK(store_presence_list(st, NULL, &list, &n) == RK_OK && n == 3);
    free(list);

    /* alice rejoins (new SID), then the old session's late "left" arrives */
    store_presence a2 = mkpresence("PA_a2", "live-room", "alice", T0 + 5, 0);
    CHECK(store_presence_apply(st, &a2) == RK_OK);
    store_presence a1_left = mkpresence("PA_a1", "live-room", "alice", T0, T0 + 6);
    CHECK(store_presence_apply(st, &a1_left) == RK_OK);
    CHECK(store_presence_apply(st, &a1_left) == RK_ENOTFOUND); /* already left */
    CHECK(store_presence_apply(st, &a1) == RK_OK);             /* a replayed join: stays left */
    /* a leave that comes before its join (webhooks come in any order): the
     * late join does not bring the SID in */
    store_presence d1_left = mkpresence("PA_d1", "live-room", "dan", T0 + 1, T0 + 8);
    CHECK(store_presence_apply(st, &d1_left) == RK_OK);
    store_presence d1 = mkpresence("PA_d1", "live-room", "dan", T0 + 1, 0);
    CHECK(store_presence_apply(st, &d1) == RK_OK);
    CHECK(store_presence_list(st, "live-room", &list, &n) == RK_OK && n == 2);
    if (n == 2) {
        CHECK_STR(list[0].sid, "PA_b1");
        CHECK_STR(list[1].sid, "PA_a2");
    }
    free(list);
    /* reconciliation is the authority: LiveKit lists PA_a1, so it is back in */
    store_presence a1_listed = mkpresence("PA_a1", "live-room", "alice", T0, STORE_PRESENT);
    CHECK(store_presence_apply(st, &a1_listed) == RK_OK);
    CHECK(store_presence_list(st, "live-room", &list, &n) == RK_OK && n == 3);
    free(list);
    a1_left.left_at = T0 + 7;
    CHECK(store_presence_apply(st, &a1_left) == RK_OK);
    store_presence bad = a2;
    bad.sid[0] = '\0';
    CHECK(store_presence_apply(st, &bad) == RK_EINVAL);
    memset(bad.sid, 'x', sizeof bad.sid);
    CHECK(store_presence_apply(st, &bad) == RK_ETOOBIG);

    /* occupancy: 2 in the room; tokens issued since T0 to dave (not in) count as pending */
    store_audit t = mkaudit("jti-live-1", "dave", "live-room", T0 + 3);
    snprintf(t.identity, sizeof t.identity, "dave");
    CHECK(store_audit_add(st, &t) == RK_OK);
    store_audit t2 = mkaudit("jti-live-2", "alice", "live-room", T0 + 3);
    snprintf(t2.identity, sizeof t2.identity, "alice");
    CHECK(store_audit_add(st, &t2) == RK_OK);
    int64_t present = -1, pending = -1;
    CHECK(store_occupancy(st, "live-room", T0, &present, &pending) == RK_OK);
    CHECK(present == 2 && pending == 1);
    CHECK(store_occupancy(st, "live-room", T0 + 100, &present, &pending) == RK_OK);
    CHECK(present == 2 && pending == 0);
    /* a second session of bob's marked in (its first one's "left" not come
     * yet): bob counts once */
    store_presence b2 = mkpresence("PA_b2", "live-room", "bob", T0 + 9, 0);
    CHECK(store_presence_apply(st, &b2) == RK_OK);
    CHECK(store_occupancy(st, "live-room", T0 + 100, &present, &pending) == RK_OK);
    CHECK(present == 2 && pending == 0);
    b2.left_at = T0 + 10;
    CHECK(store_presence_apply(st, &b2) == RK_OK);
    int64_t at = -1;
    CHECK(store_audit_last_issued(st, "live-room", "dave", &at) == RK_OK && at == T0 + 3);
    CHECK(store_audit_last_issued(st, "live-room", "nobody", &at) == RK_OK && at == 0);
    CHECK(store_audit_issued_by(st, "live-room", "dave", T0 + 3, &at) == RK_OK && at == T0 + 3);
    CHECK(store_audit_issued_by(st, "live-room", "dave", T0 + 2, &at) == RK_OK && at == 0);

    /* webhook event ids: once */
    CHECK(store_event_record(st, "EV_1", T0) == RK_OK);
    CHECK(store_event_record(st, "EV_1", T0 + 1) == RK_ECONFLICT);
    CHECK(store_event_record(st, "EV_2", T0 + 1) == RK_OK);
    bool seen = false;
    CHECK(store_event_seen(st, "EV_2", &seen) == RK_OK && seen);
    CHECK(store_event_seen(st, "EV_3", &seen) == RK_OK && !seen);
    CHECK(store_event_forget(st, "EV_2") == RK_OK);
    CHECK(store_event_seen(st, "EV_2", &seen) == RK_OK && !seen);
    CHECK(store_event_record(st, "EV_2", T0 + 1) == RK_OK);

    /* actions: pending until claimed once; found by (room, identity) while live */
    store_action k = {.created_at = T0 + 10, .until = T0 + 100, .ban_until = T0 + 50};
    snprintf(k.room, sizeof k.room, "live-room");
    snprintf(k.identity, sizeof k.identity, "bob");
    snprintf(k.kind, sizeof k.kind, "kick");
    snprintf(k.reason, sizeof k.reason, "admin_kick");
    CHECK(store_action_add(st, &k) == RK_OK);
    store_action u = k;
    snprintf(u.kind, sizeof u.kind, "update");
    snprintf(u.role, sizeof u.role, "listener");
    snprintf(u.from_role, sizeof u.from_role, "member");
    u.ban_until = 0;
    u.until = 0;
    CHECK(store_action_add(st, &u) == RK_OK);
    store_action wrong = k;
    snprintf(wrong.kind, sizeof wrong.kind, "explode");
    CHECK(store_action_add(st, &wrong) == RK_EINVAL);
    store_action *acts = NULL;
    store_action_filter pend = {.pending = 1, .live_after = T0, .since = T0 + 10};
    CHECK(store_action_list(st, &pend, &acts, &n) == RK_OK && n == 2);
    int64_t id0 = n == 2 ? acts[0].id : 0;
    if (n == 2) {
        CHECK_STR(acts[0].kind, "kick");
        CHECK_STR(acts[0].reason, "admin_kick");
        CHECK(acts[0].ban_until == T0 + 50 && acts[0].until == T0 + 100 && acts[0].done_at == 0);
        CHECK_STR(acts[1].role, "listener");
        CHECK_STR(acts[1].from_role, "member");
    }
    free(acts);
    CHECK(store_action_claim(st, id0, T0 + 11) == RK_OK);
    CHECK(store_action_claim(st, id0, T0 + 12) == RK_ECONFLICT); /* claimed once */
    CHECK(store_action_list(st, &pend, &acts, &n) == RK_OK && n == 1);
    free(acts);
    store_action_filter who = {.room = "live-room", .identity = "bob", .live_after = T0 + 20};
    CHECK(store_action_list(st, &who, &acts, &n) == RK_OK && n == 1); /* the ban's `until` */
    free(acts);
    who.since = T0 + 10; /* and the update, within the reader's window */
    CHECK(store_action_list(st, &who, &acts, &n) == RK_OK && n == 2);
    if (n == 2)
        CHECK(acts[0].done_at == T0 + 11);
    free(acts);
    who.since = 0;
    who.live_after = T0 + 100; /* past `until`: forgotten */
    CHECK(store_action_list(st, &who, &acts, &n) == RK_OK && n == 0);
    free(acts);
    who.since = T0 + 10; /* ... unless the reader's window still holds */
    CHECK(store_action_list(st, &who, &acts, &n) == RK_OK && n == 2);
    free(acts);
    who.since = T0 + 11;
    CHECK(store_action_list(st, &who, &acts, &n) == RK_OK && n == 0);
    free(acts);

    /* prune: old event ids, left rows and actions past their window go,
     * carried out (the kick) or still pending (the update: never carried
     * out once its window has passed); an action only once created before
     * the window too */
    CHECK(store_live_prune(st, T0 + 200, T0 + 10) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM live_actions") == 2);
    CHECK(store_live_prune(st, T0 + 200, T0 + 200) == RK_OK);
    CHECK(store_event_record(st, "EV_1", T0 + 300) == RK_OK);
    CHECK(store_event_seen(st, "EV_2", &seen) == RK_OK && !seen);                /* pruned */
    CHECK(count_rows("SELECT count(*) FROM presence WHERE sid = 'PA_a1'") == 0); /* left: pruned */
    CHECK(count_rows("SELECT count(*) FROM presence") == 3);
    CHECK(count_rows("SELECT count(*) FROM live_actions") == 0);

    /* the longest ban of a pair, found by the pair alone */
    store_action ban = k;
    snprintf(ban.identity, sizeof ban.identity, "bea");
    CHECK(store_action_add(st, &ban) == RK_OK);
    ban.ban_until = ban.until = T0 + 70;
    CHECK(store_action_add(st, &ban) == RK_OK);
    int64_t until = -1;
    CHECK(store_ban_until(st, "live-room", "bea", &until) == RK_OK && until == T0 + 70);
    CHECK(store_ban_until(st, "live-room", "be", &until) == RK_OK && until == 0);
    CHECK(store_ban_until(st, "other-room", "bea", &until) == RK_OK && until == 0);
    CHECK(store_ban_until(st, "", "bea", &until) == RK_EINVAL);
}

/* Statements the SQLite store runs, counted through a trace installed on
 * every connection the process opens from now on (sqlite3_auto_extension):
 * audit_inserts counts the INSERTs into audit, audit_insert_params the
 * parameters the largest of them had. */
static atomic_int audit_inserts, audit_insert_params;

static int trace_stmt(unsigned type, void *ctx, void *p, void *x)
{
    (void)type, (void)ctx, (void)x;
    sqlite3_stmt *st = p;
    if (strncmp(sqlite3_sql(st), "INSERT INTO audit ", 18) == 0) {
        atomic_fetch_add(&audit_inserts, 1);
        int n = sqlite3_bind_parameter_count(st);
        if (n > atomic_load(&audit_insert_params))
            atomic_store(&audit_insert_params, n);
    }
    return 0;
}

static int trace_on_open(sqlite3 *db, char **err, const void *api)
{
    (void)err, (void)api;
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_stmt, NULL);
    return SQLITE_OK;
}

/* A group of 32 records, the largest multi-row INSERT, goes into SQLite as
 * that one statement with a parameter for each of its 320 fields, not as
 * 32 statements of one record each. */
static void test_rows_one_statement(void)
{
    char why[256] = "";
    store *st = NULL;
    sqlite3_auto_extension((void (*)(void))trace_on_open);
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    if (st) {
        enum { N = 32 };
        static store_audit recs[N];
        const store_audit *ptrs[N];
        int rcs[N], ok = 0;
        for (int i = 0; i < N; i++) {
            char jti[32];
            snprintf(jti, sizeof jti, "group-%02d", i);
            recs[i] = mkaudit(jti, "grouper", "group-room", 3000 + i);
            ptrs[i] = &recs[i];
        }
        atomic_store(&audit_inserts, 0);
        atomic_store(&audit_insert_params, 0);
        CHECK(st->ops->audit_add_batch(st, ptrs, N, rcs) == RK_OK);
        for (int i = 0; i < N; i++)
            ok += rcs[i] == RK_OK;
        CHECK(ok == N);
        CHECK(atomic_load(&audit_inserts) == 1);
        CHECK(atomic_load(&audit_insert_params) == N * 10);
        CHECK(count_rows("SELECT count(*) FROM audit WHERE subject = 'grouper'") == N);
        store_close(st);
    }
    sqlite3_reset_auto_extension();
}

/* A VFS that hands everything to SQLite's default one and counts the
 * statement journals SQLite writes to a file. main makes it the default
 * before any store opens, so the write connection's VFS sits on it. */
static sqlite3_vfs *real_vfs, counting_vfs;
static atomic_int subjournal_files;

/* It also counts, per thread, the syncs of WAL files: a WAL file's methods
 * are SQLite's own but for xSync (the store's checkpointer syncs on a
 * thread of its own, so a thread's count is its own commits' syncs). */
static const sqlite3_io_methods *real_io;
static sqlite3_io_methods counting_io;
static _Thread_local int wal_syncs;
/* Writes reaching a WAL file (below the store's buffering, wal_writes.c),
 * and those of them that wrote again where an earlier write since the log
 * (re)started went (frames written twice). */
static atomic_int wal_writes, wal_rewrites;
static _Atomic sqlite3_int64 wal_high; /* the end of what was written since the log (re)started */

static int counting_sync(sqlite3_file *f, int flags)
{
    wal_syncs++;
    return real_io->xSync(f, flags);
}

static int counting_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off)
{
    atomic_fetch_add(&wal_writes, 1);
    if (off == 0)
        atomic_store(&wal_high, 0);
    else if (off < atomic_load(&wal_high))
        atomic_fetch_add(&wal_rewrites, 1);
    if (off + amt > atomic_load(&wal_high))
        atomic_store(&wal_high, off + amt);
    return real_io->xWrite(f, p, amt, off);
}

static int counting_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    if (flags & SQLITE_OPEN_SUBJOURNAL)
        atomic_fetch_add(&subjournal_files, 1);
    int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
    if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) && f->pMethods &&
        (f->pMethods == real_io || !real_io)) {
        if (!real_io) {
            real_io = f->pMethods;
            counting_io = *real_io;
            counting_io.xSync = counting_sync;
            counting_io.xWrite = counting_write;
        }
        f->pMethods = &counting_io;
    }
    return rc;
}

static void counting_vfs_register(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs)
        return;
    counting_vfs = *real_vfs;
    counting_vfs.pNext = NULL;
    counting_vfs.zName = "rk-test-counting";
    counting_vfs.xOpen = counting_open;
    CHECK(sqlite3_vfs_register(&counting_vfs, 1) == SQLITE_OK);
}

/* journal_rec makes audit record k of test_statement_journal: subject and
 * room of about 200 bytes, so their index entries fill many pages. */
static store_audit journal_rec(const char *kind, int k)
{
    char subject[STORE_MAX_NAME + 1], room[STORE_MAX_NAME + 1], jti[32];
    snprintf(subject, sizeof subject, "journal-%05d-%0190d", k, 0);
    snprintf(room, sizeof room, "journal-room-%05d-%0185d", k, 0);
    snprintf(jti, sizeof jti, "%s-%05d", kind, k);
    return mkaudit(jti, subject, room, 4000 + k);
}

/* A multi-row audit INSERT keeps its statement journal (the pages it
 * changes, as they were) in memory: a group of 32 records whose subjects
 * and rooms land on 64 different pages of their indexes, past the 64 KiB
 * SQLite otherwise keeps in memory, opens no file for it. And the group's
 * changed pages (about 90 here) stay in the writer's page cache until its
 * commit writes them to the WAL, in a few writes of the store's 64 KiB
 * buffer, none of them written before (nothing spilled mid-transaction). */
static void test_statement_journal(void)
{
    enum { N = 32, FILL = 64 * N };
    char why[256] = "";
    store *st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    if (!st)
        return;
    static store_audit recs[N];
    const store_audit *ptrs[N];
    int rcs[N], ok = 0;
    for (int g = 0; g <= FILL / N; g++) {
        for (int i = 0; i < N; i++) {
            /* the fill in groups of neighbours; then one record after
             * every 64th of them, so each lands on a page of its own */
            recs[i] = g < FILL / N ? journal_rec("fill", g * N + i) : journal_rec("spread", i * 64);
            ptrs[i] = &recs[i];
        }
        if (g == FILL / N) {
            atomic_store(&subjournal_files, 0);
            atomic_store(&wal_writes, 0);
            atomic_store(&wal_rewrites, 0);
        }
        CHECK(st->ops->audit_add_batch(st, ptrs, N, rcs) == RK_OK);
        for (int i = 0; i < N; i++)
            ok += rcs[i] == RK_OK;
    }
    CHECK(ok == FILL + N);
    CHECK(atomic_load(&subjournal_files) == 0);
    CHECK(atomic_load(&wal_rewrites) == 0);
    CHECK(atomic_load(&wal_writes) <= 8);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE jti LIKE 'spread-%'") == N);
    store_close(st);
}

/* Durable commits: every commit of the SQLite store syncs its WAL before
 * it returns (synchronous=FULL), so an audit record, or a membership
 * removed, that the store reported committed survives a power loss or an
 * operating system crash, not only RoomKey's own. Three audit groups and a
 * membership change after the first commit: four syncs on this thread. */
static void test_durable_commits(void)
{
    char why[256] = "";
    store *st = NULL;
    CHECK(store_open(db_path, &st, why, sizeof why) == RK_OK);
    if (!st)
        return;
    store_room r = {.mode = STORE_MODE_MEMBERS};
    snprintf(r.name, sizeof r.name, "durable-room");
    CHECK(store_room_create(st, &r) == RK_OK); /* the WAL exists from here */
    int before = wal_syncs;
    for (int g = 0; g < 3; g++) {
        store_audit recs[2];
        const store_audit *ptrs[2];
        int rcs[2];
        for (int i = 0; i < 2; i++) {
            char jti[32];
            snprintf(jti, sizeof jti, "durable-%d-%d", g, i);
            recs[i] = mkaudit(jti, "durable-subject", "durable-room", 5000 + g);
            ptrs[i] = &recs[i];
        }
        CHECK(st->ops->audit_add_batch(st, ptrs, 2, rcs) == RK_OK);
        CHECK(rcs[0] == RK_OK && rcs[1] == RK_OK);
    }
    CHECK(wal_syncs - before >= 3);
    store_member m = {0};
    snprintf(m.room, sizeof m.room, "durable-room");
    snprintf(m.subject, sizeof m.subject, "durable-subject");
    snprintf(m.role, sizeof m.role, "member");
    int mid = wal_syncs;
    CHECK(store_member_set(st, &m) == RK_OK);
    CHECK(wal_syncs - mid >= 1);
    store_close(st);
}

/* The audit writer's gathering (store/audit_queue.c): behind a backend
 * whose commits are slow (here each takes 2 ms, so the writer waits for
 * more records before the next), records from several threads each get
 * exactly one callback, with their own result, and every record is
 * written once; a queue freed while records wait still answers all of
 * them. Nothing here depends on how long anything takes. */
typedef struct slow_store {
    store base;
    atomic_size_t batches, records;
} slow_store;

static int slow_batch(store *self, const store_audit *const *recs, size_t n, int *rcs)
{
    slow_store *s = (slow_store *)self;
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    for (size_t i = 0; i < n; i++)
        rcs[i] = strncmp(recs[i]->jti, "dup-", 4) == 0 ? RK_ECONFLICT : RK_OK;
    atomic_fetch_add(&s->batches, 1);
    atomic_fetch_add(&s->records, n);
    return RK_OK;
}

#define GATHER_THREADS 4
#define GATHER_EACH    60

typedef struct gather_rec {
    store_audit a;
    atomic_int calls;
    atomic_int rc;
} gather_rec;

static gather_rec gather_recs[GATHER_THREADS * GATHER_EACH];
static atomic_int gather_done;

static void gather_cb(void *arg, int rc)
{
    gather_rec *r = arg;
    atomic_store(&r->rc, rc);
    atomic_fetch_add(&r->calls, 1);
    atomic_fetch_add(&gather_done, 1);
}

typedef struct gather_arg {
    audit_queue *q;
    int t;
} gather_arg;

static void *gather_submitter(void *p)
{
    gather_arg *g = p;
    for (int i = 0; i < GATHER_EACH; i++) {
        gather_rec *r = &gather_recs[g->t * GATHER_EACH + i];
        if (audit_queue_submit(g->q, &r->a, gather_cb, r) != RK_OK)
            atomic_store(&r->calls, -1000);
        if (i % 8 == 7) { /* arrive in waves, as requests do */
            struct timespec pause = {0, 500000};
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

static void test_audit_gather(void)
{
    static const store_ops ops = {.audit_add_batch = slow_batch};
    slow_store s = {.base = {.ops = &ops}};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < GATHER_THREADS * GATHER_EACH; i++) {
            gather_rec *r = &gather_recs[i];
            char jti[32];
            snprintf(jti, sizeof jti, "%s-%d-%zu", i % 10 == 3 ? "dup" : "ok", round, i);
            r->a = mkaudit(jti, "gatherer", "gather-room", 5000 + (int64_t)i);
            atomic_store(&r->calls, 0);
            atomic_store(&r->rc, 99);
        }
        atomic_store(&gather_done, 0);
        atomic_store(&s.records, 0);
        audit_queue *q = NULL;
        CHECK(audit_queue_new(&s.base, &q) == RK_OK);
        pthread_t th[GATHER_THREADS];
        gather_arg ga[GATHER_THREADS];
        for (int t = 0; t < GATHER_THREADS; t++) {
            ga[t] = (gather_arg){q, t};
            pthread_create(&th[t], NULL, gather_submitter, &ga[t]);
        }
        for (int t = 0; t < GATHER_THREADS; t++)
            pthread_join(th[t], NULL);
        /* round 0 waits for every answer; round 1 frees the queue at once */
        while (round == 0 && atomic_load(&gather_done) < GATHER_THREADS * GATHER_EACH) {
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
        }
        audit_queue_free(q);
        CHECK(atomic_load(&gather_done) == GATHER_THREADS * GATHER_EACH);
        CHECK(atomic_load(&s.records) == GATHER_THREADS * GATHER_EACH);
        size_t bad = 0;
        for (size_t i = 0; i < GATHER_THREADS * GATHER_EACH; i++) {
            gather_rec *r = &gather_recs[i];
            int want = i % 10 == 3 ? RK_ECONFLICT : RK_OK;
            bad += atomic_load(&r->calls) != 1 || atomic_load(&r->rc) != want;
        }
        CHECK(bad == 0);
    }
    CHECK(atomic_load(&s.batches) > 0);
}

static void run_suite(const char *name)
{
    char why[256] = "";
    store *st = NULL;
    atomic_store(&worker_errors, 0);
    CHECK(store_open(url, &st, why, sizeof why) == RK_OK);
    if (!st) {
        fprintf(stderr, "%s: store_open: %s\n", name, why);
        return;
    }
    test_rooms(st);
    test_room_update(st);
    test_members(st);
    test_audit_start(st);
    test_audit(st);
    test_injection(st);
    test_concurrency(st);
    test_batch(st);
    test_batch_rows(st);
    test_two_handles(st);
    test_seats(st);
    test_seat_race(st);
    test_meetings(st);
    test_live(st);
    test_prune(st);
    store_close(st);
}

/* store_url_redact: passwords never reach a message. */
static void test_redact(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"postgres://rk:s3cret@db.example:5432/roomkey",
         "postgres://rk:***@db.example:5432/roomkey"},
        {"postgresql://rk@db/roomkey?sslmode=require",
         "postgresql://rk@db/roomkey?sslmode=require"},
        {"POSTGRESQL://rk:a:b@c@h/x", "POSTGRESQL://rk:***@c@h/x"},
        {"postgres://rk:p?w&d=1@h/db?password=two&sslmode=require&password=three",
         "postgres://rk:***@h/db?password=***&sslmode=require&password=***"},
        {"postgres://h/db?pass%77ord=x1&passwordx=keep",
         "postgres://h/db?pass%77ord=***&passwordx=keep"},
        {"postgres://rk:@h/db", "postgres://rk:***@h/db"},
        {"postgres://h:5432/db?password=", "postgres://h:5432/db?password=***"},
        {"/var/lib/roomkey/rk:x@y.db", "/var/lib/roomkey/rk:x@y.db"},
        {"", ""},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_url_redact(cases[i].in, out, sizeof out);
        CHECK_STR(out, cases[i].out);
    }
    store_url_redact("postgres://rk:0123456789@host/db", out, 12); /* cut, still terminated */
    CHECK_STR(out, "postgres://");
    store_url_redact(NULL, out, sizeof out);
    CHECK_STR(out, "");
}

/* ---- PostgreSQL ------------------------------------------------------- */

static char pg_base[512]; /* ROOMKEY_TEST_PG_URL */

/* schema versions this file knows (3: seats and meetings, 4: live rooms, 5:
 * live_actions.from_role, 6: the change feed on meetings) */
#define PG_SCHEMA 7

/* pg_url_db writes pg_base with its database replaced by db into out. */
static void pg_url_db(const char *db, char *out, size_t cap)
{
    const char *host = strstr(pg_base, "://") + 3;
    const char *slash = strchr(host, '/');
    const char *query = strchr(host, '?');
    size_t head = slash ? (size_t)(slash - pg_base) : strlen(pg_base);
    snprintf(out, cap, "%.*s/%s%s", (int)head, pg_base, db, query ? query : "");
}

/* pg_admin runs sql (fixed text) on a new connection to the server's
 * roomkey database; false on error. */
static bool pg_admin(const char *sql)
{
    PGconn *c = libpq.PQconnectdb(pg_base);
    PGresult *r = libpq.PQexec(c, sql);
    bool ok =
        libpq.PQresultStatus(r) == PGRES_COMMAND_OK || libpq.PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pg_admin %s: %s", sql, libpq.PQerrorMessage(c));
    libpq.PQclear(r);
    libpq.PQfinish(c);
    return ok;
}

/* pg_exec runs sql (fixed text) on the test database; false on error. */
static bool pg_exec(const char *sql)
{
    PGresult *r = libpq.PQexec(pg, sql);
    bool ok =
        libpq.PQresultStatus(r) == PGRES_COMMAND_OK || libpq.PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pg_exec %s: %s", sql, libpq.PQerrorMessage(pg));
    libpq.PQclear(r);
    return ok;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* feed_now reads st's change feed counters. */
static store_pg_feed feed_now(store *st)
{
    store_pg_feed f = {0};
    CHECK(store_pg_feed_stats(st, &f) == RK_OK);
    return f;
}

/* wait_feed waits (liveness bound: 10 s) until st's feed is up, has
 * connected at least `connects` times and relayed at least `notes`
 * notifications; false when the bound passed. */
static bool wait_feed(store *st, uint64_t connects, uint64_t notes)
{
    for (int64_t end = mono_ms() + 10000; mono_ms() < end; usleep(2000)) {
        store_pg_feed f = {0};
        store_pg_feed_stats(st, &f);
        if (f.up && f.connects >= connects && f.notifications >= notes)
            return true;
    }
    return false;
}

static void test_open_pg(void)
{
    char why[256] = "";
    store *st = NULL;
    CHECK(store_open(url, &st, why, sizeof why) == RK_OK);
    if (!st) {
        fprintf(stderr, "store_open %s\n", why);
        return;
    }
    CHECK_STR(st->ops->name, "postgres");
    CHECK(store_ping(st) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM information_schema.tables WHERE table_schema ="
                     " current_schema() AND table_name IN"
                     " ('rooms', 'members', 'audit', 'schema_version', 'seats', 'meetings')") == 6);
    CHECK(count_rows("SELECT count(*) FROM pg_indexes WHERE indexname IN"
                     " ('audit_room_id', 'audit_subject_id')") == 2);
    CHECK(count_rows("SELECT count(*) FROM pg_trigger WHERE tgname IN"
                     " ('rooms_notify', 'members_notify')") == 2);
    CHECK(count_rows("SELECT count(*) FROM schema_version") == PG_SCHEMA);
    CHECK(count_rows("SELECT max(version) FROM schema_version") == PG_SCHEMA);
    CHECK(wait_feed(st, 1, 0));
    store_room r = mkroom("persist", "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(st, &r) == RK_OK);
    store_close(st);

    /* reopen, as postgres://: migrations don't run again, data stays */
    char alt[600];
    snprintf(alt, sizeof alt, "postgres://%s", strstr(url, "://") + 3);
    st = NULL;
    CHECK(store_open(alt, &st, why, sizeof why) == RK_OK);
    store_room got;
    CHECK(st && store_room_get(st, "persist", &got) == RK_OK);
    CHECK(st && store_room_delete(st, "persist") == RK_OK);
    store_close(st);
    CHECK(count_rows("SELECT count(*) FROM schema_version") == PG_SCHEMA);

    /* a database newer than this binary is refused */
    CHECK(pg_exec("INSERT INTO schema_version VALUES (99, 0)"));
    st = NULL;
    CHECK(store_open(url, &st, why, sizeof why) == RK_EIO);
    CHECK(st == NULL && strstr(why, "newer") != NULL);
    CHECK(pg_exec("DELETE FROM schema_version WHERE version = 99"));

    /* failures name the problem, never the password */
    char bad[600];
    const char *at = strchr(strstr(url, "://") + 3, '@');
    snprintf(bad, sizeof bad, "postgresql://roomkey:wrong-secret-x%s", at ? at : "@127.0.0.1/x");
    why[0] = '\0';
    CHECK(store_open(bad, &st, why, sizeof why) == RK_EIO);
    CHECK(why[0] != '\0' && strstr(why, "wrong-secret") == NULL);
    why[0] = '\0';
    CHECK(store_open("postgresql://roomkey:pw-secret-y@127.0.0.1:1/roomkey", &st, why,
                     sizeof why) == RK_EIO);
    CHECK(strstr(why, "connect") != NULL && strstr(why, "pw-secret") == NULL);
    why[0] = '\0';
    CHECK(store_open("postgresql://roomkey:bad%zzsecret@127.0.0.1:1/x", &st, why, sizeof why) ==
          RK_EIO);
    CHECK(why[0] != '\0' && strstr(why, "zzsecret") == NULL);
    CHECK(store_open("postgres://127.0.0.1:1/x?password=qq-secret-z", &st, why, sizeof why) ==
          RK_EIO);
    CHECK(strstr(why, "qq-secret") == NULL);
    CHECK(st == NULL);
}

struct opener {
    pthread_barrier_t *go;
    const char *url;
    int rc;
    char why[256];
};

static void *opener_main(void *arg)
{
    struct opener *o = arg;
    store *st = NULL;
    pthread_barrier_wait(o->go);
    o->rc = store_open(o->url, &st, o->why, sizeof o->why);
    store_close(st);
    return NULL;
}

/* Eight instances starting at once on a new database: the advisory lock
 * lets one migrate, the others find the schema current. */
static void test_migrate_race(void)
{
    char name[64], sql[128], race_url[600];
    snprintf(name, sizeof name, "rk_race_%d", (int)getpid());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    CHECK(pg_admin(sql));
    pg_url_db(name, race_url, sizeof race_url);
    enum { N = 8 };
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N);
    pthread_t th[N];
    struct opener o[N];
    for (int i = 0; i < N; i++) {
        o[i] = (struct opener){.go = &go, .url = race_url, .rc = 1};
        CHECK(pthread_create(&th[i], NULL, opener_main, &o[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK(o[i].rc == RK_OK);
        if (o[i].rc != RK_OK)
            fprintf(stderr, "opener %d: %s\n", i, o[i].why);
    }
    pthread_barrier_destroy(&go);
    PGconn *c = libpq.PQconnectdb(race_url);
    PGresult *r = libpq.PQexec(c, "SELECT count(*), max(version) FROM schema_version");
    CHECK(libpq.PQresultStatus(r) == PGRES_TUPLES_OK && libpq.PQntuples(r) == 1);
    if (libpq.PQntuples(r) == 1) {
        CHECK(atoi(libpq.PQgetvalue(r, 0, 0)) == PG_SCHEMA);
        CHECK(atoi(libpq.PQgetvalue(r, 0, 1)) == PG_SCHEMA);
    }
    libpq.PQclear(r);
    libpq.PQfinish(c);
    snprintf(sql, sizeof sql, "DROP DATABASE %s", name);
    CHECK(pg_admin(sql));
}

/* pg_wal_syncs reads the server's count of WAL syncs (pg_stat_wal); -1 on
 * error. */
static long long pg_wal_syncs(void)
{
    PGresult *r = libpq.PQexec(pg, "SELECT wal_sync FROM pg_stat_wal");
    long long n = libpq.PQresultStatus(r) == PGRES_TUPLES_OK && libpq.PQntuples(r) == 1
                      ? atoll(libpq.PQgetvalue(r, 0, 0))
                      : -1;
    libpq.PQclear(r);
    return n;
}

/* Durable commits on PostgreSQL: RoomKey's sessions commit with
 * synchronous_commit on even in a database whose default is off, so a
 * COMMIT is answered only once its WAL is flushed. There, 40 audit
 * records committed one by one make the server sync its WAL at least 40
 * times; with off, its WAL writer would flush a few times for all of them.
 * A session reports its figures to pg_stat_wal when it ends, so the count
 * is read once the store's sessions are gone (a wait for a condition, not
 * for a time). */
static void test_pg_durable(void)
{
    enum { N = 40 };
    char name[64], sql[160], durl[512], why[256] = "";
    snprintf(name, sizeof name, "rk_sync_%d", (int)getpid());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    CHECK(pg_admin(sql));
    snprintf(sql, sizeof sql, "ALTER DATABASE %s SET synchronous_commit = off", name);
    CHECK(pg_admin(sql));
    pg_url_db(name, durl, sizeof durl);
    long long before = pg_wal_syncs();
    store *st = NULL;
    CHECK(store_open(durl, &st, why, sizeof why) == RK_OK);
    for (int i = 0; st && i < N; i++) {
        char jti[32];
        snprintf(jti, sizeof jti, "sync-%d", i);
        store_audit a = mkaudit(jti, "sync-subject", "sync-room", 6000 + i);
        const store_audit *p = &a;
        int rc = RK_EIO;
        CHECK(st->ops->audit_add_batch(st, &p, 1, &rc) == RK_OK && rc == RK_OK);
    }
    store_close(st);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'", name);
    for (int i = 0; i < 600 && pg_count(sql) != 0; i++)
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    CHECK(pg_count(sql) == 0);
    long long after = pg_wal_syncs();
    CHECK(before >= 0 && after - before >= N);
    snprintf(sql, sizeof sql, "DROP DATABASE %s", name);
    CHECK(pg_admin(sql));
}

/* The change feed: a change by another instance, or by anyone with SQL,
 * drops a's cached lookups as soon as the notification arrives. */
static void test_feed(store *a)
{
    char why[256];
    store *b = NULL;
    CHECK(store_open(url, &b, why, sizeof why) == RK_OK);
    if (!b)
        return;
    CHECK(wait_feed(a, 1, 0));
    store_room r = mkroom("fed", "", STORE_MODE_MEMBERS, "member");
    CHECK(store_room_create(b, &r) == RK_OK);
    store_member m = mkmember("fed", "erin", "member");
    CHECK(store_member_set(b, &m) == RK_OK);
    store_member gm;
    CHECK(store_member_get(a, "fed", "erin", &gm) == RK_OK); /* cached in a */

    /* removed through b: once a's feed relayed a notification (sent at
     * b's commit), a's cache no longer answers "member" */
    store_pg_feed f = feed_now(a);
    CHECK(store_member_remove(b, "fed", "erin") == RK_OK);
    CHECK(wait_feed(a, 1, f.notifications + 1));
    CHECK(store_member_get(a, "fed", "erin", &gm) == RK_ENOTFOUND);

    /* a change made with plain SQL (psql, a migration tool) is seen too */
    f = feed_now(a);
    CHECK(store_member_set(b, &m) == RK_OK);
    CHECK(wait_feed(a, 1, f.notifications + 1));
    CHECK(store_member_get(a, "fed", "erin", &gm) == RK_OK);
    f = feed_now(a);
    CHECK(pg_exec("UPDATE members SET role = 'listener' WHERE room = 'fed'"));
    CHECK(wait_feed(a, 1, f.notifications + 1));
    CHECK(store_member_get(a, "fed", "erin", &gm) == RK_OK);
    CHECK_STR(gm.role, "listener");
    f = feed_now(a);
    CHECK(pg_exec("DELETE FROM rooms WHERE name = 'fed'")); /* cascades to members */
    CHECK(wait_feed(a, 1, f.notifications + 1));
    CHECK(store_member_get(a, "fed", "erin", &gm) == RK_ENOTFOUND);
    store_room gr;
    CHECK(store_room_get(a, "fed", &gr) == RK_ENOTFOUND);
    store_close(b);
}

/* Text PostgreSQL refuses (not UTF-8) is RK_EINVAL; in an audit batch it
 * fails only its own record. */
static void test_bad_text(store *st)
{
    store_member m = mkmember("standup", "bad\xff\xfe", "member");
    CHECK(store_member_set(st, &m) == RK_EINVAL);
    store_member gm;
    CHECK(store_member_get(st, "standup", "bad\xff", &gm) == RK_EINVAL);
    store_audit x = mkaudit("text-1", "texter", "r", 20);
    store_audit bad = mkaudit("text-2", "texter\xc3", "r", 21);
    store_audit y = mkaudit("text-3", "texter", "r", 22);
    const store_audit *recs[] = {&x, &bad, &y};
    int rcs[3] = {1, 1, 1};
    CHECK(st->ops->audit_add_batch(st, recs, 3, rcs) == RK_OK);
    CHECK(rcs[0] == RK_OK && rcs[1] == RK_EINVAL && rcs[2] == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE subject = 'texter'") == 2);
    CHECK(store_ping(st) == RK_OK); /* the connection is still fine */
}

/* An audit batch whose connection dies mid-transaction is written again on
 * a new connection. A trigger kills the session at its first INSERT, once
 * (a sequence is not rolled back). A record already logged with identical
 * fields (what a COMMIT whose answer was lost leaves) then counts as
 * written; one logged with other fields is still a conflict. */
static void test_lost_commit(store *st)
{
    CHECK(pg_exec("CREATE SEQUENCE chaos_once;"
                  "CREATE FUNCTION chaos() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                  " IF NEW.subject = 'chaos' AND nextval('chaos_once') = 1 THEN"
                  " PERFORM pg_terminate_backend(pg_backend_pid()); END IF;"
                  " RETURN NEW; END $$;"
                  "CREATE TRIGGER chaos BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION"
                  " chaos()"));
    store_audit a = mkaudit("chaos-a", "chaos", "r", 30);
    store_audit b = mkaudit("chaos-b", "chaos", "r", 31);
    store_audit c = mkaudit("chaos-c", "chaos", "r", 32);
    store_audit c_other = mkaudit("chaos-c", "someone-else", "r", 32);
    /* a: "committed, answer lost"; c's jti taken by another record */
    const store_audit *pre[] = {&a, &c_other};
    int prc[2] = {1, 1};
    CHECK(pg_exec("ALTER TABLE audit DISABLE TRIGGER chaos"));
    CHECK(st->ops->audit_add_batch(st, pre, 2, prc) == RK_OK && prc[0] == RK_OK && prc[1] == RK_OK);
    CHECK(pg_exec("ALTER TABLE audit ENABLE TRIGGER chaos"));
    const store_audit *recs[] = {&a, &b, &c};
    int rcs[3] = {1, 1, 1};
    CHECK(st->ops->audit_add_batch(st, recs, 3, rcs) == RK_OK);
    CHECK(rcs[0] == RK_OK && rcs[1] == RK_OK && rcs[2] == RK_ECONFLICT);
    CHECK(count_rows("SELECT last_value FROM chaos_once") >= 1); /* the kill did happen */
    CHECK(count_rows("SELECT count(*) FROM audit WHERE jti IN ('chaos-a', 'chaos-b')") == 2);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE jti = 'chaos-c' AND subject = "
                     "'someone-else'") == 1);
    /* outside a retry, an identical record is a conflict as before */
    CHECK(store_audit_add(st, &b) == RK_ECONFLICT);
    CHECK(pg_exec("DROP TRIGGER chaos ON audit; DROP FUNCTION chaos(); DROP SEQUENCE chaos_once"));
}

/* pg_ctl runs scripts/pg-test-server.sh VERB on the test server. */
static bool pg_ctl(const char *verb)
{
    const char *ctl = getenv("ROOMKEY_TEST_PG_CTL"), *pgdir = getenv("ROOMKEY_TEST_PG_DIR");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s '%s' >/dev/null", ctl, verb, pgdir);
    bool ok = system(cmd) == 0;
    if (strcmp(verb, "start") == 0)
        libpq.PQreset(pg);
    return ok;
}

/* The server stops, crashes and comes back: while it is away every call
 * that needs it fails (RK_EIO, never a stale answer from a dead session);
 * afterwards the same handle works again, and its feed reconnects. */
static void test_restart(store *st)
{
    if (!getenv("ROOMKEY_TEST_PG_CTL") || !getenv("ROOMKEY_TEST_PG_DIR")) {
        fprintf(stderr, "note: restart checks skipped (run under scripts/pg-test-server.sh run)\n");
        return;
    }
    store_room *rl = NULL;
    size_t n = 0;
    store_member gm;
    CHECK(store_room_list(st, &rl, &n) == RK_OK);
    free(rl);
    CHECK(wait_feed(st, 1, 0));
    store_pg_feed f = feed_now(st);

    /* a clean restart while idle: the first call after it just works */
    CHECK(pg_ctl("stop"));
    CHECK(pg_ctl("start"));
    CHECK(store_room_list(st, &rl, &n) == RK_OK && n > 0);
    free(rl);
    CHECK(wait_feed(st, f.connects + 1, 0));

    /* down: everything that needs the database fails closed */
    CHECK(pg_ctl("stop"));
    CHECK(store_ping(st) == RK_EIO);
    CHECK(store_room_list(st, &rl, &n) == RK_EIO);
    CHECK(store_member_get(st, "standup", "nobody-cached", &gm) == RK_EIO);
    store_audit a = mkaudit("down-1", "restart", "standup", 40);
    CHECK(store_audit_add(st, &a) == RK_EIO);
    f = feed_now(st);
    for (int64_t end = mono_ms() + 10000; f.up && mono_ms() < end; f = feed_now(st))
        usleep(2000); /* the feed notices the server is gone */
    CHECK(!f.up);
    CHECK(pg_ctl("start"));
    int64_t end = mono_ms() + 10000; /* failed connects pause new ones briefly */
    while (store_ping(st) != RK_OK && mono_ms() < end)
        usleep(20000);
    CHECK(store_ping(st) == RK_OK);
    CHECK(store_audit_add(st, &a) == RK_OK);
    CHECK(wait_feed(st, f.connects + 1, 0));

    /* a crash (SIGKILL of the postmaster) and crash recovery */
    f = feed_now(st);
    CHECK(pg_ctl("kill"));
    CHECK(pg_ctl("start"));
    a = mkaudit("crash-1", "restart", "standup", 41);
    CHECK(store_audit_add(st, &a) == RK_OK);
    store_member m = mkmember("standup", "after-crash", "member");
    CHECK(store_member_set(st, &m) == RK_OK);
    CHECK(store_member_get(st, "standup", "after-crash", &gm) == RK_OK);
    CHECK(count_rows("SELECT count(*) FROM audit WHERE subject = 'restart'") == 2);
    CHECK(wait_feed(st, f.connects + 1, 0));
}

/* Meetings on PostgreSQL: one transaction each, cascades, bytewise id
 * order, and the change feed seeing a meeting's room and membership. */
static void test_pg_meetings(store *a)
{
    char why[256];
    store *b = NULL;
    CHECK(store_open(url, &b, why, sizeof why) == RK_OK);
    if (!b)
        return;
    store_room room;
    CHECK(store_room_get(a, "room-Mx", &room) == RK_ENOTFOUND); /* cached "no" in a */
    CHECK(wait_feed(a, 1, 0));
    store_pg_feed f = feed_now(a);
    store_meeting m = mkmeet("Mx", "room-Mx", "hana");
    CHECK(store_meeting_create(b, &m, "moderator", "listener") == RK_OK);
    CHECK(wait_feed(a, 1, f.notifications + 1));
    CHECK(store_room_get(a, "room-Mx", &room) == RK_OK);
    CHECK(room.mode == STORE_MODE_MEMBERS);
    CHECK_STR(room.default_role, "listener");
    store_member mem;
    CHECK(store_member_get(a, "room-Mx", "hana", &mem) == RK_OK);
    CHECK_STR(mem.role, "moderator");
    store_meeting got;
    CHECK(store_meeting_get(a, "Mx", &got) == RK_OK);
    CHECK_STR(got.room, "room-Mx");
    CHECK_STR(got.heading, "About Mx");
    CHECK_STR(got.description, "");
    CHECK(got.created_at > 0 && got.updated_at == got.created_at);

    /* taken id, taken room name or alias: nothing is written */
    store_meeting dup = mkmeet("Mx", "room-other", "ivo");
    CHECK(store_meeting_create(a, &dup, "member", "member") == RK_ECONFLICT);
    CHECK(store_room_get(b, "room-other", &room) == RK_ENOTFOUND);
    dup = mkmeet("My", "C0123", "ivo"); /* standup's alias */
    CHECK(store_meeting_create(a, &dup, "member", "member") == RK_ECONFLICT);
    CHECK(store_meeting_get(a, "My", &got) == RK_ENOTFOUND);

    /* ids sort bytewise ("B" < "a"), as in SQLite */
    store_meeting m2 = mkmeet("a1", "room-a1", "hana");
    CHECK(store_meeting_create(a, &m2, "member", "member") == RK_OK);
    m2 = mkmeet("B1", "room-B1", "hana");
    CHECK(store_meeting_create(a, &m2, "member", "member") == RK_OK);
    store_meeting *list = NULL;
    size_t n = 0;
    CHECK(store_meeting_list(a, NULL, 0, &list, &n) == RK_OK);
    CHECK(n == 3 && strcmp(list[0].id, "B1") == 0 && strcmp(list[1].id, "Mx") == 0 &&
          strcmp(list[2].id, "a1") == 0);
    free(list);
    CHECK(store_meeting_list(a, "B1", 1, &list, &n) == RK_OK);
    CHECK(n == 1 && strcmp(list[0].id, "Mx") == 0);
    free(list);

    CHECK(store_meeting_set_status(b, "Mx", "COMPLETED") == RK_OK);
    CHECK(store_meeting_get(a, "Mx", &got) == RK_OK);
    CHECK_STR(got.status, "COMPLETED");
    CHECK(store_meeting_set_status(a, "nope", "COMPLETED") == RK_ENOTFOUND);

    /* delete takes the room, memberships and seats */
    store_seat s = mkseat("room-Mx", 1, "hana", T0 + 600);
    CHECK(store_seat_claim(a, &s, T0) == RK_OK);
    CHECK(store_meeting_delete(b, "Mx") == RK_OK);
    CHECK(store_meeting_delete(b, "Mx") == RK_ENOTFOUND);
    CHECK(store_meeting_get(a, "Mx", &got) == RK_ENOTFOUND);
    CHECK(count_rows("SELECT count(*) FROM members WHERE room = 'room-Mx'") == 0);
    CHECK(count_rows("SELECT count(*) FROM seats WHERE room = 'room-Mx'") == 0);
    CHECK(store_room_delete(a, "room-a1") == RK_OK); /* and a room takes its meeting */
    CHECK(store_meeting_get(a, "a1", &got) == RK_ENOTFOUND);
    CHECK(store_meeting_delete(a, "B1") == RK_OK);
    store_close(b);
}

/* run_pg runs the suite and PostgreSQL's own checks in a new database on
 * the server at base, then drops it. */
static void run_pg(const char *base)
{
    char name[64], sql[128], why[256] = "";
    /* libpq is loaded on first use (store/pq_lib.h); these checks call it
     * before any store does. */
    if (pq_lib_load(why, sizeof why) != RK_OK) {
        fprintf(stderr, "libpq: %s\n", why);
        CHECK(!"libpq loads");
        return;
    }
    snprintf(pg_base, sizeof pg_base, "%s", base);
    snprintf(name, sizeof name, "rk_store_%d", (int)getpid());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    if (!pg_admin(sql)) {
        CHECK(!"cannot create the PostgreSQL test database");
        return;
    }
    pg_url_db(name, url, sizeof url);
    pg = libpq.PQconnectdb(url);
    CHECK(libpq.PQstatus(pg) == CONNECTION_OK);

    test_open_pg();
    run_suite("postgres");
    test_migrate_race();
    test_pg_durable();
    store *st = NULL;
    CHECK(store_open(url, &st, why, sizeof why) == RK_OK);
    if (st) {
        test_feed(st);
        test_pg_meetings(st);
        test_bad_text(st);
        test_lost_commit(st);
        test_restart(st);
        store_close(st);
    }
    libpq.PQfinish(pg);
    pg = NULL;
    snprintf(sql, sizeof sql, "DROP DATABASE %s", name);
    CHECK(pg_admin(sql));
}

/* ---- conn_list: a connection passed from one thread to the next ------ */

static int conns_freed;

static void count_free(conn_link *c)
{
    conns_freed++;
    free(c);
}

/* take_conn is a thread that asks cl for its connection. */
static void *take_conn(void *cl)
{
    return conn_list_mine(cl);
}

static conn_link *mine_on_thread(conn_list *cl)
{
    pthread_t t;
    void *got = NULL;
    if (pthread_create(&t, NULL, take_conn, cl) != 0)
        return NULL;
    pthread_join(t, &got);
    return got;
}

/* A connection passed on goes to the next thread without one (the one
 * that passed it has none then), at most one waits, and close frees the
 * waiting one with the others. */
static void test_conn_pass(void)
{
    conn_list cl;
    conns_freed = 0;
    CHECK(conn_list_init(&cl, count_free) == RK_OK);
    conn_list_pass(&cl); /* nothing of this thread's yet: no effect */
    CHECK(conn_list_mine(&cl) == NULL);
    conn_link *c = calloc(1, sizeof *c);
    CHECK(c && conn_list_add(&cl, c) == RK_OK);
    CHECK(conn_list_mine(&cl) == c);
    CHECK(mine_on_thread(&cl) == NULL); /* not passed: another thread has none */
    conn_list_pass(&cl);
    CHECK(mine_on_thread(&cl) == c); /* taken; freed when that thread ended */
    CHECK(conns_freed == 1);
    CHECK(conn_list_mine(&cl) == NULL); /* this thread gave it away */
    conn_link *d = calloc(1, sizeof *d), *e = calloc(1, sizeof *e);
    CHECK(d && conn_list_add(&cl, d) == RK_OK);
    conn_list_pass(&cl); /* d waits */
    CHECK(e && conn_list_add(&cl, e) == RK_OK);
    conn_list_pass(&cl); /* d still waits: e stays this thread's */
    CHECK(conn_list_mine(&cl) == e);
    conn_list_close(&cl);
    CHECK(conns_freed == 3); /* d, waiting, and e */
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/rk-store-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db_path, sizeof db_path, "%s/roomkey.db", dir);
    snprintf(url, sizeof url, "%s", db_path);
    counting_vfs_register();

    test_redact();
    test_conn_pass();
    test_upgrade_v1();
    test_upgrade_v6();
    test_open_sqlite();
    run_suite("sqlite");
    test_wal_bounded();
    test_rows_one_statement();
    test_statement_journal();
    test_durable_commits();
    test_audit_gather();

    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);

    const char *base = getenv("ROOMKEY_TEST_PG_URL");
    if (base && *base)
        run_pg(base);
    else
        fprintf(stderr, "note: PostgreSQL suite skipped: ROOMKEY_TEST_PG_URL is not set"
                        " (make test starts a server and sets it)\n");
    return check_summary();
}
