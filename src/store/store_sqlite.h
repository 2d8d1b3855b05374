/* store_sqlite.h - the SQLite backend of the store (see store.h).
 *
 * Its open takes a file path, optionally prefixed "sqlite:" or "file:"
 * (a following "//" is dropped too, so "sqlite:///var/lib/roomkey.db" is
 * the absolute path). The file is created when missing, put in WAL mode and
 * migrated to the current schema. ":memory:" is refused: every thread gets
 * its own connection, so each would see a different empty database. */
#ifndef RK_STORE_SQLITE_H
#define RK_STORE_SQLITE_H

#include "store.h"

extern const store_ops store_sqlite_ops;

#endif
