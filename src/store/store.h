/* store.h - RoomKey's persistent state: rooms, memberships, audit records,
 * seats (numbered places in a room held until a token's expiry) and
 * meetings (a room with a heading, a status and a creator).
 *
 * One interface, several backends behind a const table of functions (the
 * shape of redis's pluggable backends): SQLite (store_sqlite.c, the
 * default) and PostgreSQL (store_pg.c). Callers use the store_* functions below and
 * never see a connection: each backend keeps one connection per calling
 * thread, opened lazily and closed by store_close. All functions are safe
 * to call from several threads at once. Every string field has a hard
 * limit; values longer than it are refused with RK_ETOOBIG, never cut. */
#ifndef RK_STORE_H
#define RK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_MAX_NAME   256 /* room name, alias, subject, identity */
#define STORE_MAX_ROLE   64
#define STORE_MAX_GRANTS 2048 /* audit: grants as compact JSON */
#define STORE_MAX_IP     64
#define STORE_MAX_ROUTE  64
#define STORE_MAX_LIST   10000 /* rows any list call returns at most */

/* Seats and meetings. */
#define STORE_MAX_SEATS        64   /* seat numbers are 1..STORE_MAX_SEATS */
#define STORE_MAX_MEETING_ID   64   /* meeting id as the app knows it */
#define STORE_MAX_HEADING      256  /* meeting heading */
#define STORE_MAX_DESCRIPTION  2048 /* meeting description */
#define STORE_MAX_STATUS       32   /* meeting status, e.g. "PROCESSING" */
#define STORE_MAX_MEETING_LIST 1000 /* meetings one meeting_list call returns at most */

/* Access modes of a room. */
enum store_mode {
    STORE_MODE_MEMBERS = 0,       /* only subjects with a membership */
    STORE_MODE_AUTHENTICATED = 1, /* any authenticated caller */
};

typedef struct store_room {
    char name[STORE_MAX_NAME + 1];  /* LiveKit room name (unique) */
    char alias[STORE_MAX_NAME + 1]; /* optional alias, e.g. a channel id (unique); "" = none */
    int mode;                       /* enum store_mode */
    char default_role[STORE_MAX_ROLE + 1]; /* role when no membership/claim; "" = none */
    int64_t max_participants;              /* 0 = no limit */
    int64_t max_ttl;                       /* seconds; 0 = no room-specific cap */
    int64_t created_at;                    /* Unix seconds, set by the store */
    int closed; /* read only, derived: 1 when the room is an ended or canceled meeting's */
} store_room;

typedef struct store_member {
    char room[STORE_MAX_NAME + 1];    /* room name */
    char subject[STORE_MAX_NAME + 1]; /* the caller's subject (session sub / API key id) */
    char role[STORE_MAX_ROLE + 1];
    int64_t created_at;
} store_member;

typedef struct store_audit {
    int64_t id;                        /* set by the store */
    char jti[32];                      /* the token's jti; never the token */
    char subject[STORE_MAX_NAME + 1];  /* who asked */
    char identity[STORE_MAX_NAME + 1]; /* participant identity in the token */
    char room[STORE_MAX_NAME + 1];
    char role[STORE_MAX_ROLE + 1];
    char grants[STORE_MAX_GRANTS + 1]; /* video grant as compact JSON */
    int64_t issued_at;                 /* Unix seconds */
    int64_t exp;
    char client_ip[STORE_MAX_IP + 1];
    char route[STORE_MAX_ROUTE + 1];
} store_audit;

typedef struct store_audit_filter {
    const char *room;    /* NULL = any */
    const char *subject; /* NULL = any */
    int64_t since;       /* issued_at >= since; 0 = any */
    int64_t before_id;   /* id < before_id (paging, newest first); 0 = from newest */
    size_t limit;        /* 1..STORE_MAX_LIST; 0 means 100 */
} store_audit_filter;

