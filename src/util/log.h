/* log.h - structured logs: one JSON object per line on stderr.
 *
 * Values are JSON-escaped, so no field can forge another. Never pass a
 * token, a session JWT or a secret: log a token's jti instead. */
#ifndef RK_LOG_H
#define RK_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* log_event writes {"ts":...,"level":level,"event":event,k1:v1,...}; the
 * variadic part is key/value string pairs ending with NULL. NULL values are
 * skipped. Lines are at most 4 KiB (longer values are cut, marked "..."). */
void log_event(const char *level, const char *event, ...) __attribute__((sentinel));

/* A field of log_fields: a string value when str is non-NULL, else the
 * integer num. A field whose key is NULL is skipped. */
typedef struct log_field {
    const char *key;
    const char *str;
    long long num;
} log_field;

/* log_fields writes {"ts":...,"level":level,"event":event, fields...} like
 * log_event, with integers written as JSON numbers (the request log). */
void log_fields(const char *level, const char *event, const log_field *f, size_t n);

/* log_quiet silences info-level lines (benchmarks); errors still print. */
void log_quiet(bool quiet);

#endif
