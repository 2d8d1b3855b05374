/* store_sqlite.c - the SQLite backend of the store (store.h): rooms,
 * memberships and the audit log in one database file.
 *
 * Threads: every calling thread gets its own connection, opened lazily on
 * its first call (conn_list.h: found through a pthread key, closed when the
 * thread exits; store_close closes the rest). Connections are opened
 * SQLITE_OPEN_NOMUTEX (each is used by one thread only). Writers wait for
 * each other through busy_timeout; WAL mode lets readers run while one
 * thread writes, and lets another process (the CLI) change the file while
 * the server runs. The write connection's checkpoints run on a thread of
 * their own (wal_checkpointer.h), not inside its commits.
 *
 * Seats and meetings (schema version 2) live in tables of their own that
 * reference rooms(name) ON DELETE CASCADE.
 *
 * SQL: every statement is fixed text with bound parameters, prepared once
 * per connection (SQLITE_PREPARE_PERSISTENT) and reset after each use. No
 * value is ever formatted into SQL. The schema keeps to types and
 * constructs PostgreSQL shares (TEXT, INTEGER, BIGINT, UNIQUE, REFERENCES
 * ... ON DELETE CASCADE, INSERT ... ON CONFLICT) so its backend can use the
 * same tables. */
#include "store_sqlite.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "conn_list.h"
#include "store_sql.h"
#include "wal_checkpointer.h"
#include "wal_writes.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

/* The schema (store_sql.h), applied in one transaction at open. */
#define SCHEMA_VERSION STORE_SQL_VERSIONS
#define MIGRATIONS     store_sql_sqlite_schema

/* Statements cached per connection: the shared ones (store_sql.h), then
 * SQLite's own. The audit list has one slot per combination of filters
 * (S_AUDIT_LIST + a mask of AF_* bits); the audit insert has one slot per
 * multi-row size (S_AUDIT_ROWS + k inserts 2 << k rows, up to
 * AUDIT_MAX_ROWS). */
enum {
    S_BEGIN = SQL_SHARED_COUNT,
    S_ROLLBACK,
    S_AUDIT_ADD,
    S_SEAT_CLAIM,
    S_SEAT_DROP_OTHERS,
    S_AUDIT_WINDOW_END,
    S_AUDIT_PRUNE,
    S_AUDIT_LIST,
    S_AUDIT_ROWS = S_AUDIT_LIST + AF_COMBINATIONS,
    S_COUNT = S_AUDIT_ROWS + 5,
};

/* The largest multi-row audit INSERT (a power of two: 2 << 4). One
 * statement for many rows costs SQLite far less per row than a statement
 * per row (bench/audit_floor). */
#define AUDIT_MAX_ROWS 32

/* The multi-row audit INSERT's text: AUDIT_ROWS_HEAD, then one group of
 * SQL_AUDIT_NCOLS anonymous parameters per row, "(?, ?, ..., ?)" (3 bytes
 * per parameter, less the last one's ", ", plus the parentheses), the
 * groups joined by ", ". AUDIT_ROWS_SQL_MAX bounds the largest with its
 * NUL. */
#define AUDIT_ROWS_HEAD      "INSERT INTO audit (" SQL_AUDIT_INSERT_COLS ") VALUES "
#define AUDIT_ROWS_GROUP_LEN (3 * SQL_AUDIT_NCOLS)
#define AUDIT_ROWS_SQL_MAX                                                                         \
    (sizeof AUDIT_ROWS_HEAD + AUDIT_MAX_ROWS * (AUDIT_ROWS_GROUP_LEN + 2) - 2)

/* Every statement's text fits this (stmt_text). */
#define STMT_SQL_MAX 2048
_Static_assert(AUDIT_ROWS_SQL_MAX <= STMT_SQL_MAX,
               "the largest audit INSERT must fit STMT_SQL_MAX");

/* SQLite's own statements (the rest are in store_sql_text; the audit
 * inserts are made by audit_rows_sql). */
static const char *const SQL[S_AUDIT_LIST] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_ROLLBACK] = "ROLLBACK",
    /* The claim is this one statement (no row changed: another subject
     * holds the seat); then the subject's other seats go. */
    [S_SEAT_CLAIM] = SQL_SEAT_UPSERT,
    /* Retention: the id just past a window of ?2 records from id ?1 on (no
     * row: the window reaches the newest record), then one window's delete.
     * Both walk the rowid B-tree only; issued_at has no index. The newest
     * record always stays: a new rowid is the largest plus one, so ids
     * never repeat. */
    [S_AUDIT_WINDOW_END] = "SELECT id FROM audit WHERE id >= ?1 ORDER BY id LIMIT 1 OFFSET ?2",
    [S_AUDIT_PRUNE] = "DELETE FROM audit WHERE id >= ?1 AND id < ?2 AND issued_at < ?3"
                      " AND id < (SELECT max(id) FROM audit)",
    [S_SEAT_DROP_OTHERS] = "DELETE FROM seats WHERE room = ?1 AND subject = ?2 AND seat <> ?3",
};

typedef struct sq_store sq_store;

/* One thread's connection with its prepared statements. */
typedef struct sq_conn {
    conn_link link; /* first: in the store's conns (the writer: in none) */
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
} sq_conn;

struct sq_store {
    store base; /* first: a store * is a sq_store * */
    char *path;
    conn_list conns;        /* every thread's read connection */
    pthread_mutex_t wmu;    /* serialises this process's writers (see WRITE_LOCKED) */
    sq_conn *writer;        /* the one connection every write uses, under wmu */
    wal_checkpointer *ckpt; /* the writer's checkpoints (instead of SQLite's auto-checkpoint) */
};

/* map_err turns a SQLite (extended) result code into an RK_* code.
 * Uniqueness violations are conflicts; a missing parent row (foreign key) is
 * RK_ENOTFOUND. Busy/locked only surface after busy_timeout ran out. */
static int map_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return RK_OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return RK_ECONFLICT;
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return RK_ENOTFOUND;
        return RK_EINVAL;
    case SQLITE_NOMEM:
        return RK_ENOMEM;
    case SQLITE_TOOBIG:
        return RK_ETOOBIG;
    default:
        return RK_EIO;
    }
}

/* as_err is map_err for a code known to be a failure: never RK_OK. */
static int as_err(int rc)
{
    int e = map_err(rc);
    return e ? e : RK_EIO;
}

/* conn_close finalizes c's statements, closes its database and frees c.
 * The caller has already unlinked c from its store. NULL is fine. */
static void conn_close(sq_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    free(c);
}

/* conn_free is the conn_list's way to free a connection. */
static void conn_free(conn_link *l)
{
    conn_close((sq_conn *)l);
}

