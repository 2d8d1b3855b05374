/* worker.h - RoomService calls off the request path: a bounded queue, one
 * thread of its own, retries with backoff, and periodic reconciliation.
 *
 * Submitting never blocks on LiveKit: a full queue refuses the job at once.
 * The worker thread makes the calls (through its own roomservice), retries
 * a job whose call found LiveKit unavailable (no answer, timeout, 5xx) with
 * doubling backoff, and reports each finished job through hooks. Every
 * reconcile_s seconds (and once at start) it lists the rooms and each
 * room's participants and hands them to the hooks, because webhooks get
 * lost. */
#ifndef RK_LK_WORKER_H
#define RK_LK_WORKER_H

#include "roomservice.h"

#include <stdint.h>

#define LK_WORKER_MAX_QUEUE 1024
#define LK_REASON_MAX       32

typedef struct lk_job {
    lk_method method; /* LK_REMOVE_PARTICIPANT or LK_UPDATE_PARTICIPANT */
    char room[GRANTS_MAX_ROOM + 1];
    char identity[GRANTS_MAX_IDENTITY + 1];
    int64_t revoke_ts;              /* RemoveParticipant's revoke_token_ts; 0 = none */
    lk_permission perm;             /* UpdateParticipant's permissions */
    char reason[LK_REASON_MAX + 1]; /* why, for logs and metrics ("admin_kick", ...) */
} lk_job;

/* Called on the worker thread; none may block for long. */
typedef struct lk_worker_hooks {
    void *ud;
    /* done: job finished with outcome o after attempts calls (LK_UNAVAILABLE
     * when the attempts ran out). */
    void (*done)(void *ud, const lk_job *job, lk_outcome o, int attempts, const char *why);
    /* participants: reconciliation listed room's participants (n may be 0);
     * now is when it asked (who joined later may be missing from the list). */
    void (*participants)(void *ud, const char *room, const lk_participant_info *ps, size_t n,
                         int64_t now);
    /* rooms: a reconciliation pass listed every room (called after the
     * participants of each); now is when it asked for the rooms. */
    void (*rooms)(void *ud, const lk_room_info *rooms, size_t n, int64_t now);
} lk_worker_hooks;

typedef struct lk_worker_cfg {
    const char *host;    /* LiveKit server API URL */
    long timeout_ms;     /* one call */
    int max_attempts;    /* per job, >= 1 */
    long backoff_ms;     /* before the first retry; doubles */
    long backoff_max_ms; /* cap of one wait */
    int64_t reconcile_s; /* interval; 0 = only the pass at start */
} lk_worker_cfg;

typedef struct lk_worker lk_worker;

/* lk_worker_start starts the worker thread, signing with kr's signing key
 * (kr is only read during the call). hooks->ud must outlive the worker.
 * Stop (and free) with lk_worker_stop. */
int lk_worker_start(const lk_worker_cfg *cfg, const keyring *kr, const lk_worker_hooks *hooks,
                    lk_worker **out, char *why, size_t why_cap);

/* lk_worker_submit queues a copy of job; RK_ETOOBIG when the queue is full.
 * Never blocks on LiveKit. */
int lk_worker_submit(lk_worker *w, const lk_job *job);

/* lk_worker_set_reconcile changes the reconciliation interval (0 = no
 * more passes); the next pass is an interval from now. */
void lk_worker_set_reconcile(lk_worker *w, int64_t reconcile_s);

/* lk_worker_set_keys makes the worker sign its calls with kr's signing
 * key from its next call on (a call in flight finishes with the key it
 * had); kr is only read during this call. RK_ENOTFOUND when kr has no
 * key, RK_ENOMEM: the worker keeps the key it had. */
int lk_worker_set_keys(lk_worker *w, const keyring *kr);

/* lk_worker_reconcile_now asks for a reconciliation pass soon. */
void lk_worker_reconcile_now(lk_worker *w);

/* lk_worker_stop stops the thread (a call in flight finishes first, within
 * its timeout), drops queued jobs and frees w. NULL is fine. */
void lk_worker_stop(lk_worker *w);

/* lk_worker_calls copies the count of calls by method and outcome. */
void lk_worker_calls(lk_worker *w, uint64_t out[LK_METHOD_COUNT][LK_OUTCOME_COUNT]);

/* lk_worker_queued returns the number of jobs waiting (retries included). */
size_t lk_worker_queued(lk_worker *w);

#endif
