/* live.c - live rooms: presence from webhooks, decisions carried into
 * rooms through the RoomService worker, bans in memory. */
#include "live.h"
#include "../livekit/worker.h"
#include "../token/minter.h"
#include "../util/bgthread.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVE_PRUNE_EVERY 600   /* seconds between prunes */
#define LIVE_KEEP        86400 /* event ids and left presence rows are kept a day */
#define LIVE_KICK_SETTLE                                                                           \
    10 /* seconds a carried-out kick has to land before a reconciliation repeats it */
#define LIVE_CLOCK_SKEW                                                                            \
    5 /* seconds LiveKit's clock (joinedAt) may differ from RoomKey's (issued_at) */

/* Webhook events by name, for metrics (a bounded label set). */
enum { EV_ROOM_STARTED, EV_ROOM_FINISHED, EV_JOINED, EV_LEFT, EV_ABORTED, EV_OTHER, EV_COUNT };
static const char *const event_names[EV_COUNT] = {
    "room_started",
    "room_finished",
    "participant_joined",
    "participant_left",
    "participant_connection_aborted",
    "other",
};

/* Kick reasons, for metrics. */
enum {
    KR_REMOVED,
    KR_ROLE,
    KR_ADMIN,
    KR_REJOIN,
    KR_BANNED,
    KR_CLOSED,
    KR_DELETED,
    KR_OTHER,
    KR_COUNT
};
static const char *const kick_reasons[KR_COUNT] = {
    "membership_removed", "role_changed", "admin_kick",   "revoked_rejoin",
    "banned_rejoin",      "room_closed",  "room_deleted", "other",
};

typedef struct ban {
    char room[STORE_MAX_NAME + 1];
    char identity[STORE_MAX_NAME + 1];
    int64_t until;
} ban;

struct live {
    store *st;
    lk_worker *w;                                              /* NULL without a LiveKit host */
    char webhook_path[sizeof((config_live *)0)->webhook_path]; /* fixed at start */
    config_live cfg;                                           /* under mu (reloaded) */
    int64_t kick_window;                                       /* under mu */
    config_role roles[CONFIG_MAX_ROLES];                       /* under mu */
    size_t n_roles;                                            /* under mu */
    bgthread t;    /* the poller; t.mu is the lock the "under mu" fields name */
    bool wake;     /* under mu: poll now */
    ban *bans;     /* under mu: sorted by room, then identity; one per pair */
    size_t n_bans; /* under mu */
    bool bans_cut; /* under mu: more bans hold than one list returns */
    uint64_t webhooks[EV_COUNT][LIVE_OUTCOME_COUNT]; /* under mu */
    uint64_t kicks[KR_COUNT];                        /* under mu */
};

static const char *const outcome_names[LIVE_OUTCOME_COUNT] = {"applied", "duplicate", "ignored",
                                                              "failed"};

const char *live_outcome_name(live_outcome o)
{
    return (unsigned)o < LIVE_OUTCOME_COUNT ? outcome_names[o] : "?";
}

static int event_index(const char *name)
{
    for (int i = 0; i < EV_OTHER; i++)
        if (strcmp(name, event_names[i]) == 0)
            return i;
    return EV_OTHER;
}

static int reason_index(const char *reason)
{
    for (int i = 0; i < KR_OTHER; i++)
        if (strcmp(reason, kick_reasons[i]) == 0)
            return i;
    return KR_OTHER;
}

/* ---- decisions (no service needed) ------------------------------------ */

/* fit_name copies name into dst of cap bytes; false, copying nothing, when
 * it is longer than cap - 1 bytes (names of STORE_MAX_NAME bytes fit). */
static bool fit_name(char *dst, size_t cap, const char *name)
{
    if (strnlen(name, cap) == cap)
        return false;
    text_copy(dst, cap, name);
    return true;
}

/* add_action records one action of kind for (room, identity); an update
 * changes from_role to role. How long a kick is remembered is the reading
 * instance's live_rooms.kick_window; a ban keeps it at least until it ends. */
static int add_action(store *st, const char *kind, const char *room, const char *identity,
                      const char *from_role, const char *role, const char *reason,
                      int64_t ban_until, int64_t now)
{
    store_action a = {.created_at = now, .ban_until = ban_until, .until = ban_until};
    text_copy(a.kind, sizeof a.kind, kind);
    text_copy(a.reason, sizeof a.reason, reason);
    text_copy(a.role, sizeof a.role, role ? role : "");
    text_copy(a.from_role, sizeof a.from_role, from_role ? from_role : "");
    if (!fit_name(a.room, sizeof a.room, room) ||
        !fit_name(a.identity, sizeof a.identity, identity))
        return RK_ETOOBIG;
    return store_action_add(st, &a);
}

