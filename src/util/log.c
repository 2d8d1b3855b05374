/* log.c - JSON-lines logging to stderr, and the per-thread buffers of
 * log_fields_buffered: each registered in one list, which the flusher
 * walks. Lock order: reg_mu, then a buffer's mu. */
#include "log.h"
#include "clock.h"
#include "err.h"
#include "jsonw.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX   4096
#define LOG_VALUE_MAX  512
#define LOG_MAX_FIELDS 32 /* key/value pairs of one log_event line */

static bool quiet;

void log_quiet(bool q)
{
    quiet = q;
}

/* open_line starts a line in buf: {"ts":..,"level":..,"event":.. */
static void open_line(jsonw *w, char *buf, size_t cap, const char *ts, const char *level,
                      const char *event)
{
    jsonw_init(w, buf, cap);
    jsonw_obj_open(w);
    JSONW_KEY(w, "ts");
    jsonw_str(w, ts);
    JSONW_KEY(w, "level");
    jsonw_str(w, level);
    JSONW_KEY(w, "event");
    jsonw_str(w, event);
}

/* put_str writes "key": v, cutting v at LOG_VALUE_MAX bytes (on a UTF-8
 * boundary, marked "..."). */
static void put_str(jsonw *w, const char *k, const char *v)
{
    size_t n = strnlen(v, LOG_VALUE_MAX + 1);
    jsonw_key(w, k);
    if (n > LOG_VALUE_MAX) {
        char cut[LOG_VALUE_MAX + 4];
        size_t keep = LOG_VALUE_MAX;
        /* back off so no UTF-8 sequence is split */
        while (keep > 0 && ((unsigned char)v[keep] & 0xc0) == 0x80)
            keep--;
        memcpy(cut, v, keep);
        memcpy(cut + keep, "...", 4);
        jsonw_str(w, cut);
    } else {
        jsonw_strn(w, v, n);
    }
}

/* write_all writes p[0..n) to stderr, going on after a short write. A
 * failing stderr loses the rest: there is nowhere to report it. */
static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(STDERR_FILENO, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        p += r;
        n -= (size_t)r;
    }
}

/* close_line closes the line in buf (replacing the fields by a note when
 * one was not loggable) and returns its length with the newline. */
static size_t close_line(jsonw *w, char *buf, const char *ts, const char *level, const char *event)
{
    if (w->err) {
        open_line(w, buf, LOG_LINE_MAX - 1, ts, level, event);
        JSONW_KEY(w, "note");
        jsonw_str(w, "fields omitted (not loggable)");
    }
    jsonw_obj_close(w);
    buf[w->len] = '\n';
    return w->len + 1;
}

void log_event(const char *level, const char *event, ...)
{
    log_field f[LOG_MAX_FIELDS];
    size_t n = 0;
    va_list ap;
    va_start(ap, event);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (v && n < LOG_MAX_FIELDS)
            f[n++] = (log_field){k, v, 0};
    }
    va_end(ap);
    log_fields(level, event, f, n);
}

/* format_line writes the whole line into buf (LOG_LINE_MAX bytes) and
 * returns its length, newline included. */
static size_t format_line(char *buf, const char *level, const char *event, const log_field *f,
                          size_t n)
{
    char ts[CLOCK_ISO_LEN];
    clock_iso8601(clock_now(), ts, sizeof ts);
    jsonw w;
    open_line(&w, buf, LOG_LINE_MAX - 1, ts, level, event);
    for (size_t i = 0; i < n && !w.err; i++) {
        if (!f[i].key)
            continue;
        if (f[i].str) {
            put_str(&w, f[i].key, f[i].str);
        } else {
            jsonw_key(&w, f[i].key);
            jsonw_int(&w, f[i].num);
        }
    }
    return close_line(&w, buf, ts, level, event);
}

void log_fields(const char *level, const char *event, const log_field *f, size_t n)
{
    if (quiet && strcmp(level, "info") == 0)
        return;
    char buf[LOG_LINE_MAX];
    write_all(buf, format_line(buf, level, event, f, n));
}

/* ---- per-thread buffers -------------------------------------------------- */

