/* store_sql.c - the schema, statements and row decoders both store
 * backends share (store_sql.h). */
#include "store_sql.h"
#include "../util/err.h"
#include "store_pg.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- schema -------------------------------------------------------------- */

/* A text column compared as a key: SQLite compares text bytewise already;
 * PostgreSQL is told to (COLLATE "C"), so both order keys alike. */
#define KEY_SQLITE "TEXT NOT NULL"
#define KEY_PG     "TEXT COLLATE \"C\" NOT NULL"

/* version 1: rooms and members, with alias_type the rooms.alias column */
#define ROOMS_MEMBERS(key, alias_type)                                                             \
    ROOMS_TABLE(key, alias_type, "rooms", "") MEMBERS_TABLE(key, "members", "")

/* the rooms table called name; opts follows its column list */
#define ROOMS_TABLE(key, alias_type, name, opts)                                                   \
    "CREATE TABLE " name " ("                                                                      \
    " name " key " PRIMARY KEY,"                                                                   \
    " alias " alias_type " UNIQUE," /* NULL = none */                                              \
    " mode INTEGER NOT NULL DEFAULT 0 CHECK (mode IN (0, 1)),"                                     \
    " default_role TEXT NOT NULL DEFAULT '',"                                                      \
    " max_participants BIGINT NOT NULL DEFAULT 0,"                                                 \
    " max_ttl BIGINT NOT NULL DEFAULT 0,"                                                          \
    " created_at BIGINT NOT NULL)" opts ";"

/* the members table called name; opts follows its column list */
#define MEMBERS_TABLE(key, name, opts)                                                             \
    "CREATE TABLE " name " ("                                                                      \
    " room " key " REFERENCES rooms(name) ON DELETE CASCADE,"                                      \
    " subject " key ","                                                                            \
    " role TEXT NOT NULL,"                                                                         \
    " created_at BIGINT NOT NULL,"                                                                 \
    " PRIMARY KEY (room, subject))" opts ";"

/* the audit table called name, with id_decl its id column */
#define AUDIT_TABLE(key, name, id_decl)                                                            \
    "CREATE TABLE " name " ("                                                                      \
    " id " id_decl ","                                                                             \
    " jti " key " UNIQUE,"                                                                         \
    " subject " key ","                                                                            \
    " identity TEXT NOT NULL,"                                                                     \
    " room " key ","                                                                               \
    " role TEXT NOT NULL,"                                                                         \
    " grants TEXT NOT NULL,"                                                                       \
    " issued_at BIGINT NOT NULL,"                                                                  \
    " exp BIGINT NOT NULL,"                                                                        \
    " client_ip TEXT NOT NULL,"                                                                    \
    " route TEXT NOT NULL);"

#define AUDIT_INDEXES                                                                              \
    "CREATE INDEX audit_room_id ON audit (room, id);"                                              \
    "CREATE INDEX audit_subject_id ON audit (subject, id);"

/* version 3: seats and meetings */
#define SEATS_MEETINGS(key)                                                                        \
    "CREATE TABLE seats ("                                                                         \
    " room " key " REFERENCES rooms(name) ON DELETE CASCADE,"                                      \
    " seat INTEGER NOT NULL CHECK (seat >= 1),"                                                    \
    " subject " key ","                                                                            \
    " exp BIGINT NOT NULL,"                                                                        \
    " claimed_at BIGINT NOT NULL,"                                                                 \
    " PRIMARY KEY (room, seat));"                                                                  \
    "CREATE INDEX seats_room_subject ON seats (room, subject);"                                    \
    "CREATE TABLE meetings ("                                                                      \
    " id " key " PRIMARY KEY,"                                                                     \
    " room " key " UNIQUE REFERENCES rooms(name) ON DELETE CASCADE,"                               \
    " heading TEXT NOT NULL,"                                                                      \
    " description TEXT NOT NULL,"                                                                  \
    " status TEXT NOT NULL,"                                                                       \
    " creator TEXT NOT NULL,"                                                                      \
    " created_at BIGINT NOT NULL,"                                                                 \
    " updated_at BIGINT NOT NULL);"

