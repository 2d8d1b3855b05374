/* clock.c - time helpers. */
#include "clock.h"
#include "err.h"

#include <stdio.h>
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
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return RK_EINVAL;
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return RK_OK;
}
