/* log.h - structured logs: one JSON object per line on stderr.
 *
 * Values are JSON-escaped, so no field can forge another. Never pass a
 * token, a session JWT or a secret: log a token's jti instead. */
#ifndef RK_LOG_H
#define RK_LOG_H

#include <stdbool.h>

/* log_event writes {"ts":...,"level":level,"event":event,k1:v1,...}; the
 * variadic part is key/value string pairs ending with NULL. NULL values are
 * skipped. Lines are at most 4 KiB (longer values are cut, marked "..."). */
void log_event(const char *level, const char *event, ...) __attribute__((sentinel));

/* log_quiet silences info-level lines (benchmarks); errors still print. */
void log_quiet(bool quiet);

#endif