/* version 4: live rooms (presence by participant SID, webhook event ids,
 * decisions to carry into rooms) */
#define LIVE_ROOMS(key, id_decl)                                                                   \
    "CREATE TABLE presence ("                                                                      \
    " sid " key " PRIMARY KEY,"                                                                    \
    " room " key ","                                                                               \
    " identity " key ","                                                                           \
    " name TEXT NOT NULL,"                                                                         \
    " kind TEXT NOT NULL,"                                                                         \
    " joined_at BIGINT NOT NULL,"                                                                  \
    " left_at BIGINT NOT NULL DEFAULT 0);"                                                         \
    "CREATE INDEX presence_room ON presence (left_at, room, joined_at);"                           \
    "CREATE TABLE webhook_events ("                                                                \
    " id " key " PRIMARY KEY,"                                                                     \
    " received_at BIGINT NOT NULL);"                                                               \
    "CREATE INDEX webhook_events_at ON webhook_events (received_at);"                              \
    "CREATE TABLE live_actions ("                                                                  \
    " id " id_decl ","                                                                             \
    " room " key ","                                                                               \
    " identity " key ","                                                                           \
    " kind TEXT NOT NULL,"                                                                         \
    " role TEXT NOT NULL,"                                                                         \
    " reason TEXT NOT NULL,"                                                                       \
    " created_at BIGINT NOT NULL,"                                                                 \
    " until BIGINT NOT NULL,"                                                                      \
    " ban_until BIGINT NOT NULL,"                                                                  \
    " done_at BIGINT NOT NULL DEFAULT 0);"                                                         \
    "CREATE INDEX live_actions_pending ON live_actions (done_at, id);"                             \
    "CREATE INDEX live_actions_who ON live_actions (room, identity, id);"

/* version 7 (SQLite): table name made again by create as name_v7, with
 * the rows of its columns cols */
#define REBUILT(name, create, cols)                                                                \
    create "INSERT INTO " name "_v7 (" cols ") SELECT " cols " FROM " name ";"                     \
           "DROP TABLE " name ";"                                                                  \
           "ALTER TABLE " name "_v7 RENAME TO " name ";"

/* version 5: the role a permission update changes from (an update whose
 * roles grant the same is not sent) */
#define ACTION_FROM_ROLE "ALTER TABLE live_actions ADD COLUMN from_role TEXT NOT NULL DEFAULT ''"

/* version 6 (PostgreSQL): a meeting's status closes or reopens its room
 * (SQL_ROOM_READ), so the change feed covers meetings too */
#define MEETINGS_NOTIFY                                                                            \
    "CREATE TRIGGER meetings_notify AFTER UPDATE OR DELETE OR TRUNCATE ON meetings"                \
    " FOR EACH STATEMENT EXECUTE FUNCTION roomkey_notify_change();"