/* journal_mode_cb records the mode PRAGMA journal_mode reports into the
 * caller's buffer (16 bytes). */
static int journal_mode_cb(void *arg, int ncol, char **vals, char **names)
{
    (void)names;
    if (ncol > 0 && vals[0])
        snprintf(arg, 16, "%s", vals[0]);
    return 0;
}

/* open_failure writes why sqlite3_open_v2 failed on path into why: a
 * file that cannot be opened because its folder is missing, not a folder,
 * or not writable says so (SQLite only says "unable to open database
 * file"). */
static void open_failure(const char *path, sqlite3 *db, char *why, size_t cap)
{
    char dir[1024];
    const char *slash = strrchr(path, '/');
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    struct stat st;
    if (sqlite3_errcode(db) != SQLITE_CANTOPEN || !slash || n >= sizeof dir) {
        rk_fail(RK_EIO, why, cap, "%s", sqlite3_errmsg(db));
        return;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (stat(dir, &st) != 0)
        rk_fail(RK_EIO, why, cap,
                "the folder %s does not exist: create it first (mkdir -p %s) or choose another "
                "database path",
                dir, dir);
    else if (!S_ISDIR(st.st_mode))
        rk_fail(RK_EIO, why, cap, "%s is not a folder", dir);
    else if (access(dir, W_OK | X_OK) != 0)
        rk_fail(RK_EIO, why, cap, "the folder %s is not writable by this user", dir);
    else
        rk_fail(RK_EIO, why, cap, "%s", sqlite3_errmsg(db));
}

/* create_private creates path as an empty file readable by its owner only,
 * when it does not exist yet (an empty file is an empty SQLite database).
 * SQLite gives the -wal and -shm files the database's mode, so the audit
 * (identities, client addresses) is private whatever the umask. A failure
 * is left to sqlite3_open_v2 to report. */
static void create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

/* conn_open opens a new connection to path through the VFS named vfs
 * (NULL: the default) and sets it up (WAL, busy timeout, foreign keys).
 * create allows creating the file (mode 0600). On success the caller owns
 * *out (conn_close); on failure why says why. */
static int conn_open(const char *path, const char *vfs, bool create, sq_conn **out, char *why,
                     size_t cap)
{
    sq_conn *c = calloc(1, sizeof *c);
    if (!c)
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (create)
        create_private(path);
    int rc = sqlite3_open_v2(path, &c->db, flags, vfs);
    if (!c->db) {
        free(c);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    if (rc != SQLITE_OK) {
        open_failure(path, c->db, why, cap);
        conn_close(c);
        return as_err(rc);
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    char mode[16] = "";
    rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", journal_mode_cb, mode, NULL);
    if (rc == SQLITE_OK && strcmp(mode, "wal") != 0) {
        rk_fail(RK_EIO, why, cap, "cannot switch to WAL mode (journal mode is \"%s\")", mode);
        conn_close(c);
        return RK_EIO;
    }
    if (rc == SQLITE_OK)
        /* synchronous=FULL: a commit syncs the WAL before it returns, so
         * what the store reported committed (an audit record a token waited
         * for, a membership removed) survives a power loss or an operating
         * system crash; with NORMAL, WAL mode keeps it only across a crash
         * of this process. cache_size: 512 KiB per connection (SQLite's
         * default is 2 MiB): readers are mostly spared by the lookup cache;
         * the writer's holds what a group's transaction changes
         * (writer_adopt). */
        rc = sqlite3_exec(c->db,
                          "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                          " PRAGMA cache_size=-512",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rk_fail(RK_EIO, why, cap, "%s", sqlite3_errmsg(c->db));
        conn_close(c);
        return as_err(rc);
    }
    *out = c;
    return RK_OK;
}

/* audit_rows_sql writes an INSERT of rows audit records (1..AUDIT_MAX_ROWS)
 * into buf (cap >= AUDIT_ROWS_SQL_MAX): the fixed column list and one group
 * of SQL_AUDIT_NCOLS anonymous parameters per row, bound later by position.
 * RK_ETOOBIG when it does not fit. */
static int audit_rows_sql(size_t rows, char *buf, size_t cap)
{
    size_t n = sizeof AUDIT_ROWS_HEAD - 1;
    if (rows < 1 || rows > AUDIT_MAX_ROWS || cap < AUDIT_ROWS_SQL_MAX)
        return RK_ETOOBIG;
    memcpy(buf, AUDIT_ROWS_HEAD, n);
    for (size_t r = 0; r < rows; r++) {
        if (r) {
            memcpy(buf + n, ", ", 2);
            n += 2;
        }
        buf[n++] = '(';
        for (int k = 0; k < SQL_AUDIT_NCOLS; k++) {
            memcpy(buf + n, k ? ", ?" : "?", k ? 3 : 1);
            n += k ? 3 : 1;
        }
        buf[n++] = ')';
    }
    buf[n] = '\0';
    return RK_OK;
}

/* stmt_text writes the SQL of statement id into buf (cap >= STMT_SQL_MAX),
 * in SQLite's parameter form. */
static int stmt_text(int id, char *buf, size_t cap)
{
    char gen[STMT_SQL_MAX];
    const char *sql = id < SQL_SHARED_COUNT ? store_sql_text[id] : SQL[id < S_AUDIT_LIST ? id : 0];
    if (id >= S_AUDIT_ROWS || id == S_AUDIT_ADD) {
        size_t rows = id == S_AUDIT_ADD ? 1 : (size_t)2 << (id - S_AUDIT_ROWS);
        int rc = audit_rows_sql(rows, gen, sizeof gen);
        if (rc)
            return rc;
        sql = gen;
    } else if (id >= S_AUDIT_LIST) {
        store_sql_audit_list((unsigned)(id - S_AUDIT_LIST), gen, sizeof gen);
        sql = gen;
    }
    return store_sql_sqlite_text(sql, buf, cap);
}

/* stmt_get returns connection c's cached statement id, preparing it on
 * first use. The statement stays owned by c; callers reset it with
 * stmt_done after use. */
static int stmt_get(sq_conn *c, int id, sqlite3_stmt **out)
{
    if (!c->stmt[id]) {
        char sql[STMT_SQL_MAX];
        int rc = stmt_text(id, sql, sizeof sql);
        if (rc)
            return rc;
        rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(c->stmt[id]);
            c->stmt[id] = NULL;
            return as_err(rc);
        }
    }
    *out = c->stmt[id];
    return RK_OK;
}

/* stmt_done resets st and drops its bindings so it can be reused. */
static void stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* bind_text binds s (NULL binds SQL NULL) to parameter i. SQLITE_STATIC:
 * s must stay valid until stmt_done, which every caller guarantees. */
static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* stmt_vbind returns connection c's cached statement id with its
 * parameters bound from ap, one per letter of types: 't' a const char *
 * (NULL binds SQL NULL; it must stay valid until stmt_done), 'i' an
 * int64_t. On failure nothing is left bound. */
static int stmt_vbind(sq_conn *c, int id, sqlite3_stmt **out, const char *types, va_list ap)
{
    sqlite3_stmt *st;
    int rc = stmt_get(c, id, &st);
    if (rc)
        return rc;
    for (int i = 0; rc == SQLITE_OK && types[i]; i++)
        rc = types[i] == 't' ? bind_text(st, i + 1, va_arg(ap, const char *))
                             : sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
    if (rc != SQLITE_OK) {
        stmt_done(st);
        return RK_EIO;
    }
    *out = st;
    return RK_OK;
}

/* stmt_bind is stmt_vbind with the parameters as arguments. */
static int stmt_bind(sq_conn *c, int id, sqlite3_stmt **out, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = stmt_vbind(c, id, out, types, ap);
    va_end(ap);
    return rc;
}

/* sq_pass_conn passes this thread's reader on (store_pass_conn). */
static void sq_pass_conn(store *self)
{
    conn_list_pass(&((sq_store *)self)->conns);
}

/* conn_get returns this thread's connection to self, opening it on the
 * thread's first call. The store owns it. */
static int conn_get(store *self, sq_conn **out)
{
    sq_store *s = (sq_store *)self;
    sq_conn *c = (sq_conn *)conn_list_mine(&s->conns);
    if (!c) {
        int rc = conn_open(s->path, NULL, false, &c, NULL, 0);
        if (rc)
            return rc;
        if ((rc = conn_list_add(&s->conns, &c->link)))
            return rc;
    }
    *out = c;
    return RK_OK;
}

/* writer_vfs is the VFS the write connection opens through: its WAL frames
 * go out in one write per commit (wal_writes.h); without that VFS (NULL),
 * as SQLite writes them. */
static const char *writer_vfs(void)
{
    return wal_writes_register() == RK_OK ? WAL_WRITES_VFS : NULL;
}

/* writer_adopt makes c, a connection opened through writer_vfs that nobody
 * else uses, s's write connection; on failure c is closed. Called with wmu held or before any
 * other thread uses s. */
static int writer_adopt(sq_store *s, sq_conn *c)
{
    /* The writer keeps every connection's 512 KiB page cache: what a
     * group's transaction changes stays in it until its commit writes it to
     * the WAL (wal_writes.c: in a few large writes). A cache smaller than
     * a group's changed pages (on a large store each record changes index
     * pages of its own) spills them to the WAL mid-transaction, writes them
     * again when they change once more, and reads back those it evicted:
     * with 128 KiB, 44-55 WAL writes a commit instead of 3-5, and 9-11 us
     * more of the writer's CPU per token under `make bench-scale`.
     * temp_store=MEMORY: a multi-row audit INSERT inside the group's
     * transaction keeps a statement journal (the pages it changes, as they
     * were, so a refused record undoes only its statement). SQLite writes
     * one over 64 KiB to a temporary file, a pwrite per page, and on a
     * large store each record changes index pages of its own; in memory it
     * holds at most the pages of one INSERT of AUDIT_MAX_ROWS records and is
     * freed when the statement ends. */
    if (sqlite3_exec(c->db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL) != SQLITE_OK) {
        conn_close(c);
        return RK_EIO;
    }
    wal_checkpointer_attach(s->ckpt, c->db);
    s->writer = c;
    return RK_OK;
}

/* writer_get returns self's write connection, opening it on first use.
 * Called with wmu held. Every write goes through this one connection, so
 * its page cache stays valid from one write to the next (a connection
 * whose database another connection changed must re-read its pages). */
static int writer_get(store *self, sq_conn **out)
{
    sq_store *s = (sq_store *)self;
    if (!s->writer) {
        sq_conn *c;
        int rc = conn_open(s->path, writer_vfs(), false, &c, NULL, 0);
        if (rc || (rc = writer_adopt(s, c)))
            return rc;
    }
    *out = s->writer;
    return RK_OK;
}

/* exec_simple steps cached statement id (no parameters, no rows). */
static int exec_simple(sq_conn *c, int id)
{
    sqlite3_stmt *st;
    int rc = stmt_get(c, id, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    stmt_done(st);
    return map_err(rc);
}

/* col_text copies text column i of the current row into dst (capacity
 * cap); SQL NULL becomes "". RK_ETOOBIG when it doesn't fit. */
static int col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t) {
        dst[0] = '\0';
        return sqlite3_column_type(st, i) == SQLITE_NULL ? RK_OK : RK_ENOMEM;
    }
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    if (n >= cap)
        return RK_ETOOBIG;
    memcpy(dst, t, n);
    dst[n] = '\0';
    return RK_OK;
}

/* A cell reader over the current row of a statement (store_sql.h). */
typedef struct sq_cells {
    store_cells base; /* first */
    sqlite3_stmt *st;
} sq_cells;

static int cell_text(const store_cells *c, int col, char *dst, size_t cap)
{
    return col_text(((const sq_cells *)c)->st, col, dst, cap);
}

static int64_t cell_int(const store_cells *c, int col)
{
    return sqlite3_column_int64(((const sq_cells *)c)->st, col);
}

/* get_one steps bound statement st and reads its first row into dst of
 * size elem (filled only on success); RK_ENOTFOUND without a row. Resets
 * st. */
static int get_one(sqlite3_stmt *st, size_t elem, const store_sql_col *row, void *dst)
{
    sq_cells cells = {{cell_text, cell_int}, st};
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        void *tmp = calloc(1, elem);
        if (!tmp) {
            rc = RK_ENOMEM;
        } else {
            rc = store_sql_decode(row, &cells.base, tmp);
            if (!rc)
                memcpy(dst, tmp, elem);
            free(tmp);
        }
    } else {
        rc = rc == SQLITE_DONE ? RK_ENOTFOUND : map_err(rc);
    }
    stmt_done(st);
    return rc;
}

