/* audit_queue.c - one writer thread; submitters append {record, callback}
 * under a mutex and signal it. The writer swaps the queue out, commits it
 * without the lock, then runs the callbacks. */
#include "audit_queue.h"
#include "../util/bgthread.h"
#include "../util/err.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct item {
    const store_audit *rec;
    audit_done_fn done;
    void *arg;
} item;

struct audit_queue {
    store *st;
    bgthread writer;     /* its cv: the writer waits for records */
    pthread_cond_t room; /* submitters wait for room */
    item pending[AUDIT_QUEUE_MAX];
    size_t n;
};

int audit_queue_new(store *st, audit_queue **out)
{
    audit_queue *q = calloc(1, sizeof *q);
    if (!q)
        return RK_ENOMEM;
    q->st = st;
    bgthread_init(&q->writer);
    pthread_cond_init(&q->room, NULL);
    *out = q;
    return RK_OK;
}

/* Gathering. When commits are slow (PostgreSQL flushes its WAL to disk in
 * each: milliseconds), the tokens one commit answered come back as new
 * requests over a fraction of a millisecond. A commit started at the first
 * of them leaves the rest for the one after it: the load splits into
 * groups that take turns, each waiting for the other's commit and its own.
 * So after a commit that took GATHER_MIN_NS or more, the writer waits for
 * as many records as the largest group lately held, at most 1/GATHER_SHARE
 * of that commit's time and GATHER_MAX_NS. Fast commits (SQLite's, tens of
 * microseconds) never wait. */
#define GATHER_MIN_NS 500000  /* 0.5 ms */
#define GATHER_MAX_NS 1000000 /* 1 ms */
#define GATHER_SHARE  8

/* gather waits (holding q->writer.mu) until q holds want records, the
 * queue stops, or wait_ns pass. */
static void gather(audit_queue *q, size_t want, int64_t wait_ns)
{
    int64_t until = bgthread_now_ns() + wait_ns;
    while (q->n < want && !q->writer.stop)
        if (!bgthread_wait_until_ns(&q->writer, until))
            break;
}

/* next_peak is the largest group lately after a group of n: peak decays
 * by a sixteenth (at least one record) per commit. */
static size_t next_peak(size_t peak, size_t n)
{
    size_t down = peak / 16 ? peak / 16 : 1;
    peak = peak > down ? peak - down : 0;
    return n > peak ? n : peak;
}

/* writer_main commits batches until the queue stops and is empty. */
static void *writer_main(void *arg)
{
    audit_queue *q = arg;
    item batch[AUDIT_QUEUE_MAX];
    const store_audit *recs[AUDIT_QUEUE_MAX];
    int rcs[AUDIT_QUEUE_MAX];
    int64_t last_ns = 0; /* the last commit's time */
    size_t peak = 0;     /* the largest group lately (next_peak) */
    pthread_mutex_lock(&q->writer.mu);
    for (;;) {
        while (q->n == 0 && !q->writer.stop)
            (void)bgthread_wait_until(&q->writer, -1);
        if (q->n == 0)
            break;
        if (last_ns >= GATHER_MIN_NS && q->n < peak)
            gather(q, peak,
                   last_ns / GATHER_SHARE < GATHER_MAX_NS ? last_ns / GATHER_SHARE : GATHER_MAX_NS);
        size_t n = q->n;
        for (size_t i = 0; i < n; i++) {
            batch[i] = q->pending[i];
            recs[i] = batch[i].rec;
        }
        q->n = 0;
        pthread_cond_broadcast(&q->room);
        pthread_mutex_unlock(&q->writer.mu);
        int64_t t0 = bgthread_now_ns();
        q->st->ops->audit_add_batch(q->st, recs, n, rcs);
        last_ns = bgthread_now_ns() - t0;
        peak = next_peak(peak, n);
        for (size_t i = 0; i < n; i++)
            batch[i].done(batch[i].arg, rcs[i]);
        pthread_mutex_lock(&q->writer.mu);
    }
    pthread_mutex_unlock(&q->writer.mu);
    return NULL;
}

/* start_locked starts the writer unless it runs or the queue stops
 * (q->writer.mu held): RK_OK, or RK_EIO when no thread could be made. */
static int start_locked(audit_queue *q)
{
    if (q->writer.running || q->writer.stop)
        return RK_OK;
    return bgthread_start(&q->writer, writer_main, q);
}

int audit_queue_start(audit_queue *q)
{
    pthread_mutex_lock(&q->writer.mu);
    int rc = start_locked(q);
    pthread_mutex_unlock(&q->writer.mu);
    return rc;
}

int audit_queue_submit(audit_queue *q, const store_audit *a, audit_done_fn done, void *arg)
{
    pthread_mutex_lock(&q->writer.mu);
    if (start_locked(q) != RK_OK) {
        pthread_mutex_unlock(&q->writer.mu);
        return RK_EIO;
    }
    while (q->n == AUDIT_QUEUE_MAX && !q->writer.stop)
        pthread_cond_wait(&q->room, &q->writer.mu);
    if (q->writer.stop) {
        pthread_mutex_unlock(&q->writer.mu);
        return RK_EIO;
    }
    q->pending[q->n++] = (item){a, done, arg};
    pthread_cond_signal(&q->writer.cv);
    pthread_mutex_unlock(&q->writer.mu);
    return RK_OK;
}

/* A synchronous caller's wait, on its stack. */
typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
} waiter;

static void wake(void *arg, int rc)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int audit_queue_add(audit_queue *q, const store_audit *a)
{
    waiter w = {.rc = RK_EIO};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = audit_queue_submit(q, a, wake, &w);
    if (rc == RK_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        rc = w.rc;
        pthread_mutex_unlock(&w.mu);
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

void audit_queue_free(audit_queue *q)
{
    if (!q)
        return;
    bgthread_ask_stop(&q->writer);
    pthread_mutex_lock(&q->writer.mu);
    pthread_cond_broadcast(&q->room); /* a waiting submitter sees the stop */
    pthread_mutex_unlock(&q->writer.mu);
    bgthread_join(&q->writer);
    pthread_cond_destroy(&q->room);
    bgthread_destroy(&q->writer);
    free(q);
}
