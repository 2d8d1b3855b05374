/* live.h - live rooms: what RoomKey sees of a LiveKit room and how its
 * decisions reach into it (docs/live-rooms.md).
 *
 * In: verified webhook events (webhook.c) update presence in the store,
 * move a meeting's status on room_started/room_finished, release a judge's
 * seat when that judge leaves, and kick again at once a participant whose
 * access was taken away after its token was issued. Reconciliation with
 * ListParticipants (at start and every live_rooms.reconcile_interval) mends
 * what lost webhooks left wrong.
 *
 * Out: decisions are written to the store as actions (live_kick,
 * live_member_removed, live_member_role_changed, live_room_deleted,
 * live_meeting_changed) by whoever makes them, the
 * CLI included; a poller thread in each serving instance claims pending
 * actions (one instance wins each) and hands them to the RoomService worker
 * (src/livekit/worker.h), never on a request's thread. Without a LiveKit
 * host nothing is called and actions stay pending.
 *
 * Bans are kept in memory (refreshed by the poller from the store) so that
 * checking one at issuance costs no store read. */
#ifndef RK_LIVE_H
#define RK_LIVE_H

#include "../config/config.h"
#include "../http/metrics.h"
#include "../livekit/webhook.h"
#include "../store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct live live;

/* What became of one webhook, for metrics. */
typedef enum live_outcome {
    LIVE_APPLIED = 0, /* the event changed or confirmed state */
    LIVE_DUPLICATE,   /* its id was seen before: nothing changed */
    LIVE_IGNORED,     /* an event RoomKey does not use (counted only) */
    LIVE_FAILED,      /* the store failed: LiveKit retries */
    LIVE_OUTCOME_COUNT
} live_outcome;

/* live_start starts live rooms for cfg (its live_rooms section, roles,
 * max_ttl and signing key are copied, see live_reload; the LiveKit host of
 * the RoomService worker, whether there is one, and the webhook path are
 * fixed until a restart) over st, which must outlive it. Free with
 * live_stop. */
int live_start(const config *cfg, store *st, live **out, char *why, size_t why_cap);

/* live_webhook_path is the webhook route's path as at start ("" = none),
 * valid until live_stop: the route keeps pointing at it across reloads. */
const char *live_webhook_path(const live *l);

/* live_reload applies cfg's reloadable settings: live_rooms'
 * reconcile_interval, poll_interval, kick_window and meeting status
 * mapping, livekit.max_ttl (the default kick window), the roles
 * (UpdateParticipant's permissions) and the LiveKit signing key the
 * RoomService worker's calls are signed with (a config without a key keeps
 * the running one, logged as reload_ignored). NULL l is fine. */
void live_reload(live *l, const config *cfg);

/* live_stop stops the poller and the worker and frees l. NULL is fine. */
void live_stop(live *l);

/* live_on_event applies a verified webhook event at now. Returns the
 * outcome (LIVE_FAILED: answer 5xx so LiveKit delivers it again). */
live_outcome live_on_event(live *l, const lk_webhook_event *ev, int64_t now);

/* live_kick records a kick of identity from room (reason: a short word for
 * logs and metrics), with a ban until ban_until (0 = none), and wakes the
 * poller. */
int live_kick(live *l, const char *room, const char *identity, const char *reason,
              int64_t ban_until, int64_t now);

/* live_wake makes the poller look for new actions now (after a decision
 * recorded in this process). NULL is fine. */
void live_wake(live *l);

/* live_recorded follows a decision recorded with rc by one of the
 * functions below: wakes the poller (RK_OK), or logs that the kicks or
 * updates could not be recorded (the decision itself stands). NULL l is
 * fine. subject may be NULL. */
void live_recorded(live *l, int rc, const char *room, const char *subject);

/* live_banned says whether identity is banned from room at now: from the
 * bans in memory (a ban made elsewhere is seen within
 * live_rooms.poll_interval), and from the store when more bans hold than
 * memory has (true when the store cannot say). */
bool live_banned(live *l, const char *room, const char *identity, int64_t now);

/* live_metrics appends the Prometheus lines of live rooms (webhooks by
 * event and outcome, RoomService calls by method and outcome, kicks by
 * reason, participants by room for the LIVE_METRIC_ROOMS fullest rooms plus
 * everyone) to t. NULL l writes nothing. */
#define LIVE_METRIC_ROOMS 100
void live_metrics(live *l, metrics_text *t);

/* The decisions below need no running service: the CLI calls them too.
 * live_member_removed records kicks of the identities subject held tokens
 * for in room within the longest token life, MINTER_MAX_TTL (and of
 * subject itself). live_member_role_changed records permission updates for
 * them from from_role to role (not sent when both grant the same).
 * live_kick_record records one kick (ban_until 0 = none). A kick is
 * remembered for the serving instance's live_rooms.kick_window (default
 * livekit.max_ttl) after now, and at least until its ban ends. */
int live_member_removed(store *st, const char *room, const char *subject, int64_t now);
int live_member_role_changed(store *st, const char *room, const char *subject,
                             const char *from_role, const char *role, int64_t now);
/* live_room_deleted records kicks of everyone present in room (room was
 * just deleted, or its meeting); live_meeting_changed does the same when
 * room's meeting status now closes it (an ended or canceled meeting, see
 * store_room.closed), and nothing otherwise. A participant who joins such a
 * room again with a token issued before is kicked when LiveKit reports the
 * join (the webhook, or the next reconciliation). */
int live_room_deleted(store *st, const char *room, int64_t now);
int live_meeting_changed(store *st, const char *room, int64_t now);
int live_kick_record(store *st, const char *room, const char *identity, const char *reason,
                     int64_t ban_until, int64_t now);

/* live_outcome_name returns "applied", "duplicate", "ignored", "failed". */
const char *live_outcome_name(live_outcome o);

#endif