int live_kick_record(store *st, const char *room, const char *identity, const char *reason,
                     int64_t ban_until, int64_t now)
{
    return add_action(st, "kick", room, identity, NULL, NULL, reason, ban_until, now);
}

/* for_identities calls fn for subject and for every other identity subject
 * was issued a token for in room within the longest token life (from the
 * audit): no longer-lived token can have brought one of them in. */
static int for_identities(store *st, const char *room, const char *subject, int64_t now,
                          int (*fn)(store *, const char *, void *), void *arg)
{
    int rc = fn(st, subject, arg);
    store_audit *recs = NULL;
    size_t n = 0;
    store_audit_filter f = {
        .room = room, .subject = subject, .since = now - MINTER_MAX_TTL, .limit = STORE_MAX_LIST};
    if (rc || (rc = store_audit_list(st, &f, &recs, &n)))
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        bool seen = strcmp(recs[i].identity, subject) == 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(recs[j].identity, recs[i].identity) == 0;
        if (!seen)
            rc = fn(st, recs[i].identity, arg);
    }
    free(recs);
    return rc;
}

typedef struct member_change {
    const char *room, *from_role, *role;
    int64_t now;
} member_change;

static int kick_one(store *st, const char *identity, void *arg)
{
    const member_change *m = arg;
    return add_action(st, "kick", m->room, identity, NULL, NULL, "membership_removed", 0, m->now);
}

static int update_one(store *st, const char *identity, void *arg)
{
    const member_change *m = arg;
    return add_action(st, "update", m->room, identity, m->from_role, m->role, "role_changed", 0,
                      m->now);
}

int live_member_removed(store *st, const char *room, const char *subject, int64_t now)
{
    member_change m = {room, NULL, NULL, now};
    return for_identities(st, room, subject, now, kick_one, &m);
}

int live_member_role_changed(store *st, const char *room, const char *subject,
                             const char *from_role, const char *role, int64_t now)
{
    member_change m = {room, from_role, role, now};
    return for_identities(st, room, subject, now, update_one, &m);
}

/* kick_present records a kick (reason) of every identity present in room. */
static int kick_present(store *st, const char *room, const char *reason, int64_t now)
{
    store_presence *ps = NULL;
    size_t n = 0;
    int rc = store_presence_list(st, room, &ps, &n);
    for (size_t i = 0; rc == RK_OK && i < n; i++) {
        bool seen = false; /* one kick an identity, whatever its sessions */
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(ps[j].identity, ps[i].identity) == 0;
        if (!seen)
            rc = add_action(st, "kick", room, ps[i].identity, NULL, NULL, reason, 0, now);
    }
    free(ps);
    return rc;
}

int live_room_deleted(store *st, const char *room, int64_t now)
{
    return kick_present(st, room, "room_deleted", now);
}

int live_meeting_changed(store *st, const char *room, int64_t now)
{
    store_room r;
    int rc = store_room_get(st, room, &r);
    if (rc == RK_ENOTFOUND || (rc == RK_OK && !r.closed))
        return RK_OK;
    return rc ? rc : kick_present(st, room, "room_closed", now);
}

/* ---- carrying decisions out ------------------------------------------- */

/* submit_kick hands a RemoveParticipant to the worker (revoke_ts: tokens
 * issued before it stop working where LiveKit honours it). */
static void submit_kick(live *l, const char *room, const char *identity, const char *reason,
                        int64_t revoke_ts)
{
    if (!l->w)
        return;
    lk_job j = {.method = LK_REMOVE_PARTICIPANT, .revoke_ts = revoke_ts};
    text_copy(j.room, sizeof j.room, room);
    text_copy(j.identity, sizeof j.identity, identity);
    text_copy(j.reason, sizeof j.reason, reason);
    pthread_mutex_lock(&l->t.mu);
    l->kicks[reason_index(reason)]++;
    pthread_mutex_unlock(&l->t.mu);
    if (lk_worker_submit(l->w, &j) != RK_OK)
        log_event("error", "livekit_kick", "room", room, "identity", identity, "reason", reason,
                  "outcome", "queue_full", NULL);
}

/* role_perm fills *p with the LiveKit permissions of role name; false
 * when no such role is configured. The caller holds l->mu. */
static bool role_perm(const live *l, const char *name, lk_permission *p)
{
    for (size_t i = 0; i < l->n_roles; i++) {
        const config_role *r = &l->roles[i];
        if (strcmp(r->name, name) != 0)
            continue;
        *p = (lk_permission){.can_subscribe = r->can_subscribe,
                             .can_publish = r->can_publish,
                             .can_publish_data = r->can_publish_data,
                             .can_update_metadata = r->can_update_own_metadata,
                             .sources = r->sources_set ? r->sources : 0};
        return true;
    }
    return false;
}

