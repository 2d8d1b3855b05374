/* test_wal_checkpointer.c - the WAL checkpointer (src/store/wal_checkpointer.c)
 * on a real SQLite database in a temp dir: the WAL is restarted while a
 * writer commits without pause, the work is done by the thread with the
 * writer copying only tails, nothing is lost, and a reader that pins the
 * WAL neither deadlocks the writer nor stops the restarts once it is gone. */
#include "../../src/store/wal_checkpointer.h"
#include "../../src/util/err.h"
#include "check.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];
static char wal_path[160];

/* The WAL file can't be longer than this while a checkpointer bounds it:
 * the hard limit plus the commit that crosses it (a few frames here), in
 * frames of 24 + 4096 bytes after the 32-byte header. */
#define WAL_BOUND ((off_t)(WAL_CKPT_HARD_FRAMES + 16) * (24 + 4096) + 32)

static off_t wal_size(void)
{
    struct stat sb;
    return stat(wal_path, &sb) == 0 ? sb.st_size : 0;
}

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        return NULL;
    sqlite3_busy_timeout(db, 5000); /* as the store's connections */
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    return db;
}

static int count_rows(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* commit_rows commits n transactions of 3 rows of 3000 random bytes each
 * (about three pages per commit) and returns the largest WAL size seen
 * after a commit; *ok turns false if a commit fails. */
static off_t commit_rows(sqlite3 *db, int n, bool *ok)
{
    sqlite3_stmt *st = NULL;
    off_t max = 0;
    if (sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (randomblob(3000))", -1, &st, NULL)) {
        *ok = false;
        return 0;
    }
    for (int i = 0; i < n && *ok; i++) {
        *ok = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
        for (int r = 0; r < 3 && *ok; r++) {
            *ok = sqlite3_step(st) == SQLITE_DONE;
            sqlite3_reset(st);
        }
        *ok = *ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
        if (!*ok)
            fprintf(stderr, "commit %d: %s (%d)\n", i, sqlite3_errmsg(db),
                    sqlite3_extended_errcode(db));
        off_t s = wal_size();
        if (s > max)
            max = s;
    }
    sqlite3_finalize(st);
    return max;
}

static void test_bounded(void)
{
    sqlite3 *db = open_db();
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK(sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)", NULL, NULL, NULL) ==
          SQLITE_OK);
    wal_checkpointer *w = NULL;
    CHECK(wal_checkpointer_new(db_path, &w) == RK_OK);
    if (!w) {
        sqlite3_close(db);
        return;
    }
    wal_checkpointer_attach(w, db);

    /* 5000 commits of ~3 pages: over 15,000 WAL frames, nearly four
     * times the hard limit, with no pause between commits. */
    bool ok = true;
    off_t max = commit_rows(db, 5000, &ok);
    CHECK(ok);
    CHECK(max > 0 && max <= WAL_BOUND);
    if (max > WAL_BOUND)
        fprintf(stderr, "WAL grew to %lld bytes (bound %lld)\n", (long long)max,
                (long long)WAL_BOUND);
    wal_ckpt_stats s;
    wal_checkpointer_stats(w, &s);
    CHECK(s.passes >= 1); /* the thread did the bulk */
    CHECK(s.tails >= 1);  /* and the writer copied tails, which restarts the WAL */
    CHECK(s.failures == 0);
    CHECK(count_rows(db) == 15000);

    /* A reader pinning an old snapshot: no frame after it can be copied,
     * so the WAL must grow; commits go on (no deadlock on the hard-limit
     * wait) and the reader still sees its snapshot. */
    sqlite3 *rd = open_db();
    sqlite3_stmt *pin = NULL;
    CHECK(rd && sqlite3_prepare_v2(rd, "SELECT count(*) FROM t", -1, &pin, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(rd, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(pin) == SQLITE_ROW && sqlite3_column_int(pin, 0) == 15000);
    sqlite3_reset(pin);
    commit_rows(db, 2000, &ok);
    CHECK(ok);
    CHECK(sqlite3_step(pin) == SQLITE_ROW && sqlite3_column_int(pin, 0) == 15000);
    sqlite3_reset(pin);
    CHECK(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    off_t pinned = wal_size();
    CHECK(pinned > WAL_BOUND);

    /* With the reader gone the WAL restarts again: more commits than the
     * file holds, and it grows by at most the commit that comes first. */
    wal_checkpointer_stats(w, &s);
    uint64_t tails = s.tails;
    max = commit_rows(db, 5000, &ok);
    CHECK(ok);
    CHECK(max >= pinned && max <= pinned + 16 * (24 + 4096));
    if (max > pinned + 16 * (24 + 4096))
        fprintf(stderr, "WAL %lld bytes after the reader, %lld while pinned\n", (long long)max,
                (long long)pinned);
    wal_checkpointer_stats(w, &s);
    CHECK(s.tails > tails);
    CHECK(s.failures == 0);
    CHECK(count_rows(rd) == 36000);
    sqlite3_finalize(pin);
    sqlite3_close(rd);

    sqlite3_close(db);
    wal_checkpointer_free(w);

    /* Everything is in the database file. */
    db = open_db();
    CHECK(db && count_rows(db) == 36000);
    sqlite3_stmt *ic = NULL;
    CHECK(db && sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &ic, NULL) == SQLITE_OK &&
          sqlite3_step(ic) == SQLITE_ROW &&
          strcmp((const char *)sqlite3_column_text(ic, 0), "ok") == 0);
    sqlite3_finalize(ic);
    sqlite3_close(db);
}

/* A checkpointer whose thread never started frees without waiting. */
static void test_unused(void)
{
    wal_checkpointer *w = NULL;
    CHECK(wal_checkpointer_new(db_path, &w) == RK_OK);
    wal_ckpt_stats s;
    wal_checkpointer_stats(w, &s);
    CHECK(s.passes == 0 && s.tails == 0 && s.inline_ == 0);
    wal_checkpointer_free(w);
    wal_checkpointer_free(NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/rk-wal-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db_path, sizeof db_path, "%s/wal.db", dir);
    snprintf(wal_path, sizeof wal_path, "%s-wal", db_path);

    test_unused();
    test_bounded();

    char p[192];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
    return check_summary();
}
