/* wal_writes.c - the VFS of wal_writes.h. Each file it opens is a wfile:
 * the wrapped VFS's own file object follows it in the same allocation
 * (SQLite allocates szOsFile bytes), and every method forwards to that
 * object after, on a WAL file, writing out the buffer. */
#include "wal_writes.h"
#include "../util/err.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WAL_HEADER   32 /* the WAL file's own header, at offset 0 */
#define FRAME_HEADER 24 /* each frame's header, before its page */

typedef struct wfile {
    sqlite3_file base;
    sqlite3_file *real; /* the wrapped VFS's file, right after this struct */
    struct wfile *wal;  /* a database file: its open WAL file (NULL: none) */
    struct wfile *db;   /* a WAL file: its database file */
    bool is_wal;
    bool commit;        /* the buffer ends with a commit frame's header */
    int err;            /* a failed write at the barrier: every later call returns it */
    unsigned char *buf; /* a WAL file's buffer (owned), WAL_WRITES_BUF bytes */
    size_t len;         /* bytes in buf */
    sqlite3_int64 off;  /* where buf[0] goes in the file */
    sqlite3_int64 end;  /* the end of what was written since the log (re)started */
} wfile;

static sqlite3_vfs *real_vfs; /* the default VFS, set once */

#define REAL(f) (((wfile *)(f))->real)
#define IO(f)   (REAL(f)->pMethods)

/* flush writes w's buffer out in one write; SQLITE_OK when it is empty. */
static int flush(wfile *w)
{
    if (w->err || w->len == 0)
        return w->err;
    int n = (int)w->len;
    w->len = 0;
    w->commit = false;
    return IO(w)->xWrite(w->real, w->buf, n, w->off);
}

/* settle flushes f's buffer when f is a WAL file, before another call. */
static int settle(sqlite3_file *f)
{
    wfile *w = (wfile *)f;
    return w->is_wal ? flush(w) : SQLITE_OK;
}

/* is_commit_header: a WAL frame header whose "database size after
 * commit" (bytes 4..7) is set ends a transaction. */
static bool is_commit_header(const unsigned char *p, int amt, sqlite3_int64 off)
{
    return amt == FRAME_HEADER && off >= WAL_HEADER && (p[4] | p[5] | p[6] | p[7]) != 0;
}

/* w_write buffers a WAL file's appends (see wal_writes.h); every other
 * write goes straight to the file, after the buffer. A write at offset 0
 * (the log's header) starts the log again; a write below the end is SQLite
 * correcting the checksums of frames it has written (after a commit frame,
 * so it is not left in the buffer). */
static int w_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off)
{
    wfile *w = (wfile *)f;
    if (!w->is_wal || w->err)
        return w->err ? w->err : IO(f)->xWrite(w->real, p, amt, off);
    bool ends_commit = w->commit; /* this write is a commit frame's page */
    int rc = SQLITE_OK;
    if (off == 0)
        w->end = 0;
    if (w->len && (off != w->off + (sqlite3_int64)w->len || w->len + (size_t)amt > WAL_WRITES_BUF))
        rc = flush(w);
    if (rc == SQLITE_OK && !w->buf)
        w->buf = malloc(WAL_WRITES_BUF); /* NULL: unbuffered, as without this VFS */
    if (off + amt > w->end)
        w->end = off + amt;
    if (rc || !w->buf || (size_t)amt > WAL_WRITES_BUF || off + amt < w->end)
        return rc ? rc : IO(f)->xWrite(w->real, p, amt, off);
    if (w->len == 0)
        w->off = off;
    memcpy(w->buf + w->len, p, (size_t)amt);
    w->len += (size_t)amt;
    w->commit = is_commit_header(p, amt, off);
    return ends_commit ? flush(w) : SQLITE_OK;
}

static int w_close(sqlite3_file *f)
{
    wfile *w = (wfile *)f;
    int rc = settle(f);
    free(w->buf);
    w->buf = NULL;
    if (w->db)
        w->db->wal = NULL;
    if (w->wal)
        w->wal->db = NULL;
    int rc2 = IO(f)->xClose(w->real);
    return rc ? rc : rc2;
}

/* the shared-memory barrier of a database file: its WAL's frames go out
 * before SQLite publishes them */
static void w_shm_barrier(sqlite3_file *f)
{
    wfile *w = (wfile *)f;
    if (w->wal) {
        int rc = flush(w->wal);
        if (rc)
            w->wal->err = rc;
    }
    IO(f)->xShmBarrier(w->real);
}

/* The rest forward to the wrapped file: FORWARD defines a method that
 * calls the wrapped file's with the same arguments; SETTLED_FORWARD one
 * that writes a WAL file's buffer out first (settle) and forwards only
 * when that succeeded. params are the method's parameters (its file is f),
 * args what the wrapped method gets. */
#define FORWARD(name, method, params, args)                                                        \
    static int name params                                                                         \
    {                                                                                              \
        return IO(f)->method args;                                                                 \
    }
