/* wal_writes.h - a SQLite VFS that writes a transaction's WAL frames in one
 * system call.
 *
 * SQLite writes each WAL frame as two pwrite calls (its 24-byte header,
 * then the page), so a commit of k pages costs 2k calls; on the audit
 * writer's connection these were the largest part of a token request's
 * system calls. This VFS wraps the default one. On a WAL file, writes that
 * continue one another gather in a buffer (WAL_WRITES_BUF bytes, allocated
 * on the first write) and go to the file in one write:
 * - when the page of a commit frame (a frame header whose "database size
 *   after commit" field is set) has been added: the COMMIT's own xWrite
 *   does it and returns its result, so a failed write fails the COMMIT
 *   exactly as it would without the buffer;
 * - before any other operation on the WAL file (read, sync, size,
 *   truncate, lock, file control, close) and before a write that does not
 *   continue the buffer or would overflow it;
 * - at the shared-memory barrier of its database file, which SQLite calls
 *   before it publishes new frames to other connections (a safety net: the
 *   commit frame has flushed the buffer by then).
 * So no other connection or process can read a frame that is still in the
 * buffer, and the durability of a commit is unchanged: the store's
 * synchronous=FULL syncs the WAL after the commit frame is written, and a
 * sync writes the buffer out first. Every other file and operation goes
 * to the wrapped VFS as is. */
#ifndef RK_WAL_WRITES_H
#define RK_WAL_WRITES_H

#define WAL_WRITES_VFS "roomkey-wal-writes"
#define WAL_WRITES_BUF (64 * 1024) /* one buffer per open WAL file */

/* wal_writes_register registers the VFS under WAL_WRITES_VFS (not as the
 * default), once per process; later calls return the first call's result.
 * Open a connection with it through sqlite3_open_v2's zVfs. RK_OK or
 * RK_EIO (no default VFS, or the registration failed). */
int wal_writes_register(void);

#endif
