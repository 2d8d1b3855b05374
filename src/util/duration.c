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

/* bare_seconds reads s, all digits, as seconds into *out_ns. */
static int bare_seconds(const char *s, size_t n, int64_t *out_ns)
{
    int64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        if (v > (INT64_MAX / NS_PER_S - 9) / 10)
            return RK_ETOOBIG;
        v = v * 10 + (s[k] - '0');
    }
    *out_ns = v * NS_PER_S;
    return RK_OK;
}

/* longest_unit returns the unit p starts with (the longest match), or NULL. */
static const struct unit *longest_unit(const char *p, size_t *ulen)
{
    const struct unit *u = NULL;
    *ulen = 0;
    for (size_t k = 0; k < sizeof UNITS / sizeof UNITS[0]; k++) {
        size_t n = strlen(UNITS[k].name);
        if (strncmp(p, UNITS[k].name, n) == 0 && n > *ulen) {
            u = &UNITS[k];
            *ulen = n;
        }
    }
    return u;
}

/* term reads one "<number>[.<fraction>]<unit>" at *p into *ns and moves *p
 * past it. */
static int term(const char **p, int64_t *ns)
{
    const char *q = *p;
    int64_t whole = 0, frac = 0, scale = 1; /* fraction: up to 18 digits */
    int digits = 0, fdigits = 0;
    for (; is_digit(*q); q++, digits++) {
        if (whole > (INT64_MAX - 9) / 10)
            return RK_ETOOBIG;
        whole = whole * 10 + (*q - '0');
    }
    if (*q == '.')
        for (q++; is_digit(*q); q++, fdigits++)
            if (scale < 1000000000000000000LL) {
                frac = frac * 10 + (*q - '0');
                scale *= 10;
            }
    size_t ulen;
    const struct unit *u = longest_unit(q, &ulen);
    if ((digits == 0 && fdigits == 0) || !u)
        return RK_EINVAL;
    if (whole > INT64_MAX / u->ns)
        return RK_ETOOBIG;
    /* frac/scale * unit, computed without overflow: unit <= 3.6e12 and
     * frac < scale <= 1e18, so split the unit. */
    *ns = whole * u->ns + (frac ? (int64_t)((__int128)frac * u->ns / scale) : 0);
    if (*ns < 0)
        return RK_ETOOBIG;
    *p = q + ulen;
    return RK_OK;
}

int duration_parse(const char *s, int64_t *out_ns)
{
    size_t len = strnlen(s, DURATION_MAX_TEXT + 1);
    if (len > DURATION_MAX_TEXT)
        return RK_ETOOBIG;
    if (len == 0 || s[0] == '-')
        return RK_EINVAL;
    if (s[0] == '+')
        s++;
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return RK_OK;
    }
    size_t i = strspn(s, "0123456789");
    if (i > 0 && s[i] == '\0')
        return bare_seconds(s, i, out_ns); /* a bare integer is seconds */
    int64_t total = 0;
    for (const char *p = s; *p;) {
        int64_t v = 0;
        int rc = term(&p, &v);
        if (rc)
            return rc;
        if (total > INT64_MAX - v)
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
    int64_t secs = 0;
    int rc = duration_parse_whole_seconds(s, &secs);
    if (rc == RK_OK && secs == 0)
        rc = RK_EINVAL; /* a token lifetime can't be 0 */
    if (rc == RK_OK)
        *out_s = secs;
    return rc;
}
