/* pq_lib.h - libpq's functions, loaded when a PostgreSQL store is opened
 * (util/dynlib.h): a server on SQLite never loads libpq and the twelve
 * libraries it brings (Kerberos, LDAP, SASL, ...).
 *
 * Call them through the table: libpq.PQexec(conn, sql). pq_lib_load must
 * have returned RK_OK first. */
#ifndef RK_PQ_LIB_H
#define RK_PQ_LIB_H

#include <libpq-fe.h>
#include <stddef.h>

#define PQ_LIB_SONAME  "libpq.so.5"
#define PQ_LIB_PACKAGE "libpq5"

/* Every libpq function RoomKey calls. */
/* clang-format off */
#define PQ_LIB_FUNCS(X) \
    X(PQclear) X(PQcmdTuples) X(PQconnectPoll) X(PQconnectStartParams) X(PQconnectdb) \
    X(PQconnectdbParams) X(PQconsumeInput) X(PQenterPipelineMode) X(PQerrorMessage) \
    X(PQexec) X(PQexecParams) X(PQexecPrepared) X(PQexitPipelineMode) X(PQfinish) \
    X(PQfreemem) X(PQgetResult) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQisBusy) \
    X(PQisthreadsafe) X(PQnfields) X(PQnotifies) X(PQntuples) X(PQpipelineSync) X(PQprepare) \
    X(PQreset) X(PQresultErrorField) X(PQresultStatus) X(PQsendQuery) X(PQsendQueryPrepared) \
    X(PQsetNoticeReceiver) X(PQsocket) X(PQstatus) X(PQtransactionStatus)
/* clang-format on */

#define PQ_LIB_FIELD(f) __typeof__(f) *f;
typedef struct pq_lib {
    PQ_LIB_FUNCS(PQ_LIB_FIELD)
} pq_lib;
#undef PQ_LIB_FIELD

/* The table; filled by pq_lib_load. */
extern pq_lib libpq;

/* pq_lib_load loads libpq once per process (thread-safe; later calls
 * return the first one's result). RK_EIO with a reason in why when the
 * library or one of its functions is missing. */
int pq_lib_load(char *why, size_t cap);

#endif