/* A seat: place number `seat` of a room, held by one subject until exp. A
 * claim whose exp has passed holds nothing. */
typedef struct store_seat {
    char room[STORE_MAX_NAME + 1];    /* room name */
    int64_t seat;                     /* 1..STORE_MAX_SEATS */
    char subject[STORE_MAX_NAME + 1]; /* who holds it */
    int64_t exp;                      /* held until (Unix seconds), e.g. the token's exp */
    int64_t claimed_at;               /* Unix seconds, set by the store */
} store_seat;

/* A meeting: its own room (deleting either deletes both), whose members are
 * the meeting's creator and participants. */
typedef struct store_meeting {
    char id[STORE_MAX_MEETING_ID + 1]; /* the meeting's id (unique) */
    char room[STORE_MAX_NAME + 1];     /* its room's name (unique), chosen by the caller */
    char heading[STORE_MAX_HEADING + 1];
    char description[STORE_MAX_DESCRIPTION + 1];
    char status[STORE_MAX_STATUS + 1];
    char creator[STORE_MAX_NAME + 1]; /* the creator's subject */
    int64_t created_at;               /* Unix seconds, set by the store */
    int64_t updated_at;               /* Unix seconds, set by the store */
} store_meeting;

/* Live rooms (docs/live-rooms.md). Presence: one row per participant
 * session, keyed by LiveKit's participant SID, so a late "left" for an old
 * session never touches the same identity's new one. */
#define STORE_MAX_SID    128
#define STORE_MAX_KIND   32
#define STORE_MAX_EVENT  128 /* webhook event id */
#define STORE_MAX_REASON 32

/* presence_apply's left_at for "LiveKit lists this SID": in the room, also
 * when a webhook had marked it left (reconciliation is the authority). */
#define STORE_PRESENT (-1)

typedef struct store_presence {
    char sid[STORE_MAX_SID + 1];
    char room[STORE_MAX_NAME + 1];
    char identity[STORE_MAX_NAME + 1];
    char name[STORE_MAX_NAME + 1];
    char kind[STORE_MAX_KIND + 1]; /* "standard", "agent", ... */
    int64_t joined_at;             /* Unix seconds */
    int64_t left_at;               /* Unix seconds; 0 = in the room */
} store_presence;

/* A decision to carry into a live room: kick (RemoveParticipant) or
 * update (UpdateParticipant to `role`'s permissions). Written by whoever
 * decides (the CLI, the admin API), carried out by one serving instance,
 * which claims it (done_at). A kick is also remembered (how long is the
 * reader's setting, live_rooms.kick_window, counted from created_at; the
 * row is live at least until `until`): a join by that identity with a
 * token issued before created_at is kicked again. ban_until > 0: no new
 * token for the identity before then. */
typedef struct store_action {
    int64_t id; /* set by the store */
    char room[STORE_MAX_NAME + 1];
    char identity[STORE_MAX_NAME + 1];
    char kind[16]; /* "kick" or "update" */
    char role[STORE_MAX_ROLE + 1];
    char reason[STORE_MAX_REASON + 1];
    int64_t created_at;
    int64_t until;
    int64_t ban_until;
    int64_t done_at;                    /* 0 = not yet carried out */
    char from_role[STORE_MAX_ROLE + 1]; /* update: the role before ("" = unknown) */
} store_action;

typedef struct store_action_filter {
    int pending;          /* only actions not carried out yet */
    const char *room;     /* NULL = any */
    const char *identity; /* NULL = any */
    int64_t live_after;   /* until > live_after ... */
    int64_t since;        /* ... or (since > 0) created_at >= since */
} store_action_filter;

typedef struct store store;

/* How long a database server (PostgreSQL) may take before RoomKey gives
 * up, by default: to connect, and to answer one statement. */
