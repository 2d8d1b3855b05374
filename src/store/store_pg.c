/* store_pg.c - the PostgreSQL backend of the store (store.h): the same
 * tables as SQLite in a server that several RoomKey instances share.
 *
 * Connections: every calling thread gets its own libpq connection, opened
 * lazily (conn_list.h), like the SQLite backend. Before each use a connection is
 * checked without a round trip (PQconsumeInput sees a restarted server's
 * close); a broken one is reopened, and a read whose connection broke
 * while it ran is run once more on a new one. After a failed connect, no
 * thread tries again for RECONNECT_PAUSE_MS: while the server is down,
 * requests fail at once (RK_EIO) instead of each waiting for a connect.
 *
 * Audit batches go in one pipelined transaction (BEGIN, one INSERT per
 * record, COMMIT, Sync: one round trip). A batch whose connection broke is
 * written again on a new connection, and there a record whose jti already
 * exists with identical fields counts as committed: the lost COMMIT did
 * commit it. So no record is lost or written twice, and none is half
 * written (a record is one row). See docs/deploy.md.
 *
 * Deadlines: a server that stops answering (frozen, or a network that
 * drops packets without a reset) must not hold a request forever. A
 * connect waits at most the store's timeout (libpq's connect_timeout,
 * unless the URL sets its own); every statement marks its connection busy,
 * and the change feed's thread, which wakes every WATCH_TICK_MS, shuts
 * down the socket of a connection busy for longer than the timeout: the
 * blocked libpq call returns, the connection counts as lost, and the
 * operation fails (RK_EIO) like one whose server went away.
 *
 * Change feed: triggers on rooms and members pg_notify STORE_PG_CHANNEL
 * on every change, whoever makes it (another instance, the CLI, psql).
 * One thread per store holds its own connection, LISTENs, and calls
 * store_notify_changed on each notification and after every (re)connect,
 * since notifications sent while it was away are lost.
 *
 * SQL: fixed text with $n parameters, prepared once per connection; values
 * are only ever bound, never formatted into SQL. */
#include "store_pg.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "conn_list.h"
#include "pq_lib.h"
#include "store_sql.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECONNECT_PAUSE_MS  200   /* after a failed connect, fail fast this long */
#define FEED_BACKOFF_MIN_MS 50    /* change feed: first pause after losing the server */
#define FEED_BACKOFF_MAX_MS 2000  /* ... doubling up to this */
#define FEED_CONNECT_MS     10000 /* change feed: bound on one connect + LISTEN */
#define WATCH_TICK_MS       100   /* how often statements are checked against the timeout */

/* pg_advisory_xact_lock keys: "RKschema" (migrations) and "RKrooms\0"
 * (room creation: the name-or-alias check and the insert). */
#define LOCK_SCHEMA INT64_C(0x524b736368656d61)
#define LOCK_ROOMS  INT64_C(0x524b726f6f6d7300)

#define PG_MAX_PARAMS 9 /* of any statement but the audit insert */

/* The schema (store_sql.h), applied in one transaction under an advisory
 * lock at open. */
#define SCHEMA_VERSION STORE_SQL_VERSIONS
#define MIGRATIONS     store_sql_pg_schema

/* Statements prepared per connection (named "rk<id>"): the shared ones
 * (store_sql.h), then PostgreSQL's own. The audit list has one per
 * combination of filters (S_AUDIT_LIST + a mask of AF_* bits). */
enum {
    S_BEGIN = SQL_SHARED_COUNT,
    S_LOCK,
    S_AUDIT_ADD,
    S_SEAT_CLAIM,
    S_AUDIT_PRUNE,
    S_AUDIT_LIST,
    S_AUDIT_ROWS = S_AUDIT_LIST + AF_COMBINATIONS,
    S_COUNT = S_AUDIT_ROWS + 6,
};
_Static_assert(S_COUNT <= 64, "prepared statements are tracked in a 64-bit mask");

/* The multi-row audit INSERT: statement S_AUDIT_ROWS + k writes 1 << k
 * records (up to AUDIT_MAX_ROWS), SQL_AUDIT_NCOLS parameters each, and
 * returns the jti of every record it inserted (a jti logged already is
 * skipped). Its text is AUDIT_ROWS_HEAD, the rows, AUDIT_ROWS_TAIL; a row
 * is at most AUDIT_ROW_MAX bytes ("$320, " is 6 per parameter, then the
 * parentheses and the ", " between rows). */
#define AUDIT_MAX_ROWS  32
#define AUDIT_ROWS_HEAD "INSERT INTO audit (" SQL_AUDIT_INSERT_COLS ") VALUES "
#define AUDIT_ROWS_TAIL " ON CONFLICT (jti) DO NOTHING RETURNING jti"
#define AUDIT_ROW_MAX   (6 * SQL_AUDIT_NCOLS + 4)
#define PG_SQL_MAX      4096 /* any statement's text, with its NUL */
_Static_assert(sizeof AUDIT_ROWS_HEAD + AUDIT_MAX_ROWS * AUDIT_ROW_MAX + sizeof AUDIT_ROWS_TAIL <=
                   PG_SQL_MAX,
               "the largest audit INSERT must fit PG_SQL_MAX");
_Static_assert(AUDIT_MAX_ROWS *SQL_AUDIT_NCOLS <= 999, "parameter numbers of 3 digits at most");

/* PostgreSQL's own statements (the rest are in store_sql_text). */
static const char *const SQL[S_AUDIT_LIST] = {
    [S_BEGIN] = "BEGIN",
    [S_LOCK] = "SELECT pg_advisory_xact_lock($1)",
    /* One row "1": inserted. One row "2": this jti is already logged with
     * exactly these fields (after a lost COMMIT: ours). No row: this jti is
     * logged with other fields. The outer SELECT reads the snapshot from
     * before the INSERT, so it never sees the row it inserts. */
    [S_AUDIT_ADD] = "WITH ins AS (INSERT INTO audit (" SQL_AUDIT_INSERT_COLS ")"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    " ON CONFLICT (jti) DO NOTHING RETURNING 1 AS k)"
                    " SELECT k FROM ins UNION ALL"
                    " SELECT 2 FROM audit WHERE jti = $1 AND subject = $2 AND identity = $3"
                    " AND room = $4 AND role = $5 AND grants = $6 AND issued_at = $7"
                    " AND exp = $8 AND client_ip = $9 AND route = $10"
                    " AND NOT EXISTS (SELECT 1 FROM ins)",
    /* The claim (SQL_SEAT_UPSERT) and the drop of the subject's other seats
     * of the room are one statement (count 0: another subject holds the
     * seat; a racing claim waits for the other's commit and then sees its
     * row). Running it twice changes nothing more. */
    [S_SEAT_CLAIM] = "WITH claim AS (" SQL_SEAT_UPSERT " RETURNING 1),"
                     " others AS (DELETE FROM seats WHERE room = $1 AND subject = $3 AND seat <> $2"
                     " AND EXISTS (SELECT 1 FROM claim))"
                     " SELECT count(*) FROM claim",
    /* One retention step (store_ops.audit_prune) in one statement: the id
     * just past a window of $2 records from id $1 on (NULL: the window
     * reaches the newest record), and how many records of the window
     * issued before $3 it deleted. Both walk the primary key only. The
     * newest record always stays, as on SQLite. */
    [S_AUDIT_PRUNE] =
        "WITH w AS (SELECT id FROM audit WHERE id >= $1 ORDER BY id LIMIT 1 OFFSET $2),"
        " d AS (DELETE FROM audit WHERE id >= $1 AND issued_at < $3"
        " AND id < COALESCE((SELECT id FROM w), 9223372036854775807)"
        " AND id < (SELECT max(id) FROM audit) RETURNING 1)"
        " SELECT (SELECT id FROM w), (SELECT count(*) FROM d)",
};

/* One connection with its prepared statements. */
typedef struct pg_conn {
    conn_link link;    /* first: in the store's conns (the feed's: in none) */
    PGconn *db;        /* NULL while not connected */
    uint64_t prepared; /* bit i: statement i is prepared on db */
    bool lost;         /* the server ended the session: reconnect before use */
    /* under the store's conns.mu: */
    int64_t busy_since; /* monotonic ms a statement began; 0 = not in one */
    int busy_fd;        /* db's socket while busy */
    bool cut;           /* the watchdog shut the socket down (timeout) */
} pg_conn;