const char *const store_sql_sqlite_schema[STORE_SQL_VERSIONS] = {
    ROOMS_MEMBERS(KEY_SQLITE, "TEXT")
        AUDIT_TABLE(KEY_SQLITE, "audit", "INTEGER PRIMARY KEY AUTOINCREMENT") AUDIT_INDEXES,
    /* 2: audit.id without AUTOINCREMENT. Retention never deletes the newest
     * record (store_audit_prune), so a plain rowid still only grows, and a
     * commit no longer also rewrites the sqlite_sequence page (a fifth of an
     * audit commit's page writes). */
    AUDIT_TABLE(KEY_SQLITE, "audit_v2",
                "INTEGER PRIMARY KEY") "INSERT INTO audit_v2 (" SQL_AUDIT_COLS
                                       ") SELECT " SQL_AUDIT_COLS " FROM audit;"
                                       "DROP TABLE audit;"
                                       "ALTER TABLE audit_v2 RENAME TO audit;" AUDIT_INDEXES,
    SEATS_MEETINGS(KEY_SQLITE),
    LIVE_ROOMS(KEY_SQLITE, "INTEGER PRIMARY KEY"),
    ACTION_FROM_ROLE,
    /* 6: PostgreSQL's change feed also covers meetings (a status closes or
     * reopens a room); SQLite needs nothing. */
    "SELECT 1",
    /* 7: rooms and members WITHOUT ROWID: a lookup by key walks one B-tree
     * (the primary key holds the row) instead of the key's index and then
     * the table, and a reader re-reads its pages after every write. Run
     * with foreign keys off (migrate), so dropping the old rooms deletes
     * no membership, seat or meeting; they refer to the new table by name. */
    REBUILT("rooms", ROOMS_TABLE(KEY_SQLITE, "TEXT", "rooms_v7", " WITHOUT ROWID"), SQL_ROOM_COLS)
        REBUILT("members", MEMBERS_TABLE(KEY_SQLITE, "members_v7", " WITHOUT ROWID"),
                SQL_MEMBER_COLS),
};

