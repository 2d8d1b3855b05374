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
#include "wal_checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000

#define AUDIT_COLS                                                                                 \
    "id, jti, subject, identity, room, role, grants, issued_at, exp, client_ip, route"

/* The schema, one entry per version; entry i takes the database from
 * version i to i + 1. Applied in one transaction at open; never edit an
 * entry once released, append a new one. */
static const char *const MIGRATIONS[] = {
    "CREATE TABLE rooms ("
    " name TEXT NOT NULL PRIMARY KEY,"
    " alias TEXT UNIQUE," /* NULL = none */
    " mode INTEGER NOT NULL DEFAULT 0 CHECK (mode IN (0, 1)),"
    " default_role TEXT NOT NULL DEFAULT '',"
    " max_participants BIGINT NOT NULL DEFAULT 0,"
    " max_ttl BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE members ("
    " room TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,"
    " subject TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " PRIMARY KEY (room, subject));"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " jti TEXT NOT NULL UNIQUE,"
    " subject TEXT NOT NULL,"
    " identity TEXT NOT NULL,"
    " room TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " grants TEXT NOT NULL,"
    " issued_at BIGINT NOT NULL,"
    " exp BIGINT NOT NULL,"
    " client_ip TEXT NOT NULL,"
    " route TEXT NOT NULL);"
    "CREATE INDEX audit_room_id ON audit (room, id);"
    "CREATE INDEX audit_subject_id ON audit (subject, id);",
    /* 2: audit.id without AUTOINCREMENT. Rows are never deleted, so a plain
     * rowid still only grows, and a commit no longer also rewrites the
     * sqlite_sequence page (a fifth of an audit commit's page writes). */
    "CREATE TABLE audit_v2 ("
    " id INTEGER PRIMARY KEY,"
    " jti TEXT NOT NULL UNIQUE,"
    " subject TEXT NOT NULL,"
    " identity TEXT NOT NULL,"
    " room TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " grants TEXT NOT NULL,"
    " issued_at BIGINT NOT NULL,"
    " exp BIGINT NOT NULL,"
    " client_ip TEXT NOT NULL,"
    " route TEXT NOT NULL);"
    "INSERT INTO audit_v2 (" AUDIT_COLS ") SELECT " AUDIT_COLS " FROM audit;"
    "DROP TABLE audit;"
    "ALTER TABLE audit_v2 RENAME TO audit;"
    "CREATE INDEX audit_room_id ON audit (room, id);"
    "CREATE INDEX audit_subject_id ON audit (subject, id);",
    /* 3: seats and meetings */
    "CREATE TABLE seats ("
    " room TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,"
    " seat INTEGER NOT NULL CHECK (seat >= 1),"
    " subject TEXT NOT NULL,"
    " exp BIGINT NOT NULL,"
    " claimed_at BIGINT NOT NULL,"
    " PRIMARY KEY (room, seat));"
    "CREATE INDEX seats_room_subject ON seats (room, subject);"
    "CREATE TABLE meetings ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " room TEXT NOT NULL UNIQUE REFERENCES rooms(name) ON DELETE CASCADE,"
    " heading TEXT NOT NULL,"
    " description TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " creator TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);",
};
#define SCHEMA_VERSION ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

/* Statements cached per connection. The audit list has one slot per
 * combination of filters (S_AUDIT_LIST + a mask of AF_* bits); the audit
 * insert has one slot per multi-row size (S_AUDIT_ROWS + k inserts
 * 2 << k rows, up to AUDIT_MAX_ROWS). */
enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_PING,
    S_ROOM_GET,
    S_ROOM_TAKEN,
    S_ROOM_INSERT,
    S_ROOM_DELETE,
    S_ROOM_LIST,
    S_ROOM_EXISTS,
    S_MEMBER_GET,
    S_MEMBER_SET,
    S_MEMBER_REMOVE,
    S_MEMBER_LIST,
    S_AUDIT_ADD,
    S_SEAT_CLAIM,
    S_SEAT_DROP_OTHERS,
    S_SEAT_RELEASE,
    S_SEAT_LIST,
    S_MEETING_ROOM,
    S_MEETING_INSERT,
    S_MEETING_GET,
    S_MEETING_STATUS,
    S_MEETING_DELETE,
    S_MEETING_LIST,
    S_AUDIT_WINDOW_END,
    S_AUDIT_PRUNE,
    S_AUDIT_LIST,
    S_AUDIT_ROWS = S_AUDIT_LIST + 16,
    S_COUNT = S_AUDIT_ROWS + 5,
};