/* same_perm says whether a and b grant the same. */
static bool same_perm(const lk_permission *a, const lk_permission *b)
{
    return a->can_subscribe == b->can_subscribe && a->can_publish == b->can_publish &&
           a->can_publish_data == b->can_publish_data &&
           a->can_update_metadata == b->can_update_metadata && a->sources == b->sources;
}

/* submit_update hands an UpdateParticipant with the new role's permissions
 * to the worker, unless they are those of the role it changes from (then
 * the participant already has them). */
static void submit_update(live *l, const store_action *a)
{
    lk_job j = {.method = LK_UPDATE_PARTICIPANT};
    lk_permission from;
    pthread_mutex_lock(&l->t.mu);
    bool known = role_perm(l, a->role, &j.perm);
    bool same = known && role_perm(l, a->from_role, &from) && same_perm(&from, &j.perm);
    pthread_mutex_unlock(&l->t.mu);
    if (!l->w || !known)
        return;
    if (same) {
        log_event("info", "livekit_update", "room", a->room, "identity", a->identity, "reason",
                  a->reason, "outcome", "unchanged", "detail",
                  "the old and new roles grant the same: nothing to send", NULL);
        return;
    }
    text_copy(j.room, sizeof j.room, a->room);
    text_copy(j.identity, sizeof j.identity, a->identity);
    text_copy(j.reason, sizeof j.reason, a->reason);
    if (lk_worker_submit(l->w, &j) != RK_OK)
        log_event("error", "livekit_update", "room", a->room, "identity", a->identity, "outcome",
                  "queue_full", NULL);
}

/* on_done logs each finished RoomService job: one line per kick. */
static void on_done(void *ud, const lk_job *job, lk_outcome o, int attempts, const char *why)
{
    (void)ud;
    char n[16];
    snprintf(n, sizeof n, "%d", attempts);
    bool ok = o == LK_OK || o == LK_NOT_FOUND;
    log_event(ok ? "info" : "error",
              job->method == LK_REMOVE_PARTICIPANT ? "livekit_kick" : "livekit_update", "room",
              job->room, "identity", job->identity, "reason", job->reason, "outcome",
              lk_outcome_name(o), "attempts", n, "detail", ok ? NULL : why, NULL);
}

/* kick_window returns how long kicks are remembered now. */
static int64_t kick_window(live *l)
{
    pthread_mutex_lock(&l->t.mu);
    int64_t w = l->kick_window;
    pthread_mutex_unlock(&l->t.mu);
    return w;
}

/* rekick_if_revoked: identity joined room at joined_at (LiveKit's clock),
 * so with a token RoomKey issued at or before then (LIVE_CLOCK_SKEW
 * allowed). When the newest such token is no newer than a remembered kick
 * carried out at least `settle` seconds ago (one still in flight is left
 * to land), the join used a token from before the kick: it is kicked
 * again; so is any join while a ban holds. A token issued after the kick
 * (a re-added member) may have been the one used, and RoomKey would admit
 * the identity anyway: that join stays. */
static void rekick_if_revoked(live *l, const char *room, const char *identity, int64_t joined_at,
                              int64_t now, int64_t settle)
{
    store_action_filter f = {
        .room = room, .identity = identity, .live_after = now, .since = now - kick_window(l)};
    store_action *acts = NULL;
    size_t n = 0;
    if (store_action_list(l->st, &f, &acts, &n) != RK_OK || n == 0) {
        free(acts);
        return;
    }
    int64_t issued = 0;
    bool lookup =
        store_audit_issued_by(l->st, room, identity, joined_at + LIVE_CLOCK_SKEW, &issued) == RK_OK;
    for (size_t i = n; i-- > 0;) {
        const store_action *a = &acts[i];
        if (strcmp(a->kind, "kick") != 0 || a->done_at == 0 || a->done_at > now - settle)
            continue; /* pending or in flight: the poller's kick will land */
        bool banned = a->ban_until > now;
        if (banned || (lookup && issued <= a->created_at)) {
            submit_kick(l, room, identity, banned ? "banned_rejoin" : "revoked_rejoin",
                        a->created_at);
            break;
        }
    }
    free(acts);
}

/* kick_if_closed: identity joined room (at joined_at, LiveKit's clock),
 * to which RoomKey admits no one any more: its meeting ended or was
 * canceled (store_room.closed), or the room is gone although RoomKey issued
 * identity a token for it (a deleted room; rooms RoomKey never issued a
 * token for are not its business). Kicked at once; true when it was. */
