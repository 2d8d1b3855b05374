/* store_pg.h - the PostgreSQL backend of the store (see store.h).
 *
 * Its open takes a libpq URL, postgres://[user[:password]@]host[:port]/db
 * [?param=value&...] (postgresql:// too); libpq's environment variables
 * (PGPASSWORD, PGPASSFILE, PGSSLMODE, ...) apply as usual. The schema is
 * migrated at open under an advisory lock, so several instances may start
 * at once. A change feed (LISTEN/NOTIFY on channel STORE_PG_CHANNEL, fed
 * by triggers on rooms and members) drops every instance's cached lookups
 * when any process changes a room or a membership. See docs/deploy.md. */
#ifndef RK_STORE_PG_H
#define RK_STORE_PG_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define STORE_PG_CHANNEL "roomkey_changes"

extern const store_ops store_pg_ops;

/* What a PostgreSQL store's change feed has done so far. */
typedef struct store_pg_feed {
    uint64_t connects;      /* times the feed (re)connected and ran LISTEN */
    uint64_t notifications; /* notifications received */
    bool up;                /* connected and listening now */
    uint64_t timeouts;      /* statements cut after store_options.timeout_ms */
} store_pg_feed;

/* store_pg_feed_stats copies st's feed counters into *out (for tests and
 * metrics). RK_EINVAL when st is not a PostgreSQL store. */
int store_pg_feed_stats(store *st, store_pg_feed *out);

#endif
