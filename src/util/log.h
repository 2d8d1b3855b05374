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

/* log_fields_buffered is log_fields for the lines every request writes:
 * once log_buffer_start ran, the line goes into a buffer of the calling
 * thread's own (LOG_BUF_CAP bytes) instead of straight to stderr. A buffer
 * is written in one write(2) when the next line would not fit, by a
 * flusher thread at most flush_ms after its first line, when its thread
 * exits, and by log_buffer_stop. Lines of one thread keep their order;
 * lines of different threads may interleave by up to flush_ms. Before
 * log_buffer_start (and after log_buffer_stop) it writes at once. */
#define LOG_BUF_CAP 4096 /* PIPE_BUF: one buffer's write is atomic on a pipe */
void log_fields_buffered(const char *level, const char *event, const log_field *f, size_t n);

/* log_buffer_start starts the flusher thread (flush_ms 1..60000); RK_EIO
 * when it can't start (lines are then written at once). Once per process
 * at a time. */
int log_buffer_start(unsigned flush_ms);

/* log_buffer_stop writes every buffered line, stops the flusher and goes
 * back to writing at once. Call it before a clean exit: no line is lost.
 * Threads still running keep their (now empty) buffers until they exit. */
void log_buffer_stop(void);

/* log_quiet silences info-level lines (benchmarks); errors still print. */
void log_quiet(bool quiet);

#endif