/* collect steps bound statement st and returns its rows (at most
 * STORE_MAX_LIST) as a new array of records of size elem in *out, which the
 * caller frees with free(); *out is NULL when *n is 0. Resets st. */
static int collect(sqlite3_stmt *st, size_t elem, const store_sql_col *row, void **out, size_t *n)
{
    sq_cells cells = {{cell_text, cell_int}, st};
    char *arr = NULL;
    size_t len = 0, cap = 0;
    int rc = RK_OK, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW && len < STORE_MAX_LIST) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            if (ncap > STORE_MAX_LIST)
                ncap = STORE_MAX_LIST;
            char *p = realloc(arr, ncap * elem);
            if (!p) {
                rc = RK_ENOMEM;
                break;
            }
            arr = p;
            cap = ncap;
        }
        memset(arr + len * elem, 0, elem);
        if ((rc = store_sql_decode(row, &cells.base, arr + len * elem)))
            break;
        len++;
    }
    if (!rc && s != SQLITE_ROW && s != SQLITE_DONE)
        rc = map_err(s);
    stmt_done(st);
    if (rc) {
        free(arr);
        return rc;
    }
    *out = arr;
    *n = len;
    return RK_OK;
}

/* schema_version reads the database's schema version into *version
 * (0 for a new database), creating its table when missing. */
