/* audit_queue.c - leader/follower group commit. A caller queues a pointer
 * to its record (it waits, so the record stays valid). If no commit is
 * running, the caller becomes the leader: it takes every queued record,
 * commits them in one transaction without holding the lock, publishes each
 * result and wakes the others. Callers whose record was not in that batch
 * wake up and one of them leads the next. No thread is added and an idle
 * queue costs one uncontended lock. */
#include "audit_queue.h"
#include "../util/err.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* One caller's record and its result, on the caller's stack. */
typedef struct waiter {
    const store_audit *rec;
    int rc;
    bool done;
} waiter;

struct audit_queue {
    store *st;
    pthread_mutex_t mu;
    pthread_cond_t ready; /* a batch finished: results published, room made */
    waiter *pending[AUDIT_QUEUE_MAX];
    size_t n;
    bool leading; /* a caller is committing a batch */
    bool stopping;
};

int audit_queue_new(store *st, audit_queue **out)
{
    audit_queue *q = calloc(1, sizeof *q);
    if (!q)
        return RK_ENOMEM;
    q->st = st;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->ready, NULL);
    *out = q;
    return RK_OK;
}

/* lead commits every queued record; called and returns with q->mu held. */
static void lead(audit_queue *q)
{
    waiter *batch[AUDIT_QUEUE_MAX];
    const store_audit *recs[AUDIT_QUEUE_MAX];
    int rcs[AUDIT_QUEUE_MAX];
    size_t n = q->n;
    for (size_t i = 0; i < n; i++) {
        batch[i] = q->pending[i];
        recs[i] = batch[i]->rec;
    }
    q->n = 0;
    q->leading = true;
    pthread_mutex_unlock(&q->mu);
    q->st->ops->audit_add_batch(q->st, recs, n, rcs);
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < n; i++) {
        batch[i]->rc = rcs[i];
        batch[i]->done = true;
    }
    q->leading = false;
    pthread_cond_broadcast(&q->ready);
}

int audit_queue_add(audit_queue *q, const store_audit *a)
{
    waiter w = {.rec = a, .rc = RK_EIO};
    pthread_mutex_lock(&q->mu);
    while (q->n == AUDIT_QUEUE_MAX && !q->stopping)
        pthread_cond_wait(&q->ready, &q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        return RK_EIO;
    }
    q->pending[q->n++] = &w;
    while (!w.done) {
        if (!q->leading)
            lead(q);
        else
            pthread_cond_wait(&q->ready, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return w.rc;
}

void audit_queue_free(audit_queue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    while (q->leading || q->n) /* queued callers are still in audit_queue_add */
        pthread_cond_wait(&q->ready, &q->mu);
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&q->ready);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
