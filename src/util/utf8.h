/* utf8.h - strict UTF-8 validation (RFC 3629): no overlongs, no surrogates,
 * nothing above U+10FFFF. Every string RoomKey puts into a token passes here. */
#ifndef RK_UTF8_H
#define RK_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* utf8_valid reports whether s[0..len) is well-formed UTF-8. NUL bytes are
 * well-formed UTF-8 but callers that need C strings reject them separately. */
bool utf8_valid(const char *s, size_t len);

/* utf8_unsafe_len is the length of the character at s (a NUL-terminated
 * string) when it could drive a terminal or reorder what a screen shows
 * (Unicode's bidi controls, as in "Trojan Source"): C0 controls and DEL
 * (1), C1 controls (2), U+061C (2), U+200E-U+200F, U+202A-U+202E and
 * U+2066-U+2069 (3); else 0. It reads at most the two bytes after a lead
 * byte, and none past the NUL. */
size_t utf8_unsafe_len(const char *s);

/* utf8_has_unsafe says whether any character of the NUL-terminated s is
 * one utf8_unsafe_len names. */
bool utf8_has_unsafe(const char *s);

#endif