static int schema_version(sqlite3 *db, int *version, char *why, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(db, SQL_SCHEMA_VERSION_TABLE, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, SQL_SCHEMA_VERSION_GET, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return rk_fail(RK_EIO, why, cap, "cannot read the schema version: %s", sqlite3_errmsg(db));
    if (*version > SCHEMA_VERSION)
        return rk_fail(RK_EIO, why, cap,
                       "the database has schema version %d, newer than this roomkey knows (%d)",
                       *version, SCHEMA_VERSION);
    return RK_OK;
}

/* migrate_locked brings c's database to SCHEMA_VERSION in one IMMEDIATE
 * transaction; a database already there is left alone. */
static int migrate_locked(sq_conn *c, char *why, size_t cap)
{
    sqlite3 *db = c->db;
    char add[128];
    int version = 0, rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return rk_fail(RK_EIO, why, cap, "cannot lock the database: %s", sqlite3_errmsg(db));
    if (schema_version(db, &version, why, cap) != RK_OK)
        goto rollback;
    rc = store_sql_sqlite_text(SQL_SCHEMA_VERSION_ADD, add, sizeof add) == RK_OK
             ? sqlite3_prepare_v2(db, add, -1, &st, NULL)
             : SQLITE_TOOBIG;
    for (int v = version; rc == SQLITE_OK && v < SCHEMA_VERSION; v++) {
        rc = sqlite3_exec(db, MIGRATIONS[v], NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, v + 1);
            sqlite3_bind_int64(st, 2, clock_now());
            rc = sqlite3_step(st);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
            sqlite3_reset(st);
        }
        if (rc != SQLITE_OK)
            rk_fail(RK_EIO, why, cap, "migration to schema version %d failed: %s", v + 1,
                    sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        if (cap && why && !why[0])
            rk_fail(RK_EIO, why, cap, "migration failed: %s", sqlite3_errmsg(db));
        goto rollback;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rk_fail(RK_EIO, why, cap, "cannot commit the schema: %s", sqlite3_errmsg(db));
        goto rollback;
    }
    return RK_OK;
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return RK_EIO;
}

/* migrate is migrate_locked with foreign keys off: a migration that
 * rebuilds a table others refer to (rooms, version 7) drops the old one,
 * which with foreign keys on would first delete every row that refers to
 * it (ON DELETE CASCADE). The rebuilt table keeps every key, so the
 * references hold; c has foreign keys on again afterwards. SQLite ignores
 * the pragma inside a transaction, hence around it. */
static int migrate(sq_conn *c, char *why, size_t cap)
{
    if (sqlite3_exec(c->db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL) != SQLITE_OK)
        return rk_fail(RK_EIO, why, cap, "%s", sqlite3_errmsg(c->db));
    int rc = migrate_locked(c, why, cap);
    if (sqlite3_exec(c->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK && !rc)
        rc = rk_fail(RK_EIO, why, cap, "%s", sqlite3_errmsg(c->db));
    return rc;
}

/* sq_close closes every connection of self and frees it. Threads must have
 * stopped using self (and must not be exiting concurrently). */
static void sq_close(store *self)
{
    sq_store *s = (sq_store *)self;
    conn_list_close(&s->conns);
    conn_close(s->writer); /* no commit hook runs after this */
    wal_checkpointer_free(s->ckpt);
    pthread_mutex_destroy(&s->wmu);
    free(s->path);
    free(s);
}

/* global_config sets SQLite's process-wide options. It must run before
 * SQLite initialises; if something in the process already used SQLite,
 * the calls are refused and nothing changes.
 * - No allocation statistics, which RoomKey never reads: with them on,
 *   every SQLite malloc and free takes one process-wide mutex, so the
 *   audit writer and the worker threads' lookups contend on it.
 * - No bulk allocation of page-cache lines when a connection opens: by
 *   default each connection allocates 20 of them at once and writes into
 *   each, about 21 pages of memory touched (page faults at every start,
 *   resident memory for each idle thread's reader) before it has read a
 *   page; each line is now allocated when the cache first needs it, up to
 *   the same cache_size. */
static void global_config(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

/* sq_open opens (creating and migrating) the SQLite database named by url.
 * o's timeout is PostgreSQL's (a lock held by another process is waited
 * for BUSY_TIMEOUT_MS). The caller frees *out with store_close. */
static int sq_open(const char *url, const store_options *o, store **out, char *why, size_t cap)
{
    (void)o;
    const char *path = url;
    if (strncmp(path, "sqlite:", 7) == 0)
        path += 7;
    else if (strncmp(path, "file:", 5) == 0)
        path += 5;
    if (path != url && strncmp(path, "//", 2) == 0)
        path += 2;
    if (!*path)
        return rk_fail(RK_EINVAL, why, cap, "empty SQLite database path");
    if (strcmp(path, ":memory:") == 0 || strstr(path, "mode=memory"))
        return rk_fail(RK_EINVAL, why, cap,
                       "in-memory SQLite databases are not supported (one connection per thread)");
    if (!sqlite3_threadsafe())
        return rk_fail(RK_EIO, why, cap, "this SQLite library was built without thread support");
    static pthread_once_t config_once = PTHREAD_ONCE_INIT;
    pthread_once(&config_once, global_config);

    sq_store *s = calloc(1, sizeof *s);
    if (!s)
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    s->base.ops = &store_sqlite_ops;
    s->path = strdup(path);
    if (!s->path) {
        free(s);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    if (wal_checkpointer_new(path, &s->ckpt) != RK_OK) {
        free(s->path);
        free(s);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    if (conn_list_init(&s->conns, conn_free) != RK_OK) {
        wal_checkpointer_free(s->ckpt);
        free(s->path);
        free(s);
        return rk_fail(RK_ENOMEM, why, cap, "no thread-local key left");
    }
    pthread_mutex_init(&s->wmu, NULL);
    sq_conn *c = NULL;
    int rc = conn_open(path, writer_vfs(), true, &c, why, cap);
    if (rc == RK_OK && (rc = migrate(c, why, cap)) != RK_OK) {
        conn_close(c);
        c = NULL;
    }
    /* The connection that migrates (through the writer's VFS, which leaves
     * every file but the WAL as SQLite's own VFS would) becomes the writer,
     * which the service needs before its first token (the audit): opening
     * another would cost a second schema read. Each thread opens its reader
     * on first use. */
    if (rc == RK_OK && (rc = writer_adopt(s, c)) != RK_OK)
        rk_fail(rc, why, cap, "cannot set up the write connection");
    if (rc) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return RK_OK;
}

/* sq_ping runs a trivial read on this thread's connection. */
static int sq_ping(store *self)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_PING, &st)))
        return rc;
    rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_ROW ? RK_OK : as_err(rc);
}

/* reader_bind returns statement id of this thread's connection, bound as
 * stmt_bind binds it. */
static int reader_bind(store *self, int id, sqlite3_stmt **out, const char *types, ...)
{
    sq_conn *c;
    int rc = conn_get(self, &c);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, types);
    rc = stmt_vbind(c, id, out, types, ap);
    va_end(ap);
    return rc;
}

