/* test_wal_writes.c - the WAL-writes VFS (src/store/wal_writes.c) on a real
 * SQLite database in a temp dir. Below it sits a counting VFS (this file)
 * that counts the writes reaching each database's WAL file. Checked: a
 * commit reaches the WAL in one write (SQLite alone: two per page); every
 * commit is visible at once to a connection of the plain VFS; a
 * transaction larger than the buffer and than the page cache (frames
 * written before the commit, some written again) loses nothing and leaves
 * a sound database; a WAL write that fails fails its COMMIT, which then
 * left nothing behind; a new connection recovers every commit from the WAL
 * while the writer is still open. */
#include "../../src/store/wal_writes.h"
#include "../../src/util/err.h"
#include "check.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

/* ---- the counting VFS: the default one, with WAL writes counted ---------- */

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs counting_vfs;
static sqlite3_io_methods counting_methods; /* the wrapped WAL file's, xWrite counted */
static int (*real_write)(sqlite3_file *, const void *, int, sqlite3_int64);
static long wal_writes;  /* writes that reached any WAL file */
static bool fail_writes; /* WAL writes fail as a full disk's would */

static int counting_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off)
{
    wal_writes++;
    return fail_writes ? SQLITE_FULL : real_write(f, p, amt, off);
}

static int counting_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                         int *out)
{
    (void)vfs;
    int rc = unix_vfs->xOpen(unix_vfs, name, f, flags, out);
    if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL)) {
        real_write = f->pMethods->xWrite;
        counting_methods = *f->pMethods;
        counting_methods.xWrite = counting_write;
        f->pMethods = &counting_methods;
    }
    return rc;
}

/* install_counting makes the counting VFS the default, under the one
 * wal_writes_register wraps. */
static bool install_counting(void)
{
    unix_vfs = sqlite3_vfs_find(NULL);
    if (!unix_vfs)
        return false;
    counting_vfs = *unix_vfs;
    counting_vfs.zName = "counting";
    counting_vfs.pNext = NULL;
    counting_vfs.xOpen = counting_open;
    return sqlite3_vfs_register(&counting_vfs, 1) == SQLITE_OK;
}

/* ---- helpers ----------------------------------------------------------------- */

static sqlite3 *open_db(const char *path, const char *vfs)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    /* as the store's writer: WAL, synchronous=FULL, a small page cache */
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     " PRAGMA cache_size=-128",
                     NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static bool sound(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    return ok;
}

/* commit_rows inserts rows rows of size random bytes in one transaction
 * and returns the WAL writes it took (-1 when it failed). */
static long commit_rows(sqlite3 *db, int rows, int size)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)"
             " INSERT INTO t (v, k) SELECT randomblob(%d), hex(randomblob(8)) FROM s",
             rows, size);
    long before = wal_writes;
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? wal_writes - before : -1;
}

#define SCHEMA "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB, k TEXT UNIQUE)"

/* ---- tests ------------------------------------------------------------------- */

/* test_plain: what SQLite writes alone, the figure the VFS is measured by */
static void test_plain(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/plain.db", dir);
    sqlite3 *db = open_db(path, NULL);
    CHECK(db != NULL);
    CHECK(sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(commit_rows(db, 1, 100) >= 0);
    /* one row: the table's and the index's page, each a header and a page */
    CHECK(commit_rows(db, 1, 100) >= 4);
    sqlite3_close(db);
}

static void test_commits(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/ww.db", dir);
    sqlite3 *w = open_db(path, WAL_WRITES_VFS);
    sqlite3 *r = open_db(path, NULL);
    CHECK(w != NULL && r != NULL);
    CHECK(sqlite3_exec(w, SCHEMA, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(commit_rows(w, 1, 100) >= 1); /* the first also writes the WAL's header */
    int want = 1;
    bool one_write = true, visible = true;
    for (int i = 0; i < 200; i++) {
        int rows = 1 + i % 8;
        one_write &= commit_rows(w, rows, 100) == 1;
        want += rows;
        visible &= scalar(r, "SELECT count(*) FROM t") == want;
    }
    CHECK(one_write); /* a small commit: one write, whatever its pages */
    CHECK(visible);   /* each commit seen at once by the plain VFS */

    /* 4 MiB in one transaction: past the 128 KiB page cache (frames go
     * out before the commit and some are written again) and the buffer */
    long n = commit_rows(w, 2000, 2000);
    CHECK(n > (long)(2000 * 2000 / WAL_WRITES_BUF));
    want += 2000;
    CHECK(scalar(r, "SELECT count(*) FROM t") == want);
    CHECK(scalar(r, "SELECT count(*) FROM t WHERE length(v) = 2000") == 2000);
    CHECK(sound(r));

    /* a failed write fails the COMMIT itself (not later), and the commit
     * after it is whole */
    fail_writes = true;
    CHECK(commit_rows(w, 3, 100) == -1);
    fail_writes = false;
    CHECK(scalar(r, "SELECT count(*) FROM t") == want);
    CHECK(commit_rows(w, 2, 100) >= 1);
    want += 2;
    CHECK(scalar(r, "SELECT count(*) FROM t") == want);
    CHECK(sound(r));

    /* a new connection rebuilds the WAL index from the file alone */
    sqlite3_close(r);
    CHECK(sqlite3_exec(w, "INSERT INTO t (v, k) VALUES (x'01', 'last')", NULL, NULL, NULL) ==
          SQLITE_OK);
    r = open_db(path, NULL);
    CHECK(scalar(r, "SELECT count(*) FROM t") == want + 1);
    CHECK(sound(r));
    sqlite3_close(r);
    sqlite3_close(w);

    /* after the last close (checkpoint, WAL removed) it all is in the file */
    r = open_db(path, NULL);
    CHECK(scalar(r, "SELECT count(*) FROM t") == want + 1);
    CHECK(sound(r));
    sqlite3_close(r);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/rk-walw-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    CHECK(install_counting());
    CHECK(wal_writes_register() == RK_OK);
    CHECK(wal_writes_register() == RK_OK); /* once per process */
    CHECK(sqlite3_vfs_find(WAL_WRITES_VFS) != NULL);
    test_plain();
    test_commits();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