#define STORE_DEFAULT_TIMEOUT_MS 5000
#define STORE_MIN_TIMEOUT_S      1 /* the range a user may set (database_timeout) */
#define STORE_MAX_TIMEOUT_S      300
#define STORE_MAX_TIMEOUT_MS     (STORE_MAX_TIMEOUT_S * 1000)

/* Options of store_open_with; a zero field takes its default. */
typedef struct store_options {
    /* PostgreSQL: the longest wait for the server, to connect and for the
     * answer to each statement (past it the connection is closed and the
     * operation fails with RK_EIO); 0 = STORE_DEFAULT_TIMEOUT_MS. */
    int64_t timeout_ms;
} store_options;

/* The functions a backend provides. `self` is the backend's store. */
typedef struct store_ops {
    const char *name; /* "sqlite", "postgres" */
    int (*open)(const char *url, const store_options *o, store **out, char *why, size_t why_cap);
    void (*close)(store *self);
    /* Optional (NULL = nothing to do): called once store_open's front end
     * is ready, e.g. to start a change feed that calls store_notify_changed
     * (until close). */
    int (*start)(store *self);
    int (*ping)(store *self);
    /* Optional (NULL = nothing to do): the calling thread gives its
     * connection to the next thread that opens one (store_pass_conn). */
    void (*pass_conn)(store *self);
    /* Optional (NULL = never): true while the last attempt to reach the
     * database server failed (a shared server down or unreachable). */
    bool (*unreachable)(store *self);
    int (*room_get)(store *self, const char *name_or_alias, store_room *out);
    int (*room_create)(store *self, const store_room *r);
    int (*room_delete)(store *self, const char *name);
    int (*room_update)(store *self, const store_room *r);
    int (*room_list)(store *self, store_room **out, size_t *n);
    int (*member_get)(store *self, const char *room, const char *subject, store_member *out);
    int (*member_set)(store *self, const store_member *m);
    int (*member_remove)(store *self, const char *room, const char *subject);
    int (*member_list)(store *self, const char *room, store_member **out, size_t *n);
    /* Writes recs[0..n) in one transaction; rcs[i] gets each record's
     * result (RK_ECONFLICT for a jti already logged). A record is written
     * whole or not at all; one refused record doesn't stop the others. */
    int (*audit_add_batch)(store *self, const store_audit *const *recs, size_t n, int *rcs);
    int (*audit_list)(store *self, const store_audit_filter *f, store_audit **out, size_t *n);
    /* One bounded retention step, in one transaction: of the (at most)
     * `window` records from id *cursor on, in id order, deletes those
     * issued before `before`. *cursor moves to the first id after the
     * window, or 0 when the window reached the newest record; *deleted
     * gets how many went. */
    int (*audit_prune)(store *self, int64_t before, size_t window, int64_t *cursor,
                       size_t *deleted);
    int (*seat_claim)(store *self, const store_seat *s, int64_t now);
    int (*seat_release)(store *self, const char *room, int64_t seat, const char *subject,
                        int64_t now);
    int (*seat_list)(store *self, const char *room, int64_t now, store_seat **out, size_t *n);
    int (*meeting_create)(store *self, const store_meeting *m, const char *creator_role,
                          const char *participant_role);
    int (*meeting_get)(store *self, const char *id, store_meeting *out);
    int (*meeting_set_status)(store *self, const char *id, const char *status);
    int (*meeting_delete)(store *self, const char *id);
    int (*meeting_list)(store *self, const char *after_id, size_t limit, store_meeting **out,
                        size_t *n);
    int (*presence_apply)(store *self, const store_presence *p);
    int (*presence_list)(store *self, const char *room, store_presence **out, size_t *n);
    int (*occupancy)(store *self, const char *room, int64_t since, int64_t *present,
                     int64_t *pending);
    int (*event_record)(store *self, const char *id, int64_t now);
    int (*event_forget)(store *self, const char *id);
    int (*event_seen)(store *self, const char *id, int64_t *seen);
    int (*action_add)(store *self, const store_action *a);
    int (*action_list)(store *self, const store_action_filter *f, store_action **out, size_t *n);
    int (*action_claim)(store *self, int64_t id, int64_t now);
    int (*audit_last_issued)(store *self, const char *room, const char *identity, int64_t at_most,
                             int64_t *at);
    int (*live_prune)(store *self, int64_t before, int64_t actions_before);
    int (*ban_until)(store *self, const char *room, const char *identity, int64_t *until);
} store_ops;

