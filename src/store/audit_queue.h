/* audit_queue.h - group commit of audit records.
 *
 * Callers submit a record with a completion callback and go on; one writer
 * thread takes every record that is waiting, writes them in one transaction
 * through the backend's audit_add_batch, then calls each record's callback
 * with that record's own result. While the writer commits one batch the
 * next gathers, so under load a commit is shared by many tokens; an idle
 * queue commits a lone record at once. Only after a slow commit (0.5 ms
 * or more: PostgreSQL's WAL flush) does the writer wait, at most an eighth
 * of that commit and 1 ms, for as many records as its recent groups held
 * (see audit_queue.c).
 *
 * Request threads therefore never wait for the disk or the network: the
 * HTTP layer holds the response back until the callback says the record is
 * committed (see http_req_hold), and only then sends the token. A record is
 * never dropped: every accepted submission gets exactly one callback. */
#ifndef RK_AUDIT_QUEUE_H
#define RK_AUDIT_QUEUE_H

#include "store.h"

#define AUDIT_QUEUE_MAX 512 /* records waiting at once; further submitters wait for room */

typedef struct audit_queue audit_queue;

/* Called once per submitted record, on the writer thread, with RK_OK,
 * RK_ECONFLICT (jti already logged) or the store's error. */
typedef void (*audit_done_fn)(void *arg, int rc);

/* audit_queue_new makes a queue that writes into st (borrowed; must outlive
 * the queue). The writer thread starts with the first record (or
 * audit_queue_start). Free with
 * audit_queue_free. */
int audit_queue_new(store *st, audit_queue **out);

/* audit_queue_start starts the writer thread now, not with the first
 * record (a serving process: its first token's request then does not wait
 * for the thread to start). RK_OK when it runs (or ran already), RK_EIO
 * when no thread could be made (the first record tries again). */
int audit_queue_start(audit_queue *q);

/* audit_queue_submit queues a (borrowed until done runs) and returns RK_OK;
 * done(arg, rc) follows exactly once. When the queue is full the call waits
 * for room. RK_EIO (done is then never called) when the writer can't start
 * or the queue is being freed. */
int audit_queue_submit(audit_queue *q, const store_audit *a, audit_done_fn done, void *arg);

/* audit_queue_add submits a and waits for its result (for callers that
 * have nothing else to do, e.g. the CLI and tests). */
int audit_queue_add(audit_queue *q, const store_audit *a);

/* audit_queue_free stops taking records, lets the writer commit (and call
 * back) every record already queued, joins it and frees q. NULL is fine. */
void audit_queue_free(audit_queue *q);

#endif
