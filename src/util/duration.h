/* duration.h - Go-style durations ("90s", "10m", "1h30m", "1.5h", "300ms"),
 * as `lk token create --valid-for` and LiveKit's YAML accept them. A bare
 * integer is read as seconds (LIVEKIT_DEFAULT_TOKEN_TTL=3600). */
#ifndef RK_DURATION_H
#define RK_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Longest duration text accepted, in bytes. */
#define DURATION_MAX_TEXT 64

/* duration_parse parses s into nanoseconds (*out_ns, never negative).
 * Units: ns, us, µs, ms, s, m, h. Returns RK_OK, RK_EINVAL for malformed or
 * negative input, or RK_ETOOBIG on overflow or text longer than
 * DURATION_MAX_TEXT. */
int duration_parse(const char *s, int64_t *out_ns);

/* duration_parse_whole_seconds is duration_parse rounded down to whole
 * seconds; "0" is 0, a positive value under one second is RK_EINVAL. */
int duration_parse_whole_seconds(const char *s, int64_t *out_s);

/* duration_parse_seconds is duration_parse rounded down to whole seconds;
 * anything under one second is RK_EINVAL (a token lifetime can't be 0). */
int duration_parse_seconds(const char *s, int64_t *out_s);

#endif