/* The largest multi-row audit INSERT (a power of two: 2 << 4). One
 * statement for many rows costs SQLite far less per row than a statement
 * per row (bench/audit_floor). */
#define AUDIT_MAX_ROWS 32
#define AUDIT_INSERT_COLS                                                                          \
    "jti, subject, identity, room, role, grants, issued_at, exp, client_ip, route"
#define AUDIT_NCOLS 10 /* in AUDIT_INSERT_COLS */

enum { AF_ROOM = 1, AF_SUBJECT = 2, AF_SINCE = 4, AF_BEFORE = 8 };

#define ROOM_COLS    "name, alias, mode, default_role, max_participants, max_ttl, created_at"
#define MEMBER_COLS  "room, subject, role, created_at"
#define SEAT_COLS    "room, seat, subject, exp, claimed_at"
#define MEETING_COLS "id, room, heading, description, status, creator, created_at, updated_at"

static const char *const SQL[S_AUDIT_LIST] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_PING] = "SELECT max(version) FROM schema_version",
    /* by name first, then by alias, in one snapshot */
    [S_ROOM_GET] = "SELECT " ROOM_COLS " FROM rooms WHERE name = ?1 OR alias = ?1"
                   " ORDER BY name = ?1 DESC LIMIT 1",
    /* a new room's name and alias must not match any name or alias */
    [S_ROOM_TAKEN] = "SELECT 1 FROM rooms WHERE name = ?1 OR alias = ?1 OR name = ?2 OR alias = ?2"
                     " LIMIT 1",
    [S_ROOM_INSERT] = "INSERT INTO rooms (" ROOM_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_ROOM_DELETE] = "DELETE FROM rooms WHERE name = ?1",
    [S_ROOM_LIST] = "SELECT " ROOM_COLS " FROM rooms ORDER BY name LIMIT ?1",
    [S_ROOM_EXISTS] = "SELECT 1 FROM rooms WHERE name = ?1",
    [S_MEMBER_GET] = "SELECT " MEMBER_COLS " FROM members WHERE room = ?1 AND subject = ?2",
    [S_MEMBER_SET] = "INSERT INTO members (" MEMBER_COLS ") VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (room, subject) DO UPDATE SET role = excluded.role",
    [S_MEMBER_REMOVE] = "DELETE FROM members WHERE room = ?1 AND subject = ?2",
    [S_MEMBER_LIST] = "SELECT " MEMBER_COLS " FROM members WHERE room = ?1"
                      " ORDER BY subject LIMIT ?2",
    [S_AUDIT_ADD] =
        "INSERT INTO audit (" AUDIT_INSERT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    /* The claim is this one statement: it writes a row only when the seat is
     * free, expired (exp <= now) or already the subject's; no row changed
     * means another subject holds it. The same subject keeps the later exp
     * and, while its claim is live, its claimed_at. */
    [S_SEAT_CLAIM] =
        "INSERT INTO seats (" SEAT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (room, seat) DO UPDATE SET"
        " exp = CASE WHEN seats.subject = excluded.subject AND seats.exp > excluded.exp"
        " THEN seats.exp ELSE excluded.exp END,"
        " claimed_at = CASE WHEN seats.subject = excluded.subject AND seats.exp > ?5"
        " THEN seats.claimed_at ELSE excluded.claimed_at END,"
        " subject = excluded.subject"
        " WHERE seats.subject = excluded.subject OR seats.exp <= ?5",
    /* Retention: the id just past a window of ?2 records from id ?1 on (no
     * row: the window reaches the newest record), then one window's delete.
     * Both walk the rowid B-tree only; issued_at has no index. The newest
     * record always stays: a new rowid is the largest plus one, so ids
     * never repeat. */
    [S_AUDIT_WINDOW_END] = "SELECT id FROM audit WHERE id >= ?1 ORDER BY id LIMIT 1 OFFSET ?2",
    [S_AUDIT_PRUNE] = "DELETE FROM audit WHERE id >= ?1 AND id < ?2 AND issued_at < ?3"
                      " AND id < (SELECT max(id) FROM audit)",
    [S_SEAT_DROP_OTHERS] = "DELETE FROM seats WHERE room = ?1 AND subject = ?2 AND seat <> ?3",
    [S_SEAT_RELEASE] = "DELETE FROM seats WHERE room = ?1 AND (?2 = 0 OR seat = ?2)"
                       " AND (?3 IS NULL OR subject = ?3) AND exp > ?4",
    [S_SEAT_LIST] = "SELECT " SEAT_COLS " FROM seats WHERE room = ?1 AND exp > ?2"
                    " ORDER BY seat LIMIT ?3",
    /* a meeting's room: members-only, inserted only when no room has that
     * name or alias */
    [S_MEETING_ROOM] = "INSERT INTO rooms (" ROOM_COLS ") SELECT ?1, NULL, 0, ?2, 0, 0, ?3"
                       " WHERE NOT EXISTS (SELECT 1 FROM rooms WHERE name = ?1 OR alias = ?1)",
    [S_MEETING_INSERT] = "INSERT INTO meetings (" MEETING_COLS ")"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    [S_MEETING_GET] = "SELECT " MEETING_COLS " FROM meetings WHERE id = ?1",
    [S_MEETING_STATUS] = "UPDATE meetings SET status = ?2, updated_at = ?3 WHERE id = ?1",
    /* the meeting, its memberships and seats go with the room (ON DELETE CASCADE) */
    [S_MEETING_DELETE] = "DELETE FROM rooms WHERE name = (SELECT room FROM meetings WHERE id = ?1)",
    [S_MEETING_LIST] = "SELECT " MEETING_COLS " FROM meetings WHERE id > ?1 ORDER BY id LIMIT ?2",
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

