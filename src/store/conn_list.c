/* conn_list.c - per-thread connections behind a pthread key, linked in a
 * mutex-guarded list (the only state the threads share). */
#include "conn_list.h"
#include "../util/err.h"

#include <stddef.h>

/* conn_release is the key's destructor: it unlinks an exiting thread's
 * connection and frees it. */
static void conn_release(void *p)
{
    conn_link *c = p;
    conn_list *cl = c->list;
    pthread_mutex_lock(&cl->mu);
    dlist_unlink(&cl->head, &c->node);
    pthread_mutex_unlock(&cl->mu);
    cl->free_conn(c);
}

int conn_list_init(conn_list *cl, void (*free_conn)(conn_link *c))
{
    cl->head = NULL;
    cl->spare = NULL;
    cl->free_conn = free_conn;
    if (pthread_key_create(&cl->key, conn_release) != 0)
        return RK_ENOMEM;
    pthread_mutex_init(&cl->mu, NULL);
    return RK_OK;
}

conn_link *conn_list_mine(conn_list *cl)
{
    conn_link *c = pthread_getspecific(cl->key);
    if (c)
        return c;
    pthread_mutex_lock(&cl->mu);
    c = cl->spare;
    if (c && pthread_setspecific(cl->key, c) == 0)
        cl->spare = NULL;
    else
        c = NULL;
    pthread_mutex_unlock(&cl->mu);
    return c;
}

void conn_list_pass(conn_list *cl)
{
    conn_link *c = pthread_getspecific(cl->key);
    if (!c)
        return;
    pthread_mutex_lock(&cl->mu);
    if (!cl->spare && pthread_setspecific(cl->key, NULL) == 0)
        cl->spare = c; /* still in cl->head: conn_list_close frees it */
    pthread_mutex_unlock(&cl->mu);
}

int conn_list_add(conn_list *cl, conn_link *c)
{
    c->list = cl;
    pthread_mutex_lock(&cl->mu);
    dlist_push(&cl->head, &c->node);
    pthread_mutex_unlock(&cl->mu);
    if (pthread_setspecific(cl->key, c) != 0) {
        conn_release(c);
        return RK_ENOMEM;
    }
    return RK_OK;
}

void conn_list_close(conn_list *cl)
{
    pthread_key_delete(cl->key); /* no destructor runs for it after this */
    pthread_mutex_lock(&cl->mu);
    dlist_node *c = cl->head;
    cl->head = NULL;
    cl->spare = NULL;
    pthread_mutex_unlock(&cl->mu);
    while (c) {
        dlist_node *next = c->next;
        cl->free_conn((conn_link *)c); /* node is conn_link's first member */
        c = next;
    }
    pthread_mutex_destroy(&cl->mu);
}
