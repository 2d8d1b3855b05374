/* clock.h - wall-clock seconds and ISO 8601 formatting. */
#ifndef RK_CLOCK_H
#define RK_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Size of an ISO 8601 UTC timestamp with milliseconds, NUL included:
 * "2024-01-01T14:00:00.000Z". */
#define CLOCK_ISO_LEN 25

/* clock_now returns the current Unix time in whole seconds. */
int64_t clock_now(void);

/* clock_iso8601 formats Unix seconds t as "YYYY-MM-DDTHH:MM:SS.000Z" into
 * out (capacity cap >= CLOCK_ISO_LEN). Returns RK_OK, or RK_EINVAL for a time
 * that doesn't fit four-digit years, RK_ETOOBIG for a short buffer. */
int clock_iso8601(int64_t t, char *out, size_t cap);

/* clock_parse_date reads a UTC date "YYYY-MM-DD" (its midnight) or a UTC
 * time "YYYY-MM-DDTHH:MM:SSZ" (fraction ".sss" allowed and dropped) into
 * Unix seconds *out. RK_EINVAL for anything else, including a day the
 * month doesn't have and years before 1970. */
int clock_parse_date(const char *s, int64_t *out);

#endif
