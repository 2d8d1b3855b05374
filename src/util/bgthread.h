/* bgthread.h - a background thread with the lock and the condition
 * variable it sleeps on (on the monotonic clock, so a change of the wall
 * clock never stretches a wait) and its stop flag: the start, the timed
 * wait and the stop that every RoomKey thread needs, written once. The
 * owner embeds a bgthread in its own struct and keeps its own state under
 * the bgthread's mu. */
#ifndef RK_BGTHREAD_H
#define RK_BGTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct bgthread {
    pthread_mutex_t mu; /* the owner's lock: guards stop and the owner's state */
    pthread_cond_t cv;  /* the thread sleeps on it; stop broadcasts it */
    pthread_t th;
    bool stop;    /* under mu: asked to stop */
    bool running; /* under mu: started and not yet joined */
} bgthread;

/* bgthread_init readies t's lock and condition variable (no thread yet).
 * Pair it with bgthread_destroy. */
void bgthread_init(bgthread *t);

/* bgthread_start runs main(arg) on a new thread. The caller may hold t->mu
 * (a lazy start) or not. RK_OK, or RK_EIO when no thread could be made. */
int bgthread_start(bgthread *t, void *(*main)(void *), void *arg);

/* bgthread_open is bgthread_init, then bgthread_start; when no thread could
 * be made (RK_EIO) it undoes the init. Pair it with bgthread_close. */
int bgthread_open(bgthread *t, void *(*main)(void *), void *arg);

/* bgthread_ask_stop sets t->stop and wakes whoever waits on t->cv; the
 * caller does not hold t->mu. */
void bgthread_ask_stop(bgthread *t);

/* bgthread_join waits for t's thread to end, when one was started; the
 * caller does not hold t->mu and has asked it to stop. */
void bgthread_join(bgthread *t);

/* bgthread_destroy frees t's lock and condition variable, once its thread
 * has stopped (or never started). t itself stays the caller's. */
void bgthread_destroy(bgthread *t);

/* bgthread_close stops t's thread (bgthread_ask_stop, bgthread_join) and
 * destroys it; the caller does not hold t->mu. */
void bgthread_close(bgthread *t);

/* bgthread_raise sets the owner's flag (guarded by t->mu) and wakes the
 * thread; the caller does not hold t->mu. */
void bgthread_raise(bgthread *t, bool *flag);

/* bgthread_now_ms is the monotonic clock in milliseconds: the clock of
 * bgthread_wait_until's deadlines. */
int64_t bgthread_now_ms(void);

/* bgthread_wait_until sleeps on t->cv until woken or until deadline_ms
 * (bgthread_now_ms time; negative: no deadline). The caller holds t->mu.
 * false when the deadline passed, true when woken (perhaps spuriously:
 * callers re-check their condition). */
bool bgthread_wait_until(bgthread *t, int64_t deadline_ms);

/* bgthread_now_ns is the same clock in nanoseconds. */
int64_t bgthread_now_ns(void);

/* bgthread_wait_until_ns is bgthread_wait_until with a deadline in
 * nanoseconds (bgthread_now_ns time), for waits shorter than a
 * millisecond. */
bool bgthread_wait_until_ns(bgthread *t, int64_t deadline_ns);

/* bgthread_wait is bgthread_wait_until ms from now (negative: no deadline). */
bool bgthread_wait(bgthread *t, int64_t ms);

#endif