/* conn_open opens a new connection to path and sets it up (WAL, busy
 * timeout, foreign keys). create allows creating the file. On success the
 * caller owns *out (conn_close); on failure why says why. */
static int conn_open(const char *path, bool create, sq_conn **out, char *why, size_t cap)
{
    sq_conn *c = calloc(1, sizeof *c);
    if (!c)
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (!c->db) {
        free(c);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    if (rc != SQLITE_OK) {
        rk_fail(RK_EIO, why, cap, "%s", sqlite3_errmsg(c->db));
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
        /* cache_size: 512 KiB per connection (SQLite's default is 2 MiB):
         * readers are mostly spared by the lookup cache, and the writer
         * touches the right edge of the audit table and its indexes. */
        rc = sqlite3_exec(c->db,
                          "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
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

/* audit_sql writes the audit list query for filter mask into buf (cap >=
 * 512) from fixed fragments; the values are bound later by name. */
static void audit_sql(unsigned mask, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *cond;
    } conds[] = {
        {AF_ROOM, "room = :room"},
        {AF_SUBJECT, "subject = :subject"},
        {AF_SINCE, "issued_at >= :since"},
        {AF_BEFORE, "id < :before"},
    };
    snprintf(buf, cap, "SELECT " AUDIT_COLS " FROM audit");
    const char *join = " WHERE ";
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
        if (mask & conds[i].bit) {
            strncat(buf, join, cap - strlen(buf) - 1);
            strncat(buf, conds[i].cond, cap - strlen(buf) - 1);
            join = " AND ";
        }
    }
    strncat(buf, " ORDER BY id DESC LIMIT :limit", cap - strlen(buf) - 1);
}

/* audit_rows_sql writes an INSERT of rows audit records (2..AUDIT_MAX_ROWS)
 * into buf (cap >= 1024): the fixed column list and one group of
 * AUDIT_NCOLS anonymous parameters per row, bound later by position. */
static void audit_rows_sql(size_t rows, char *buf, size_t cap)
{
    static const char group[] = ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    size_t n = (size_t)snprintf(buf, cap, "INSERT INTO audit (" AUDIT_INSERT_COLS ") VALUES %s",
                                group + 2);
    for (size_t r = 1; r < rows && n + sizeof group <= cap; r++) {
        memcpy(buf + n, group, sizeof group); /* with its NUL */
        n += sizeof group - 1;
    }
}

/* stmt_get returns connection c's cached statement id, preparing it on
 * first use. The statement stays owned by c; callers reset it with
 * stmt_done after use. */
static int stmt_get(sq_conn *c, int id, sqlite3_stmt **out)
{
    if (!c->stmt[id]) {
        char buf[1024];
        const char *sql = SQL[id < S_AUDIT_LIST ? id : 0];
        if (id >= S_AUDIT_ROWS) {
            audit_rows_sql((size_t)2 << (id - S_AUDIT_ROWS), buf, sizeof buf);
            sql = buf;
        } else if (id >= S_AUDIT_LIST) {
            audit_sql((unsigned)(id - S_AUDIT_LIST), buf, sizeof buf);
            sql = buf;
        }
        int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
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

/* conn_get returns this thread's connection to self, opening it on the
 * thread's first call. The store owns it. */
static int conn_get(store *self, sq_conn **out)
{
    sq_store *s = (sq_store *)self;
    sq_conn *c = (sq_conn *)conn_list_mine(&s->conns);
    if (!c) {
        int rc = conn_open(s->path, false, &c, NULL, 0);
        if (rc)
            return rc;
        if ((rc = conn_list_add(&s->conns, &c->link)))
            return rc;
    }
    *out = c;
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
        int rc = conn_open(s->path, false, &s->writer, NULL, 0);
        if (rc)
            return rc;
        /* The writer's pages are the right edges of the audit table and
         * its indexes plus the small policy tables: 128 KiB holds them,
         * and the default 512 KiB would fill with audit pages it never
         * reads again (resident memory for nothing). */
        if (sqlite3_exec(s->writer->db, "PRAGMA cache_size=-128", NULL, NULL, NULL) != SQLITE_OK) {
            conn_close(s->writer);
            s->writer = NULL;
            return RK_EIO;
        }
        wal_checkpointer_attach(s->ckpt, s->writer->db);
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

/* A row reader fills *dst (a zeroed record) from the current row. */
typedef int (*row_fn)(sqlite3_stmt *st, void *dst);

static int room_row(sqlite3_stmt *st, void *dst)
{
    store_room *r = dst;
    int rc;
    if ((rc = col_text(st, 0, r->name, sizeof r->name)) ||
        (rc = col_text(st, 1, r->alias, sizeof r->alias)) ||
        (rc = col_text(st, 3, r->default_role, sizeof r->default_role)))
        return rc;
    r->mode = sqlite3_column_int(st, 2);
    r->max_participants = sqlite3_column_int64(st, 4);
    r->max_ttl = sqlite3_column_int64(st, 5);
    r->created_at = sqlite3_column_int64(st, 6);
    return RK_OK;
}

static int member_row(sqlite3_stmt *st, void *dst)
{
    store_member *m = dst;
    int rc;
    if ((rc = col_text(st, 0, m->room, sizeof m->room)) ||
        (rc = col_text(st, 1, m->subject, sizeof m->subject)) ||
        (rc = col_text(st, 2, m->role, sizeof m->role)))
        return rc;
    m->created_at = sqlite3_column_int64(st, 3);
    return RK_OK;
}

static int audit_row(sqlite3_stmt *st, void *dst)
{
    store_audit *a = dst;
    int rc;
    a->id = sqlite3_column_int64(st, 0);
    if ((rc = col_text(st, 1, a->jti, sizeof a->jti)) ||
        (rc = col_text(st, 2, a->subject, sizeof a->subject)) ||
        (rc = col_text(st, 3, a->identity, sizeof a->identity)) ||
        (rc = col_text(st, 4, a->room, sizeof a->room)) ||
        (rc = col_text(st, 5, a->role, sizeof a->role)) ||
        (rc = col_text(st, 6, a->grants, sizeof a->grants)) ||
        (rc = col_text(st, 9, a->client_ip, sizeof a->client_ip)) ||
        (rc = col_text(st, 10, a->route, sizeof a->route)))
        return rc;
    a->issued_at = sqlite3_column_int64(st, 7);
    a->exp = sqlite3_column_int64(st, 8);
    return RK_OK;
}

static int seat_row(sqlite3_stmt *st, void *dst)
{
    store_seat *s = dst;
    int rc;
    if ((rc = col_text(st, 0, s->room, sizeof s->room)) ||
        (rc = col_text(st, 2, s->subject, sizeof s->subject)))
        return rc;
    s->seat = sqlite3_column_int64(st, 1);
    s->exp = sqlite3_column_int64(st, 3);
    s->claimed_at = sqlite3_column_int64(st, 4);
    return RK_OK;
}

static int meeting_row(sqlite3_stmt *st, void *dst)
{
    store_meeting *m = dst;
    int rc;
    if ((rc = col_text(st, 0, m->id, sizeof m->id)) ||
        (rc = col_text(st, 1, m->room, sizeof m->room)) ||
        (rc = col_text(st, 2, m->heading, sizeof m->heading)) ||
        (rc = col_text(st, 3, m->description, sizeof m->description)) ||
        (rc = col_text(st, 4, m->status, sizeof m->status)) ||
        (rc = col_text(st, 5, m->creator, sizeof m->creator)))
        return rc;
    m->created_at = sqlite3_column_int64(st, 6);
    m->updated_at = sqlite3_column_int64(st, 7);
    return RK_OK;
}

/* get_one steps bound statement st and reads its first row into dst of
 * size elem (filled only on success); RK_ENOTFOUND without a row. Resets
 * st. */
static int get_one(sqlite3_stmt *st, size_t elem, row_fn fill, void *dst)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        void *tmp = calloc(1, elem);
        if (!tmp) {
            rc = RK_ENOMEM;
        } else {
            rc = fill(st, tmp);
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
static int collect(sqlite3_stmt *st, size_t elem, row_fn fill, void **out, size_t *n)
{
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
        if ((rc = fill(st, arr + len * elem)))
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

/* migrate brings c's database to SCHEMA_VERSION in one IMMEDIATE
 * transaction; a database already there is left alone. */
static int migrate(sq_conn *c, char *why, size_t cap)
{
    sqlite3 *db = c->db;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rk_fail(RK_EIO, why, cap, "cannot lock the database: %s", sqlite3_errmsg(db));
    rc = sqlite3_exec(db,
                      "CREATE TABLE IF NOT EXISTS schema_version ("
                      " version INTEGER NOT NULL PRIMARY KEY,"
                      " applied_at BIGINT NOT NULL)",
                      NULL, NULL, NULL);
    int version = 0;
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &st,
                                NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            version = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_OK) {
        rk_fail(RK_EIO, why, cap, "cannot read the schema version: %s", sqlite3_errmsg(db));
        goto rollback;
    }
    if (version > SCHEMA_VERSION) {
        rk_fail(RK_EIO, why, cap,
                "the database has schema version %d, newer than this roomkey knows (%d)", version,
                SCHEMA_VERSION);
        goto rollback;
    }
    rc = sqlite3_prepare_v2(db, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                            -1, &st, NULL);
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

/* no_memstatus turns off SQLite's allocation statistics, which RoomKey
 * never reads: with them on, every SQLite malloc and free takes one
 * process-wide mutex, so the audit writer and the worker threads' lookups
 * contend on it. It must run before SQLite initialises; if something in the
 * process already used SQLite, the call is refused and nothing changes. */
static void no_memstatus(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* sq_open opens (creating and migrating) the SQLite database named by url.
 * The caller frees *out with store_close. */
static int sq_open(const char *url, store **out, char *why, size_t cap)
{
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
    static pthread_once_t memstatus_once = PTHREAD_ONCE_INIT;
    pthread_once(&memstatus_once, no_memstatus);

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
    int rc = conn_open(path, true, &c, why, cap);
    if (rc == RK_OK && (rc = migrate(c, why, cap)) != RK_OK) {
        conn_close(c);
        c = NULL;
    }
    if (rc == RK_OK && (rc = conn_list_add(&s->conns, &c->link)) != RK_OK)
        rk_fail(rc, why, cap, "out of memory");
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

/* sq_room_get fills the caller's *out with the room named or aliased key. */
static int sq_room_get(store *self, const char *key, store_room *out)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_ROOM_GET, &st)))
        return rc;
    if (bind_text(st, 1, key) != SQLITE_OK) {
        stmt_done(st);
        return RK_EIO;
    }
    return get_one(st, sizeof *out, room_row, out);
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
    if ((rc = stmt_get(c, S_ROOM_TAKEN, &st)))
        goto rollback;
    if (bind_text(st, 1, r->name) || bind_text(st, 2, alias)) {
        stmt_done(st);
        rc = RK_EIO;
        goto rollback;
    }
    rc = sqlite3_step(st);
    stmt_done(st);
    rc = rc == SQLITE_ROW ? RK_ECONFLICT : rc == SQLITE_DONE ? RK_OK : map_err(rc);
    if (rc || (rc = stmt_get(c, S_ROOM_INSERT, &st)))
        goto rollback;
    if (bind_text(st, 1, r->name) || bind_text(st, 2, alias) || sqlite3_bind_int(st, 3, r->mode) ||
        bind_text(st, 4, r->default_role) || sqlite3_bind_int64(st, 5, r->max_participants) ||
        sqlite3_bind_int64(st, 6, r->max_ttl) || sqlite3_bind_int64(st, 7, clock_now())) {
        stmt_done(st);
        rc = RK_EIO;
        goto rollback;
    }
    rc = map_err(sqlite3_step(st));
    stmt_done(st);
    if (rc || (rc = exec_simple(c, S_COMMIT)))
        goto rollback;
    return RK_OK;
rollback:
    if (!sqlite3_get_autocommit(c->db))
        exec_simple(c, S_ROLLBACK);
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

/* sq_room_delete deletes room name; its memberships go by ON DELETE
 * CASCADE. */
static int sq_room_delete_unlocked(store *self, const char *name)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_get(self, &c);
    if (rc || (rc = stmt_get(c, S_ROOM_DELETE, &st)))
        return rc;
    if (bind_text(st, 1, name)) {
        stmt_done(st);
        return RK_EIO;
    }
    return run_change(c, st);
}

/* sq_room_list returns every room (at most STORE_MAX_LIST) by name as a new
 * array the caller frees with free(); *out is NULL when *n is 0. */
static int sq_room_list(store *self, store_room **out, size_t *n)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_ROOM_LIST, &st)))
        return rc;
    if (sqlite3_bind_int(st, 1, STORE_MAX_LIST)) {
        stmt_done(st);
        return RK_EIO;
    }
    return collect(st, sizeof **out, room_row, (void **)out, n);
}

/* sq_member_get fills the caller's *out with subject's membership of room
 * (a room name, not an alias). */
static int sq_member_get(store *self, const char *room, const char *subject, store_member *out)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_MEMBER_GET, &st)))
        return rc;
    if (bind_text(st, 1, room) || bind_text(st, 2, subject)) {
        stmt_done(st);
        return RK_EIO;
    }
    return get_one(st, sizeof *out, member_row, out);
}

