/* log.c - JSON-lines logging to stderr. */
#include "log.h"
#include "clock.h"
#include "jsonw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

/* emit closes the line (replacing the fields by a note when one was not
 * loggable) and writes it to stderr in one write. */
static void emit(jsonw *w, char *buf, const char *ts, const char *level, const char *event)
{
    if (w->err) {
        open_line(w, buf, LOG_LINE_MAX - 1, ts, level, event);
        JSONW_KEY(w, "note");
        jsonw_str(w, "fields omitted (not loggable)");
    }
    jsonw_obj_close(w);
    buf[w->len] = '\n';
    ssize_t r = write(STDERR_FILENO, buf, w->len + 1);
    (void)r;
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

void log_fields(const char *level, const char *event, const log_field *f, size_t n)
{
    if (quiet && strcmp(level, "info") == 0)
        return;
    char buf[LOG_LINE_MAX];
    char ts[CLOCK_ISO_LEN];
    clock_iso8601(clock_now(), ts, sizeof ts);
    jsonw w;
    open_line(&w, buf, sizeof buf - 1, ts, level, event);
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
    emit(&w, buf, ts, level, event);
}
