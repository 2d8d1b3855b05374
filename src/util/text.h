/* text.h - bounded string copies without the cost of a format call. */
#ifndef RK_TEXT_H
#define RK_TEXT_H

#include <stddef.h>

/* text_copy copies src (NULL counts as "") into dst of capacity cap > 0,
 * cut to cap - 1 bytes, always NUL-terminated: what snprintf(dst, cap,
 * "%s", src) does, at the cost of a strnlen and a memcpy. Returns the
 * number of bytes copied. The caller owns both buffers. */
size_t text_copy(char *dst, size_t cap, const char *src);

#endif