typedef struct pg_store {
    store base; /* first: a store * is a pg_store * */
    char *url;
    conn_list conns;             /* every thread's connection */
    _Atomic int64_t retry_at_ms; /* no connect attempt before this (monotonic) */
    pthread_t feed;              /* the change feed's thread */
    bool feed_running;
    int wake[2]; /* pipe: close writes a byte to stop the feed */
    atomic_bool stopping;
    _Atomic uint64_t feed_connects, feed_notes;
    atomic_bool feed_up;
    atomic_bool down;      /* the last connect attempt failed */
    int64_t timeout_ms;    /* store_options.timeout_ms */
    char connect_s[24];    /* the same in whole seconds (>= 2), libpq's connect_timeout */
    _Atomic uint64_t cuts; /* statements cut by the watchdog */
    int64_t last_watch;    /* the feed thread's own: when it last ran watch_statements */
} pg_store;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- errors ------------------------------------------------------------ */

/* result_err turns a failed result into an RK_* code by its SQLSTATE:
 * uniqueness is a conflict, a missing parent row (foreign key) is
 * RK_ENOTFOUND, bad data (e.g. text that isn't UTF-8) is RK_EINVAL; the
 * rest, connection failures included, is RK_EIO. */
static int result_err(const PGresult *r)
{
    const char *state = r ? libpq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return RK_EIO;
    if (strcmp(state, "23505") == 0)
        return RK_ECONFLICT;
    if (strcmp(state, "23503") == 0)
        return RK_ENOTFOUND;
    if (strncmp(state, "22", 2) == 0 || strcmp(state, "23502") == 0 || strcmp(state, "23514") == 0)
        return RK_EINVAL;
    if (strcmp(state, "54000") == 0)
        return RK_ETOOBIG;
    if (strcmp(state, "53200") == 0)
        return RK_ENOMEM;
    return RK_EIO;
}

/* session_ended: r's SQLSTATE says the server ended or lost the session
 * (class 08, or shutdown / crash / not yet accepting connections). */
static bool session_ended(const PGresult *r)
{
    const char *state = r ? libpq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0);
}

/* conn_failed records that statement result r (NULL = none) failed on c;
 * returns its RK_* code. */
static int conn_failed(pg_conn *c, const PGresult *r)
{
    if (!r || session_ended(r) || libpq.PQstatus(c->db) != CONNECTION_OK)
        c->lost = true;
    return r ? result_err(r) : RK_EIO;
}

/* first_line writes "what: " and libpq's message msg up to its first line
 * break into why (capacity cap); returns rc. libpq names host and user;
 * store_open scrubs a password it might quote from a malformed URL. */
static int first_line(int rc, char *why, size_t cap, const char *what, const char *msg)
{
    size_t n = strcspn(msg ? msg : "", "\r\n");
    return rk_fail(rc, why, cap, "%s: %.*s", what, (int)n, msg ? msg : "");
}

/* ---- connections ------------------------------------------------------ */

/* on_notice is libpq's notice receiver: notices are not printed; a FATAL
 * one (the server is ending this session) marks the connection lost. */
static void on_notice(void *arg, const PGresult *r)
{
    pg_conn *c = arg;
    const char *sev = libpq.PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        c->lost = true;
}

/* db_start begins a connection to s's server (blocking unless async). Defaults
 * come first, so the URL may override them; client_encoding last, so it
 * can't: every string RoomKey sends and reads is UTF-8. NULL only when out
 * of memory; otherwise check PQstatus. */
static PGconn *db_start(const pg_store *s, bool async)
{
    static const char *const keys[] = {
        "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "dbname",           "client_encoding", NULL,
    };
    const char *vals[] = {s->connect_s, "roomkey", "30", "10", "3", s->url, "UTF8", NULL};
    return async ? libpq.PQconnectStartParams(keys, vals, 1)
                 : libpq.PQconnectdbParams(keys, vals, 1);
}

/* conn_drop closes c's session (if any); c can be connected again. */
static void conn_drop(pg_conn *c)
{
    libpq.PQfinish(c->db);
    c->db = NULL;
    c->prepared = 0;
    c->lost = false;
}

/* conn_connect opens a new session for c to s's server. On failure why
 * says why, and other threads wait RECONNECT_PAUSE_MS before trying. */
static int conn_connect(pg_store *s, pg_conn *c, char *why, size_t cap)
{
    if (now_ms() < atomic_load(&s->retry_at_ms))
        return rk_fail(RK_EIO, why, cap, "database unreachable (a connect just failed)");
    PGconn *db = db_start(s, false);
    if (!db)
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    if (libpq.PQstatus(db) != CONNECTION_OK) {
        first_line(RK_EIO, why, cap, "cannot connect", libpq.PQerrorMessage(db));
        libpq.PQfinish(db);
        atomic_store(&s->retry_at_ms, now_ms() + RECONNECT_PAUSE_MS);
        atomic_store(&s->down, true);
        return RK_EIO;
    }
    atomic_store(&s->down, false);
    libpq.PQsetNoticeReceiver(db, on_notice, c);
    c->db = db;
    c->prepared = 0;
    c->lost = false;
    return RK_OK;
}

/* conn_usable: c has a session the server hasn't ended, with no
 * transaction open. Reads what the socket holds without blocking, so a
 * restarted server's close (or its FATAL notice) is seen here, before any
 * statement is sent. */
static bool conn_usable(pg_conn *c)
{
    if (!c->db || c->lost || libpq.PQstatus(c->db) != CONNECTION_OK || !libpq.PQconsumeInput(c->db))
        return false;
    libpq.PQisBusy(c->db); /* parses what was read: a notice may mark c lost */
    return !c->lost && libpq.PQstatus(c->db) == CONNECTION_OK &&
           libpq.PQtransactionStatus(c->db) == PQTRANS_IDLE;
}

/* conn_free closes the session of the connection l heads and frees it
 * (already unlinked; the conn_list's free_conn). NULL is fine. */
static void conn_free(conn_link *l)
{
    pg_conn *c = (pg_conn *)l;
    if (!c)
        return;
    libpq.PQfinish(c->db);
    free(c);
}

/* pg_pass_conn passes this thread's connection on (store_pass_conn). */
static void pg_pass_conn(store *self)
{
    conn_list_pass(&((pg_store *)self)->conns);
}

/* conn_get returns this thread's connection to s, connected and idle:
 * made on the thread's first call, reconnected when the server ended its
 * session. The store owns it. */
static int conn_get(pg_store *s, pg_conn **out)
{
    pg_conn *c = (pg_conn *)conn_list_mine(&s->conns);
    if (!c) {
        if (!(c = calloc(1, sizeof *c)))
            return RK_ENOMEM;
        int rc = conn_list_add(&s->conns, &c->link);
        if (rc)
            return rc;
    }
    if (!conn_usable(c)) {
        conn_drop(c);
        int rc = conn_connect(s, c, NULL, 0);
        if (rc)
            return rc;
    }
    *out = c;
    return RK_OK;
}

/* conn_busy marks c (one of the store's conns) as running statements
 * (busy) or done with them, for watch_statements. A connection the
 * watchdog cut meanwhile is lost: reconnected before its next use. */
static void conn_busy(pg_conn *c, bool busy)
{
    conn_list *cl = c->link.list;
    pthread_mutex_lock(&cl->mu);
    if (!busy && c->cut)
        c->lost = true;
    c->busy_since = busy ? now_ms() : 0;
    c->busy_fd = busy ? libpq.PQsocket(c->db) : -1;
    c->cut = false;
    pthread_mutex_unlock(&cl->mu);
}

/* watch_statements shuts down the socket of every connection of s that
 * has been busy for s->timeout_ms or more (its libpq call then fails and
 * the connection counts as lost); the change feed's thread calls it. The
 * socket stays open (its fd can't be reused) until its thread drops it. */
static void watch_statements(pg_store *s)
{
    int64_t now = now_ms();
    unsigned n = 0;
    s->last_watch = now;
    pthread_mutex_lock(&s->conns.mu);
    for (dlist_node *d = s->conns.head; d; d = d->next) {
        pg_conn *c = (pg_conn *)d; /* dlist_node is first in conn_link, first in pg_conn */
        if (c->busy_since && !c->cut && c->busy_fd >= 0 && now - c->busy_since >= s->timeout_ms) {
            shutdown(c->busy_fd, SHUT_RDWR);
            c->cut = true;
            n++;
        }
    }
    pthread_mutex_unlock(&s->conns.mu);
    if (n) {
        atomic_fetch_add(&s->cuts, n);
        char ms[24];
        snprintf(ms, sizeof ms, "%" PRId64, s->timeout_ms);
        log_event("warn", "store_statement_timeout", "timeout_ms", ms, "note",
                  "PostgreSQL did not answer in time: the connection was closed and the "
                  "request failed (database_timeout)",
                  NULL);
    }
}