/* sq_member_set inserts m or replaces its role (created_at stays that of
 * the first insert). A missing room fails the foreign key: RK_ENOTFOUND. */
static int sq_member_set_unlocked(store *self, const store_member *m)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_get(self, &c);
    if (rc || (rc = stmt_get(c, S_MEMBER_SET, &st)))
        return rc;
    if (bind_text(st, 1, m->room) || bind_text(st, 2, m->subject) || bind_text(st, 3, m->role) ||
        sqlite3_bind_int64(st, 4, clock_now())) {
        stmt_done(st);
        return RK_EIO;
    }
    rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_DONE ? RK_OK : as_err(rc);
}

/* sq_member_remove deletes subject's membership of room. */
static int sq_member_remove_unlocked(store *self, const char *room, const char *subject)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_get(self, &c);
    if (rc || (rc = stmt_get(c, S_MEMBER_REMOVE, &st)))
        return rc;
    if (bind_text(st, 1, room) || bind_text(st, 2, subject)) {
        stmt_done(st);
        return RK_EIO;
    }
    return run_change(c, st);
}

/* sq_member_list returns room's memberships by subject as a new array the
 * caller frees with free() (*out NULL when *n is 0); RK_ENOTFOUND when the
 * room doesn't exist. */
static int sq_member_list(store *self, const char *room, store_member **out, size_t *n)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_ROOM_EXISTS, &st)))
        return rc;
    if (bind_text(st, 1, room)) {
        stmt_done(st);
        return RK_EIO;
    }
    rc = sqlite3_step(st);
    stmt_done(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? RK_ENOTFOUND : as_err(rc);
    if ((rc = stmt_get(c, S_MEMBER_LIST, &st)))
        return rc;
    if (bind_text(st, 1, room) || sqlite3_bind_int(st, 2, STORE_MAX_LIST)) {
        stmt_done(st);
        return RK_EIO;
    }
    return collect(st, sizeof **out, member_row, (void **)out, n);
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
        if (bind_audit(st, (int)i * AUDIT_NCOLS, recs[i]) != RK_OK) {
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

/* bind_named binds s or v to the named parameter when the statement has it. */
static int bind_named(sqlite3_stmt *st, const char *name, const char *s, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i == 0)
        return SQLITE_OK;
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_int64(st, i, v);
}

/* sq_audit_list returns the records matching f (already checked, limit
 * 1..STORE_MAX_LIST), newest first, as a new array the caller frees with
 * free() (*out NULL when *n is 0). */
static int sq_audit_list(store *self, const store_audit_filter *f, store_audit **out, size_t *n)
{
    unsigned mask = (f->room ? AF_ROOM : 0) | (f->subject ? AF_SUBJECT : 0) |
                    (f->since > 0 ? AF_SINCE : 0) | (f->before_id > 0 ? AF_BEFORE : 0);
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_AUDIT_LIST + (int)mask, &st)))
        return rc;
    if (bind_named(st, ":room", f->room, 0) || bind_named(st, ":subject", f->subject, 0) ||
        bind_named(st, ":since", NULL, f->since) || bind_named(st, ":before", NULL, f->before_id) ||
        bind_named(st, ":limit", NULL, (int64_t)f->limit)) {
        stmt_done(st);
        return RK_EIO;
    }
    return collect(st, sizeof **out, audit_row, (void **)out, n);
}