static bool kick_if_closed(live *l, const char *room, const char *identity, int64_t joined_at,
                           int64_t now)
{
    store_room r;
    int64_t issued = 0;
    int rc = store_room_get(l->st, room, &r);
    bool closed = rc == RK_OK && r.closed;
    bool deleted = rc == RK_ENOTFOUND &&
                   store_audit_issued_by(l->st, room, identity, joined_at + LIVE_CLOCK_SKEW,
                                         &issued) == RK_OK &&
                   issued > 0;
    if (closed || deleted)
        submit_kick(l, room, identity, closed ? "room_closed" : "room_deleted", now);
    return closed || deleted;
}

/* ---- webhook events --------------------------------------------------- */

/* presence_of fills *p from ev's room and participant. */
static void presence_of(const lk_webhook_event *ev, store_presence *p)
{
    memset(p, 0, sizeof *p);
    text_copy(p->sid, sizeof p->sid, ev->participant.sid);
    text_copy(p->room, sizeof p->room, ev->room.name);
    text_copy(p->identity, sizeof p->identity, ev->participant.identity);
    text_copy(p->name, sizeof p->name, ev->participant.name);
    text_copy(p->kind, sizeof p->kind, ev->participant.kind);
    p->joined_at = ev->participant.joined_at;
}

/* finished_mark writes into out (cap bytes) the webhook event id under which
 * room_finished remembers that room's session ended ("finished:" and
 * LiveKit's room SID) for as long as event ids are kept (LIVE_KEEP); false
 * when the room has no SID or it does not fit. */
static bool finished_mark(const lk_room_info *room, char *out, size_t cap)
{
    return room->sid[0] && (size_t)snprintf(out, cap, "finished:%s", room->sid) < cap;
}

/* on_joined records the join; one that LiveKit delivers after its room
 * session's room_finished is recorded as left, since that session ended
 * (close_room missed it). */
static live_outcome on_joined(live *l, const lk_webhook_event *ev, int64_t now)
{
    store_presence p;
    presence_of(ev, &p);
    if (!p.joined_at)
        p.joined_at = now;
    char mark[STORE_MAX_EVENT + 1];
    bool over = false;
    if (finished_mark(&ev->room, mark, sizeof mark) &&
        store_event_seen(l->st, mark, &over) != RK_OK)
        return LIVE_FAILED;
    if (over) {
        p.left_at = now;
        int rc = store_presence_apply(l->st, &p);
        return rc == RK_OK || rc == RK_ENOTFOUND ? LIVE_APPLIED : LIVE_FAILED;
    }
    if (store_presence_apply(l->st, &p) != RK_OK)
        return LIVE_FAILED;
    if (!kick_if_closed(l, p.room, p.identity, p.joined_at, now))
        rekick_if_revoked(l, p.room, p.identity, p.joined_at, now, 0);
    return LIVE_APPLIED;
}

/* on_left records the leave and frees the seat (the Supabase Edge Function contract's judges) the
 * identity held in the room, unless it is still there in another session. */
static live_outcome on_left(live *l, const lk_webhook_event *ev, int64_t now)
{
    store_presence p;
    presence_of(ev, &p);
    p.left_at = now;
    int rc = store_presence_apply(l->st, &p);
    if (rc != RK_OK && rc != RK_ENOTFOUND)
        return LIVE_FAILED;
    if (!store_presence_has(l->st, p.room, p.identity)) {
        rc = store_seat_release(l->st, p.room, 0, p.identity, now);
        if (rc == RK_OK)
            log_event("info", "seat_released", "room", p.room, "subject", p.identity, "reason",
                      "participant_left", NULL);
    }
    return LIVE_APPLIED;
}

/* meeting_status moves the status of the meeting whose room is room
 * ("meeting-{id}") on room_started (from PENDING or SCHEDULED) or
 * room_finished (unless COMPLETED or CANCELED already). */
static int meeting_status(live *l, const char *room, bool started)
{
    static const char prefix[] = "meeting-";
    char to[sizeof l->cfg.status_started];
    pthread_mutex_lock(&l->t.mu);
    text_copy(to, sizeof to, started ? l->cfg.status_started : l->cfg.status_finished);
    pthread_mutex_unlock(&l->t.mu);
    if (!to[0] || strncmp(room, prefix, sizeof prefix - 1) != 0)
        return RK_OK;
    store_meeting m;
    int rc = store_meeting_get(l->st, room + sizeof prefix - 1, &m);
    if (rc == RK_ENOTFOUND || (rc == RK_OK && strcmp(m.room, room) != 0))
        return RK_OK;
    if (rc)
        return rc;
    bool from_ok = started
                       ? strcmp(m.status, "PENDING") == 0 || strcmp(m.status, "SCHEDULED") == 0
                       : strcmp(m.status, "COMPLETED") != 0 && strcmp(m.status, "CANCELED") != 0;
    if (!from_ok || strcmp(m.status, to) == 0)
        return RK_OK;
    rc = store_meeting_set_status(l->st, m.id, to);
    if (rc == RK_OK)
        log_event("info", "meeting_status", "meeting", m.id, "from", m.status, "to", to, "webhook",
                  started ? "room_started" : "room_finished", NULL);
    return rc;
}