/* writer_bind returns statement id of the write connection (*c), bound as
 * stmt_bind binds it. Called with wmu held. */
static int writer_bind(store *self, sq_conn **c, int id, sqlite3_stmt **out, const char *types, ...)
{
    int rc = writer_get(self, c);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, types);
    rc = stmt_vbind(*c, id, out, types, ap);
    va_end(ap);
    return rc;
}

/* run_change steps bound statement st (an UPDATE/DELETE) and resets it;
 * RK_ENOTFOUND when it changed no row. */
static int run_change(sq_conn *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    stmt_done(st);
    if (rc != SQLITE_DONE)
        return as_err(rc);
    return sqlite3_changes(c->db) > 0 ? RK_OK : RK_ENOTFOUND;
}

/* step_done steps bound statement st (no rows) and resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_DONE ? RK_OK : as_err(rc);
}

/* step_changed is step_done for an INSERT/UPDATE that may change no row:
 * RK_ECONFLICT then (a failed constraint keeps its own code). */
static int step_changed(sq_conn *c, sqlite3_stmt *st)
{
    int rc = step_done(st);
    return rc ? rc : sqlite3_changes(c->db) > 0 ? RK_OK : RK_ECONFLICT;
}

/* rollback_open rolls back c's transaction if one is open, returning rc. */
static int rollback_open(sq_conn *c, int rc)
{
    if (!sqlite3_get_autocommit(c->db))
        exec_simple(c, S_ROLLBACK);
    return rc;
}

/* sq_room_get fills the caller's *out with the room named or aliased key. */
static int sq_room_get(store *self, const char *key, store_room *out)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_ROOM_GET, &st, "t", key);
    return rc ? rc : get_one(st, sizeof *out, store_sql_room_row, out);
}

/* sq_room_create inserts r (copied; the caller keeps r). The name-or-alias
 * check and the insert share one IMMEDIATE transaction. */
static int sq_room_create_unlocked(store *self, const store_room *r)
{
    sq_conn *c;
    sqlite3_stmt *st;
    const char *alias = r->alias[0] ? r->alias : NULL;
    int rc = writer_get(self, &c);
    if (rc || (rc = exec_simple(c, S_BEGIN)))
        return rc;
    if ((rc = stmt_bind(c, S_ROOM_TAKEN, &st, "tt", r->name, alias)))
        return rollback_open(c, rc);
    rc = sqlite3_step(st);
    stmt_done(st);
    rc = rc == SQLITE_ROW ? RK_ECONFLICT : rc == SQLITE_DONE ? RK_OK : map_err(rc);
    if (rc ||
        (rc = stmt_bind(c, S_ROOM_INSERT, &st, "ttitiii", r->name, alias, (int64_t)r->mode,
                        r->default_role, r->max_participants, r->max_ttl, clock_now())) ||
        (rc = step_done(st)) || (rc = exec_simple(c, S_COMMIT)))
        return rollback_open(c, rc);
    return RK_OK;
}

/* sq_room_delete deletes room name; its memberships go by ON DELETE
 * CASCADE. */
static int sq_room_delete_unlocked(store *self, const char *name)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_ROOM_DELETE, &st, "t", name);
    return rc ? rc : run_change(c, st);
}

/* sq_room_update sets r's mode, default role and limits (room_update). */
static int sq_room_update_unlocked(store *self, const store_room *r)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_ROOM_UPDATE, &st, "titii", r->name, (int64_t)r->mode,
                         r->default_role, r->max_participants, r->max_ttl);
    return rc ? rc : run_change(c, st);
}

/* sq_room_list returns every room (at most STORE_MAX_LIST) by name as a new
 * array the caller frees with free(); *out is NULL when *n is 0. */
static int sq_room_list(store *self, store_room **out, size_t *n)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_ROOM_LIST, &st, "i", (int64_t)STORE_MAX_LIST);
    return rc ? rc : collect(st, sizeof **out, store_sql_room_row, (void **)out, n);
}

/* sq_member_get fills the caller's *out with subject's membership of room
 * (a room name, not an alias). */
static int sq_member_get(store *self, const char *room, const char *subject, store_member *out)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_MEMBER_GET, &st, "tt", room, subject);
    return rc ? rc : get_one(st, sizeof *out, store_sql_member_row, out);
}

/* sq_member_set inserts m or replaces its role (created_at stays that of
 * the first insert). A missing room fails the foreign key: RK_ENOTFOUND. */
static int sq_member_set_unlocked(store *self, const store_member *m)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc =
        writer_bind(self, &c, S_MEMBER_SET, &st, "ttti", m->room, m->subject, m->role, clock_now());
    return rc ? rc : step_done(st);
}

/* sq_member_remove deletes subject's membership of room. */
static int sq_member_remove_unlocked(store *self, const char *room, const char *subject)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_MEMBER_REMOVE, &st, "tt", room, subject);
    return rc ? rc : run_change(c, st);
}

/* sq_member_list returns room's memberships by subject as a new array the
 * caller frees with free() (*out NULL when *n is 0); RK_ENOTFOUND when the
 * room doesn't exist. */
static int sq_member_list(store *self, const char *room, store_member **out, size_t *n)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_ROOM_EXISTS, &st, "t", room);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    stmt_done(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? RK_ENOTFOUND : as_err(rc);
    if ((rc = reader_bind(self, S_MEMBER_LIST, &st, "ti", room, (int64_t)STORE_MAX_LIST)))
        return rc;
    return collect(st, sizeof **out, store_sql_member_row, (void **)out, n);
}

