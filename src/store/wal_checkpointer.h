/* wal_checkpointer.h - SQLite WAL checkpoints off the writer's path.
 *
 * SQLite's own auto-checkpoint runs inside the COMMIT that pushes the WAL
 * past its threshold: that commit copies about a thousand pages into the
 * database and waits for two fsyncs (the WAL's, then the database's), and
 * every token held for that commit or queued behind it waits too.
 *
 * A checkpointer replaces it for one writer connection. Its thread, on its
 * own connection, does the bulk of the work: PASSIVE checkpoints, which run
 * beside the writer's commits and sync what they copied. What the writer
 * appended meanwhile is the tail: the thread copies tails again while they
 * shrink, then the writer's next commit copies the last one (a few pages, a
 * small fsync), so the WAL is fully copied and SQLite restarts it from its
 * beginning on the next write. Without that last step the WAL would never
 * restart under continuous writes.
 *
 * Bounds: when the WAL reaches WAL_CKPT_HARD_FRAMES while a pass is still
 * running, the writer's commit waits for it (back-pressure), so the WAL file
 * stays below that size plus the commit that crosses it, whatever the disk
 * does. When the thread can't start, commits checkpoint inline as SQLite
 * would; when its passes fail, the commits from the hard limit on do. */
#ifndef RK_WAL_CHECKPOINTER_H
#define RK_WAL_CHECKPOINTER_H

#include <sqlite3.h>
#include <stdint.h>

#define WAL_CKPT_FRAMES      1000 /* start a pass at this many WAL frames (SQLite's default) */
#define WAL_CKPT_TAIL_FRAMES 64   /* a pass stops once the tail is this small */
#define WAL_CKPT_HARD_FRAMES 4000 /* commits wait for a running pass from here on */
#define WAL_CKPT_PASS_ROUNDS 4    /* background checkpoints per pass, at most */

typedef struct wal_checkpointer wal_checkpointer;

/* What a checkpointer did (for tests and diagnostics). */
typedef struct wal_ckpt_stats {
    uint64_t passes;   /* background passes finished */
    uint64_t tails;    /* tails copied by the writer's commit */
    uint64_t inline_;  /* full checkpoints by the writer's commit (no thread, or past the hard
                          limit with no pass running) */
    uint64_t waits;    /* commits that waited for a pass (hard limit) */
    uint64_t failures; /* checkpoints that returned an error other than SQLITE_BUSY */
} wal_ckpt_stats;

/* wal_checkpointer_new prepares a checkpointer for the database file at
 * path (copied). Its thread and connection start with the first pass.
 * Free with wal_checkpointer_free. RK_ENOMEM when out of memory. */
int wal_checkpointer_new(const char *path, wal_checkpointer **out);

/* wal_checkpointer_attach makes w checkpoint for writer (a WAL-mode
 * connection that only one thread uses at a time): it replaces writer's
 * auto-checkpoint with w's commit hook. w must outlive writer's use. */
void wal_checkpointer_attach(wal_checkpointer *w, sqlite3 *writer);

/* wal_checkpointer_stats copies w's counters into *out. */
void wal_checkpointer_stats(wal_checkpointer *w, wal_ckpt_stats *out);

/* wal_checkpointer_free stops w's thread (finishing a pass under way),
 * closes its connection and frees it. NULL is ignored. */
void wal_checkpointer_free(wal_checkpointer *w);

#endif