/* ---- seats and meetings ------------------------------------------------ */

/* rollback_open rolls back c's transaction if one is open, returning rc. */
static int rollback_open(sq_conn *c, int rc)
{
    if (!sqlite3_get_autocommit(c->db))
        exec_simple(c, S_ROLLBACK);
    return rc;
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

/* window_end sets *end to the id just past the `window` records from id
 * from on, or to 0 when fewer remain. */
static int window_end(sq_conn *c, int64_t from, size_t window, int64_t *end)
{
    sqlite3_stmt *st;
    int rc = stmt_get(c, S_AUDIT_WINDOW_END, &st);
    if (rc)
        return rc;
    if (sqlite3_bind_int64(st, 1, from) || sqlite3_bind_int64(st, 2, (int64_t)window)) {
        stmt_done(st);
        return RK_EIO;
    }
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
    if ((rc = window_end(c, *cursor, window, &end)) || (rc = stmt_get(c, S_AUDIT_PRUNE, &st)))
        return rollback_open(c, rc);
    if (sqlite3_bind_int64(st, 1, *cursor) || sqlite3_bind_int64(st, 2, end ? end : INT64_MAX) ||
        sqlite3_bind_int64(st, 3, before)) {
        stmt_done(st);
        return rollback_open(c, RK_EIO);
    }
    if ((rc = step_done(st)))
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
    if ((rc = stmt_get(c, S_SEAT_CLAIM, &st)))
        return rollback_open(c, rc);
    if (bind_text(st, 1, s->room) || sqlite3_bind_int64(st, 2, s->seat) ||
        bind_text(st, 3, s->subject) || sqlite3_bind_int64(st, 4, s->exp) ||
        sqlite3_bind_int64(st, 5, now)) {
        stmt_done(st);
        return rollback_open(c, RK_EIO);
    }
    if ((rc = step_changed(c, st)) || (rc = stmt_get(c, S_SEAT_DROP_OTHERS, &st)))
        return rollback_open(c, rc);
    if (bind_text(st, 1, s->room) || bind_text(st, 2, s->subject) ||
        sqlite3_bind_int64(st, 3, s->seat)) {
        stmt_done(st);
        return rollback_open(c, RK_EIO);
    }
    if ((rc = step_done(st)) || (rc = exec_simple(c, S_COMMIT)))
        return rollback_open(c, rc);
    return RK_OK;
}

/* sq_seat_release deletes the matching live claims (subject may be NULL). */
static int sq_seat_release_unlocked(store *self, const char *room, int64_t seat,
                                    const char *subject, int64_t now)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_get(self, &c);
    if (rc || (rc = stmt_get(c, S_SEAT_RELEASE, &st)))
        return rc;
    if (bind_text(st, 1, room) || sqlite3_bind_int64(st, 2, seat) || bind_text(st, 3, subject) ||
        sqlite3_bind_int64(st, 4, now)) {
        stmt_done(st);
        return RK_EIO;
    }
    return run_change(c, st);
}

