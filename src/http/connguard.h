/* connguard.h - limits on connections, whatever their requests say: at
 * most per_ip open connections from one client address (the TCP peer), a
 * deadline for a whole request head and one for a whole body (slow
 * clients: a line or a byte now and then does not keep a connection).
 *
 * The server tells the guard when a connection opens and closes and which
 * phase it is in. A connection over the per-IP cap, or past a deadline, is
 * shut down (shutdown(2) on its socket): the HTTP library then sees it
 * closed and frees it as usual. A watchdog thread checks the deadlines
 * every CONNGUARD_TICK_MS. Thread-safe. */
#ifndef RK_CONNGUARD_H
#define RK_CONNGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONNGUARD_TICK_MS 200

typedef struct connguard_limits {
    unsigned per_ip;         /* open connections per client address; 0 = no cap */
    unsigned head_timeout_s; /* request line and headers; 0 = none */
    unsigned body_timeout_s; /* the body, from the end of the head; 0 = none */
    const char *refusal;     /* written to a connection over the cap before it is shut
                                down (a complete HTTP answer; copied); NULL = none */
    size_t refusal_len;
} connguard_limits;

/* What a connection is doing: waiting for or reading a request head,
 * reading a body, or neither (the request is being answered). */
typedef enum connguard_phase { CONNGUARD_HEAD, CONNGUARD_BODY, CONNGUARD_ANSWER } connguard_phase;

typedef struct connguard connguard;
typedef struct connguard_conn connguard_conn;

/* connguard_new starts a guard and its watchdog. Free with connguard_free. */
int connguard_new(const connguard_limits *lim, connguard **out);

/* connguard_free stops the watchdog and frees g (every connection must have
 * been closed). NULL is fine. */
void connguard_free(connguard *g);

/* connguard_open counts a new connection (socket fd, peer addr as 16 bytes,
 * IPv4 mapped) in the HEAD phase. exempt: not counted against the per-IP
 * cap (a trusted proxy). Over the cap the limits' refusal is written to the
 * socket (one non-blocking send: a new connection's send buffer takes it
 * whole) and the socket is shut down at once; the result is RK_ELIMITED.
 * *out is owned by the guard until connguard_close; NULL when out of
 * memory (the connection is then not guarded). */
int connguard_open(connguard *g, int fd, const uint8_t addr[16], bool exempt, connguard_conn **out);

/* connguard_enter moves c into phase p and starts that phase's deadline. */
void connguard_enter(connguard *g, connguard_conn *c, connguard_phase p);

/* connguard_close forgets c (before its socket is closed). NULL is fine. */
void connguard_close(connguard *g, connguard_conn *c);

#endif
