/* store_sql.h - what both store backends share: the schema, the column
 * lists, the statement text, the audit list query and the row decoders.
 *
 * Statement text is written once, with PostgreSQL's numbered parameters
 * ($1, $2, ...); the SQLite backend rewrites them to ?1, ?2, ... when it
 * prepares a statement (store_sql_sqlite_text). Where PostgreSQL must be
 * told a parameter's type, the text says CAST($n AS type), which both
 * engines read alike. Only truly dialect-specific SQL stays in a backend:
 * transactions and locks, the audit insert and the seat claim's wrapping. */
#ifndef RK_STORE_SQL_H
#define RK_STORE_SQL_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* ---- columns ------------------------------------------------------------- */

#define SQL_ROOM_COLS    "name, alias, mode, default_role, max_participants, max_ttl, created_at"
#define SQL_MEMBER_COLS  "room, subject, role, created_at"
#define SQL_SEAT_COLS    "room, seat, subject, exp, claimed_at"
#define SQL_MEETING_COLS "id, room, heading, description, status, creator, created_at, updated_at"
#define SQL_AUDIT_INSERT_COLS                                                                      \
    "jti, subject, identity, room, role, grants, issued_at, exp, client_ip, route"
#define SQL_AUDIT_COLS    "id, " SQL_AUDIT_INSERT_COLS
#define SQL_PRESENCE_COLS "sid, room, identity, name, kind, joined_at, left_at"
#define SQL_ACTION_COLS                                                                            \
    "id, room, identity, kind, role, reason, created_at, until, ban_until, done_at, from_role"
#define SQL_AUDIT_NCOLS 10 /* in SQL_AUDIT_INSERT_COLS */
/* What a room read returns: its columns, then whether it is closed (the
 * room of a meeting that ended or was canceled: no tokens through any
 * route family). */
#define SQL_ROOM_READ                                                                              \
    SQL_ROOM_COLS ", CASE WHEN EXISTS (SELECT 1 FROM meetings WHERE meetings.room = rooms.name"    \
                  " AND meetings.status IN ('COMPLETED', 'CANCELED')) THEN 1 ELSE 0 END"

/* ---- schema -------------------------------------------------------------- */

#define SQL_SCHEMA_VERSION_TABLE                                                                   \
    "CREATE TABLE IF NOT EXISTS schema_version ("                                                  \
    " version INTEGER NOT NULL PRIMARY KEY,"                                                       \
    " applied_at BIGINT NOT NULL)"
#define SQL_SCHEMA_VERSION_GET "SELECT coalesce(max(version), 0) FROM schema_version"
#define SQL_SCHEMA_VERSION_ADD "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)"

/* The schema versions, one entry per version, numbered alike in both
 * engines (so a version means the same tables): entry i takes a database
 * from version i to i + 1. Never edit an entry once released; append. */
#define STORE_SQL_VERSIONS 7
extern const char *const store_sql_sqlite_schema[STORE_SQL_VERSIONS];
extern const char *const store_sql_pg_schema[STORE_SQL_VERSIONS];

/* ---- statements ---------------------------------------------------------- */

/* The statements both backends run, numbered from 0; a backend numbers its
 * own from SQL_SHARED_COUNT on. */
enum {
    S_COMMIT,
    S_PING,
    S_ROOM_GET,
    S_ROOM_TAKEN,
    S_ROOM_INSERT,
    S_ROOM_DELETE,
    S_ROOM_UPDATE,
    S_ROOM_LIST,
    S_ROOM_EXISTS,
    S_MEMBER_GET,
    S_MEMBER_SET,
    S_MEMBER_REMOVE,
    S_MEMBER_LIST,
    S_SEAT_RELEASE,
    S_SEAT_LIST,
    S_MEETING_ROOM,
    S_MEETING_INSERT,
    S_MEETING_GET,
    S_MEETING_STATUS,
    S_MEETING_DELETE,
    S_MEETING_LIST,
    S_PRESENCE_JOIN,
    S_PRESENCE_LISTED,
    S_PRESENCE_LEAVE,
    S_PRESENCE_LIST,
    S_OCCUPANCY,
    S_EVENT_RECORD,
    S_EVENT_FORGET,
    S_EVENT_SEEN,
    S_ACTION_ADD,
    S_ACTION_LIST,
    S_ACTION_CLAIM,
    S_AUDIT_LAST,
    S_BAN_UNTIL,
    S_PRUNE_EVENTS,
    S_PRUNE_PRESENCE,
    S_PRUNE_ACTIONS,
    SQL_SHARED_COUNT
};

