/* worker.c - the RoomService worker thread and its bounded queue. */
#include "worker.h"
#include "../util/bgthread.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/text.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    lk_job job;
    int attempts;
    int64_t due_ms; /* monotonic ms when it may run */
} slot;

struct lk_worker {
    lk_worker_cfg cfg;
    char host[ROOMSERVICE_MAX_HOST + 1];
    lk_worker_hooks hooks;
    roomservice *rs;
    bgthread t; /* its mu guards the fields below */
    slot q[LK_WORKER_MAX_QUEUE];
    size_t n;
    bool reconcile;
    int64_t next_reconcile_ms;
    minter *next_m; /* keys from lk_worker_set_keys, for the next call (owned) */
    uint64_t calls[LK_METHOD_COUNT][LK_OUTCOME_COUNT];
};

/* count records one call's outcome (the caller does not hold w->t.mu). */
static void count(lk_worker *w, lk_method m, lk_outcome o)
{
    pthread_mutex_lock(&w->t.mu);
    w->calls[m][o]++;
    pthread_mutex_unlock(&w->t.mu);
}

/* run_job makes job's call once. */
static lk_outcome run_job(lk_worker *w, const lk_job *j, char *why, size_t cap)
{
    int64_t now = clock_now();
    lk_outcome o =
        j->method == LK_UPDATE_PARTICIPANT
            ? roomservice_update_participant(w->rs, now, j->room, j->identity, &j->perm, why, cap)
            : roomservice_remove_participant(w->rs, now, j->room, j->identity, j->revoke_ts, why,
                                             cap);
    count(w, j->method, o);
    return o;
}

/* reconcile lists every room, then each room's participants, and hands them
 * to the hooks. A failed ListRooms skips the pass (the next one retries). */
static void reconcile(lk_worker *w)
{
    char why[256] = "";
    lk_room_info *rooms = NULL;
    size_t nrooms = 0;
    int64_t now = clock_now();
    lk_outcome o = roomservice_list_rooms(w->rs, now, &rooms, &nrooms, why, sizeof why);
    count(w, LK_LIST_ROOMS, o);
    if (o != LK_OK) {
        log_event("warn", "livekit_reconcile", "call", "ListRooms", "outcome", lk_outcome_name(o),
                  "detail", why, NULL);
        return;
    }
    for (size_t i = 0; i < nrooms; i++) {
        lk_participant_info *ps = NULL;
        size_t n = 0;
        int64_t asked = clock_now();
        o = roomservice_list_participants(w->rs, asked, rooms[i].name, &ps, &n, why, sizeof why);
        count(w, LK_LIST_PARTICIPANTS, o);
        if ((o == LK_OK || o == LK_NOT_FOUND) && w->hooks.participants)
            w->hooks.participants(w->hooks.ud, rooms[i].name, ps, n, asked);
        else if (o != LK_OK && o != LK_NOT_FOUND)
            log_event("warn", "livekit_reconcile", "call", "ListParticipants", "room",
                      rooms[i].name, "outcome", lk_outcome_name(o), "detail", why, NULL);
        free(ps);
    }
    if (w->hooks.rooms)
        w->hooks.rooms(w->hooks.ud, rooms, nrooms, now);
    free(rooms);
}

/* take_due removes the due job with the earliest due time into *out; when
 * none is due, *wait_ms gets the time until the first one (-1: none). The
 * caller holds w->t.mu. */
static bool take_due(lk_worker *w, int64_t now, slot *out, int64_t *wait_ms)
{
    size_t best = w->n;
    for (size_t i = 0; i < w->n; i++)
        if (best == w->n || w->q[i].due_ms < w->q[best].due_ms)
            best = i;
    *wait_ms = -1;
    if (best == w->n)
        return false;
    if (w->q[best].due_ms > now) {
        *wait_ms = w->q[best].due_ms - now;
        return false;
    }
    *out = w->q[best];
    w->q[best] = w->q[--w->n];
    return true;
}

/* retry_or_finish requeues s after a failed try when attempts remain, else
 * reports it through the done hook. */
static void retry_or_finish(lk_worker *w, slot *s, lk_outcome o, const char *why)
{
    if (o == LK_UNAVAILABLE && s->attempts < w->cfg.max_attempts) {
        long wait = w->cfg.backoff_ms;
        for (int i = 1; i < s->attempts && wait < w->cfg.backoff_max_ms; i++)
            wait *= 2;
        if (wait > w->cfg.backoff_max_ms)
            wait = w->cfg.backoff_max_ms;
        s->due_ms = bgthread_now_ms() + wait;
        pthread_mutex_lock(&w->t.mu);
        if (w->n < LK_WORKER_MAX_QUEUE) {
            w->q[w->n++] = *s;
            pthread_mutex_unlock(&w->t.mu);
            return;
        }
        pthread_mutex_unlock(&w->t.mu);
    }
    if (w->hooks.done)
        w->hooks.done(w->hooks.ud, &s->job, o, s->attempts, why);
}

