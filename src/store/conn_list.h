/* conn_list.h - a store backend's connections, one per calling thread.
 *
 * Every thread that calls into a backend gets its own connection (a
 * database handle is used by one thread at a time), made on the thread's
 * first call and found again through a pthread key. Every live connection
 * is also linked into the list, so closing the store closes them all; a
 * thread's connection is freed when the thread exits. A backend embeds a
 * conn_link as the first member of its connection struct and says how to
 * free one. */
#ifndef RK_CONN_LIST_H
#define RK_CONN_LIST_H

#include "../util/dlist.h"

#include <pthread.h>

typedef struct conn_list conn_list;

/* The list's part of a connection: the first member of the backend's. */
typedef struct conn_link {
    dlist_node node; /* first: in list->head, under list->mu */
    conn_list *list; /* set by conn_list_add */
} conn_link;

struct conn_list {
    pthread_key_t key; /* this thread's connection */
    pthread_mutex_t mu;
    dlist_node *head;                /* every live connection (conn_link nodes) */
    conn_link *spare;                /* under mu: passed on, no thread's yet (conn_list_pass) */
    void (*free_conn)(conn_link *c); /* closes and frees the connection c heads */
};

/* conn_list_init readies cl, which must not move afterwards, to hold
 * connections freed by free_conn. RK_ENOMEM when no thread-local key is
 * left (cl is then unusable and needs no conn_list_close). */
int conn_list_init(conn_list *cl, void (*free_conn)(conn_link *c));

/* conn_list_mine returns this thread's connection; a thread without one
 * takes the connection another thread passed on (conn_list_pass), if
 * any; NULL otherwise (the caller opens one and adds it). The list owns
 * it. */
conn_link *conn_list_mine(conn_list *cl);

/* conn_list_add makes c (a new connection) this thread's. From then on cl
 * owns c; on failure (RK_ENOMEM) c has been freed already. */
int conn_list_add(conn_list *cl, conn_link *c);

/* conn_list_pass gives up this thread's connection, if it has one, to
 * the next thread that calls conn_list_mine without one (a thread that
 * used the store once hands its open connection to one that starts
 * later; if it calls again first, it takes it back). Nothing happens when
 * another passed connection is still waiting. */
void conn_list_pass(conn_list *cl);

/* conn_list_close frees every connection in cl, then cl's key and mutex.
 * No thread may use cl's connections, or be exiting, meanwhile. */
void conn_list_close(conn_list *cl);

#endif
