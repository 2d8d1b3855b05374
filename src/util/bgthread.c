/* bgthread.c - see bgthread.h. */
#include "bgthread.h"
#include "err.h"

#include <time.h>

void bgthread_init(bgthread *t)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->stop = false;
    t->running = false;
}

int bgthread_start(bgthread *t, void *(*main)(void *), void *arg)
{
    if (pthread_create(&t->th, NULL, main, arg) != 0)
        return RK_EIO;
    t->running = true;
    return RK_OK;
}

int bgthread_open(bgthread *t, void *(*main)(void *), void *arg)
{
    bgthread_init(t);
    int rc = bgthread_start(t, main, arg);
    if (rc)
        bgthread_destroy(t);
    return rc;
}

void bgthread_ask_stop(bgthread *t)
{
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void bgthread_join(bgthread *t)
{
    pthread_mutex_lock(&t->mu);
    bool running = t->running;
    t->running = false;
    pthread_mutex_unlock(&t->mu);
    if (running)
        pthread_join(t->th, NULL);
}

void bgthread_destroy(bgthread *t)
{
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
}

void bgthread_close(bgthread *t)
{
    bgthread_ask_stop(t);
    bgthread_join(t);
    bgthread_destroy(t);
}

void bgthread_raise(bgthread *t, bool *flag)
{
    pthread_mutex_lock(&t->mu);
    *flag = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

int64_t bgthread_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool bgthread_wait_until(bgthread *t, int64_t deadline_ms)
{
    if (deadline_ms < 0) {
        pthread_cond_wait(&t->cv, &t->mu);
        return true;
    }
    struct timespec until = {.tv_sec = (time_t)(deadline_ms / 1000),
                             .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
    return pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0;
}

int64_t bgthread_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool bgthread_wait_until_ns(bgthread *t, int64_t deadline_ns)
{
    struct timespec until = {.tv_sec = (time_t)(deadline_ns / 1000000000),
                             .tv_nsec = (long)(deadline_ns % 1000000000)};
    return pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0;
}

bool bgthread_wait(bgthread *t, int64_t ms)
{
    if (ms < 0)
        return bgthread_wait_until(t, -1);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = until.tv_nsec + (ms % 1000) * 1000000;
    until.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    return pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0;
}
