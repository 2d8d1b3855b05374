/* audit_queue.h - group commit of audit records.
 *
 * Callers hand a record to audit_queue_add and wait until it is committed.
 * One caller at a time leads: it takes every record that is waiting, writes
 * them in one transaction through the backend's audit_add_batch, and wakes
 * their callers with each record's own result. While one batch commits,
 * the next gathers, so under load a commit is shared by many tokens; an
 * idle queue commits a lone record at once (no added delay, no thread).
 * A record is never dropped: a caller returns only after its record was
 * committed or refused. */
#ifndef RK_AUDIT_QUEUE_H
#define RK_AUDIT_QUEUE_H

#include "store.h"

#define AUDIT_QUEUE_MAX 256 /* records waiting at once; further callers wait for room */

typedef struct audit_queue audit_queue;

/* audit_queue_new makes a queue that writes into st (borrowed; must outlive
 * the queue). Free with audit_queue_free. */
int audit_queue_new(store *st, audit_queue **out);

/* audit_queue_add commits a (borrowed until it returns) and returns its
 * result: RK_OK, RK_ECONFLICT (jti already logged), or the store's error.
 * RK_EIO once the queue is being freed. */
int audit_queue_add(audit_queue *q, const store_audit *a);

/* audit_queue_free refuses new records, waits for those already queued to
 * be committed and frees q. NULL is fine. No caller may start
 * audit_queue_add after it began. */
void audit_queue_free(audit_queue *q);

#endif