/* ---- statements ------------------------------------------------------- */

/* audit_rows_sql writes the INSERT of rows audit records (1..AUDIT_MAX_ROWS)
 * into buf (cap >= PG_SQL_MAX). */
static void audit_rows_sql(size_t rows, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s", AUDIT_ROWS_HEAD);
    for (size_t r = 0; r < rows && n < cap; r++)
        for (int k = 0; k < SQL_AUDIT_NCOLS && n < cap; k++)
            n += (size_t)snprintf(buf + n, cap - n, "%s$%zu%s",
                                  k   ? ""
                                  : r ? ", ("
                                      : "(",
                                  r * SQL_AUDIT_NCOLS + (size_t)k + 1,
                                  k == SQL_AUDIT_NCOLS - 1 ? ")" : ", ");
    if (n < cap)
        snprintf(buf + n, cap - n, "%s", AUDIT_ROWS_TAIL);
}

/* session_durable runs on a session before its first statement is
 * prepared (again, harmlessly, until one is): a session whose
 * synchronous_commit is off (the server's or the database's default) gets
 * on, so a COMMIT is answered only once its WAL is flushed and an audit
 * record a token waited for survives a crash of the database server's
 * machine. Every other value (local, remote_write, on, remote_apply)
 * flushes the commit locally and is kept as configured. */
static int session_durable(pg_conn *c)
{
    if (c->prepared)
        return RK_OK;
    PGresult *r = libpq.PQexec(c->db, "SELECT set_config('synchronous_commit', 'on', false)"
                                      " WHERE current_setting('synchronous_commit') = 'off'");
    int rc = libpq.PQresultStatus(r) == PGRES_TUPLES_OK ? RK_OK : conn_failed(c, r);
    libpq.PQclear(r);
    return rc;
}

/* stmt_prepare prepares statement id on c unless it already is (making
 * the session durable first: session_durable). */
static int stmt_prepare(pg_conn *c, int id)
{
    if (c->prepared & (UINT64_C(1) << id))
        return RK_OK;
    int drc = session_durable(c);
    if (drc)
        return drc;
    char name[16], buf[PG_SQL_MAX];
    snprintf(name, sizeof name, "rk%d", id);
    const char *sql = id < SQL_SHARED_COUNT ? store_sql_text[id]
                      : id < S_AUDIT_LIST   ? SQL[id]
                                            : buf;
    if (id >= S_AUDIT_ROWS)
        audit_rows_sql((size_t)1 << (id - S_AUDIT_ROWS), buf, sizeof buf);
    else if (id >= S_AUDIT_LIST)
        store_sql_audit_list((unsigned)(id - S_AUDIT_LIST), buf, sizeof buf);
    PGresult *r = libpq.PQprepare(c->db, name, sql, 0, NULL);
    int rc = libpq.PQresultStatus(r) == PGRES_COMMAND_OK ? RK_OK : conn_failed(c, r);
    libpq.PQclear(r);
    if (rc == RK_OK)
        c->prepared |= UINT64_C(1) << id;
    return rc;
}

/* stmt_run runs prepared statement id with n text parameters (NULL = SQL
 * NULL) on c. On RK_OK *out is its result (caller libpq.PQclear()s it). */
static int stmt_run(pg_conn *c, int id, int n, const char *const *params, PGresult **out)
{
    int rc = stmt_prepare(c, id);
    if (rc)
        return rc;
    char name[16];
    snprintf(name, sizeof name, "rk%d", id);
    PGresult *r = libpq.PQexecPrepared(c->db, name, n, params, NULL, NULL, 0);
    ExecStatusType st = libpq.PQresultStatus(r);
    if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
        *out = r;
        return RK_OK;
    }
    rc = conn_failed(c, r);
    libpq.PQclear(r);
    return rc;
}

/* Parameters as libpq takes them: text, with integers written out. */
typedef struct pg_params {
    const char *v[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
    int n;
} pg_params;

/* params_set fills p from ap, one value per letter of types: 't' a const
 * char * (NULL = SQL NULL; borrowed), 'i' an int64_t (written into p). */
static void params_set(pg_params *p, const char *types, va_list ap)
{
    for (p->n = 0; types[p->n] && p->n < PG_MAX_PARAMS; p->n++) {
        if (types[p->n] == 't') {
            p->v[p->n] = va_arg(ap, const char *);
        } else {
            snprintf(p->num[p->n], sizeof p->num[0], "%" PRId64, va_arg(ap, int64_t));
            p->v[p->n] = p->num[p->n];
        }
    }
}

/* query runs statement id with params on this thread's connection; on
 * RK_OK *out is its result (caller libpq.PQclear()s it). A connection the
 * server ended is dropped; when the statement may run twice (retry: a
 * read, or a write whose second run changes nothing more), it is run once
 * more on a new connection. */
static int query(pg_store *s, int id, int n, const char *const *params, bool retry, PGresult **out)
{
    for (int attempt = 0;; attempt++) {
        pg_conn *c;
        int rc = conn_get(s, &c);
        if (rc)
            return rc;
        conn_busy(c, true);
        rc = stmt_run(c, id, n, params, out);
        conn_busy(c, false);
        if (rc == RK_OK || !c->lost)
            return rc;
        conn_drop(c);
        if (!retry || attempt > 0)
            return rc;
    }
}

/* queryf is query with the parameters as arguments (see params_set). */
static int queryf(store *self, int id, bool retry, PGresult **out, const char *types, ...)
{
    pg_params p;
    va_list ap;
    va_start(ap, types);
    params_set(&p, types, ap);
    va_end(ap);
    return query((pg_store *)self, id, p.n, p.v, retry, out);
}

/* ---- rows ------------------------------------------------------------- */

/* A cell reader over row `row` of a result (store_sql.h). */
typedef struct pg_cells {
    store_cells base; /* first */
    const PGresult *r;
    int row;
} pg_cells;

/* cell_text copies a cell into dst (capacity cap); SQL NULL becomes "".
 * RK_ETOOBIG when it doesn't fit. */
static int cell_text(const store_cells *c, int col, char *dst, size_t cap)
{
    const pg_cells *p = (const pg_cells *)c;
    if (libpq.PQgetisnull(p->r, p->row, col)) {
        dst[0] = '\0';
        return RK_OK;
    }
    size_t len = (size_t)libpq.PQgetlength(p->r, p->row, col);
    if (len >= cap)
        return RK_ETOOBIG;
    memcpy(dst, libpq.PQgetvalue(p->r, p->row, col), len);
    dst[len] = '\0';
    return RK_OK;
}

static int64_t cell_int(const store_cells *c, int col)
{
    const pg_cells *p = (const pg_cells *)c;
    return strtoll(libpq.PQgetvalue(p->r, p->row, col), NULL, 10);
}

/* get_one reads r's first row into dst of size elem (filled only on
 * success); RK_ENOTFOUND without a row. Clears r. */
static int get_one(PGresult *r, size_t elem, const store_sql_col *row, void *dst)
{
    pg_cells cells = {{cell_text, cell_int}, r, 0};
    int rc = RK_ENOTFOUND;
    if (libpq.PQntuples(r) > 0) {
        void *tmp = calloc(1, elem);
        rc = tmp ? store_sql_decode(row, &cells.base, tmp) : RK_ENOMEM;
        if (rc == RK_OK)
            memcpy(dst, tmp, elem);
        free(tmp);
    }
    libpq.PQclear(r);
    return rc;
}

/* collect returns r's rows (at most STORE_MAX_LIST) as a new array of
 * records of size elem in *out, which the caller frees with free(); *out
 * is NULL when *n is 0. Clears r. */
static int collect(PGresult *r, size_t elem, const store_sql_col *row, void **out, size_t *n)
{
    pg_cells cells = {{cell_text, cell_int}, r, 0};
    int rows = libpq.PQntuples(r);
    if (rows > STORE_MAX_LIST)
        rows = STORE_MAX_LIST;
    char *arr = rows ? calloc((size_t)rows, elem) : NULL;
    int rc = rows && !arr ? RK_ENOMEM : RK_OK;
    for (int i = 0; rc == RK_OK && i < rows; i++) {
        cells.row = i;
        rc = store_sql_decode(row, &cells.base, arr + (size_t)i * elem);
    }
    libpq.PQclear(r);
    if (rc) {
        free(arr);
        return rc;
    }
    *out = (void *)arr;
    *n = (size_t)rows;
    return RK_OK;
}

/* ---- schema ------------------------------------------------------------ */

/* exec_step runs sql (n parameters; several statements only when n is 0)
 * on db during migration; on failure why names what and the server's
 * message. The result is cleared. */
static int exec_step(PGconn *db, const char *sql, int n, const char *const *params,
                     const char *what, char *why, size_t cap)
{
    PGresult *r =
        n ? libpq.PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0) : libpq.PQexec(db, sql);
    ExecStatusType st = libpq.PQresultStatus(r);
    libpq.PQclear(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return RK_OK;
    return first_line(RK_EIO, why, cap, what, libpq.PQerrorMessage(db));
}

/* migrate brings db's database to SCHEMA_VERSION in one transaction, under
 * an advisory lock so instances starting together migrate one at a time
 * (the others then find the schema current). */
static int migrate(PGconn *db, char *why, size_t cap)
{
    char key[24], ver[16], now[24];
    snprintf(key, sizeof key, "%" PRId64, LOCK_SCHEMA);
    const char *lock[] = {key};
    int rc = exec_step(db, "BEGIN", 0, NULL, "cannot begin the migration", why, cap);
    if (rc == RK_OK)
        rc = exec_step(db, "SELECT pg_advisory_xact_lock($1)", 1, lock,
                       "cannot take the migration lock", why, cap);
    if (rc == RK_OK)
        rc = exec_step(db, SQL_SCHEMA_VERSION_TABLE, 0, NULL, "cannot create schema_version", why,
                       cap);
    int version = 0;
    if (rc == RK_OK) {
        PGresult *r = libpq.PQexec(db, SQL_SCHEMA_VERSION_GET);
        if (libpq.PQresultStatus(r) == PGRES_TUPLES_OK && libpq.PQntuples(r) == 1)
            version = atoi(libpq.PQgetvalue(r, 0, 0));
        else
            rc = first_line(RK_EIO, why, cap, "cannot read the schema version",
                            libpq.PQerrorMessage(db));
        libpq.PQclear(r);
    }
    if (rc == RK_OK && version > SCHEMA_VERSION)
        rc = rk_fail(RK_EIO, why, cap,
                     "the database has schema version %d, newer than this roomkey knows (%d)",
                     version, SCHEMA_VERSION);
    for (int v = version; rc == RK_OK && v < SCHEMA_VERSION; v++) {
        char what[64];
        snprintf(what, sizeof what, "migration to schema version %d failed", v + 1);
        snprintf(ver, sizeof ver, "%d", v + 1);
        snprintf(now, sizeof now, "%" PRId64, clock_now());
        const char *row[] = {ver, now};
        rc = exec_step(db, MIGRATIONS[v], 0, NULL, what, why, cap);
        if (rc == RK_OK)
            rc = exec_step(db, SQL_SCHEMA_VERSION_ADD, 2, row, what, why, cap);
    }
    if (rc == RK_OK)
        rc = exec_step(db, "COMMIT", 0, NULL, "cannot commit the schema", why, cap);
    if (rc != RK_OK && libpq.PQtransactionStatus(db) != PQTRANS_IDLE)
        libpq.PQclear(libpq.PQexec(db, "ROLLBACK"));
    return rc;
}

/* ---- change feed ------------------------------------------------------ */

/* feed_wait waits up to timeout_ms (-1: no limit) for events on fd (-1:
 * none, just sleep), running watch_statements every WATCH_TICK_MS
 * meanwhile. Returns 1 when fd is ready, 0 on timeout, -1 when the store
 * is closing. */
static int feed_wait(pg_store *s, int fd, short events, int64_t timeout_ms)
{
    int64_t end = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        int64_t now = now_ms();
        if (now - s->last_watch >= WATCH_TICK_MS)
            watch_statements(s);
        int64_t left = end < 0 ? WATCH_TICK_MS : end - now;
        struct pollfd p[2] = {{.fd = s->wake[0], .events = POLLIN}, {.fd = fd, .events = events}};
        int rc = poll(p, fd >= 0 ? 2 : 1,
                      left > WATCH_TICK_MS ? WATCH_TICK_MS
                      : left < 0           ? 0
                                           : (int)left);
        if (atomic_load(&s->stopping) || (rc > 0 && p[0].revents))
            return -1;
        if (rc > 0 && p[1].revents)
            return 1;
        if (end >= 0 && now_ms() >= end)
            return 0;
    }
}

