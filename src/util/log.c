/* log.c - JSON-lines logging to stderr. */
#include "log.h"
#include "clock.h"
#include "jsonw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX  4096
#define LOG_VALUE_MAX 512

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

void log_event(const char *level, const char *event, ...)
{
    if (quiet && strcmp(level, "info") == 0)
        return;
    char buf[LOG_LINE_MAX];
    char ts[CLOCK_ISO_LEN];
    clock_iso8601(clock_now(), ts, sizeof ts);
    jsonw w;
    open_line(&w, buf, sizeof buf - 1, ts, level, event);
    va_list ap;
    va_start(ap, event);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (!v)
            continue;
        size_t n = strnlen(v, LOG_VALUE_MAX + 1);
        jsonw_key(&w, k);
        if (n > LOG_VALUE_MAX) {
            char cut[LOG_VALUE_MAX + 4];
            size_t keep = LOG_VALUE_MAX;
            /* back off so no UTF-8 sequence is split */
            while (keep > 0 && ((unsigned char)v[keep] & 0xc0) == 0x80)
                keep--;
            memcpy(cut, v, keep);
            memcpy(cut + keep, "...", 4);
            jsonw_str(&w, cut);
        } else {
            jsonw_strn(&w, v, n);
        }
        if (w.err) /* invalid UTF-8 in a value: say so instead */
            break;
    }
    va_end(ap);
    if (w.err) {
        open_line(&w, buf, sizeof buf - 1, ts, level, event);
        JSONW_KEY(&w, "note");
        jsonw_str(&w, "fields omitted (not loggable)");
    }
    jsonw_obj_close(&w);
    buf[w.len] = '\n';
    ssize_t r = write(STDERR_FILENO, buf, w.len + 1);
    (void)r;
}
