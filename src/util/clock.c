/* clock.c - time helpers. */
#include "clock.h"
#include "err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int clock_iso8601(int64_t t, char *out, size_t cap)
{
    if (cap < CLOCK_ISO_LEN)
        return RK_ETOOBIG;
    if (t < 0 || t > 253402300799LL) /* 9999-12-31T23:59:59Z */
        return RK_EINVAL;
    /* Most calls in a thread ask for the same second as the last one (log
     * lines, expiresAt of same-TTL tokens); glibc's gmtime_r takes a
     * process-wide lock, so keep the last answer per thread. */
    static _Thread_local int64_t last_t = -1;
    static _Thread_local char last[CLOCK_ISO_LEN];
    if (t == last_t) {
        memcpy(out, last, CLOCK_ISO_LEN);
        return RK_OK;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return RK_EINVAL;
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(last, out, CLOCK_ISO_LEN);
    last_t = t;
    return RK_OK;
}
