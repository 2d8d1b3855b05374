/* duration.c - Go-style duration parsing with overflow checks. */
#include "duration.h"
#include "err.h"

#include <string.h>

#define NS_PER_S 1000000000LL

struct unit {
    const char *name;
    int64_t ns;
};

/* Longest names first so "ms" wins over "m". */
static const struct unit UNITS[] = {
    {"ns", 1},           {"us", 1000},    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000},                                       /* U+03BC greek mu */
    {"ms", 1000000},     {"s", NS_PER_S}, {"m", 60 * NS_PER_S}, {"h", 3600 * NS_PER_S},
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int duration_parse(const char *s, int64_t *out_ns)
{
    size_t len = strnlen(s, DURATION_MAX_TEXT + 1);
    if (len > DURATION_MAX_TEXT)
        return RK_ETOOBIG;
    if (len == 0)
        return RK_EINVAL;
    if (s[0] == '-')
        return RK_EINVAL;
    if (s[0] == '+')
        s++;
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return RK_OK;
    }
    /* A bare integer is seconds. */
    size_t i = 0;
    while (is_digit(s[i]))
        i++;
    if (i > 0 && s[i] == '\0') {
        int64_t v = 0;
        for (size_t k = 0; k < i; k++) {
            if (v > (INT64_MAX / NS_PER_S - 9) / 10)
                return RK_ETOOBIG;
            v = v * 10 + (s[k] - '0');
        }
        *out_ns = v * NS_PER_S;
        return RK_OK;
    }
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        /* integer part */
        int64_t whole = 0;
        int digits = 0;
        while (is_digit(*p)) {
            if (whole > (INT64_MAX - 9) / 10)
                return RK_ETOOBIG;
            whole = whole * 10 + (*p - '0');
            p++;
            digits++;
        }
        /* fraction, kept as numerator/denominator up to 18 digits */
        int64_t frac = 0, scale = 1;
        int fdigits = 0;
        if (*p == '.') {
            p++;
            while (is_digit(*p)) {
                if (scale < 1000000000000000000LL) {
                    frac = frac * 10 + (*p - '0');
                    scale *= 10;
                }
                p++;
                fdigits++;
            }
        }
        if (digits == 0 && fdigits == 0)
            return RK_EINVAL;
        const struct unit *u = NULL;
        size_t ulen = 0;
        for (size_t k = 0; k < sizeof UNITS / sizeof UNITS[0]; k++) {
            size_t n = strlen(UNITS[k].name);
            if (strncmp(p, UNITS[k].name, n) == 0 && n > ulen) {
                u = &UNITS[k];
                ulen = n;
            }
        }
        if (!u)
            return RK_EINVAL;
        p += ulen;
        if (whole > INT64_MAX / u->ns)
            return RK_ETOOBIG;
        int64_t v = whole * u->ns;
        /* frac/scale * unit, computed without overflow: unit <= 3.6e12 and
         * frac < scale <= 1e18, so split the unit. */
        if (frac) {
            __int128 f = (__int128)frac * u->ns / scale;
            v += (int64_t)f;
        }
        if (v < 0 || total > INT64_MAX - v)
            return RK_ETOOBIG;
        total += v;
    }
    *out_ns = total;
    return RK_OK;
}

int duration_parse_whole_seconds(const char *s, int64_t *out_s)
{
    int64_t ns;
    int rc = duration_parse(s, &ns);
    if (rc)
        return rc;
    if (ns > 0 && ns < NS_PER_S)
        return RK_EINVAL; /* under a second and not zero */
    *out_s = ns / NS_PER_S;
    return RK_OK;
}

int duration_parse_seconds(const char *s, int64_t *out_s)
{
    int64_t secs;
    int rc = duration_parse_whole_seconds(s, &secs);
    if (rc)
        return rc;
    if (secs == 0)
        return RK_EINVAL;
    *out_s = secs;
    return RK_OK;
}
