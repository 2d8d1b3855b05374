/* lookup_cache.h - a small per-thread cache of room and membership lookups,
 * so the token path needs no database read in the steady state.
 *
 * Bounds: each thread that looks something up gets one fixed table
 * (LOOKUP_CACHE_ROOMS + LOOKUP_CACHE_MEMBERS direct-mapped slots; a new
 * entry overwrites the slot's old one), so memory is bounded by the thread
 * count, not by traffic. Both hits and misses (RK_ENOTFOUND) are cached.
 *
 * Freshness: an entry is used for at most ttl_ms after it was read, and
 * never after lookup_cache_invalidate, which every write through this
 * process's store calls (and a backend's change feed, e.g. PostgreSQL
 * NOTIFY). So a change made by another process (the CLI) is seen within
 * ttl_ms, and one made through this process at once. A lookup that raced
 * with an invalidation is stored under the generation read before the
 * database read, so it can't outlive the invalidation. */
#ifndef RK_LOOKUP_CACHE_H
#define RK_LOOKUP_CACHE_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define LOOKUP_CACHE_ROOMS   64
#define LOOKUP_CACHE_MEMBERS 256

typedef struct lookup_cache lookup_cache;

/* lookup_cache_new makes an empty cache whose entries live ttl_ms (> 0).
 * Free with lookup_cache_free. */
int lookup_cache_new(int64_t ttl_ms, lookup_cache **out);

/* lookup_cache_free frees c and every thread's table (NULL is fine). No
 * thread may use c during or after the call. */
void lookup_cache_free(lookup_cache *c);

/* lookup_cache_invalidate drops every entry of every thread (atomic). */
void lookup_cache_invalidate(lookup_cache *c);

/* lookup_cache_room looks up key (a room name or alias). On a hit it
 * returns true with *rc the cached result (RK_OK: *out set; RK_ENOTFOUND).
 * On a miss it returns false and *gen is the generation to pass to
 * lookup_cache_room_put once the database answered. */
bool lookup_cache_room(lookup_cache *c, const char *key, store_room *out, int *rc, uint64_t *gen);

/* lookup_cache_room_put records the database's answer for key (rc RK_OK
 * with r, or RK_ENOTFOUND; other results are not cached). */
void lookup_cache_room_put(lookup_cache *c, uint64_t gen, const char *key, int rc,
                           const store_room *r);

/* The same for memberships, keyed by (room, subject). */
bool lookup_cache_member(lookup_cache *c, const char *room, const char *subject, store_member *out,
                         int *rc, uint64_t *gen);
void lookup_cache_member_put(lookup_cache *c, uint64_t gen, const char *room, const char *subject,
                             int rc, const store_member *m);

#endif