/* close_room marks everyone in room who joined before `before` and is not
 * listed in keep[0..nkeep) as left at now (a list taken at `before` cannot
 * know who joined after it). */
static int close_room(store *st, const char *room, const lk_participant_info *keep, size_t nkeep,
                      int64_t before, int64_t now)
{
    store_presence *ps = NULL;
    size_t n = 0;
    int rc = store_presence_list(st, room, &ps, &n);
    for (size_t i = 0; rc == RK_OK && i < n; i++) {
        bool kept = ps[i].joined_at >= before;
        for (size_t j = 0; j < nkeep && !kept; j++)
            kept = strcmp(keep[j].sid, ps[i].sid) == 0;
        if (kept)
            continue;
        ps[i].left_at = now;
        rc = store_presence_apply(st, &ps[i]);
        if (rc == RK_ENOTFOUND)
            rc = RK_OK;
    }
    free(ps);
    return rc;
}

/* on_finished remembers that room's session ended (finished_mark), then
 * closes every presence in it. */
static int on_finished(live *l, const lk_room_info *room, int64_t now)
{
    char mark[STORE_MAX_EVENT + 1];
    int rc = finished_mark(room, mark, sizeof mark) ? store_event_record(l->st, mark, now) : RK_OK;
    if (rc == RK_ECONFLICT) /* a second room_finished of one session */
        rc = RK_OK;
    return rc ? rc : close_room(l->st, room->name, NULL, 0, INT64_MAX, now);
}

live_outcome live_on_event(live *l, const lk_webhook_event *ev, int64_t now)
{
    int e = event_index(ev->event);
    live_outcome o = LIVE_IGNORED;
    int recorded = store_event_record(l->st, ev->id, now), rc;
    if (recorded == RK_ECONFLICT)
        o = LIVE_DUPLICATE;
    else if (recorded != RK_OK)
        o = LIVE_FAILED;
    else if ((e == EV_JOINED || e == EV_LEFT || e == EV_ABORTED) && ev->has_room &&
             ev->has_participant)
        o = e == EV_JOINED ? on_joined(l, ev, now) : on_left(l, ev, now);
    else if ((e == EV_ROOM_STARTED || e == EV_ROOM_FINISHED) && ev->has_room) {
        rc = meeting_status(l, ev->room.name, e == EV_ROOM_STARTED);
        if (rc == RK_OK && e == EV_ROOM_FINISHED)
            rc = on_finished(l, &ev->room, now);
        o = rc == RK_OK ? LIVE_APPLIED : LIVE_FAILED;
    }
    /* Recorded but not (wholly) applied: forget it, so that LiveKit's next
     * delivery (after the 503) applies it instead of finding a duplicate. */
    if (recorded == RK_OK && o == LIVE_FAILED && store_event_forget(l->st, ev->id) != RK_OK)
        log_event("error", "webhook_not_forgotten", "id", ev->id, "note",
                  "its next delivery will be taken for a duplicate; reconciliation mends presence",
                  NULL);
    pthread_mutex_lock(&l->t.mu);
    l->webhooks[e][o]++;
    pthread_mutex_unlock(&l->t.mu);
    return o;
}

/* ---- reconciliation (worker thread) ----------------------------------- */

/* on_participants: room lists ps; presence follows, and anyone listed whose
 * access was taken away is kicked again. */
static void on_participants(void *ud, const char *room, const lk_participant_info *ps, size_t n,
                            int64_t now)
{
    live *l = ud;
    if (close_room(l->st, room, ps, n, now, clock_now()) != RK_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        /* LiveKit lists them: in the room, even if a lost or reordered
         * webhook marked the SID left */
        store_presence p = {.joined_at = ps[i].joined_at ? ps[i].joined_at : now,
                            .left_at = STORE_PRESENT};
        text_copy(p.sid, sizeof p.sid, ps[i].sid);
        text_copy(p.room, sizeof p.room, room);
        text_copy(p.identity, sizeof p.identity, ps[i].identity);
        text_copy(p.name, sizeof p.name, ps[i].name);
        text_copy(p.kind, sizeof p.kind, ps[i].kind);
        if (store_presence_apply(l->st, &p) == RK_OK &&
            !kick_if_closed(l, room, p.identity, p.joined_at, now))
            rekick_if_revoked(l, room, p.identity, p.joined_at, now, LIVE_KICK_SETTLE);
    }
}

