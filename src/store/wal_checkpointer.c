/* wal_checkpointer.c - see wal_checkpointer.h. One mutex guards the state
 * the writer's commit hook and the thread share; neither holds it while
 * SQLite copies pages. */
#include "wal_checkpointer.h"
#include "../util/bgthread.h"
#include "../util/err.h"
#include "../util/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct wal_checkpointer {
    char *path;
    bgthread t;          /* its cv: the thread waits for a pass to do */
    pthread_cond_t idle; /* a commit past the hard limit waits for the pass to end */
    bool start_failed;
    bool busy;     /* a pass was asked for and hasn't ended (only the thread clears it) */
    bool tail_due; /* a pass ended: the next commit copies the tail */
    int frames;    /* the WAL's frames after the writer's last commit */
    int last_err;  /* the last failure logged (logged again only when it changes) */
    wal_ckpt_stats st;
};

int wal_checkpointer_new(const char *path, wal_checkpointer **out)
{
    wal_checkpointer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return RK_ENOMEM;
    }
    bgthread_init(&w->t);
    pthread_cond_init(&w->idle, NULL);
    *out = w;
    return RK_OK;
}

/* note_result counts a checkpoint's result rc and logs a failure unless
 * it is the one logged last. SQLITE_BUSY (another connection is
 * checkpointing) is no failure: the next commit asks again. */
static void note_result(wal_checkpointer *w, int rc)
{
    bool log = false;
    pthread_mutex_lock(&w->t.mu);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        w->st.failures++;
        log = rc != w->last_err;
        w->last_err = rc;
    } else if (rc == SQLITE_OK) {
        w->last_err = SQLITE_OK;
    }
    pthread_mutex_unlock(&w->t.mu);
    if (log)
        log_event("error", "wal_checkpoint_failed", "reason", sqlite3_errstr(rc), NULL);
}

/* open_conn opens the thread's own connection to w's database into *db
 * (closed by ckpt_main); SQLITE_OK or SQLite's error. Setting the journal
 * mode reads the database header and opens the WAL: until a connection has
 * done that, SQLite (3.40) checkpoints nothing on it and reports -1 frames. */
static int open_conn(const wal_checkpointer *w, sqlite3 **db)
{
    int rc = sqlite3_open_v2(w->path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(*db, 1);
        rc = sqlite3_exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL,
                          NULL);
    }
    if (rc != SQLITE_OK) {
        sqlite3_close(*db); /* SQLite makes a handle even when the open fails */
        *db = NULL;
    }
    return rc;
}

/* run_pass checkpoints on *db (opened on first use), round after round,
 * while the frames the writer appended meanwhile (the tail) keep shrinking
 * and are more than WAL_CKPT_TAIL_FRAMES: each round copies the previous
 * round's tail, so rounds get shorter until the tail is what the writer
 * appends during one fsync. true when the tail is the writer's to copy;
 * false after an error. */
static bool run_pass(wal_checkpointer *w, sqlite3 **db)
{
    int rc = *db ? SQLITE_OK : open_conn(w, db);
    int prev = -1;
    for (int round = 0; rc == SQLITE_OK && round < WAL_CKPT_PASS_ROUNDS; round++) {
        int copied = 0;
        rc = sqlite3_wal_checkpoint_v2(*db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, &copied);
        if (rc == SQLITE_OK && copied < 0)
            rc = SQLITE_ERROR; /* the database is not in WAL mode */
        if (rc != SQLITE_OK)
            break;
        pthread_mutex_lock(&w->t.mu);
        int tail = w->frames - copied; /* negative: the WAL restarted meanwhile */
        pthread_mutex_unlock(&w->t.mu);
        if (tail <= WAL_CKPT_TAIL_FRAMES || (prev >= 0 && tail > prev / 2))
            break;
        prev = tail;
    }
    note_result(w, rc);
    return rc == SQLITE_OK;
}

/* ckpt_main runs passes as the commit hook asks, until w stops. */
static void *ckpt_main(void *arg)
{
    wal_checkpointer *w = arg;
    sqlite3 *db = NULL;
    pthread_mutex_lock(&w->t.mu);
    for (;;) {
        while (!w->busy && !w->t.stop) /* waiting, so busy means: asked, not begun */
            (void)bgthread_wait_until(&w->t, -1);
        if (!w->busy)
            break;
        pthread_mutex_unlock(&w->t.mu);
        bool ok = run_pass(w, &db);
        pthread_mutex_lock(&w->t.mu);
        w->busy = false;
        w->st.passes++;
        w->tail_due = ok;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->t.mu);
    sqlite3_close(db);
    return NULL;
}

/* ask_pass_locked asks the thread for a pass, starting it on first use.
 * Called with w->t.mu held; false when the thread can't run. */
static bool ask_pass_locked(wal_checkpointer *w)
{
    if (!w->t.running && !w->start_failed)
        w->start_failed = bgthread_start(&w->t, ckpt_main, w) != RK_OK;
    if (!w->t.running || w->t.stop)
        return false;
    w->busy = true;
    pthread_cond_signal(&w->t.cv);
    return true;
}

enum commit_action { ACT_NONE, ACT_TAIL, ACT_FULL };

/* on_commit is the writer connection's WAL hook: SQLite calls it after
 * each commit with the WAL's frame count. It hands big work to the thread,
 * copies a small tail itself, and checkpoints inline only when the thread
 * can't keep the WAL under the hard limit. Always SQLITE_OK: the commit
 * itself has succeeded whatever a checkpoint does. */
static int on_commit(void *arg, sqlite3 *db, const char *schema, int frames)
{
    wal_checkpointer *w = arg;
    enum commit_action act = ACT_NONE;
    pthread_mutex_lock(&w->t.mu);
    w->frames = frames;
    if (frames >= WAL_CKPT_HARD_FRAMES && w->busy) {
        w->st.waits++;
        while (w->busy)
            pthread_cond_wait(&w->idle, &w->t.mu);
    }
    if (w->tail_due) {
        w->tail_due = false;
        act = ACT_TAIL;
    } else if (frames >= WAL_CKPT_HARD_FRAMES) {
        act = ACT_FULL; /* passes did not restart the WAL: they failed, or a reader holds it */
    } else if (frames >= WAL_CKPT_FRAMES && !w->busy && !ask_pass_locked(w)) {
        act = ACT_FULL; /* no thread: what SQLite's auto-checkpoint would do */
    }
    pthread_mutex_unlock(&w->t.mu);
    if (act == ACT_NONE)
        return SQLITE_OK;
    int rc = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_lock(&w->t.mu);
    if (act == ACT_TAIL)
        w->st.tails++;
    else
        w->st.inline_++;
    pthread_mutex_unlock(&w->t.mu);
    note_result(w, rc);
    return SQLITE_OK;
}

void wal_checkpointer_attach(wal_checkpointer *w, sqlite3 *writer)
{
    sqlite3_wal_hook(writer, on_commit, w);
}

void wal_checkpointer_stats(wal_checkpointer *w, wal_ckpt_stats *out)
{
    pthread_mutex_lock(&w->t.mu);
    *out = w->st;
    pthread_mutex_unlock(&w->t.mu);
}

void wal_checkpointer_free(wal_checkpointer *w)
{
    if (!w)
        return;
    bgthread_close(&w->t);
    pthread_cond_destroy(&w->idle);
    free(w->path);
    free(w);
}
