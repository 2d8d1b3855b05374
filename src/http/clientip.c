/* clientip.c - the client address behind trusted proxies. */
#include "clientip.h"
#include "../util/err.h"

#include <stdbool.h>
#include <string.h>

static bool trusted_addr(const uint8_t a[16], const ipnet *trusted, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ipnet_contains(&trusted[i], a))
            return true;
    return false;
}

/* prev_element finds the element of s[0..*end) that ends at *end (after
 * trimming spaces/tabs) and copies it into buf; *end moves before its comma.
 * Returns false when it does not fit buf. */
static bool prev_element(const char *s, size_t *end, char *buf, size_t cap)
{
    size_t e = *end, b;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    b = e;
    while (b > 0 && s[b - 1] != ',')
        b--;
    size_t start = b;
    while (start < e && (s[start] == ' ' || s[start] == '\t'))
        start++;
    *end = b > 0 ? b - 1 : 0;
    if (e - start >= cap)
        return false;
    memcpy(buf, s + start, e - start);
    buf[e - start] = '\0';
    return true;
}

void clientip_resolve(const uint8_t peer[16], const ipnet *trusted, size_t n_trusted,
                      const char *const *xff, size_t n_xff, uint8_t out[16])
{
    memcpy(out, peer, 16);
    if (!n_trusted || !trusted_addr(peer, trusted, n_trusted))
        return;
    size_t hops = 0;
    for (size_t h = n_xff; h-- > 0;) {
        const char *s = xff[h];
        size_t end = strlen(s);
        bool more = end > 0;
        while (more) {
            char el[IPNET_MAX_TEXT + 1];
            uint8_t a[16];
            more = end > 0 && memchr(s, ',', end) != NULL;
            if (hops++ == CLIENTIP_MAX_HOPS || !prev_element(s, &end, el, sizeof el) ||
                ipnet_addr_parse(el, a) != RK_OK)
                return;
            memcpy(out, a, 16);
            if (!trusted_addr(a, trusted, n_trusted))
                return;
        }
    }
}