/* bind_audit binds a's fields to st's parameters first+1 .. first+10. */
static int bind_audit(sqlite3_stmt *st, int first, const store_audit *a)
{
    return bind_text(st, first + 1, a->jti) || bind_text(st, first + 2, a->subject) ||
                   bind_text(st, first + 3, a->identity) || bind_text(st, first + 4, a->room) ||
                   bind_text(st, first + 5, a->role) || bind_text(st, first + 6, a->grants) ||
                   sqlite3_bind_int64(st, first + 7, a->issued_at) ||
                   sqlite3_bind_int64(st, first + 8, a->exp) ||
                   bind_text(st, first + 9, a->client_ip) || bind_text(st, first + 10, a->route)
               ? RK_EIO
               : RK_OK;
}

/* audit_insert writes recs[0..n) (copied; ids are assigned) with one
 * INSERT on c: n is 1 or a power of two up to AUDIT_MAX_ROWS. A jti
 * already logged is RK_ECONFLICT; a failed INSERT changes nothing (SQLite
 * undoes the statement and keeps the transaction open, unless it reports
 * it rolled the transaction back). */
static int audit_insert(sq_conn *c, const store_audit *const *recs, size_t n)
{
    int id = S_AUDIT_ADD;
    if (n > 1)
        id = S_AUDIT_ROWS + __builtin_ctz((unsigned)n) - 1;
    sqlite3_stmt *st;
    int rc = stmt_get(c, id, &st);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (bind_audit(st, (int)i * SQL_AUDIT_NCOLS, recs[i]) != RK_OK) {
            stmt_done(st);
            return RK_EIO;
        }
    rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_DONE ? RK_OK : as_err(rc);
}

/* sq_audit_add_batch_unlocked writes recs[0..n) in one transaction; rcs[i]
 * gets each record's result (a refused record, e.g. a duplicate jti, undoes
 * only itself). Records go in multi-row INSERTs of the largest power of two
 * that fits (at most AUDIT_MAX_ROWS); when one of those is refused, its
 * records are written again one by one so that each gets its own result.
 * When the transaction as a whole fails (it can't start, an error rolls it
 * back, or COMMIT fails), every record's result is that failure and nothing
 * was written. */
static int sq_audit_add_batch_unlocked(store *self, const store_audit *const *recs, size_t n,
                                       int *rcs)
{
    sq_conn *c = NULL;
    int rc = writer_get(self, &c);
    if (rc == RK_OK)
        rc = exec_simple(c, S_BEGIN);
    size_t i = 0;
    while (rc == RK_OK && i < n) {
        size_t left = n - i, rows = 1;
        while (rows * 2 <= left && rows * 2 <= AUDIT_MAX_ROWS)
            rows *= 2;
        int r = audit_insert(c, recs + i, rows);
        if (r == RK_OK || rows == 1) {
            for (size_t k = 0; k < rows; k++)
                rcs[i + k] = r;
        } else if (!sqlite3_get_autocommit(c->db)) {
            for (size_t k = 0; k < rows && rc == RK_OK; k++) { /* who was refused? */
                rcs[i + k] = audit_insert(c, recs + i + k, 1);
                if (sqlite3_get_autocommit(c->db))
                    rc = rcs[i + k] != RK_OK ? rcs[i + k] : RK_EIO;
            }
        }
        if (rc == RK_OK && sqlite3_get_autocommit(c->db))
            rc = r != RK_OK ? r : RK_EIO; /* SQLite rolled the transaction back */
        i += rows;
    }
    if (rc == RK_OK)
        rc = exec_simple(c, S_COMMIT);
    if (rc != RK_OK) {
        if (c && !sqlite3_get_autocommit(c->db))
            exec_simple(c, S_ROLLBACK);
        for (size_t k = 0; k < n; k++)
            rcs[k] = rc;
    }
    return rc;
}

/* sq_audit_list returns the records matching f (already checked, limit
 * 1..STORE_MAX_LIST), newest first, as a new array the caller frees with
 * free() (*out NULL when *n is 0). */
static int sq_audit_list(store *self, const store_audit_filter *f, store_audit **out, size_t *n)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int p = 1;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_AUDIT_LIST + (int)store_sql_audit_mask(f), &st)))
        return rc;
    /* the parameters in store_sql_audit_list's order */
    if ((f->room && bind_text(st, p++, f->room)) ||
        (f->subject && bind_text(st, p++, f->subject)) ||
        (f->since > 0 && sqlite3_bind_int64(st, p++, f->since)) ||
        (f->before_id > 0 && sqlite3_bind_int64(st, p++, f->before_id)) ||
        sqlite3_bind_int64(st, p, (int64_t)f->limit)) {
        stmt_done(st);
        return RK_EIO;
    }
    return collect(st, sizeof **out, store_sql_audit_row, (void **)out, n);
}

/* ---- seats and meetings ------------------------------------------------ */

/* window_end sets *end to the id just past the `window` records from id
 * from on, or to 0 when fewer remain. */
static int window_end(sq_conn *c, int64_t from, size_t window, int64_t *end)
{
    sqlite3_stmt *st;
    int rc = stmt_bind(c, S_AUDIT_WINDOW_END, &st, "ii", from, (int64_t)window);
    if (rc)
        return rc;
    int r = sqlite3_step(st);
    *end = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    stmt_done(st);
    return r == SQLITE_ROW || r == SQLITE_DONE ? RK_OK : as_err(r);
}

/* sq_audit_prune_unlocked is one retention step (store_ops.audit_prune)
 * in one transaction on the writer connection. */
static int sq_audit_prune_unlocked(store *self, int64_t before, size_t window, int64_t *cursor,
                                   size_t *deleted)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int64_t end = 0;
    *deleted = 0;
    int rc = writer_get(self, &c);
    if (rc || (rc = exec_simple(c, S_BEGIN)))
        return rc;
    if ((rc = window_end(c, *cursor, window, &end)) ||
        (rc = stmt_bind(c, S_AUDIT_PRUNE, &st, "iii", *cursor, end ? end : INT64_MAX, before)) ||
        (rc = step_done(st)))
        return rollback_open(c, rc);
    size_t n = (size_t)sqlite3_changes(c->db);
    if ((rc = exec_simple(c, S_COMMIT)))
        return rollback_open(c, rc);
    *deleted = n;
    *cursor = end;
    return RK_OK;
}

/* sq_seat_claim claims s (copied) in one IMMEDIATE transaction: the claim
 * statement decides, then the subject's other seats of the room are
 * dropped. */
