/* ratelimit.h - token buckets keyed by client IP or subject, in a table of
 * fixed capacity: memory is set by the configuration, never by traffic.
 *
 * The table is set-associative (shards of sets of RATELIMIT_WAYS entries,
 * each shard behind its own mutex). A key lives in one set; when its set is
 * full, the entry used least recently in that set is evicted. An evicted
 * key comes back with a full bucket, so a flood of distinct keys can only
 * make the limiter forget (fail open for keys that are idle), never refuse
 * a key that has tokens left. Keys are 16 bytes: an IP address (see
 * ratelimit_key_ip) or the first half of a SHA-256 (ratelimit_key_str).
 *
 * The rule (rate and burst) is passed in on every call, so a config reload
 * changes the limits at once while the buckets keep their state. */
#ifndef RK_RATELIMIT_H
#define RK_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WAYS        8
#define RATELIMIT_MIN_ENTRIES 1024
#define RATELIMIT_MAX_ENTRIES (4u * 1024 * 1024)

/* A token bucket's rule: `rate` tokens per second refill it, up to
 * `burst` tokens. A request takes one. */
typedef struct ratelimit_rule {
    double rate;  /* > 0 */
    double burst; /* >= 1 */
} ratelimit_rule;

typedef struct ratelimit ratelimit;

/* ratelimit_new makes a table of at least max_entries buckets (rounded up
 * to a whole number of sets; RATELIMIT_MIN_ENTRIES..RATELIMIT_MAX_ENTRIES),
 * allocated at once (32 bytes a bucket); its pages become resident as
 * buckets are first used. Free with ratelimit_free. */
int ratelimit_new(size_t max_entries, ratelimit **out);

/* ratelimit_free frees rl (NULL is fine). */
void ratelimit_free(ratelimit *rl);

/* ratelimit_take takes one token from key's bucket at now_ms (a monotonic
 * clock, see ratelimit_now_ms). RK_OK when there was one; RK_ELIMITED when
 * the bucket is empty, with *retry_after_s the whole seconds (>= 1) until a
 * token will be there. Thread-safe. */
int ratelimit_take(ratelimit *rl, const uint8_t key[16], const ratelimit_rule *rule,
                   uint64_t now_ms, unsigned *retry_after_s);

/* ratelimit_bytes returns the table's size in bytes (for docs and tests). */
size_t ratelimit_bytes(const ratelimit *rl);

/* ratelimit_now_ms reads the monotonic clock in milliseconds. */
uint64_t ratelimit_now_ms(void);

/* ratelimit_key_ip makes the key of an IP address (16 bytes, IPv4 mapped):
 * IPv6 addresses are keyed by their /64, the block one host usually gets. */
void ratelimit_key_ip(const uint8_t addr[16], uint8_t key[16]);

/* ratelimit_key_str makes the key of a string (e.g. "issuer\nsubject"):
 * the first 16 bytes of its SHA-256. RK_ECRYPTO if OpenSSL fails. */
int ratelimit_key_str(const char *s, size_t len, uint8_t key[16]);

#endif
