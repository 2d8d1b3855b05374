/* audit_retention.c - one thread: prune, then wait on a condition variable
 * (woken by a new retention or by stop) until the next pass is due. */
#include "audit_retention.h"
#include "../util/bgthread.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct audit_retention {
    store *st;
    bgthread t;   /* its mu guards the fields below */
    int64_t days; /* under t.mu */
    bool changed; /* under t.mu: days changed since the last pass */
};

/* still_running is the prune's step hook: false once stop was asked. */
static bool still_running(void *arg, size_t deleted)
{
    (void)deleted;
    audit_retention *r = arg;
    pthread_mutex_lock(&r->t.mu);
    bool go = !r->t.stop;
    pthread_mutex_unlock(&r->t.mu);
    return go;
}

/* pass prunes the records older than days and logs what went. */
static void pass(audit_retention *r, int64_t days)
{
    int64_t before = clock_now() - days * 86400;
    size_t n = 0;
    int rc = store_audit_prune(r->st, before, 0, still_running, r, &n);
    char deleted[24], date[CLOCK_ISO_LEN] = "";
    snprintf(deleted, sizeof deleted, "%zu", n);
    clock_iso8601(before, date, sizeof date);
    if (rc)
        log_event("error", "audit_prune_failed", "error", rk_strerror(rc), "deleted", deleted,
                  "before", date, NULL);
    else if (n)
        log_event("info", "audit_pruned", "deleted", deleted, "before", date, NULL);
}

static void *retention_main(void *arg)
{
    audit_retention *r = arg;
    pthread_mutex_lock(&r->t.mu);
    while (!r->t.stop) {
        int64_t days = r->days;
        r->changed = false;
        if (days > 0) {
            pthread_mutex_unlock(&r->t.mu);
            pass(r, days);
            pthread_mutex_lock(&r->t.mu);
        }
        int64_t until = bgthread_now_ms() + (int64_t)AUDIT_RETENTION_EVERY_S * 1000;
        while (!r->t.stop && !r->changed && bgthread_wait_until(&r->t, until))
            ;
    }
    pthread_mutex_unlock(&r->t.mu);
    return NULL;
}

void audit_retention_stop(audit_retention *r)
{
    if (!r)
        return;
    bgthread_close(&r->t);
    free(r);
}

int audit_retention_start(store *st, int64_t days, audit_retention **out)
{
    if (!st || days < 0 || days > AUDIT_RETAIN_MAX_DAYS)
        return RK_EINVAL;
    audit_retention *r = calloc(1, sizeof *r);
    if (!r)
        return RK_ENOMEM;
    r->st = st;
    r->days = days;
    bgthread_init(&r->t);
    if (bgthread_start(&r->t, retention_main, r)) {
        audit_retention_stop(r);
        return RK_EIO;
    }
    *out = r;
    return RK_OK;
}

void audit_retention_set_days(audit_retention *r, int64_t days)
{
    if (!r || days < 0 || days > AUDIT_RETAIN_MAX_DAYS)
        return;
    pthread_mutex_lock(&r->t.mu);
    if (days != r->days) {
        r->days = days;
        r->changed = true;
        pthread_cond_signal(&r->t.cv);
    }
    pthread_mutex_unlock(&r->t.mu);
}