/* sq_seat_list returns room's live claims by seat as a new array the caller
 * frees with free() (*out NULL when *n is 0). */
static int sq_seat_list(store *self, const char *room, int64_t now, store_seat **out, size_t *n)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_SEAT_LIST, &st)))
        return rc;
    if (bind_text(st, 1, room) || sqlite3_bind_int64(st, 2, now) ||
        sqlite3_bind_int(st, 3, STORE_MAX_SEATS)) {
        stmt_done(st);
        return RK_EIO;
    }
    return collect(st, sizeof **out, seat_row, (void **)out, n);
}

/* meeting_bind binds m's columns to the meeting insert statement. */
static int meeting_bind(sqlite3_stmt *st, const store_meeting *m, int64_t now)
{
    return bind_text(st, 1, m->id) || bind_text(st, 2, m->room) || bind_text(st, 3, m->heading) ||
           bind_text(st, 4, m->description) || bind_text(st, 5, m->status) ||
           bind_text(st, 6, m->creator) || sqlite3_bind_int64(st, 7, now);
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
    if ((rc = stmt_get(c, S_MEETING_ROOM, &st)))
        return rollback_open(c, rc);
    if (bind_text(st, 1, m->room) || bind_text(st, 2, participant_role) ||
        sqlite3_bind_int64(st, 3, now)) {
        stmt_done(st);
        return rollback_open(c, RK_EIO);
    }
    if ((rc = step_changed(c, st)) || (rc = stmt_get(c, S_MEETING_INSERT, &st)))
        return rollback_open(c, rc);
    if (meeting_bind(st, m, now)) {
        stmt_done(st);
        return rollback_open(c, RK_EIO);
    }
    if ((rc = step_done(st)) || (rc = stmt_get(c, S_MEMBER_SET, &st)))
        return rollback_open(c, rc);
    if (bind_text(st, 1, m->room) || bind_text(st, 2, m->creator) ||
        bind_text(st, 3, creator_role) || sqlite3_bind_int64(st, 4, now)) {
        stmt_done(st);
        return rollback_open(c, RK_EIO);
    }
    if ((rc = step_done(st)) || (rc = exec_simple(c, S_COMMIT)))
        return rollback_open(c, rc);
    return RK_OK;
}