static int sq_seat_claim_unlocked(store *self, const store_seat *s, int64_t now)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_get(self, &c);
    if (rc || (rc = exec_simple(c, S_BEGIN)))
        return rc;
    if ((rc =
             stmt_bind(c, S_SEAT_CLAIM, &st, "titii", s->room, s->seat, s->subject, s->exp, now)) ||
        (rc = step_changed(c, st)) ||
        (rc = stmt_bind(c, S_SEAT_DROP_OTHERS, &st, "tti", s->room, s->subject, s->seat)) ||
        (rc = step_done(st)) || (rc = exec_simple(c, S_COMMIT)))
        return rollback_open(c, rc);
    return RK_OK;
}

/* sq_seat_release deletes the matching live claims (subject may be NULL). */
static int sq_seat_release_unlocked(store *self, const char *room, int64_t seat,
                                    const char *subject, int64_t now)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_SEAT_RELEASE, &st, "titi", room, seat, subject, now);
    return rc ? rc : run_change(c, st);
}

/* sq_seat_list returns room's live claims by seat as a new array the caller
 * frees with free() (*out NULL when *n is 0). */
static int sq_seat_list(store *self, const char *room, int64_t now, store_seat **out, size_t *n)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_SEAT_LIST, &st, "tii", room, now, (int64_t)STORE_MAX_SEATS);
    return rc ? rc : collect(st, sizeof **out, store_sql_seat_row, (void **)out, n);
}

/* sq_meeting_create writes the room, the meeting and the creator's
 * membership (all copied) in one IMMEDIATE transaction. */
static int sq_meeting_create_unlocked(store *self, const store_meeting *m, const char *creator_role,
                                      const char *participant_role)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int64_t now = clock_now();
    int rc = writer_get(self, &c);
    if (rc || (rc = exec_simple(c, S_BEGIN)))
        return rc;
    if ((rc = stmt_bind(c, S_MEETING_ROOM, &st, "tti", m->room, participant_role, now)) ||
        (rc = step_changed(c, st)) ||
        (rc = stmt_bind(c, S_MEETING_INSERT, &st, "tttttti", m->id, m->room, m->heading,
                        m->description, m->status, m->creator, now)) ||
        (rc = step_done(st)) ||
        (rc = stmt_bind(c, S_MEMBER_SET, &st, "ttti", m->room, m->creator, creator_role, now)) ||
        (rc = step_done(st)) || (rc = exec_simple(c, S_COMMIT)))
        return rollback_open(c, rc);
    return RK_OK;
}

/* sq_meeting_get fills the caller's *out with meeting id. */
static int sq_meeting_get(store *self, const char *id, store_meeting *out)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_MEETING_GET, &st, "t", id);
    return rc ? rc : get_one(st, sizeof *out, store_sql_meeting_row, out);
}

/* sq_meeting_set_status sets meeting id's status and updated_at. */
static int sq_meeting_set_status_unlocked(store *self, const char *id, const char *status)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_MEETING_STATUS, &st, "tti", id, status, clock_now());
    return rc ? rc : run_change(c, st);
}

/* sq_meeting_delete deletes meeting id's room, which takes the meeting,
 * its memberships and seats with it. */
static int sq_meeting_delete_unlocked(store *self, const char *id)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_MEETING_DELETE, &st, "t", id);
    return rc ? rc : run_change(c, st);
}

/* sq_meeting_list returns up to limit meetings after after_id (NULL = from
 * the first) by id, as a new array the caller frees with free(). */
static int sq_meeting_list(store *self, const char *after_id, size_t limit, store_meeting **out,
                           size_t *n)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_MEETING_LIST, &st, "ti", after_id ? after_id : "", (int64_t)limit);
    return rc ? rc : collect(st, sizeof **out, store_sql_meeting_row, (void **)out, n);
}

/* ---- live rooms ------------------------------------------------------ */

/* sq_presence_apply records a join, a listing or a leave (store.h). */
static int sq_presence_apply_unlocked(store *self, const store_presence *p)
{
    sq_conn *c;
    sqlite3_stmt *st;
    if (p->left_at > 0) {
        int rc = writer_bind(self, &c, S_PRESENCE_LEAVE, &st, "tttttii", p->sid, p->room,
                             p->identity, p->name, p->kind, p->joined_at, p->left_at);
        return rc ? rc : run_change(c, st);
    }
    int id = p->left_at == STORE_PRESENT ? S_PRESENCE_LISTED : S_PRESENCE_JOIN;
    int rc = writer_bind(self, &c, id, &st, "ttttti", p->sid, p->room, p->identity, p->name,
                         p->kind, p->joined_at);
    if (rc == RK_OK)
        rc = run_change(c, st);
    return rc == RK_ENOTFOUND ? RK_OK : rc;
}

static int sq_presence_list(store *self, const char *room, store_presence **out, size_t *n)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_PRESENCE_LIST, &st, "ti", room, (int64_t)STORE_MAX_LIST);
    return rc ? rc : collect(st, sizeof **out, store_sql_presence_row, (void **)out, n);
}

/* two_ints steps bound st and reads its row's first two integers (b may
 * be NULL). */
static int two_ints(sqlite3_stmt *st, int64_t *a, int64_t *b)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *a = sqlite3_column_int64(st, 0);
        if (b)
            *b = sqlite3_column_int64(st, 1);
    }
    stmt_done(st);
    return rc == SQLITE_ROW ? RK_OK : as_err(rc);
}

static int sq_occupancy(store *self, const char *room, int64_t since, int64_t *present,
                        int64_t *pending)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_OCCUPANCY, &st, "ti", room, since);
    return rc ? rc : two_ints(st, present, pending);
}

static int sq_audit_last_issued(store *self, const char *room, const char *identity,
                                int64_t at_most, int64_t *at)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_AUDIT_LAST, &st, "tti", room, identity, at_most);
    return rc ? rc : two_ints(st, at, NULL);
}

static int sq_ban_until(store *self, const char *room, const char *identity, int64_t *until)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_BAN_UNTIL, &st, "tt", room, identity);
    return rc ? rc : two_ints(st, until, NULL);
}

static int sq_event_seen(store *self, const char *id, int64_t *seen)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_EVENT_SEEN, &st, "t", id);
    return rc ? rc : two_ints(st, seen, NULL);
}

static int sq_event_record_unlocked(store *self, const char *id, int64_t now)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_EVENT_RECORD, &st, "ti", id, now);
    return rc ? rc : step_changed(c, st);
}

static int sq_event_forget_unlocked(store *self, const char *id)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_EVENT_FORGET, &st, "t", id);
    return rc ? rc : step_done(st);
}