typedef struct store_front store_front; /* store.c's own state (cache, audit queue) */

/* Every backend's store starts with this header; backends allocate it
 * zeroed and store_open fills `front`. */
struct store {
    const store_ops *ops;
    store_front *front;
};

/* store_open opens the store at url: a SQLite file path (the default; the
 * file is created, WAL mode, migrations applied) or a postgres:// (or
 * postgresql://) URL (migrations applied, change feed started). On failure
 * why (capacity why_cap) names the problem; it never holds the URL's
 * password. Free with store_close. */
int store_open(const char *url, store **out, char *why, size_t why_cap);

/* store_timeout_parse reads text, a duration (e.g. "5s", "2m") from
 * STORE_MIN_TIMEOUT_S to STORE_MAX_TIMEOUT_S, into *seconds: the one rule
 * for ROOMKEY_DATABASE_TIMEOUT wherever it is read. RK_EINVAL otherwise
 * (*seconds untouched). */
int store_timeout_parse(const char *text, int64_t *seconds) __attribute__((warn_unused_result));

/* store_open_with is store_open with options o (NULL: every default). */
int store_open_with(const char *url, const store_options *o, store **out, char *why,
                    size_t why_cap);

/* store_url_redact copies url into out (capacity cap > 0, always
 * NUL-terminated, cut to fit) with any password in it replaced by "***":
 * the user:password@ part of a postgres:// URL and its password=
 * parameter. Use it wherever a database URL is printed or logged. */
void store_url_redact(const char *url, char *out, size_t cap);

/* store_close closes every connection and frees st. NULL is fine. */
void store_close(store *st);

/* store_ping checks the store answers (for /readyz). */
int store_ping(store *st);

/* store_pass_conn hands the calling thread's connection, if it has one,
 * to the next thread that needs one (instead of that thread opening and
 * reading the schema anew): for a thread done with the store, e.g. the
 * one that starts the service. NULL is fine. */
void store_pass_conn(store *st);

/* store_unreachable says whether the store's database server could not be
 * reached at the last attempt (PostgreSQL down; never for SQLite): errors
 * meanwhile are the server's absence, not the request's fault. */
bool store_unreachable(store *st);

/* Rooms. room_get finds by name first, then by alias; RK_ENOTFOUND when
 * neither matches. room_create: RK_ECONFLICT when the name or alias exists;
 * RK_EINVAL for an empty name or a bad mode. room_delete also removes the
 * room's memberships; RK_ENOTFOUND when absent. room_list returns a new
 * array (caller frees with free()) ordered by name, at most STORE_MAX_LIST. */
int store_room_get(store *st, const char *name_or_alias, store_room *out);
int store_room_create(store *st, const store_room *r);
int store_room_delete(store *st, const char *name);
/* store_room_update sets the mode, default role, max participants and max
 * TTL of room r->name (by name only; its alias and created_at stay).
 * RK_ENOTFOUND when there is no such room; RK_EINVAL as room_create. */
int store_room_update(store *st, const store_room *r);
int store_room_list(store *st, store_room **out, size_t *n);

/* Memberships. member_set inserts or replaces (room must exist:
 * RK_ENOTFOUND otherwise). member_remove: RK_ENOTFOUND when absent.
 * member_list: new array, caller frees, ordered by subject. */