/* sq_meeting_get fills the caller's *out with meeting id. */
static int sq_meeting_get(store *self, const char *id, store_meeting *out)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_MEETING_GET, &st)))
        return rc;
    if (bind_text(st, 1, id)) {
        stmt_done(st);
        return RK_EIO;
    }
    return get_one(st, sizeof *out, meeting_row, out);
}

/* sq_meeting_set_status sets meeting id's status and updated_at. */
static int sq_meeting_set_status_unlocked(store *self, const char *id, const char *status)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_get(self, &c);
    if (rc || (rc = stmt_get(c, S_MEETING_STATUS, &st)))
        return rc;
    if (bind_text(st, 1, id) || bind_text(st, 2, status) ||
        sqlite3_bind_int64(st, 3, clock_now())) {
        stmt_done(st);
        return RK_EIO;
    }
    return run_change(c, st);
}

/* sq_meeting_delete deletes meeting id's room, which takes the meeting,
 * its memberships and seats with it. */
static int sq_meeting_delete_unlocked(store *self, const char *id)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = writer_get(self, &c);
    if (rc || (rc = stmt_get(c, S_MEETING_DELETE, &st)))
        return rc;
    if (bind_text(st, 1, id)) {
        stmt_done(st);
        return RK_EIO;
    }
    return run_change(c, st);
}