const char *const store_sql_pg_schema[STORE_SQL_VERSIONS] = {
    ROOMS_MEMBERS(KEY_PG, "TEXT COLLATE \"C\"")
        AUDIT_TABLE(KEY_PG, "audit", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
            AUDIT_INDEXES
    /* the change feed: one notification per changing statement */
    "CREATE FUNCTION roomkey_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN PERFORM pg_notify('" STORE_PG_CHANNEL "', TG_TABLE_NAME); RETURN NULL; END $$;"
    "CREATE TRIGGER rooms_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rooms"
    " FOR EACH STATEMENT EXECUTE FUNCTION roomkey_notify_change();"
    "CREATE TRIGGER members_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON members"
    " FOR EACH STATEMENT EXECUTE FUNCTION roomkey_notify_change();",
    /* 2: SQLite dropped AUTOINCREMENT from audit.id here; an identity
     * column needs no change. Kept so version numbers match. */
    "SELECT 1",
    SEATS_MEETINGS(KEY_PG),
    LIVE_ROOMS(KEY_PG, "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    ACTION_FROM_ROLE,
    MEETINGS_NOTIFY,
    /* 7: SQLite made rooms and members WITHOUT ROWID; a PostgreSQL table
     * has no rowid. Kept so version numbers match. */
    "SELECT 1",
};

/* ---- statements ---------------------------------------------------------- */

/* PRESENCE_INSERT: a presence row from $1..$6 (SQL_PRESENCE_COLS but
 * left_at) and left_at (SQL text). */
#define PRESENCE_INSERT(left_at)                                                                   \
    "INSERT INTO presence (" SQL_PRESENCE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, " left_at ")"

const char *const store_sql_text[SQL_SHARED_COUNT] = {
    [S_COMMIT] = "COMMIT",
    [S_PING] = "SELECT max(version) FROM schema_version",
    /* by name first, then by alias, in one snapshot: the alias part finds
     * nothing when a room has that name, and LIMIT 1 stops after a room
     * found by name, so a lookup by name walks the name key only */
    [S_ROOM_GET] = "SELECT " SQL_ROOM_READ " FROM rooms WHERE name = $1 UNION ALL"
                   " SELECT " SQL_ROOM_READ " FROM rooms WHERE alias = $1"
                   " AND NOT EXISTS (SELECT 1 FROM rooms WHERE name = $1) LIMIT 1",
    /* a new room's name and alias must not match any name or alias */
    [S_ROOM_TAKEN] = "SELECT 1 FROM rooms WHERE name = $1 OR alias = $1 OR name = $2 OR alias = $2"
                     " LIMIT 1",
    [S_ROOM_INSERT] = "INSERT INTO rooms (" SQL_ROOM_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [S_ROOM_DELETE] = "DELETE FROM rooms WHERE name = $1",
    [S_ROOM_UPDATE] = "UPDATE rooms SET mode = $2, default_role = $3, max_participants = $4,"
                      " max_ttl = $5 WHERE name = $1",
    [S_ROOM_LIST] = "SELECT " SQL_ROOM_READ " FROM rooms ORDER BY name LIMIT $1",
    [S_ROOM_EXISTS] = "SELECT 1 FROM rooms WHERE name = $1",
    [S_MEMBER_GET] = "SELECT " SQL_MEMBER_COLS " FROM members WHERE room = $1 AND subject = $2",
    [S_MEMBER_SET] = "INSERT INTO members (" SQL_MEMBER_COLS ") VALUES ($1, $2, $3, $4)"
                     " ON CONFLICT (room, subject) DO UPDATE SET role = excluded.role",
    [S_MEMBER_REMOVE] = "DELETE FROM members WHERE room = $1 AND subject = $2",
    [S_MEMBER_LIST] = "SELECT " SQL_MEMBER_COLS " FROM members WHERE room = $1"
                      " ORDER BY subject LIMIT $2",
    [S_SEAT_RELEASE] = "DELETE FROM seats WHERE room = $1 AND ($2 = 0 OR seat = $2)"
                       " AND (CAST($3 AS TEXT) IS NULL OR subject = $3) AND exp > $4",
    [S_SEAT_LIST] = "SELECT " SQL_SEAT_COLS " FROM seats WHERE room = $1 AND exp > $2"
                    " ORDER BY seat LIMIT $3",
    /* a meeting's room: members-only, inserted only when no room has that
     * name or alias */
    [S_MEETING_ROOM] = "INSERT INTO rooms (" SQL_ROOM_COLS ") SELECT CAST($1 AS TEXT), NULL, 0,"
                       " CAST($2 AS TEXT), 0, 0, CAST($3 AS BIGINT)"
                       " WHERE NOT EXISTS (SELECT 1 FROM rooms WHERE name = $1 OR alias = $1)",
    [S_MEETING_INSERT] = "INSERT INTO meetings (" SQL_MEETING_COLS ")"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    [S_MEETING_GET] = "SELECT " SQL_MEETING_COLS " FROM meetings WHERE id = $1",
    [S_MEETING_STATUS] = "UPDATE meetings SET status = $2, updated_at = $3 WHERE id = $1",
    /* the meeting, its memberships and seats go with the room (ON DELETE CASCADE) */
    [S_MEETING_DELETE] = "DELETE FROM rooms WHERE name = (SELECT room FROM meetings WHERE id = $1)",
    [S_MEETING_LIST] =
        "SELECT " SQL_MEETING_COLS " FROM meetings WHERE id > $1 ORDER BY id LIMIT $2",
    /* a SID is one session: a join for a known SID (even one that left)
     * changes nothing; a SID LiveKit lists is in the room, whatever a
     * webhook said */
    [S_PRESENCE_JOIN] = PRESENCE_INSERT("0") " ON CONFLICT (sid) DO NOTHING",
    [S_PRESENCE_LISTED] = PRESENCE_INSERT("0") " ON CONFLICT (sid) DO UPDATE SET left_at = 0",
    /* a leave before its join (webhooks come in any order) is a row left
     * already, which the late join (DO NOTHING) leaves as it is */
    [S_PRESENCE_LEAVE] = PRESENCE_INSERT("$7") " ON CONFLICT (sid) DO UPDATE"
                                               " SET left_at = excluded.left_at"
                                               " WHERE presence.left_at = 0",
    [S_PRESENCE_LIST] = "SELECT " SQL_PRESENCE_COLS " FROM presence WHERE left_at = 0"
                        " AND (CAST($1 AS TEXT) IS NULL OR room = $1)"
                        " ORDER BY room, joined_at, sid LIMIT $2",
    /* in the room; issued a token since $2 and not in it */
    [S_OCCUPANCY] = "SELECT (SELECT count(DISTINCT identity) FROM presence WHERE left_at = 0"
                    " AND room = $1),"
                    " (SELECT count(DISTINCT identity) FROM audit WHERE room = $1"
                    " AND issued_at >= $2 AND identity NOT IN"
                    " (SELECT identity FROM presence WHERE left_at = 0 AND room = $1))",
    [S_EVENT_RECORD] = "INSERT INTO webhook_events (id, received_at) VALUES ($1, $2)"
                       " ON CONFLICT (id) DO NOTHING",
    [S_EVENT_FORGET] = "DELETE FROM webhook_events WHERE id = $1",
    [S_EVENT_SEEN] = "SELECT count(*), 0 FROM webhook_events WHERE id = $1",
    [S_ACTION_ADD] = "INSERT INTO live_actions (room, identity, kind, role, reason, created_at,"
                     " until, ban_until, from_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    [S_ACTION_LIST] = "SELECT " SQL_ACTION_COLS " FROM live_actions WHERE ($1 = 0 OR done_at = 0)"
                      " AND (CAST($2 AS TEXT) IS NULL OR room = $2)"
                      " AND (CAST($3 AS TEXT) IS NULL OR identity = $3)"
                      " AND (until > $4 OR (CAST($6 AS BIGINT) > 0 AND created_at >= $6))"
                      " ORDER BY id LIMIT $5",
    [S_ACTION_CLAIM] = "UPDATE live_actions SET done_at = $2 WHERE id = $1 AND done_at = 0",
    [S_AUDIT_LAST] = "SELECT coalesce(max(issued_at), 0), 0 FROM audit WHERE room = $1"
                     " AND identity = $2 AND issued_at <= $3",
    /* the end of the longest ban of (room, identity), 0 when none (the
     * index live_actions_who) */
    [S_BAN_UNTIL] = "SELECT coalesce(max(ban_until), 0), 0 FROM live_actions WHERE room = $1"
                    " AND identity = $2",
    [S_PRUNE_EVENTS] = "DELETE FROM webhook_events WHERE received_at < $1",
    [S_PRUNE_PRESENCE] = "DELETE FROM presence WHERE left_at > 0 AND left_at < $1",
    /* carried out or not: an action past its window is never carried out
     * (S_ACTION_LIST), so one still pending then would only stay forever,
     * as every decision does on an instance without a LiveKit host */
    [S_PRUNE_ACTIONS] = "DELETE FROM live_actions WHERE until < $1 AND created_at < $2",
};

int store_sql_sqlite_text(const char *sql, char *buf, size_t cap)
{
    size_t n = strlen(sql);
    if (n >= cap)
        return RK_ETOOBIG;
    for (size_t i = 0; i <= n; i++)
        buf[i] = sql[i] == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9' ? '?' : sql[i];
    return RK_OK;
}

/* ---- the audit list -------------------------------------------------------- */

unsigned store_sql_audit_mask(const store_audit_filter *f)
{
    return (f->room ? AF_ROOM : 0) | (f->subject ? AF_SUBJECT : 0) | (f->since > 0 ? AF_SINCE : 0) |
           (f->before_id > 0 ? AF_BEFORE : 0);
}

void store_sql_audit_list(unsigned mask, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *cond;
    } conds[] = {
        {AF_ROOM, "room = $"},
        {AF_SUBJECT, "subject = $"},
        {AF_SINCE, "issued_at >= $"},
        {AF_BEFORE, "id < $"},
    };
    size_t len = (size_t)snprintf(buf, cap, "SELECT " SQL_AUDIT_COLS " FROM audit");
    const char *join = " WHERE ";
    int p = 1;
    for (size_t i = 0; i < sizeof conds / sizeof conds[0] && len < cap; i++) {
        if (mask & conds[i].bit) {
            len += (size_t)snprintf(buf + len, cap - len, "%s%s%d", join, conds[i].cond, p++);
            join = " AND ";
        }
    }
    if (len < cap)
        snprintf(buf + len, cap - len, " ORDER BY id DESC LIMIT $%d", p);
}