#define SETTLED_FORWARD(name, method, params, args)                                                \
    static int name params                                                                         \
    {                                                                                              \
        int rc = settle(f);                                                                        \
        return rc ? rc : IO(f)->method args;                                                       \
    }

/* clang-format off */
SETTLED_FORWARD(w_read, xRead, (sqlite3_file *f, void *p, int amt, sqlite3_int64 off),
                (REAL(f), p, amt, off))
SETTLED_FORWARD(w_truncate, xTruncate, (sqlite3_file *f, sqlite3_int64 size), (REAL(f), size))
SETTLED_FORWARD(w_sync, xSync, (sqlite3_file *f, int flags), (REAL(f), flags))
SETTLED_FORWARD(w_file_size, xFileSize, (sqlite3_file *f, sqlite3_int64 *size), (REAL(f), size))
SETTLED_FORWARD(w_lock, xLock, (sqlite3_file *f, int level), (REAL(f), level))
SETTLED_FORWARD(w_unlock, xUnlock, (sqlite3_file *f, int level), (REAL(f), level))
SETTLED_FORWARD(w_check_reserved, xCheckReservedLock, (sqlite3_file *f, int *out), (REAL(f), out))
SETTLED_FORWARD(w_file_control, xFileControl, (sqlite3_file *f, int op, void *arg),
                (REAL(f), op, arg))
SETTLED_FORWARD(w_fetch, xFetch, (sqlite3_file *f, sqlite3_int64 off, int amt, void **out),
                (REAL(f), off, amt, out))
FORWARD(w_sector_size, xSectorSize, (sqlite3_file *f), (REAL(f)))
FORWARD(w_device, xDeviceCharacteristics, (sqlite3_file *f), (REAL(f)))
FORWARD(w_shm_map, xShmMap, (sqlite3_file *f, int region, int size, int extend, void volatile **out),
        (REAL(f), region, size, extend, out))
FORWARD(w_shm_lock, xShmLock, (sqlite3_file *f, int offset, int n, int flags),
        (REAL(f), offset, n, flags))
FORWARD(w_shm_unmap, xShmUnmap, (sqlite3_file *f, int delete_flag), (REAL(f), delete_flag))
FORWARD(w_unfetch, xUnfetch, (sqlite3_file *f, sqlite3_int64 off, void *p), (REAL(f), off, p))
/* clang-format on */

static const sqlite3_io_methods w_methods = {
    .iVersion = 3,
    .xClose = w_close,
    .xRead = w_read,
    .xWrite = w_write,
    .xTruncate = w_truncate,
    .xSync = w_sync,
    .xFileSize = w_file_size,
    .xLock = w_lock,
    .xUnlock = w_unlock,
    .xCheckReservedLock = w_check_reserved,
    .xFileControl = w_file_control,
    .xSectorSize = w_sector_size,
    .xDeviceCharacteristics = w_device,
    .xShmMap = w_shm_map,
    .xShmLock = w_shm_lock,
    .xShmBarrier = w_shm_barrier,
    .xShmUnmap = w_shm_unmap,
    .xFetch = w_fetch,
    .xUnfetch = w_unfetch,
};

/* w_open opens name through the default VFS and wraps it; a WAL file is
 * tied to its database file (sqlite3_database_file_object: the database
 * was opened through this VFS too, so it is a wfile). */
static int w_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                  int *out_flags)
{
    (void)vfs;
    wfile *w = (wfile *)f;
    memset(w, 0, sizeof *w);
    w->real = (sqlite3_file *)(w + 1);
    int rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out_flags);
    if (rc == SQLITE_OK && w->real->pMethods->iVersion < 3)
        rc = SQLITE_CANTOPEN; /* this VFS forwards the version 3 methods */
    if (rc != SQLITE_OK) {
        if (w->real->pMethods)
            w->real->pMethods->xClose(w->real);
        f->pMethods = NULL;
        return rc;
    }
    if ((flags & SQLITE_OPEN_WAL) && name) {
        w->is_wal = true;
        w->db = (wfile *)sqlite3_database_file_object(name);
        w->db->wal = w;
    }
    f->pMethods = &w_methods;
    return SQLITE_OK;
}

static sqlite3_vfs w_vfs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc = RK_EIO;

/* do_register: the VFS is the default one with its own xOpen and file
 * size; SQLite calls the other methods with this VFS, whose fields
 * (mxPathname, pAppData) are the default's own. */
static void do_register(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs)
        return;
    w_vfs = *real_vfs;
    w_vfs.szOsFile = (int)sizeof(wfile) + real_vfs->szOsFile;
    w_vfs.pNext = NULL;
    w_vfs.zName = WAL_WRITES_VFS;
    w_vfs.xOpen = w_open;
    if (sqlite3_vfs_register(&w_vfs, 0) == SQLITE_OK)
        register_rc = RK_OK;
}

int wal_writes_register(void)
{
    pthread_once(&once, do_register);
    return register_rc;
}