/* sq_meeting_list returns up to limit meetings after after_id (NULL = from
 * the first) by id, as a new array the caller frees with free(). */
static int sq_meeting_list(store *self, const char *after_id, size_t limit, store_meeting **out,
                           size_t *n)
{
    sq_conn *c;
    sqlite3_stmt *st;
    int rc = conn_get(self, &c);
    if (rc || (rc = stmt_get(c, S_MEETING_LIST, &st)))
        return rc;
    if (bind_text(st, 1, after_id ? after_id : "") || sqlite3_bind_int64(st, 2, (int64_t)limit)) {
        stmt_done(st);
        return RK_EIO;
    }
    return collect(st, sizeof **out, meeting_row, (void **)out, n);
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

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .room_get = sq_room_get,
    .room_create = sq_room_create,
    .room_delete = sq_room_delete,
    .room_list = sq_room_list,
    .member_get = sq_member_get,
    .member_set = sq_member_set,
    .member_remove = sq_member_remove,
    .member_list = sq_member_list,
    .audit_add_batch = sq_audit_add_batch,
    .audit_list = sq_audit_list,
    .audit_prune = sq_audit_prune,
    .seat_claim = sq_seat_claim,
    .seat_release = sq_seat_release,
    .seat_list = sq_seat_list,
    .meeting_create = sq_meeting_create,
    .meeting_get = sq_meeting_get,
    .meeting_set_status = sq_meeting_set_status,
    .meeting_delete = sq_meeting_delete,
    .meeting_list = sq_meeting_list,
};