/* ---- rows ---------------------------------------------------------------- */

#define TEXT(type, field)                                                                          \
    {                                                                                              \
        COL_TEXT, offsetof(type, field), sizeof(((type *)0)->field)                                \
    }
#define I64(type, field)                                                                           \
    {                                                                                              \
        COL_I64, offsetof(type, field), 0                                                          \
    }
#define INT(type, field)                                                                           \
    {                                                                                              \
        COL_INT, offsetof(type, field), 0                                                          \
    }

/* A record's columns end with END. */
#define END                                                                                        \
    {                                                                                              \
        COL_END, 0, 0                                                                              \
    }

int store_sql_decode(const store_sql_col *cols, const store_cells *c, void *dst)
{
    char *base = dst;
    for (int i = 0; cols[i].kind != COL_END; i++) {
        const store_sql_col *s = &cols[i];
        if (s->kind == COL_TEXT) {
            int rc = c->text(c, i, base + s->off, s->cap);
            if (rc)
                return rc;
        } else if (s->kind == COL_I64) {
            int64_t v = c->int64(c, i);
            memcpy(base + s->off, &v, sizeof v);
        } else {
            int v = (int)c->int64(c, i);
            memcpy(base + s->off, &v, sizeof v);
        }
    }
    return RK_OK;
}