/* The text of each shared statement (with $n parameters). */
extern const char *const store_sql_text[SQL_SHARED_COUNT];

/* The seat claim: it writes the seat only when it is free, expired (exp <=
 * now, $5) or already the subject's ($3); no row changed means another
 * subject holds it. The same subject keeps the later exp and, while its
 * claim is live, its claimed_at. Each backend wraps it in its own
 * transaction shape (it also drops the subject's other seats of the room). */
#define SQL_SEAT_UPSERT                                                                            \
    "INSERT INTO seats (" SQL_SEAT_COLS ") VALUES ($1, $2, $3, $4, $5)"                            \
    " ON CONFLICT (room, seat) DO UPDATE SET"                                                      \
    " exp = CASE WHEN seats.subject = excluded.subject AND seats.exp > excluded.exp"               \
    " THEN seats.exp ELSE excluded.exp END,"                                                       \
    " claimed_at = CASE WHEN seats.subject = excluded.subject AND seats.exp > $5"                  \
    " THEN seats.claimed_at ELSE excluded.claimed_at END,"                                         \
    " subject = excluded.subject"                                                                  \
    " WHERE seats.subject = excluded.subject OR seats.exp <= $5"

/* store_sql_sqlite_text copies sql into buf (capacity cap) with every $n
 * parameter written ?n, SQLite's numbered form. RK_ETOOBIG when it does not
 * fit. */
int store_sql_sqlite_text(const char *sql, char *buf, size_t cap);

/* ---- the audit list -------------------------------------------------------- */

/* The audit list has one statement per combination of filters. */
enum { AF_ROOM = 1, AF_SUBJECT = 2, AF_SINCE = 4, AF_BEFORE = 8, AF_COMBINATIONS = 16 };

/* store_sql_audit_mask returns the AF_* bits of the filters f sets. */
unsigned store_sql_audit_mask(const store_audit_filter *f);

/* store_sql_audit_list writes the audit list query for filter mask into buf
 * (cap >= 512) from fixed fragments: the filters' parameters numbered in
 * AF_* order ($1 ...), then the limit. */
void store_sql_audit_list(unsigned mask, char *buf, size_t cap);

/* ---- rows ---------------------------------------------------------------- */

/* A cell reader over one result row of either engine. text copies column
 * col into dst (capacity cap; SQL NULL is "", RK_ETOOBIG when it does not
 * fit); int64 reads an integer column. */
typedef struct store_cells store_cells;
struct store_cells {
    int (*text)(const store_cells *c, int col, char *dst, size_t cap);
    int64_t (*int64)(const store_cells *c, int col);
};

/* How one column of a result lands in a record: text into a char array of
 * cap bytes, or an integer into an int64_t or int field. A record's
 * columns, in the order of its SQL_*_COLS, end with a COL_END entry. */
enum { COL_END, COL_TEXT, COL_I64, COL_INT };
typedef struct store_sql_col {
    int kind;
    size_t off, cap;
} store_sql_col;

extern const store_sql_col store_sql_room_row[];     /* store_room */
extern const store_sql_col store_sql_member_row[];   /* store_member */
extern const store_sql_col store_sql_audit_row[];    /* store_audit */
extern const store_sql_col store_sql_seat_row[];     /* store_seat */
extern const store_sql_col store_sql_meeting_row[];  /* store_meeting */
extern const store_sql_col store_sql_presence_row[]; /* store_presence */
extern const store_sql_col store_sql_action_row[];   /* store_action */

/* store_sql_decode fills the zeroed record at dst (of cols' type; the
 * caller owns it) from the row c reads. RK_ETOOBIG when a text does not
 * fit its field. */
int store_sql_decode(const store_sql_col *cols, const store_cells *c, void *dst);

#endif