/* on_rooms: presence in a room LiveKit no longer has is closed. */
static void on_rooms(void *ud, const lk_room_info *rooms, size_t n, int64_t now)
{
    live *l = ud;
    store_presence *ps = NULL;
    size_t np = 0;
    if (store_presence_list(l->st, NULL, &ps, &np) != RK_OK)
        return;
    for (size_t i = 0; i < np; i++) {
        bool listed = ps[i].joined_at >= now; /* joined after the list was taken */
        for (size_t j = 0; j < n && !listed; j++)
            listed = strcmp(rooms[j].name, ps[i].room) == 0;
        if (listed)
            continue;
        ps[i].left_at = clock_now();
        (void)store_presence_apply(l->st, &ps[i]);
    }
    free(ps);
}

/* ---- the poller ------------------------------------------------------- */

/* carry_out claims the pending actions (one instance wins each) and hands
 * them to the worker; cached room and membership lookups are dropped first.
 * Without a worker they stay pending. */
static void carry_out(live *l, int64_t now)
{
    store_action_filter f = {.pending = 1, .live_after = now, .since = now - kick_window(l)};
    store_action *acts = NULL;
    size_t n = 0;
    if (!l->w || store_action_list(l->st, &f, &acts, &n) != RK_OK) {
        free(acts);
        return;
    }
    /* A pending action means a decision changed, perhaps in another
     * process (the CLI): drop cached lookups now rather than after their
     * time-to-live, so a new token request already sees the change. */
    if (n)
        store_notify_changed(l->st);
    for (size_t i = 0; i < n; i++) {
        if (store_action_claim(l->st, acts[i].id, now) != RK_OK)
            continue;
        if (strcmp(acts[i].kind, "kick") == 0)
            submit_kick(l, acts[i].room, acts[i].identity, acts[i].reason, acts[i].created_at);
        else
            submit_update(l, &acts[i]);
    }
    free(acts);
}

/* by_pair orders bans by room, then identity. */
static int by_pair(const void *a, const void *b)
{
    const ban *x = a, *y = b;
    int c = strcmp(x->room, y->room);
    return c ? c : strcmp(x->identity, y->identity);
}

/* sort_bans sorts bans[0..n) by pair and keeps one entry a pair, the
 * longest; returns how many are left. */
static size_t sort_bans(ban *bans, size_t n)
{
    size_t k = 0;
    qsort(bans, n, sizeof *bans, by_pair);
    for (size_t i = 0; i < n; i++) {
        if (k && by_pair(&bans[k - 1], &bans[i]) == 0) {
            if (bans[i].until > bans[k - 1].until)
                bans[k - 1].until = bans[i].until;
        } else if (k++ != i) {
            bans[k - 1] = bans[i];
        }
    }
    return k;
}

/* refresh_bans reloads the bans that hold at now into memory (an action
 * with a ban is live until the ban ends). A list holds STORE_MAX_LIST at
 * most: when it is full, more may hold, and live_banned asks the store
 * about a pair it does not find. */
static void refresh_bans(live *l, int64_t now)
{
    store_action_filter f = {.live_after = now};
    store_action *acts = NULL;
    size_t n = 0, k = 0;
    if (store_action_list(l->st, &f, &acts, &n) != RK_OK) {
        free(acts);
        return;
    }
    ban *bans = calloc(n ? n : 1, sizeof *bans);
    for (size_t i = 0; bans && i < n; i++) {
        if (acts[i].ban_until <= now)
            continue;
        text_copy(bans[k].room, sizeof bans[k].room, acts[i].room);
        text_copy(bans[k].identity, sizeof bans[k].identity, acts[i].identity);
        bans[k++].until = acts[i].ban_until;
    }
    free(acts);
    if (!bans)
        return;
    k = sort_bans(bans, k);
    pthread_mutex_lock(&l->t.mu);
    free(l->bans);
    l->bans = bans;
    l->n_bans = k;
    l->bans_cut = n >= STORE_MAX_LIST;
    pthread_mutex_unlock(&l->t.mu);
}

static void *poll_main(void *arg)
{
    live *l = arg;
    int64_t last_prune = 0;
    pthread_mutex_lock(&l->t.mu);
    /* live_start made the first pass; the next comes after poll_ms, or
     * when a decision wakes the poller */
    if (!l->wake && !l->t.stop)
        (void)bgthread_wait(&l->t, l->cfg.poll_ms);
    while (!l->t.stop) {
        l->wake = false;
        pthread_mutex_unlock(&l->t.mu);
        int64_t now = clock_now();
        carry_out(l, now);
        refresh_bans(l, now);
        if (now - last_prune >= LIVE_PRUNE_EVERY) {
            (void)store_live_prune(l->st, now - LIVE_KEEP, now - kick_window(l) - LIVE_KEEP);
            last_prune = now;
        }
        pthread_mutex_lock(&l->t.mu);
        if (l->t.stop || l->wake)
            continue;
        (void)bgthread_wait(&l->t, l->cfg.poll_ms);
    }
    pthread_mutex_unlock(&l->t.mu);
    return NULL;
}