typedef struct log_buf {
    pthread_mutex_t mu; /* the owner's appends vs the flusher's writes */
    struct log_buf *prev, *next;
    size_t len;
    char data[LOG_BUF_CAP];
} log_buf;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cv = PTHREAD_COND_INITIALIZER; /* wakes the flusher to stop */
static log_buf *reg_head;                                /* under reg_mu */
static atomic_bool buffering;
static bool flusher_running, flusher_stop; /* under reg_mu */
static unsigned flush_every_ms;
static pthread_t flusher;
static pthread_key_t buf_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local log_buf *my_buf;

/* drain writes b's lines and empties it (b->mu held). */
static void drain(log_buf *b)
{
    if (b->len)
        write_all(b->data, b->len);
    b->len = 0;
}

/* buf_release is the thread-exit destructor: the buffer's lines are
 * written, then it leaves the registry and is freed. */
static void buf_release(void *arg)
{
    log_buf *b = arg;
    pthread_mutex_lock(&reg_mu);
    if (b->prev)
        b->prev->next = b->next;
    else
        reg_head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    pthread_mutex_lock(&b->mu);
    drain(b);
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&reg_mu);
    pthread_mutex_destroy(&b->mu);
    free(b);
    my_buf = NULL;
}

static void make_key(void)
{
    pthread_key_create(&buf_key, buf_release);
}

/* own_buf returns the calling thread's buffer, registering a new one on
 * first use; NULL when out of memory. */
static log_buf *own_buf(void)
{
    if (my_buf)
        return my_buf;
    pthread_once(&key_once, make_key);
    log_buf *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    b->len = 0;
    b->prev = NULL;
    pthread_mutex_lock(&reg_mu);
    b->next = reg_head;
    if (reg_head)
        reg_head->prev = b;
    reg_head = b;
    pthread_mutex_unlock(&reg_mu);
    pthread_setspecific(buf_key, b);
    my_buf = b;
    return b;
}

/* drain_all writes every registered buffer. */
static void drain_all(void)
{
    pthread_mutex_lock(&reg_mu);
    for (log_buf *b = reg_head; b; b = b->next) {
        pthread_mutex_lock(&b->mu);
        drain(b);
        pthread_mutex_unlock(&b->mu);
    }
    pthread_mutex_unlock(&reg_mu);
}

void log_fields_buffered(const char *level, const char *event, const log_field *f, size_t n)
{
    if (quiet && strcmp(level, "info") == 0)
        return;
    char line[LOG_LINE_MAX];
    size_t len = format_line(line, level, event, f, n);
    log_buf *b = atomic_load_explicit(&buffering, memory_order_relaxed) ? own_buf() : NULL;
    if (!b) {
        write_all(line, len);
        return;
    }
    pthread_mutex_lock(&b->mu);
    if (b->len + len > LOG_BUF_CAP)
        drain(b);
    if (len > LOG_BUF_CAP) {
        write_all(line, len);
    } else {
        memcpy(b->data + b->len, line, len);
        b->len += len;
    }
    pthread_mutex_unlock(&b->mu);
}

/* flusher_main writes every buffer each flush_every_ms until stopped. */
static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&reg_mu);
    while (!flusher_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(flush_every_ms % 1000) * 1000000L;
        until.tv_sec += flush_every_ms / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!flusher_stop && pthread_cond_timedwait(&reg_cv, &reg_mu, &until) == 0)
            ;
        for (log_buf *b = reg_head; b; b = b->next) {
            pthread_mutex_lock(&b->mu);
            drain(b);
            pthread_mutex_unlock(&b->mu);
        }
    }
    pthread_mutex_unlock(&reg_mu);
    return NULL;
}

int log_buffer_start(unsigned flush_ms)
{
    if (flush_ms < 1 || flush_ms > 60000)
        return RK_EINVAL;
    pthread_mutex_lock(&reg_mu);
    int rc = RK_OK;
    if (!flusher_running) {
        flush_every_ms = flush_ms;
        flusher_stop = false;
        if (pthread_create(&flusher, NULL, flusher_main, NULL) == 0)
            flusher_running = true;
        else
            rc = RK_EIO;
    }
    if (rc == RK_OK)
        atomic_store(&buffering, true);
    pthread_mutex_unlock(&reg_mu);
    return rc;
}

void log_buffer_stop(void)
{
    atomic_store(&buffering, false);
    pthread_mutex_lock(&reg_mu);
    bool running = flusher_running;
    flusher_stop = true;
    flusher_running = false;
    pthread_cond_signal(&reg_cv);
    pthread_mutex_unlock(&reg_mu);
    if (running)
        pthread_join(flusher, NULL);
    drain_all();
}
