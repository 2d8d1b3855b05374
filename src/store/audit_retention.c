/* audit_retention.c - one thread: prune, then wait on a condition variable
 * (woken by a new retention or by stop) until the next pass is due. */
#include "audit_retention.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct audit_retention {
    store *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t days;  /* under mu */
    bool changed;  /* under mu: days changed since the last pass */
    bool stopping; /* under mu */
    pthread_t th;
};

/* still_running is the prune's step hook: false once stop was asked. */
static bool still_running(void *arg, size_t deleted)
{
    (void)deleted;
    audit_retention *r = arg;
    pthread_mutex_lock(&r->mu);
    bool go = !r->stopping;
    pthread_mutex_unlock(&r->mu);
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
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        int64_t days = r->days;
        r->changed = false;
        if (days > 0) {
            pthread_mutex_unlock(&r->mu);
            pass(r, days);
            pthread_mutex_lock(&r->mu);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += AUDIT_RETENTION_EVERY_S;
        while (!r->stopping && !r->changed && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
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
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->th, NULL, retention_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return RK_EIO;
    }
    *out = r;
    return RK_OK;
}

void audit_retention_set_days(audit_retention *r, int64_t days)
{
    if (!r || days < 0 || days > AUDIT_RETAIN_MAX_DAYS)
        return;
    pthread_mutex_lock(&r->mu);
    if (days != r->days) {
        r->days = days;
        r->changed = true;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

void audit_retention_stop(audit_retention *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