/* feed_connect connects c (the feed's own connection) and runs LISTEN,
 * without blocking past FEED_CONNECT_MS or the store's closing. */
static int feed_connect(pg_store *s, pg_conn *c)
{
    int64_t deadline = now_ms() + FEED_CONNECT_MS;
    if (!(c->db = db_start(s, true)))
        return RK_ENOMEM;
    libpq.PQsetNoticeReceiver(c->db, on_notice, c);
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    while (ps != PGRES_POLLING_OK) {
        if (ps == PGRES_POLLING_FAILED || libpq.PQstatus(c->db) == CONNECTION_BAD)
            return RK_EIO;
        short ev = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        int64_t left = deadline - now_ms();
        if (left <= 0 || feed_wait(s, libpq.PQsocket(c->db), ev, left) <= 0)
            return RK_EIO;
        ps = libpq.PQconnectPoll(c->db);
    }
    if (!libpq.PQsendQuery(c->db, "LISTEN " STORE_PG_CHANNEL))
        return RK_EIO;
    int rc = RK_OK;
    for (;;) {
        while (libpq.PQisBusy(c->db)) {
            int64_t left = deadline - now_ms();
            if (left <= 0 || feed_wait(s, libpq.PQsocket(c->db), POLLIN, left) <= 0 ||
                !libpq.PQconsumeInput(c->db))
                return RK_EIO;
        }
        PGresult *r = libpq.PQgetResult(c->db);
        if (!r)
            return rc;
        if (libpq.PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = RK_EIO;
        libpq.PQclear(r);
    }
}

/* feed_listen drops s's cached lookups on each notification until the
 * connection is lost (returns RK_EIO) or the store closes (RK_OK). */
static int feed_listen(pg_store *s, pg_conn *c)
{
    for (;;) {
        int w = feed_wait(s, libpq.PQsocket(c->db), POLLIN, -1);
        if (w < 0)
            return RK_OK;
        if (!libpq.PQconsumeInput(c->db))
            return RK_EIO;
        libpq.PQisBusy(c->db); /* parses notices: a FATAL one marks c lost */
        uint64_t got = 0;
        PGnotify *n;
        while ((n = libpq.PQnotifies(c->db))) {
            got++;
            libpq.PQfreemem(n);
        }
        if (got) {
            store_notify_changed(&s->base);
            atomic_fetch_add(&s->feed_notes, got); /* counted once the caches are dropped */
        }
        if (c->lost || libpq.PQstatus(c->db) != CONNECTION_OK)
            return RK_EIO;
    }
}

/* feed_main is the change feed's thread: connect, LISTEN, drop the caches
 * (changes made while away were not notified), relay notifications; on a
 * lost connection start again after a pause that doubles up to
 * FEED_BACKOFF_MAX_MS. Ends when the store closes. */
static void *feed_main(void *arg)
{
    pg_store *s = arg;
    pg_conn c = {0};
    int64_t pause = FEED_BACKOFF_MIN_MS;
    bool was_up = false;
    while (!atomic_load(&s->stopping)) {
        if (feed_connect(s, &c) == RK_OK) {
            store_notify_changed(&s->base);
            atomic_store(&s->feed_up, true);
            atomic_fetch_add(&s->feed_connects, 1);
            if (was_up)
                log_event("info", "store_feed_restored", NULL);
            was_up = true;
            pause = FEED_BACKOFF_MIN_MS;
            if (feed_listen(s, &c) != RK_OK) {
                char msg[256];
                const char *e = libpq.PQerrorMessage(c.db);
                first_line(RK_EIO, msg, sizeof msg, "connection lost",
                           e && *e ? e : "the server ended the session");
                log_event("warn", "store_feed_down", "error", msg, "note",
                          "PostgreSQL unreachable: lookups are cached for at most 500 ms, "
                          "requests that need the database fail until it is back",
                          NULL);
            }
            atomic_store(&s->feed_up, false);
        }
        conn_drop(&c);
        if (feed_wait(s, -1, 0, pause) < 0)
            break;
        pause = pause * 2 > FEED_BACKOFF_MAX_MS ? FEED_BACKOFF_MAX_MS : pause * 2;
    }
    conn_drop(&c);
    return NULL;
}

/* pg_start starts the change feed (store_open calls it once the front end,
 * whose cache the feed drops, is ready). */
static int pg_start(store *self)
{
    pg_store *s = (pg_store *)self;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        s->wake[0] = s->wake[1] = -1;
        return RK_EIO;
    }
    if (pthread_create(&s->feed, NULL, feed_main, s) != 0)
        return RK_ENOMEM;
    s->feed_running = true;
    return RK_OK;
}