/* ---- life cycle -------------------------------------------------------- */

/* worker_wanted: cfg names a LiveKit host and a key, the RoomService
 * worker's needs. */
static bool worker_wanted(const config *cfg)
{
    return cfg->livekit_host[0] && cfg->keys && keyring_count(cfg->keys) > 0;
}

/* start_worker starts the RoomService worker when worker_wanted. */
static int start_worker(live *l, const config *cfg, char *why, size_t cap)
{
    if (!worker_wanted(cfg))
        return RK_OK;
    lk_worker_cfg wc = {.host = cfg->livekit_host,
                        .timeout_ms = 5000,
                        .max_attempts = 30,
                        .backoff_ms = 100,
                        .backoff_max_ms = 2000,
                        .reconcile_s = cfg->live.reconcile_s};
    lk_worker_hooks hooks = {
        .ud = l, .done = on_done, .participants = on_participants, .rooms = on_rooms};
    return lk_worker_start(&wc, cfg->keys, &hooks, &l->w, why, cap);
}

/* apply_settings copies cfg's reloadable settings into l: live_rooms
 * (but its webhook path), the kick window, the roles. The caller holds
 * l->mu or is the only thread. */
static void apply_settings(live *l, const config *cfg)
{
    l->cfg = cfg->live;
    l->kick_window = cfg->live.kick_window_s ? cfg->live.kick_window_s : cfg->max_ttl;
    l->n_roles = cfg->n_roles;
    memcpy(l->roles, cfg->roles, sizeof l->roles);
}

void live_stop(live *l)
{
    if (!l)
        return;
    bgthread_ask_stop(&l->t);
    bgthread_join(&l->t);
    lk_worker_stop(l->w); /* its hooks take l->t.mu: destroyed only after */
    bgthread_destroy(&l->t);
    free(l->bans);
    free(l);
}

int live_start(const config *cfg, store *st, live **out, char *why, size_t cap)
{
    live *l = calloc(1, sizeof *l);
    if (!l)
        return RK_ENOMEM;
    l->st = st;
    text_copy(l->webhook_path, sizeof l->webhook_path, cfg->live.webhook_path);
    apply_settings(l, cfg);
    bgthread_init(&l->t);
    /* The poller's first pass, before the first request (the service
     * listens after this): the bans (left to the poller, a banned identity
     * could get a token meanwhile) and the decisions still to carry out. */
    int64_t now = clock_now();
    refresh_bans(l, now);
    int rc = start_worker(l, cfg, why, cap);
    if (rc == RK_OK)
        carry_out(l, now);
    /* the connection that read them goes to the next thread that needs one,
     * the first request's (the caller, `roomkey serve` starting, reads no
     * more; the poller's next pass is poll_ms away) */
    store_pass_conn(st);
    if (rc == RK_OK && bgthread_start(&l->t, poll_main, l))
        rc = rk_fail(RK_ENOMEM, why, cap, "live rooms: cannot start the poller thread");
    if (rc) {
        live_stop(l);
        return rc;
    }
    *out = l;
    return RK_OK;
}

void live_recorded(live *l, int rc, const char *room, const char *subject)
{
    if (rc == RK_OK)
        live_wake(l);
    else
        log_event("error", "live_action", "room", room, "subject", subject, "detail",
                  rk_strerror(rc), NULL);
}

void live_wake(live *l)
{
    if (!l)
        return;
    bgthread_raise(&l->t, &l->wake);
}

const char *live_webhook_path(const live *l)
{
    return l->webhook_path;
}

void live_reload(live *l, const config *cfg)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->t.mu);
    apply_settings(l, cfg);
    l->wake = true; /* the poller's wait follows the new poll_interval */
    pthread_cond_signal(&l->t.cv);
    pthread_mutex_unlock(&l->t.mu);
    /* The RoomService calls sign with the reloaded signing key, as tokens
     * do: a key rotated out at LiveKit must not leave kicks failing. */
    const char *kept = NULL;
    if (l->w) {
        lk_worker_set_reconcile(l->w, cfg->live.reconcile_s);
        int rc = cfg->keys ? lk_worker_set_keys(l->w, cfg->keys) : RK_ENOTFOUND;
        if (rc)
            kept = rc == RK_ENOTFOUND ? "the new config has no LiveKit key; the running one is kept"
                                      : "out of memory; the running key is kept";
    } else if (worker_wanted(cfg)) {
        kept = "the RoomService worker starts only at start: restart to start it";
    }
    if (kept)
        log_event("warn", "reload_ignored", "key", "livekit keys (live rooms' RoomService calls)",
                  "note", kept, NULL);
}