int store_member_get(store *st, const char *room, const char *subject, store_member *out);
int store_member_set(store *st, const store_member *m);
int store_member_remove(store *st, const char *room, const char *subject);
int store_member_list(store *st, const char *room, store_member **out, size_t *n);

/* Audit. Records are committed in batches by one writer thread (group
 * commit, see audit_queue.h): many tokens share one transaction. Each
 * record is written whole or not at all.
 * audit_submit checks a and queues it (a borrowed until done runs); on
 * RK_OK done(arg, rc) follows exactly once, on the writer thread, with the
 * record's result; on any other return done is never called. done runs
 * with no store lock held: it may call the store (not audit_add).
 * audit_add submits and waits for the result.
 * audit_list: newest first, filtered; new array, caller frees. */
int store_audit_submit(store *st, const store_audit *a, void (*done)(void *arg, int rc), void *arg);
int store_audit_add(store *st, const store_audit *a);
/* store_audit_start starts the writer thread now rather than with the
 * first record (audit_queue_start). */
int store_audit_start(store *st);
int store_audit_list(store *st, const store_audit_filter *f, store_audit **out, size_t *n);

/* Retention: store_audit_prune deletes the audit records issued before
 * `before` (Unix seconds) in bounded steps, oldest first: each step is one
 * transaction over at most `window` records (1..STORE_PRUNE_MAX_WINDOW;
 * 0 means STORE_PRUNE_WINDOW), and between steps the write lock is free
 * for token records. Records are visited in id (commit) order and the
 * prune ends at the first window that holds no record issued before the
 * date, so a record is never deleted when issued at or after `before`.
 * The newest record always stays (so ids never repeat).
 * When `between` is not NULL it is called after each step with the total
 * so far; returning false stops the prune (RK_OK). *deleted (may be NULL)
 * gets how many records went, also on failure. */
#define STORE_PRUNE_WINDOW     500
#define STORE_PRUNE_MAX_WINDOW 100000
typedef bool (*store_prune_step)(void *arg, size_t deleted);
int store_audit_prune(store *st, int64_t before, size_t window, store_prune_step between, void *arg,
                      size_t *deleted);

/* store_notify_changed tells st that rooms or memberships changed outside
 * this process (a backend's change feed, e.g. PostgreSQL LISTEN/NOTIFY):
 * every cached lookup is dropped. Thread-safe; cheap. */
void store_notify_changed(store *st);
/* Seats. A claim is live while now < exp. seat_claim gives seat s->seat of
 * room s->room to s->subject until s->exp in one atomic step, so of two
 * subjects racing for a free seat exactly one wins:
 *  - RK_OK when the seat is free, its claim has expired, or s->subject
 *    already holds it (its exp becomes the later of the two). The subject's
 *    claims on other seats of the room are dropped in the same step: one
 *    seat per subject and room.
 *  - RK_ECONFLICT when another subject's claim is live; nothing changes.
 *  - RK_ENOTFOUND when the room doesn't exist; RK_EINVAL for a seat outside
 *    1..STORE_MAX_SEATS or exp <= now.
 * seat_release drops live claims of room: seat N (0 = any seat) held by
 * subject (NULL = whoever holds it; seat 0 with subject NULL is RK_EINVAL);
 * RK_ENOTFOUND when no live claim matched. seat_list returns room's live
 * claims by seat as a new array (caller frees with free()). Deleting a room
 * drops its claims. */
int store_seat_claim(store *st, const store_seat *s, int64_t now);
int store_seat_release(store *st, const char *room, int64_t seat, const char *subject, int64_t now);
int store_seat_list(store *st, const char *room, int64_t now, store_seat **out, size_t *n);