int store_pg_feed_stats(store *st, store_pg_feed *out)
{
    if (!st || !out || st->ops != &store_pg_ops)
        return RK_EINVAL;
    pg_store *s = (pg_store *)st;
    out->connects = atomic_load(&s->feed_connects);
    out->notifications = atomic_load(&s->feed_notes);
    out->up = atomic_load(&s->feed_up);
    out->timeouts = atomic_load(&s->cuts);
    return RK_OK;
}

/* ---- open / close ----------------------------------------------------- */

/* pg_close stops the change feed, closes every connection of self and
 * frees it. Threads must have stopped using self. */
static void pg_close(store *self)
{
    pg_store *s = (pg_store *)self;
    atomic_store(&s->stopping, true);
    if (s->feed_running) {
        ssize_t w = write(s->wake[1], "x", 1);
        (void)w; /* the flag alone stops it at its next wake-up */
        pthread_join(s->feed, NULL);
    }
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    conn_list_close(&s->conns);
    free(s->url);
    free(s);
}

/* pg_open connects to the server named by url and migrates its schema.
 * The change feed starts later (pg_start). The caller frees *out with
 * store_close. */
static int pg_open(const char *url, const store_options *o, store **out, char *why, size_t cap)
{
    int lrc = pq_lib_load(why, cap);
    if (lrc)
        return lrc;
    if (!libpq.PQisthreadsafe())
        return rk_fail(RK_EIO, why, cap, "this libpq was built without thread support");
    pg_store *s = calloc(1, sizeof *s);
    if (!s)
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    s->base.ops = &store_pg_ops;
    s->wake[0] = s->wake[1] = -1;
    s->timeout_ms = o->timeout_ms;
    /* libpq counts whole seconds and treats less than 2 as 2 */
    snprintf(s->connect_s, sizeof s->connect_s, "%" PRId64,
             (o->timeout_ms + 999) / 1000 < 2 ? 2 : (o->timeout_ms + 999) / 1000);
    if (!(s->url = strdup(url))) {
        free(s);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    if (conn_list_init(&s->conns, conn_free) != RK_OK) {
        free(s->url);
        free(s);
        return rk_fail(RK_ENOMEM, why, cap, "no thread-local key left");
    }
    pg_conn *c = calloc(1, sizeof *c);
    int rc = c ? conn_connect(s, c, why, cap) : rk_fail(RK_ENOMEM, why, cap, "out of memory");
    if (rc == RK_OK)
        rc = migrate(c->db, why, cap);
    if (rc != RK_OK)
        conn_free(c ? &c->link : NULL);
    else if ((rc = conn_list_add(&s->conns, &c->link)) != RK_OK)
        rk_fail(rc, why, cap, "out of memory");
    if (rc) {
        pg_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return RK_OK;
}

/* ---- operations ------------------------------------------------------- */

/* pg_unreachable: the last connect attempt failed (store_unreachable). */
static bool pg_unreachable(store *self)
{
    return atomic_load(&((pg_store *)self)->down);
}

/* pg_ping runs a trivial read (for /readyz): RK_EIO while the server is
 * unreachable. */
static int pg_ping(store *self)
{
    PGresult *r;
    int rc = queryf(self, S_PING, true, &r, "");
    if (rc == RK_OK)
        libpq.PQclear(r);
    return rc;
}

/* pg_room_get fills the caller's *out with the room named or aliased key. */
static int pg_room_get(store *self, const char *key, store_room *out)
{
    PGresult *r;
    int rc = queryf(self, S_ROOM_GET, true, &r, "t", key);
    return rc ? rc : get_one(r, sizeof *out, store_sql_room_row, out);
}

/* tx_step runs statement id on c (inside its open transaction) with the
 * parameters as arguments (see params_set); *rows (may be NULL) gets the
 * rows it returned or changed. */
static int tx_step(pg_conn *c, int id, int *rows, const char *types, ...)
{
    pg_params p;
    va_list ap;
    va_start(ap, types);
    params_set(&p, types, ap);
    va_end(ap);
    PGresult *r;
    int rc = stmt_run(c, id, p.n, p.v, &r);
    if (rc)
        return rc;
    if (rows)
        *rows = libpq.PQresultStatus(r) == PGRES_TUPLES_OK ? libpq.PQntuples(r)
                                                           : atoi(libpq.PQcmdTuples(r));
    libpq.PQclear(r);
    return RK_OK;
}

/* tx_begin_rooms begins a transaction on c holding the rooms lock, so two
 * instances can't both find a room name free and both take it. */
static int tx_begin_rooms(pg_conn *c)
{
    int rc = tx_step(c, S_BEGIN, NULL, "");
    return rc ? rc : tx_step(c, S_LOCK, NULL, "i", LOCK_ROOMS);
}

/* tx_end commits c's transaction when rc is RK_OK, else rolls it back;
 * returns rc, or the COMMIT's failure. */
static int tx_end(pg_conn *c, int rc)
{
    if (rc == RK_OK)
        rc = tx_step(c, S_COMMIT, NULL, "");
    if (rc != RK_OK && !c->lost && libpq.PQtransactionStatus(c->db) != PQTRANS_IDLE)
        libpq.PQclear(libpq.PQexec(c->db, "ROLLBACK"));
    return rc;
}

/* room_insert runs the room creation transaction on c: under the rooms
 * lock, the name-or-alias check and the insert. */
static int room_insert(pg_conn *c, const void *arg)
{
    const store_room *r = arg;
    const char *alias = r->alias[0] ? r->alias : NULL;
    int rows = 0;
    int rc = tx_begin_rooms(c);
    if (rc == RK_OK && (rc = tx_step(c, S_ROOM_TAKEN, &rows, "tt", r->name, alias)) == RK_OK &&
        rows > 0)
        rc = RK_ECONFLICT;
    if (rc == RK_OK)
        rc = tx_step(c, S_ROOM_INSERT, NULL, "ttitiii", r->name, alias, (int64_t)r->mode,
                     r->default_role, r->max_participants, r->max_ttl, clock_now());
    return tx_end(c, rc);
}

/* run_tx runs transaction fn(c, arg) on this thread's connection. Not
 * retried when the connection breaks: whether it committed is unknown
 * (RK_EIO). */
static int run_tx(store *self, int (*fn)(pg_conn *c, const void *arg), const void *arg)
{
    pg_conn *c;
    int rc = conn_get((pg_store *)self, &c);
    if (rc)
        return rc;
    conn_busy(c, true);
    rc = fn(c, arg);
    conn_busy(c, false);
    if (rc != RK_OK && c->lost)
        conn_drop(c);
    return rc;
}

/* pg_room_create inserts r (copied; the caller keeps r). */
static int pg_room_create(store *self, const store_room *r)
{
    return run_tx(self, room_insert, r);
}

/* changed reads the result r of a write (and clears it): RK_ENOTFOUND when
 * it changed no row. */
static int changed(PGresult *r)
{
    int rc = strcmp(libpq.PQcmdTuples(r), "0") == 0 ? RK_ENOTFOUND : RK_OK;
    libpq.PQclear(r);
    return rc;
}

/* pg_room_delete deletes room name; its memberships go by ON DELETE
 * CASCADE. Not retried (a second run would report RK_ENOTFOUND). */
static int pg_room_delete(store *self, const char *name)
{
    PGresult *r;
    int rc = queryf(self, S_ROOM_DELETE, false, &r, "t", name);
    return rc ? rc : changed(r);
}

/* pg_room_update sets r's mode, default role and limits (room_update);
 * retried, as running it twice changes nothing more. */
static int pg_room_update(store *self, const store_room *r)
{
    PGresult *res;
    int rc = queryf(self, S_ROOM_UPDATE, true, &res, "titii", r->name, (int64_t)r->mode,
                    r->default_role, r->max_participants, r->max_ttl);
    return rc ? rc : changed(res);
}

/* pg_room_list returns every room (at most STORE_MAX_LIST) by name as a new
 * array the caller frees with free(); *out is NULL when *n is 0. */
static int pg_room_list(store *self, store_room **out, size_t *n)
{
    PGresult *r;
    int rc = queryf(self, S_ROOM_LIST, true, &r, "i", (int64_t)STORE_MAX_LIST);
    return rc ? rc : collect(r, sizeof **out, store_sql_room_row, (void **)out, n);
}

/* pg_member_get fills the caller's *out with subject's membership of room
 * (a room name, not an alias). */
static int pg_member_get(store *self, const char *room, const char *subject, store_member *out)
{
    PGresult *r;
    int rc = queryf(self, S_MEMBER_GET, true, &r, "tt", room, subject);
    return rc ? rc : get_one(r, sizeof *out, store_sql_member_row, out);
}

/* pg_member_set inserts m or replaces its role (created_at stays that of
 * the first insert); running it twice is harmless, so it is retried. A
 * missing room fails the foreign key: RK_ENOTFOUND. */
static int pg_member_set(store *self, const store_member *m)
{
    PGresult *r;
    int rc =
        queryf(self, S_MEMBER_SET, true, &r, "ttti", m->room, m->subject, m->role, clock_now());
    if (rc == RK_OK)
        libpq.PQclear(r);
    return rc;
}

/* pg_member_remove deletes subject's membership of room (not retried). */
static int pg_member_remove(store *self, const char *room, const char *subject)
{
    PGresult *r;
    int rc = queryf(self, S_MEMBER_REMOVE, false, &r, "tt", room, subject);
    return rc ? rc : changed(r);
}

/* pg_member_list returns room's memberships by subject as a new array the
 * caller frees with free() (*out NULL when *n is 0); RK_ENOTFOUND when the
 * room doesn't exist. */
static int pg_member_list(store *self, const char *room, store_member **out, size_t *n)
{
    PGresult *r;
    int rc = queryf(self, S_MEMBER_LIST, true, &r, "ti", room, (int64_t)STORE_MAX_LIST);
    if (rc || libpq.PQntuples(r) > 0)
        return rc ? rc : collect(r, sizeof **out, store_sql_member_row, (void **)out, n);
    libpq.PQclear(r);
    if ((rc = queryf(self, S_ROOM_EXISTS, true, &r, "t", room)))
        return rc;
    rc = libpq.PQntuples(r) > 0 ? RK_OK : RK_ENOTFOUND;
    libpq.PQclear(r);
    return rc;
}

/* audit_send queues the INSERT of recs[0..rows) on c's pipeline with
 * prepared statement id: S_AUDIT_ADD (one record) or the multi-row INSERT
 * of rows records. libpq copies the parameters before it returns. */
static int audit_send(pg_conn *c, int id, const store_audit *const *recs, size_t rows)
{
    char nums[AUDIT_MAX_ROWS][2][24], name[16];
    const char *p[AUDIT_MAX_ROWS * SQL_AUDIT_NCOLS];
    snprintf(name, sizeof name, "rk%d", id);
    for (size_t k = 0; k < rows && k < AUDIT_MAX_ROWS; k++) {
        const store_audit *a = recs[k];
        snprintf(nums[k][0], sizeof nums[k][0], "%" PRId64, a->issued_at);
        snprintf(nums[k][1], sizeof nums[k][1], "%" PRId64, a->exp);
        const char *v[SQL_AUDIT_NCOLS] = {a->jti,       a->subject, a->identity, a->room,
                                          a->role,      a->grants,  nums[k][0],  nums[k][1],
                                          a->client_ip, a->route};
        memcpy(p + k * SQL_AUDIT_NCOLS, v, sizeof v);
    }
    return libpq.PQsendQueryPrepared(c->db, name, (int)(rows * SQL_AUDIT_NCOLS), p, NULL, NULL, 0)
               ? RK_OK
               : RK_EIO;
}

/* pipe_result reads the next statement's result from c's pipeline: its
 * status in *st, the result itself in *out (the caller libpq.PQclear()s it).
 * RK_EIO when the connection failed. */
static int pipe_result(pg_conn *c, ExecStatusType *st, PGresult **out)
{
    PGresult *r = libpq.PQgetResult(c->db);
    if (!r)
        return conn_failed(c, NULL);
    *st = libpq.PQresultStatus(r);
    int rc = *st == PGRES_FATAL_ERROR ? conn_failed(c, r) : RK_OK;
    if (*st != PGRES_PIPELINE_SYNC &&
        libpq.PQgetResult(c->db) != NULL) { /* each query ends with NULL */
        libpq.PQclear(r);
        return conn_failed(c, NULL);
    }
    *out = r;
    return rc;
}

/* chunk_rows is the size of the multi-row INSERT for the next left
 * records: the largest power of two that fits, at most AUDIT_MAX_ROWS. */
static size_t chunk_rows(size_t left)
{
    size_t rows = 1;
    while (rows * 2 <= left && rows * 2 <= AUDIT_MAX_ROWS)
        rows *= 2;
    return rows;
}

/* audit_plan prepares the statements writing recs[0..n) on c (before the
 * pipeline: libpq prepares nothing inside one): with retry, S_AUDIT_ADD per
 * record; else multi-row INSERTs (chunk_rows). */
static int audit_plan(pg_conn *c, size_t n, bool retry)
{
    int rc = stmt_prepare(c, S_BEGIN);
    if (rc == RK_OK)
        rc = stmt_prepare(c, S_COMMIT);
    for (size_t i = 0; rc == RK_OK && i < n; i += retry ? 1 : chunk_rows(n - i))
        rc = stmt_prepare(c, retry ? S_AUDIT_ADD
                                   : S_AUDIT_ROWS + __builtin_ctz((unsigned)chunk_rows(n - i)));
    return rc;
}

/* audit_rcs sets rcs[0..rows) from the result r of the statement that
 * wrote recs[0..rows). S_AUDIT_ADD (one record) answers "1" (inserted),
 * "2" (this jti logged with these very fields) or no row (logged with
 * others): after a lost COMMIT (retry) "2" is ours. A multi-row INSERT
 * returns the jti of each record it inserted; a jti twice in it was
 * inserted with its first record. Every other record is RK_ECONFLICT. */
static void audit_rcs(const PGresult *r, const store_audit *const *recs, size_t rows, bool retry,
                      int *rcs)
{
    if (retry) {
        char k = libpq.PQntuples(r) > 0 ? libpq.PQgetvalue(r, 0, 0)[0] : '\0';
        rcs[0] = k == '1' || k == '2' ? RK_OK : RK_ECONFLICT;
        return;
    }
    for (size_t k = 0; k < rows; k++)
        rcs[k] = RK_ECONFLICT;
    for (int t = 0; t < libpq.PQntuples(r); t++) {
        const char *jti = libpq.PQgetvalue(r, t, 0);
        for (size_t k = 0; k < rows; k++)
            if (rcs[k] != RK_OK && strcmp(recs[k]->jti, jti) == 0) {
                rcs[k] = RK_OK;
                break;
            }
    }
}

/* audit_send_all queues BEGIN, the INSERTs of recs[0..n) (see
 * audit_plan), COMMIT and the sync point on c's pipeline, and returns the
 * number of INSERTs in *stmts. */
static int audit_send_all(pg_conn *c, const store_audit *const *recs, size_t n, bool retry,
                          size_t *stmts)
{
    char begin[16], commit[16];
    snprintf(begin, sizeof begin, "rk%d", S_BEGIN);
    snprintf(commit, sizeof commit, "rk%d", S_COMMIT);
    int rc = libpq.PQsendQueryPrepared(c->db, begin, 0, NULL, NULL, NULL, 0) ? RK_OK : RK_EIO;
    *stmts = 0;
    for (size_t i = 0, rows; rc == RK_OK && i < n; i += rows, ++*stmts) {
        rows = retry ? 1 : chunk_rows(n - i);
        rc = audit_send(c, retry ? S_AUDIT_ADD : S_AUDIT_ROWS + __builtin_ctz((unsigned)rows),
                        recs + i, rows);
    }
    if (rc == RK_OK && !libpq.PQsendQueryPrepared(c->db, commit, 0, NULL, NULL, NULL, 0))
        rc = RK_EIO;
    return rc == RK_OK && libpq.PQpipelineSync(c->db) ? RK_OK : RK_EIO;
}

/* audit_pipeline writes recs[0..n) on c in one transaction sent as one
 * pipeline, and sets rcs[i] to each record's result: RK_OK, or
 * RK_ECONFLICT for a jti logged already. After a lost COMMIT (retry), a
 * jti logged with identical fields is ours: RK_OK. Returns RK_OK when the
 * transaction committed; otherwise nothing was written (or, with c->lost
 * set, the outcome is unknown) and rcs is unset. */
static int audit_pipeline(pg_conn *c, const store_audit *const *recs, size_t n, int *rcs,
                          bool retry)
{
    size_t stmts;
    int rc = audit_plan(c, n, retry);
    if (rc)
        return rc;
    if (!libpq.PQenterPipelineMode(c->db))
        return conn_failed(c, NULL);
    if (audit_send_all(c, recs, n, retry, &stmts) != RK_OK) {
        c->lost = true; /* a half-sent pipeline: never reuse this session */
        return RK_EIO;
    }
    /* stmts + 2 results (BEGIN, the INSERTs, COMMIT), then the sync point;
     * after an error the rest come back PGRES_PIPELINE_ABORTED */
    ExecStatusType st;
    PGresult *r;
    int first_err = RK_OK;
    for (size_t j = 0, i = 0; j < stmts + 2; j++) {
        r = NULL;
        if ((rc = pipe_result(c, &st, &r)) && c->lost) {
            libpq.PQclear(r);
            return rc;
        }
        if (rc && !first_err)
            first_err = rc;
        size_t rows = j >= 1 && j <= stmts ? (retry ? 1 : chunk_rows(n - i)) : 0;
        if (rows && st == PGRES_TUPLES_OK)
            audit_rcs(r, recs + i, rows, retry, rcs + i);
        else if (st != PGRES_COMMAND_OK && !first_err)
            first_err = RK_EIO;
        i += rows;
        libpq.PQclear(r);
    }
    r = NULL;
    rc = pipe_result(c, &st, &r);
    libpq.PQclear(r);
    if (rc || st != PGRES_PIPELINE_SYNC || !libpq.PQexitPipelineMode(c->db)) {
        c->lost = true;
        return rc ? rc : RK_EIO;
    }
    if (libpq.PQtransactionStatus(c->db) != PQTRANS_IDLE) /* the error left the transaction open */
        libpq.PQclear(libpq.PQexec(c->db, "ROLLBACK"));
    return first_err;
}

/* audit_timed is audit_pipeline under the statement deadline (conn_busy). */
static int audit_timed(pg_conn *c, const store_audit *const *recs, size_t n, int *rcs, bool retry)
{
    conn_busy(c, true);
    int rc = audit_pipeline(c, recs, n, rcs, retry);
    conn_busy(c, false);
    return rc;
}

/* pg_audit_add_batch writes recs[0..n) in one transaction; rcs[i] gets
 * each record's result. When the connection breaks, the batch is written
 * again on a new one (see audit_pipeline's retry). When the database
 * refuses one record (e.g. text that isn't UTF-8), which fails the whole
 * transaction, each record is written alone so only that one fails. When
 * the batch can't be written, every rcs[i] is that failure. */
static int pg_audit_add_batch(store *self, const store_audit *const *recs, size_t n, int *rcs)
{
    pg_store *s = (pg_store *)self;
    pg_conn *c = NULL;
    int rc = conn_get(s, &c);
    if (rc == RK_OK)
        rc = audit_timed(c, recs, n, rcs, false);
    if (rc != RK_OK && c && c->lost) {
        conn_drop(c);
        if ((rc = conn_get(s, &c)) == RK_OK)
            rc = audit_timed(c, recs, n, rcs, true);
        if (rc != RK_OK && c->lost)
            conn_drop(c);
    } else if (rc != RK_OK && c && n > 1) {
        for (size_t i = 0; i < n; i++) {
            int one = c->lost ? RK_EIO : audit_timed(c, &recs[i], 1, &rcs[i], false);
            if (one != RK_OK)
                rcs[i] = one;
        }
        if (c->lost)
            conn_drop(c);
        return RK_OK;
    }
    if (rc != RK_OK)
        for (size_t i = 0; i < n; i++)
            rcs[i] = rc;
    return rc;
}

/* pg_audit_list returns the records matching f (already checked, limit
 * 1..STORE_MAX_LIST), newest first, as a new array the caller frees with
 * free() (*out NULL when *n is 0). */
static int pg_audit_list(store *self, const store_audit_filter *f, store_audit **out, size_t *n)
{
    unsigned mask = store_sql_audit_mask(f);
    char since[24], before[24], lim[24];
    snprintf(since, sizeof since, "%" PRId64, f->since);
    snprintf(before, sizeof before, "%" PRId64, f->before_id);
    snprintf(lim, sizeof lim, "%zu", f->limit);
    const char *p[5];
    int np = 0;
    if (mask & AF_ROOM)
        p[np++] = f->room;
    if (mask & AF_SUBJECT)
        p[np++] = f->subject;
    if (mask & AF_SINCE)
        p[np++] = since;
    if (mask & AF_BEFORE)
        p[np++] = before;
    p[np++] = lim;
    PGresult *r;
    int rc = query((pg_store *)self, S_AUDIT_LIST + (int)mask, np, p, true, &r);
    return rc ? rc : collect(r, sizeof **out, store_sql_audit_row, (void **)out, n);
}

/* pg_audit_prune is one retention step (store_ops.audit_prune). Retried
 * on a new connection when the first breaks: a second run deletes nothing
 * the first did not. */
static int pg_audit_prune(store *self, int64_t before, size_t window, int64_t *cursor,
                          size_t *deleted)
{
    PGresult *r;
    *deleted = 0;
    int rc = queryf(self, S_AUDIT_PRUNE, true, &r, "iii", *cursor, (int64_t)window, before);
    if (rc)
        return rc;
    if (libpq.PQntuples(r) != 1 || libpq.PQnfields(r) != 2) {
        libpq.PQclear(r);
        return RK_EIO;
    }
    *cursor = libpq.PQgetisnull(r, 0, 0) ? 0 : strtoll(libpq.PQgetvalue(r, 0, 0), NULL, 10);
    *deleted = (size_t)strtoll(libpq.PQgetvalue(r, 0, 1), NULL, 10);
    libpq.PQclear(r);
    return RK_OK;
}

/* ---- seats and meetings ------------------------------------------------ */

/* pg_seat_claim claims s (copied) in one statement (see S_SEAT_CLAIM);
 * retried after a broken connection, since a second run changes nothing. */
static int pg_seat_claim(store *self, const store_seat *s, int64_t now)
{
    PGresult *r;
    int rc =
        queryf(self, S_SEAT_CLAIM, true, &r, "titii", s->room, s->seat, s->subject, s->exp, now);
    if (rc)
        return rc;
    rc = strtoll(libpq.PQgetvalue(r, 0, 0), NULL, 10) > 0 ? RK_OK : RK_ECONFLICT;
    libpq.PQclear(r);
    return rc;
}

/* pg_seat_release deletes the matching live claims (subject may be NULL);
 * not retried (a second run would report RK_ENOTFOUND). */
static int pg_seat_release(store *self, const char *room, int64_t seat, const char *subject,
                           int64_t now)
{
    PGresult *r;
    int rc = queryf(self, S_SEAT_RELEASE, false, &r, "titi", room, seat, subject, now);
    return rc ? rc : changed(r);
}

/* pg_seat_list returns room's live claims by seat as a new array the caller
 * frees with free() (*out NULL when *n is 0). */
static int pg_seat_list(store *self, const char *room, int64_t now, store_seat **out, size_t *n)
{
    PGresult *r;
    int rc = queryf(self, S_SEAT_LIST, true, &r, "tii", room, now, (int64_t)STORE_MAX_SEATS);
    return rc ? rc : collect(r, sizeof **out, store_sql_seat_row, (void **)out, n);
}

/* What meeting_insert writes. */
typedef struct meeting_args {
    const store_meeting *m;
    const char *creator_role, *participant_role;
} meeting_args;

/* meeting_insert runs the meeting creation transaction on c: under the
 * rooms lock, the room (only when no room has that name or alias), the
 * meeting (its id must be new), the creator's membership. */
static int meeting_insert(pg_conn *c, const void *arg)
{
    const meeting_args *a = arg;
    const store_meeting *m = a->m;
    int64_t now = clock_now();
    int rows = 0;
    int rc = tx_begin_rooms(c);
    if (rc == RK_OK &&
        (rc = tx_step(c, S_MEETING_ROOM, &rows, "tti", m->room, a->participant_role, now)) ==
            RK_OK &&
        rows == 0)
        rc = RK_ECONFLICT;
    if (rc == RK_OK)
        rc = tx_step(c, S_MEETING_INSERT, NULL, "tttttti", m->id, m->room, m->heading,
                     m->description, m->status, m->creator, now);
    if (rc == RK_OK)
        rc = tx_step(c, S_MEMBER_SET, NULL, "ttti", m->room, m->creator, a->creator_role, now);
    return tx_end(c, rc);
}

/* pg_meeting_create writes the room, the meeting and the creator's
 * membership (all copied) in one transaction; not retried. */
static int pg_meeting_create(store *self, const store_meeting *m, const char *creator_role,
                             const char *participant_role)
{
    meeting_args a = {m, creator_role, participant_role};
    return run_tx(self, meeting_insert, &a);
}

/* pg_meeting_get fills the caller's *out with meeting id. */
static int pg_meeting_get(store *self, const char *id, store_meeting *out)
{
    PGresult *r;
    int rc = queryf(self, S_MEETING_GET, true, &r, "t", id);
    return rc ? rc : get_one(r, sizeof *out, store_sql_meeting_row, out);
}

/* pg_meeting_set_status sets meeting id's status and updated_at (retried:
 * setting it twice is harmless). */
static int pg_meeting_set_status(store *self, const char *id, const char *status)
{
    PGresult *r;
    int rc = queryf(self, S_MEETING_STATUS, true, &r, "tti", id, status, clock_now());
    return rc ? rc : changed(r);
}

/* pg_meeting_delete deletes meeting id's room, which takes the meeting,
 * its memberships and seats with it (not retried). */
static int pg_meeting_delete(store *self, const char *id)
{
    PGresult *r;
    int rc = queryf(self, S_MEETING_DELETE, false, &r, "t", id);
    return rc ? rc : changed(r);
}

/* pg_meeting_list returns up to limit meetings after after_id (NULL = from
 * the first) by id, as a new array the caller frees with free(). */
static int pg_meeting_list(store *self, const char *after_id, size_t limit, store_meeting **out,
                           size_t *n)
{
    PGresult *r;
    int rc = queryf(self, S_MEETING_LIST, true, &r, "ti", after_id ? after_id : "", (int64_t)limit);
    return rc ? rc : collect(r, sizeof **out, store_sql_meeting_row, (void **)out, n);
}

/* ---- live rooms ------------------------------------------------------ */

/* pg_presence_apply records a join or a listing (retried: a second run
 * changes nothing more) or a leave (not retried). */
static int pg_presence_apply(store *self, const store_presence *p)
{
    PGresult *r;
    if (p->left_at > 0) {
        int rc = queryf(self, S_PRESENCE_LEAVE, false, &r, "tttttii", p->sid, p->room, p->identity,
                        p->name, p->kind, p->joined_at, p->left_at);
        return rc ? rc : changed(r);
    }
    int id = p->left_at == STORE_PRESENT ? S_PRESENCE_LISTED : S_PRESENCE_JOIN;
    int rc = queryf(self, id, true, &r, "ttttti", p->sid, p->room, p->identity, p->name, p->kind,
                    p->joined_at);
    if (rc == RK_OK)
        rc = changed(r);
    return rc == RK_ENOTFOUND ? RK_OK : rc;
}

static int pg_presence_list(store *self, const char *room, store_presence **out, size_t *n)
{
    PGresult *r;
    int rc = queryf(self, S_PRESENCE_LIST, true, &r, "ti", room, (int64_t)STORE_MAX_LIST);
    return rc ? rc : collect(r, sizeof **out, store_sql_presence_row, (void **)out, n);
}

/* two_cells reads the two integer cells of r's one row (b may be NULL). */
static int two_cells(PGresult *r, int64_t *a, int64_t *b)
{
    int rc = libpq.PQntuples(r) == 1 && libpq.PQnfields(r) == 2 ? RK_OK : RK_EIO;
    if (rc == RK_OK) {
        *a = strtoll(libpq.PQgetvalue(r, 0, 0), NULL, 10);
        if (b)
            *b = strtoll(libpq.PQgetvalue(r, 0, 1), NULL, 10);
    }
    libpq.PQclear(r);
    return rc;
}

static int pg_occupancy(store *self, const char *room, int64_t since, int64_t *present,
                        int64_t *pending)
{
    PGresult *r;
    int rc = queryf(self, S_OCCUPANCY, true, &r, "ti", room, since);
    return rc ? rc : two_cells(r, present, pending);
}

static int pg_audit_last_issued(store *self, const char *room, const char *identity,
                                int64_t at_most, int64_t *at)
{
    PGresult *r;
    int rc = queryf(self, S_AUDIT_LAST, true, &r, "tti", room, identity, at_most);
    return rc ? rc : two_cells(r, at, NULL);
}

static int pg_ban_until(store *self, const char *room, const char *identity, int64_t *until)
{
    PGresult *r;
    int rc = queryf(self, S_BAN_UNTIL, true, &r, "tt", room, identity);
    return rc ? rc : two_cells(r, until, NULL);
}

static int pg_event_seen(store *self, const char *id, int64_t *seen)
{
    PGresult *r;
    int rc = queryf(self, S_EVENT_SEEN, true, &r, "t", id);
    return rc ? rc : two_cells(r, seen, NULL);
}

/* pg_event_record inserts event id once (not retried: a second run would
 * see its own row): RK_ECONFLICT when known. */
static int pg_event_record(store *self, const char *id, int64_t now)
{
    PGresult *r;
    int rc = queryf(self, S_EVENT_RECORD, false, &r, "ti", id, now);
    if (rc == RK_OK)
        rc = changed(r);
    return rc == RK_ENOTFOUND ? RK_ECONFLICT : rc;
}

/* pg_event_forget deletes event id (retried: deleting twice is deleting). */
static int pg_event_forget(store *self, const char *id)
{
    PGresult *r;
    int rc = queryf(self, S_EVENT_FORGET, true, &r, "t", id);
    if (rc == RK_OK)
        rc = changed(r);
    return rc == RK_ENOTFOUND ? RK_OK : rc;
}

static int pg_action_add(store *self, const store_action *a)
{
    PGresult *r;
    int rc = queryf(self, S_ACTION_ADD, false, &r, "tttttiiit", a->room, a->identity, a->kind,
                    a->role, a->reason, a->created_at, a->until, a->ban_until, a->from_role);
    return rc ? rc : changed(r);
}

static int pg_action_list(store *self, const store_action_filter *f, store_action **out, size_t *n)
{
    PGresult *r;
    int rc = queryf(self, S_ACTION_LIST, true, &r, "ittiii", (int64_t)(f->pending ? 1 : 0), f->room,
                    f->identity, f->live_after, (int64_t)STORE_MAX_LIST, f->since);
    return rc ? rc : collect(r, sizeof **out, store_sql_action_row, (void **)out, n);
}

static int pg_action_claim(store *self, int64_t id, int64_t now)
{
    PGresult *r;
    int rc = queryf(self, S_ACTION_CLAIM, false, &r, "ii", id, now);
    if (rc == RK_OK)
        rc = changed(r);
    return rc == RK_ENOTFOUND ? RK_ECONFLICT : rc;
}

static int pg_live_prune(store *self, int64_t before, int64_t actions_before)
{
    static const int ids[] = {S_PRUNE_EVENTS, S_PRUNE_PRESENCE, S_PRUNE_ACTIONS};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        PGresult *r;
        int rc = queryf(self, ids[i], true, &r, ids[i] == S_PRUNE_ACTIONS ? "ii" : "i", before,
                        actions_before);
        if (rc)
            return rc;
        libpq.PQclear(r);
    }
    return RK_OK;
}

const store_ops store_pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .start = pg_start,
    .ping = pg_ping,
    .pass_conn = pg_pass_conn,
    .unreachable = pg_unreachable,
    .room_get = pg_room_get,
    .room_create = pg_room_create,
    .room_delete = pg_room_delete,
    .room_update = pg_room_update,
    .room_list = pg_room_list,
    .member_get = pg_member_get,
    .member_set = pg_member_set,
    .member_remove = pg_member_remove,
    .member_list = pg_member_list,
    .audit_add_batch = pg_audit_add_batch,
    .audit_list = pg_audit_list,
    .audit_prune = pg_audit_prune,
    .presence_apply = pg_presence_apply,
    .presence_list = pg_presence_list,
    .occupancy = pg_occupancy,
    .event_record = pg_event_record,
    .event_forget = pg_event_forget,
    .event_seen = pg_event_seen,
    .action_add = pg_action_add,
    .action_list = pg_action_list,
    .action_claim = pg_action_claim,
    .audit_last_issued = pg_audit_last_issued,
    .ban_until = pg_ban_until,
    .live_prune = pg_live_prune,
    .seat_claim = pg_seat_claim,
    .seat_release = pg_seat_release,
    .seat_list = pg_seat_list,
    .meeting_create = pg_meeting_create,
    .meeting_get = pg_meeting_get,
    .meeting_set_status = pg_meeting_set_status,
    .meeting_delete = pg_meeting_delete,
    .meeting_list = pg_meeting_list,
};