/* Each record's fields in the column order of its SQL_*_COLS. */
const store_sql_col store_sql_room_row[] = {
    TEXT(store_room, name),         TEXT(store_room, alias),           INT(store_room, mode),
    TEXT(store_room, default_role), I64(store_room, max_participants), I64(store_room, max_ttl),
    I64(store_room, created_at),    INT(store_room, closed),           END,
};
const store_sql_col store_sql_member_row[] = {
    TEXT(store_member, room),
    TEXT(store_member, subject),
    TEXT(store_member, role),
    I64(store_member, created_at),
    END,
};
const store_sql_col store_sql_audit_row[] = {
    I64(store_audit, id),         TEXT(store_audit, jti),      TEXT(store_audit, subject),
    TEXT(store_audit, identity),  TEXT(store_audit, room),     TEXT(store_audit, role),
    TEXT(store_audit, grants),    I64(store_audit, issued_at), I64(store_audit, exp),
    TEXT(store_audit, client_ip), TEXT(store_audit, route),    END,
};
const store_sql_col store_sql_seat_row[] = {
    TEXT(store_seat, room), I64(store_seat, seat),       TEXT(store_seat, subject),
    I64(store_seat, exp),   I64(store_seat, claimed_at), END,
};
const store_sql_col store_sql_meeting_row[] = {
    TEXT(store_meeting, id),          TEXT(store_meeting, room),      TEXT(store_meeting, heading),
    TEXT(store_meeting, description), TEXT(store_meeting, status),    TEXT(store_meeting, creator),
    I64(store_meeting, created_at),   I64(store_meeting, updated_at), END,
};
const store_sql_col store_sql_presence_row[] = {
    TEXT(store_presence, sid),      TEXT(store_presence, room),
    TEXT(store_presence, identity), TEXT(store_presence, name),
    TEXT(store_presence, kind),     I64(store_presence, joined_at),
    I64(store_presence, left_at),   END,
};
const store_sql_col store_sql_action_row[] = {
    I64(store_action, id),         TEXT(store_action, room),      TEXT(store_action, identity),
    TEXT(store_action, kind),      TEXT(store_action, role),      TEXT(store_action, reason),
    I64(store_action, created_at), I64(store_action, until),      I64(store_action, ban_until),
    I64(store_action, done_at),    TEXT(store_action, from_role), END,
};
