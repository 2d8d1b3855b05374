/* utf8.h - strict UTF-8 validation (RFC 3629): no overlongs, no surrogates,
 * nothing above U+10FFFF. Every string RoomKey puts into a token passes here. */
#ifndef RK_UTF8_H
#define RK_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* utf8_valid reports whether s[0..len) is well-formed UTF-8. NUL bytes are
 * well-formed UTF-8 but callers that need C strings reject them separately. */
bool utf8_valid(const char *s, size_t len);

#endif
