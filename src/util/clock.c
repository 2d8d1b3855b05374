/* clock.c - time helpers. */
#include "clock.h"
#include "err.h"

#include <ctype.h>
#include <stdbool.h>
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
    /* Most calls in a thread ask for one of two seconds again: the log
     * line's (now) and a token's expiresAt (now + its TTL) alternate on the
     * token route. glibc's gmtime_r takes a process-wide lock and snprintf
     * is slow, so keep the last two answers per thread. */
    static _Thread_local int64_t last_t[2] = {-1, -1};
    static _Thread_local char last[2][CLOCK_ISO_LEN];
    static _Thread_local unsigned next;
    for (unsigned i = 0; i < 2; i++)
        if (t == last_t[i]) {
            memcpy(out, last[i], CLOCK_ISO_LEN);
            return RK_OK;
        }
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return RK_EINVAL;
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(last[next], out, CLOCK_ISO_LEN);
    last_t[next] = t;
    next ^= 1;
    return RK_OK;
}

/* digits reads exactly n ASCII digits at s into *v. */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

int clock_parse_date(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!s || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return RK_EINVAL;
    const char *p = s + 10;
    if (*p == 'T') {
        if (!digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) || p[6] != ':' ||
            !digits(p + 7, 2, &sec))
            return RK_EINVAL;
        p += 9;
        if (*p == '.')
            for (p++; isdigit((unsigned char)*p); p++)
                ;
        if (*p++ != 'Z')
            return RK_EINVAL;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        return RK_EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    *out = (int64_t)timegm(&tm);
    return RK_OK;
}
