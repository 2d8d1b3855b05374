/* audit_retention.h - `audit.retain_days`: a thread of `roomkey serve`
 * that deletes the audit records older than the retention, once at start
 * and then every AUDIT_RETENTION_EVERY_S seconds, through
 * store_audit_prune: bounded steps, the write lock free between them, so
 * token requests keep being served (and audited) while it runs. */
#ifndef RK_AUDIT_RETENTION_H
#define RK_AUDIT_RETENTION_H

#include "store.h"

#define AUDIT_RETENTION_EVERY_S 3600
#define AUDIT_RETAIN_MAX_DAYS   36500 /* a hundred years */

typedef struct audit_retention audit_retention;

/* audit_retention_start starts the thread on st (borrowed; must outlive
 * it) keeping `days` days of records (0: keep everything, the thread
 * sleeps). Free with audit_retention_stop. */
int audit_retention_start(store *st, int64_t days, audit_retention **out);

/* audit_retention_set_days changes the retention (a reloaded config); a
 * shorter one is applied at once. Thread-safe. */
void audit_retention_set_days(audit_retention *r, int64_t days);

/* audit_retention_stop ends the prune in progress after its current step,
 * joins the thread and frees r. NULL is fine. */
void audit_retention_stop(audit_retention *r);

#endif