int live_kick(live *l, const char *room, const char *identity, const char *reason,
              int64_t ban_until, int64_t now)
{
    int rc = live_kick_record(l->st, room, identity, reason, ban_until, now);
    if (rc == RK_OK)
        live_wake(l);
    return rc;
}

bool live_banned(live *l, const char *room, const char *identity, int64_t now)
{
    ban key;
    if (!fit_name(key.room, sizeof key.room, room) ||
        !fit_name(key.identity, sizeof key.identity, identity))
        return false; /* longer than any name the store takes: never banned */
    pthread_mutex_lock(&l->t.mu);
    const ban *b = bsearch(&key, l->bans, l->n_bans, sizeof key, by_pair);
    /* with more bans than memory holds, a pair memory does not find banned
     * may still be: not listed, or banned again beyond the list */
    bool banned = b && b->until > now, ask = !banned && l->bans_cut;
    pthread_mutex_unlock(&l->t.mu);
    if (!ask)
        return banned;
    int64_t until = 0;
    int rc = store_ban_until(l->st, room, identity, &until);
    if (rc != RK_OK) /* refused rather than let a ban go unenforced */
        log_event("error", "ban_check", "room", room, "subject", identity, "detail",
                  rk_strerror(rc), NULL);
    return rc != RK_OK || until > now;
}

/* ---- metrics ---------------------------------------------------------- */

typedef struct room_count {
    const char *room;
    uint64_t n;
} room_count;

static int by_count(const void *a, const void *b)
{
    const room_count *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->room, y->room);
}

/* render_presence writes participants by room (the fullest rooms only, so
 * the label set stays bounded) and in all. */
static void render_presence(live *l, metrics_text *t)
{
    store_presence *ps = NULL;
    size_t n = 0, nr = 0;
    if (store_presence_list(l->st, NULL, &ps, &n) != RK_OK)
        return;
    room_count *rc = calloc(n ? n : 1, sizeof *rc);
    for (size_t i = 0; rc && i < n; i++) { /* rows come ordered by room */
        if (nr == 0 || strcmp(rc[nr - 1].room, ps[i].room) != 0)
            rc[nr++].room = ps[i].room;
        rc[nr - 1].n++;
    }
    const char *name = "roomkey_live_participants";
    metrics_header(t, name, "gauge",
                   "Participants in LiveKit rooms (presence), by room: the 100 fullest rooms.");
    if (rc) {
        qsort(rc, nr, sizeof *rc, by_count);
        for (size_t i = 0; i < nr && i < LIVE_METRIC_ROOMS; i++)
            metrics_sample(t, name, "room", rc[i].room, rc[i].n);
    }
    name = "roomkey_live_participants_all";
    metrics_header(t, name, "gauge", "Participants in LiveKit rooms (presence), in all rooms.");
    metrics_sample(t, name, NULL, NULL, n);
    free(rc);
    free(ps);
}

void live_metrics(live *l, metrics_text *t)
{
    if (!l)
        return;
    uint64_t hooks[EV_COUNT][LIVE_OUTCOME_COUNT], kicks[KR_COUNT];
    pthread_mutex_lock(&l->t.mu);
    memcpy(hooks, l->webhooks, sizeof hooks);
    memcpy(kicks, l->kicks, sizeof kicks);
    pthread_mutex_unlock(&l->t.mu);
    const char *name = "roomkey_live_webhooks_total";
    metrics_header(t, name, "counter", "LiveKit webhooks verified, by event and outcome.");
    for (int e = 0; e < EV_COUNT; e++)
        for (int o = 0; o < LIVE_OUTCOME_COUNT; o++)
            metrics_sample2(t, name, "event", event_names[e], "outcome", outcome_names[o],
                            hooks[e][o]);
    name = "roomkey_live_kicks_total";
    metrics_header(t, name, "counter", "Participants removed from rooms by RoomKey, by reason.");
    for (int r = 0; r < KR_COUNT; r++)
        metrics_sample(t, name, "reason", kick_reasons[r], kicks[r]);
    if (l->w) {
        uint64_t calls[LK_METHOD_COUNT][LK_OUTCOME_COUNT];
        lk_worker_calls(l->w, calls);
        name = "roomkey_livekit_calls_total";
        metrics_header(t, name, "counter", "LiveKit RoomService calls, by method and outcome.");
        for (int m = 0; m < LK_METHOD_COUNT; m++)
            for (int o = 0; o < LK_OUTCOME_COUNT; o++)
                metrics_sample2(t, name, "method", lk_method_name(m), "outcome", lk_outcome_name(o),
                                calls[m][o]);
    }
    render_presence(l, t);
}