/* Meetings. meeting_create makes, in one transaction, the room m->room
 * (members-only, default role participant_role), the meeting, and the
 * creator's membership with creator_role; RK_ECONFLICT when the meeting id
 * or the room name (or alias) is taken; nothing is written then. Fields
 * must be non-empty except description. meeting_get: RK_ENOTFOUND when
 * absent. meeting_set_status sets status and updated_at. meeting_delete
 * deletes the meeting with its room, memberships and seats. meeting_list
 * returns up to limit (1..STORE_MAX_MEETING_LIST; 0 means 100) meetings
 * with id > after_id (NULL = from the start) ordered by id, as a new array
 * the caller frees with free(). Participants are the room's members: use
 * store_member_set/remove/list with m->room. */
int store_meeting_create(store *st, const store_meeting *m, const char *creator_role,
                         const char *participant_role);
int store_meeting_get(store *st, const char *id, store_meeting *out);
int store_meeting_set_status(store *st, const char *id, const char *status);
int store_meeting_delete(store *st, const char *id);
int store_meeting_list(store *st, const char *after_id, size_t limit, store_meeting **out,
                       size_t *n);

/* Live rooms.
 * presence_apply records a join (p->left_at 0: inserted once per SID; a SID
 * already known changes nothing), a listing (p->left_at STORE_PRESENT: the
 * SID is in the room, inserted or marked back in) or a leave (p->left_at > 0:
 * sets left_at of the SID's row while it is in the room, or inserts the row
 * as left when the SID is not known yet, so that a join that comes after
 * its leave changes nothing; RK_ENOTFOUND when the SID had left already).
 * presence_list returns who is in room (NULL: in every room), by room then
 * joined_at, as a new array the caller frees.
 * occupancy counts the identities in room (*present: one however many of
 * its sessions are marked in, as LiveKit lets one identity in once) and the
 * identities issued a token for room since `since` that are not in it
 * (*pending).
 * event_record remembers webhook event id: RK_OK the first time,
 * RK_ECONFLICT for an id already recorded.
 * event_forget forgets event id again (RK_OK also when it was not
 * recorded): an event that could not be applied is applied when delivered
 * again.
 * event_seen sets *seen to 1 when event id is recorded (until live_prune
 * drops it), else 0.
 * action_add records a (its id is assigned); action_list returns the
 * actions f selects, oldest first (a new array, caller frees);
 * action_claim marks action id carried out at now: RK_OK for the one
 * caller that claims it, RK_ECONFLICT when it was already claimed.
 * audit_last_issued sets *at to the issue time of the newest token for
 * (room, identity), 0 when none; audit_issued_by the same among the tokens
 * issued at or before at_most.
 * ban_until sets *until to the end of the longest ban of identity from
 * room ever recorded, 0 when none (a lookup by the pair, for when the bans
 * in memory are not all of them).
 * live_prune drops webhook event ids received and presence rows left
 * before `before`, and actions, carried out or still pending, whose
 * `until` passed before `before` and that were created before
 * actions_before (such an action is never carried out any more). */
int store_presence_apply(store *st, const store_presence *p);
int store_presence_list(store *st, const char *room, store_presence **out, size_t *n);
/* store_presence_has says whether identity has a session in room now (false
 * also when the store can't tell). */
bool store_presence_has(store *st, const char *room, const char *identity);
int store_occupancy(store *st, const char *room, int64_t since, int64_t *present, int64_t *pending);
int store_event_record(store *st, const char *id, int64_t now);
int store_event_forget(store *st, const char *id);
int store_event_seen(store *st, const char *id, bool *seen);
int store_action_add(store *st, const store_action *a);
int store_action_list(store *st, const store_action_filter *f, store_action **out, size_t *n);
int store_action_claim(store *st, int64_t id, int64_t now);
int store_audit_last_issued(store *st, const char *room, const char *identity, int64_t *at);
int store_audit_issued_by(store *st, const char *room, const char *identity, int64_t at_most,
                          int64_t *at);
int store_ban_until(store *st, const char *room, const char *identity, int64_t *until);
int store_live_prune(store *st, int64_t before, int64_t actions_before);

#endif