/* take_keys hands the keys lk_worker_set_keys left to the roomservice;
 * the caller, the worker thread, holds w->t.mu. */
static void take_keys(lk_worker *w)
{
    if (w->next_m) {
        roomservice_set_minter(w->rs, w->next_m);
        w->next_m = NULL;
    }
}

static void *loop(void *arg)
{
    lk_worker *w = arg;
    pthread_mutex_lock(&w->t.mu);
    while (!w->t.stop) {
        int64_t now = bgthread_now_ms(), wait;
        slot s;
        take_keys(w);
        if (w->reconcile || now >= w->next_reconcile_ms) {
            w->reconcile = false;
            w->next_reconcile_ms = w->cfg.reconcile_s ? now + w->cfg.reconcile_s * 1000 : INT64_MAX;
            pthread_mutex_unlock(&w->t.mu);
            reconcile(w);
            pthread_mutex_lock(&w->t.mu);
        } else if (take_due(w, now, &s, &wait)) {
            pthread_mutex_unlock(&w->t.mu);
            char why[256] = "";
            s.attempts++;
            lk_outcome o = run_job(w, &s.job, why, sizeof why);
            retry_or_finish(w, &s, o, why);
            pthread_mutex_lock(&w->t.mu);
        } else {
            int64_t until = w->next_reconcile_ms - now;
            (void)bgthread_wait(&w->t, wait < 0 || wait > until ? until : wait);
        }
    }
    pthread_mutex_unlock(&w->t.mu);
    return NULL;
}

int lk_worker_start(const lk_worker_cfg *cfg, const keyring *kr, const lk_worker_hooks *hooks,
                    lk_worker **out, char *why, size_t cap)
{
    if (cfg->max_attempts < 1 || cfg->timeout_ms < 1 || cfg->backoff_ms < 1 ||
        cfg->backoff_max_ms < cfg->backoff_ms || cfg->reconcile_s < 0)
        return rk_fail(RK_EINVAL, why, cap, "livekit worker: bad settings");
    lk_worker *w = calloc(1, sizeof *w);
    if (!w)
        return RK_ENOMEM;
    w->cfg = *cfg;
    text_copy(w->host, sizeof w->host, cfg->host);
    w->cfg.host = w->host;
    w->hooks = *hooks;
    w->reconcile = true;
    w->next_reconcile_ms = INT64_MAX;
    int rc = roomservice_new(cfg->host, kr, cfg->timeout_ms, &w->rs, why, cap);
    if (rc) {
        free(w);
        return rc;
    }
    if (bgthread_open(&w->t, loop, w)) {
        roomservice_free(w->rs);
        free(w);
        return rk_fail(RK_ENOMEM, why, cap, "livekit worker: cannot start its thread");
    }
    *out = w;
    return RK_OK;
}

int lk_worker_submit(lk_worker *w, const lk_job *job)
{
    pthread_mutex_lock(&w->t.mu);
    int rc = RK_ETOOBIG;
    if (w->n < LK_WORKER_MAX_QUEUE) {
        w->q[w->n++] = (slot){.job = *job, .attempts = 0, .due_ms = bgthread_now_ms()};
        pthread_cond_signal(&w->t.cv);
        rc = RK_OK;
    }
    pthread_mutex_unlock(&w->t.mu);
    return rc;
}

void lk_worker_set_reconcile(lk_worker *w, int64_t reconcile_s)
{
    pthread_mutex_lock(&w->t.mu);
    if (reconcile_s != w->cfg.reconcile_s) {
        w->cfg.reconcile_s = reconcile_s;
        w->next_reconcile_ms = reconcile_s ? bgthread_now_ms() + reconcile_s * 1000 : INT64_MAX;
        pthread_cond_signal(&w->t.cv);
    }
    pthread_mutex_unlock(&w->t.mu);
}

int lk_worker_set_keys(lk_worker *w, const keyring *kr)
{
    minter *m;
    int rc = minter_new(kr, &m);
    if (rc)
        return rc;
    pthread_mutex_lock(&w->t.mu);
    minter_free(w->next_m); /* a reload's keys the worker never used */
    w->next_m = m;
    pthread_mutex_unlock(&w->t.mu);
    return RK_OK;
}

void lk_worker_reconcile_now(lk_worker *w)
{
    bgthread_raise(&w->t, &w->reconcile);
}

void lk_worker_stop(lk_worker *w)
{
    if (!w)
        return;
    bgthread_close(&w->t);
    minter_free(w->next_m);
    roomservice_free(w->rs);
    free(w);
}

void lk_worker_calls(lk_worker *w, uint64_t out[LK_METHOD_COUNT][LK_OUTCOME_COUNT])
{
    pthread_mutex_lock(&w->t.mu);
    memcpy(out, w->calls, sizeof w->calls);
    pthread_mutex_unlock(&w->t.mu);
}

size_t lk_worker_queued(lk_worker *w)
{
    pthread_mutex_lock(&w->t.mu);
    size_t n = w->n;
    pthread_mutex_unlock(&w->t.mu);
    return n;
}