static int sq_action_add_unlocked(store *self, const store_action *a)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_ACTION_ADD, &st, "tttttiiit", a->room, a->identity, a->kind,
                         a->role, a->reason, a->created_at, a->until, a->ban_until, a->from_role);
    return rc ? rc : step_done(st);
}

static int sq_action_list(store *self, const store_action_filter *f, store_action **out, size_t *n)
{
    sqlite3_stmt *st;
    int rc = reader_bind(self, S_ACTION_LIST, &st, "ittiii", (int64_t)(f->pending ? 1 : 0), f->room,
                         f->identity, f->live_after, (int64_t)STORE_MAX_LIST, f->since);
    return rc ? rc : collect(st, sizeof **out, store_sql_action_row, (void **)out, n);
}

static int sq_action_claim_unlocked(store *self, int64_t id, int64_t now)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_bind(self, &c, S_ACTION_CLAIM, &st, "ii", id, now);
    if (rc == RK_OK)
        rc = run_change(c, st);
    return rc == RK_ENOTFOUND ? RK_ECONFLICT : rc;
}

static int sq_live_prune_unlocked(store *self, int64_t before, int64_t actions_before)
{
    static const int ids[] = {S_PRUNE_EVENTS, S_PRUNE_PRESENCE, S_PRUNE_ACTIONS};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        sq_conn *c;
        sqlite3_stmt *st;
        int rc = writer_bind(self, &c, ids[i], &st, ids[i] == S_PRUNE_ACTIONS ? "ii" : "i", before,
                             actions_before);
        if (rc || (rc = step_done(st)))
            return rc;
    }
    return RK_OK;
}

/* SQLite allows one writer at a time; a second writer waits in the busy
 * handler, which sleeps in steps of milliseconds. Writers of this process
 * therefore queue on a mutex instead (microseconds), and only writers of
 * other processes (the CLI) meet the busy handler. */
#define WRITE_LOCKED(self, call)                                                                   \
    do {                                                                                           \
        sq_store *ws_ = (sq_store *)(self);                                                        \
        pthread_mutex_lock(&ws_->wmu);                                                             \
        int wrc_ = (call);                                                                         \
        pthread_mutex_unlock(&ws_->wmu);                                                           \
        return wrc_;                                                                               \
    } while (0)

/* The writers, each under the process's write mutex. */
static int sq_room_create(store *self, const store_room *r)
{
    WRITE_LOCKED(self, sq_room_create_unlocked(self, r));
}

static int sq_room_delete(store *self, const char *name)
{
    WRITE_LOCKED(self, sq_room_delete_unlocked(self, name));
}

static int sq_room_update(store *self, const store_room *r)
{
    WRITE_LOCKED(self, sq_room_update_unlocked(self, r));
}

static int sq_member_set(store *self, const store_member *m)
{
    WRITE_LOCKED(self, sq_member_set_unlocked(self, m));
}

static int sq_member_remove(store *self, const char *room, const char *subject)
{
    WRITE_LOCKED(self, sq_member_remove_unlocked(self, room, subject));
}

static int sq_audit_add_batch(store *self, const store_audit *const *recs, size_t n, int *rcs)
{
    WRITE_LOCKED(self, sq_audit_add_batch_unlocked(self, recs, n, rcs));
}

static int sq_audit_prune(store *self, int64_t before, size_t window, int64_t *cursor,
                          size_t *deleted)
{
    WRITE_LOCKED(self, sq_audit_prune_unlocked(self, before, window, cursor, deleted));
}

static int sq_seat_claim(store *self, const store_seat *s, int64_t now)
{
    WRITE_LOCKED(self, sq_seat_claim_unlocked(self, s, now));
}

static int sq_seat_release(store *self, const char *room, int64_t seat, const char *subject,
                           int64_t now)
{
    WRITE_LOCKED(self, sq_seat_release_unlocked(self, room, seat, subject, now));
}

static int sq_meeting_create(store *self, const store_meeting *m, const char *creator_role,
                             const char *participant_role)
{
    WRITE_LOCKED(self, sq_meeting_create_unlocked(self, m, creator_role, participant_role));
}

static int sq_meeting_set_status(store *self, const char *id, const char *status)
{
    WRITE_LOCKED(self, sq_meeting_set_status_unlocked(self, id, status));
}

static int sq_meeting_delete(store *self, const char *id)
{
    WRITE_LOCKED(self, sq_meeting_delete_unlocked(self, id));
}

static int sq_presence_apply(store *self, const store_presence *p)
{
    WRITE_LOCKED(self, sq_presence_apply_unlocked(self, p));
}

static int sq_event_record(store *self, const char *id, int64_t now)
{
    WRITE_LOCKED(self, sq_event_record_unlocked(self, id, now));
}

static int sq_event_forget(store *self, const char *id)
{
    WRITE_LOCKED(self, sq_event_forget_unlocked(self, id));
}

static int sq_action_add(store *self, const store_action *a)
{
    WRITE_LOCKED(self, sq_action_add_unlocked(self, a));
}

static int sq_action_claim(store *self, int64_t id, int64_t now)
{
    WRITE_LOCKED(self, sq_action_claim_unlocked(self, id, now));
}

static int sq_live_prune(store *self, int64_t before, int64_t actions_before)
{
    WRITE_LOCKED(self, sq_live_prune_unlocked(self, before, actions_before));
}

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .pass_conn = sq_pass_conn,
    .room_get = sq_room_get,
    .room_create = sq_room_create,
    .room_delete = sq_room_delete,
    .room_update = sq_room_update,
    .room_list = sq_room_list,
    .member_get = sq_member_get,
    .member_set = sq_member_set,
    .member_remove = sq_member_remove,
    .member_list = sq_member_list,
    .audit_add_batch = sq_audit_add_batch,
    .audit_list = sq_audit_list,
    .audit_prune = sq_audit_prune,
    .presence_apply = sq_presence_apply,
    .presence_list = sq_presence_list,
    .occupancy = sq_occupancy,
    .event_record = sq_event_record,
    .event_forget = sq_event_forget,
    .event_seen = sq_event_seen,
    .action_add = sq_action_add,
    .action_list = sq_action_list,
    .action_claim = sq_action_claim,
    .audit_last_issued = sq_audit_last_issued,
    .ban_until = sq_ban_until,
    .live_prune = sq_live_prune,
    .seat_claim = sq_seat_claim,
    .seat_release = sq_seat_release,
    .seat_list = sq_seat_list,
    .meeting_create = sq_meeting_create,
    .meeting_get = sq_meeting_get,
    .meeting_set_status = sq_meeting_set_status,
    .meeting_delete = sq_meeting_delete,
    .meeting_list = sq_meeting_list,
};
