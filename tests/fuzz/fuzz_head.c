/* fuzz_head.c - libFuzzer target: the request head rules (src/http/head.c)
 * on a raw head: the input's first line is the request line (its target,
 * between the first two spaces, goes to head_check_target), the lines after
 * it are "name: value" fields (CRLF or LF ends, as a lenient reader splits
 * them). */
#include "../../src/http/head.h"

#include <stdint.h>
#include <string.h>

#define MAX_FIELDS 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *nl = memchr(p, '\n', size);
    const char *line_end = nl ? nl : end;
    const char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    head_verdict v;
    if (sp1) {
        const char *t = sp1 + 1;
        const char *sp2 = memchr(t, ' ', (size_t)(line_end - t));
        head_check_target(t, (size_t)((sp2 ? sp2 : line_end) - t), &v);
    }
    head_field f[MAX_FIELDS];
    size_t n = 0;
    for (p = nl ? nl + 1 : end; p < end && n < MAX_FIELDS;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        const char *le = e ? e : end;
        if (le > p && le[-1] == '\r')
            le--;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon) {
            const char *val = colon + 1;
            while (val < le && (*val == ' ' || *val == '\t'))
                val++;
            f[n++] = (head_field){p, (size_t)(colon - p), val, (size_t)(le - val)};
        }
        p = e ? e + 1 : end;
    }
    uint64_t cl;
    head_check_fields(f, n, 65536, &cl, &v);
    return 0;
}
