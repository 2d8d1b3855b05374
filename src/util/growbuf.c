/* growbuf.c - see growbuf.h. */
#include "growbuf.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

#define GROWBUF_FIRST 1024 /* the first allocation, in bytes */

int growbuf_append(growbuf *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return RK_ETOOBIG;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : GROWBUF_FIRST;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap - 1 > b->max)
            cap = b->max + 1;
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return RK_ENOMEM;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return RK_OK;
}

void growbuf_free(growbuf *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = 0;
    b->cap = 0;
}
