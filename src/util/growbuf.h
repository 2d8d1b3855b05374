/* growbuf.h - bytes gathered piece by piece (a request body, an HTTP
 * answer) in a buffer that doubles as it fills, up to a hard limit, and
 * always keeps a NUL after its bytes so text can be read in place. */
#ifndef RK_GROWBUF_H
#define RK_GROWBUF_H

#include <stddef.h>

typedef struct growbuf {
    char *buf;  /* NULL until the first byte; then len bytes and a NUL */
    size_t len; /* bytes held */
    size_t cap; /* bytes allocated, at most max + 1 */
    size_t max; /* the limit on len, set by the owner before appending */
} growbuf;

/* growbuf_append adds p's n bytes to b. RK_ETOOBIG when b would pass its
 * max (nothing is added), RK_ENOMEM. b owns buf: growbuf_free frees it,
 * or the caller takes it (and then frees it with free). */
int growbuf_append(growbuf *b, const void *p, size_t n);

/* growbuf_free frees b's bytes and empties it (its max stays). */
void growbuf_free(growbuf *b);

#endif
