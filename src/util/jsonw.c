/* jsonw.c - bounded, escaping JSON writer. */
#include "jsonw.h"
#include "err.h"
#include "utf8.h"

#include <string.h>

void jsonw_init(jsonw *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->len = 0;
    w->cap = cap;
    w->err = cap ? RK_OK : RK_ETOOBIG;
    w->comma = false;
    if (cap)
        buf[0] = '\0';
}

/* fits says whether n more bytes (and the NUL after them) fit in w; the
 * first time they do not, it latches RK_ETOOBIG. False once w has failed. */
static inline bool fits(jsonw *w, size_t n)
{
    if (w->err)
        return false;
    if (w->cap - w->len <= n) {
        w->err = RK_ETOOBIG;
        return false;
    }
    return true;
}

static void put(jsonw *w, const char *s, size_t n)
{
    if (!fits(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* put1 is put for one byte. */
static inline void put1(jsonw *w, char c)
{
    if (!fits(w, 1))
        return;
    w->buf[w->len++] = c;
    w->buf[w->len] = '\0';
}

static inline void sep(jsonw *w)
{
    if (w->comma)
        put1(w, ',');
    w->comma = true;
}

void jsonw_open(jsonw *w, char bracket)
{
    sep(w);
    put1(w, bracket);
    w->comma = false; /* the first member needs no comma */
}

void jsonw_close(jsonw *w, char bracket)
{
    put1(w, bracket);
    w->comma = true;
}

static const char HEX[] = "0123456789abcdef";

/* ESCAPE[c] is, for a byte that needs escaping (control characters, quote
 * and backslash), the letter after its backslash: a short escape, or 'u'
 * for \u00XX; 0 for the bytes written as they are. */
static const char ESCAPE[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b',         't',           'n', 'u',
    'f', 'r', 'u', 'u', 'u', 'u', 'u', 'u', 'u',         'u',           'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', ['"'] = '"', ['\\'] = '\\',
};

static void put_escaped(jsonw *w, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!ESCAPE[c])
            continue;
        put(w, s + start, i - start);
        start = i + 1;
        const char e[6] = {'\\', ESCAPE[c], '0', '0', HEX[c >> 4], HEX[c & 15]};
        put(w, e, e[1] == 'u' ? 6 : 2);
    }
    put(w, s + start, len - start);
}

void jsonw_key(jsonw *w, const char *key)
{
    size_t n = strlen(key);
    if (!w->err && !utf8_valid(key, n))
        w->err = RK_EINVAL;
    sep(w);
    put1(w, '"');
    put_escaped(w, key, n);
    put(w, "\":", 2);
    w->comma = false;
}

void jsonw_key_lit(jsonw *w, const char *quoted, size_t len)
{
    sep(w);
    put(w, quoted, len);
    w->comma = false;
}

/* plain says whether s[0..len) needs no escaping. */
static bool plain(const char *s, size_t len)
{
    unsigned char any = 0;
    for (size_t i = 0; i < len; i++)
        any |= ESCAPE[(unsigned char)s[i]];
    return !any;
}

void jsonw_strn(jsonw *w, const char *s, size_t len)
{
    if (w->err)
        return;
    if (!utf8_valid(s, len)) {
        w->err = RK_EINVAL;
        return;
    }
    sep(w);
    if (plain(s, len)) { /* the common case: one copy between the quotes */
        if (!fits(w, len + 2))
            return;
        char *at = w->buf + w->len;
        at[0] = '"';
        memcpy(at + 1, s, len);
        at[len + 1] = '"';
        at[len + 2] = '\0';
        w->len += len + 2;
        return;
    }
    put1(w, '"');
    put_escaped(w, s, len);
    put1(w, '"');
}

void jsonw_str(jsonw *w, const char *s)
{
    jsonw_strn(w, s, strlen(s));
}

static const char DIGIT_PAIRS[] = "00010203040506070809101112131415161718192021222324"
                                  "25262728293031323334353637383940414243444546474849"
                                  "50515253545556575859606162636465666768697071727374"
                                  "75767778798081828384858687888990919293949596979899";

void jsonw_int(jsonw *w, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u >= 100) { /* two digits per division */
        memcpy(tmp + sizeof tmp - 2 - n, DIGIT_PAIRS + 2 * (u % 100), 2);
        n += 2;
        u /= 100;
    }
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    sep(w);
    put(w, tmp + sizeof tmp - n, n);
}

void jsonw_bool(jsonw *w, bool v)
{
    sep(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void jsonw_null(jsonw *w)
{
    sep(w);
    put(w, "null", 4);
}

void jsonw_raw(jsonw *w, const char *s, size_t len)
{
    sep(w);
    put(w, s, len);
}
