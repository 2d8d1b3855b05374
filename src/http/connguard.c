/* connguard.c - per-IP connection cap and head/body deadlines (see
 * connguard.h). One mutex guards the per-IP counts and the list of open
 * connections; deadlines are atomics, so phase changes take no lock. */
#include "connguard.h"
#include "../util/bgthread.h"
#include "../util/dlist.h"
#include "../util/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define IP_BUCKETS 1024 /* per-IP count chains (a power of two) */

typedef struct ip_count {
    uint8_t addr[16];
    unsigned n;
    struct ip_count *next;
} ip_count;

struct connguard_conn {
    dlist_node node; /* first: in g->conns, under g->t.mu */
    int fd;
    _Atomic uint64_t deadline_ms; /* monotonic; 0 = none */
    ip_count *ip;                 /* NULL: not counted (exempt or refused) */
};

struct connguard {
    connguard_limits lim;
    bgthread t; /* the watchdog; t.mu guards bucket and conns */
    ip_count *bucket[IP_BUCKETS];
    dlist_node *conns; /* every open connection (connguard_conn nodes) */
    char *refusal;     /* lim.refusal's copy (owned) */
};

/* watch shuts down, every tick, the connections whose deadline passed. */
static void *watch(void *arg)
{
    connguard *g = arg;
    pthread_mutex_lock(&g->t.mu);
    while (!g->t.stop) {
        (void)bgthread_wait(&g->t, CONNGUARD_TICK_MS);
        uint64_t now = (uint64_t)bgthread_now_ms();
        for (dlist_node *n = g->conns; n; n = n->next) {
            connguard_conn *c = (connguard_conn *)n; /* node is its first member */
            uint64_t d = atomic_load(&c->deadline_ms);
            if (d && d <= now) {
                atomic_store(&c->deadline_ms, 0);
                shutdown(c->fd, SHUT_RDWR);
            }
        }
    }
    pthread_mutex_unlock(&g->t.mu);
    return NULL;
}

int connguard_new(const connguard_limits *lim, connguard **out)
{
    connguard *g = calloc(1, sizeof *g);
    if (!g)
        return RK_ENOMEM;
    bgthread_init(&g->t);
    g->lim = *lim;
    if (lim->refusal && (g->refusal = malloc(lim->refusal_len)))
        memcpy(g->refusal, lim->refusal, lim->refusal_len);
    g->lim.refusal = g->refusal;
    if ((lim->refusal && !g->refusal) || bgthread_start(&g->t, watch, g)) {
        connguard_free(g);
        return RK_ENOMEM;
    }
    *out = g;
    return RK_OK;
}

void connguard_free(connguard *g)
{
    if (!g)
        return;
    bgthread_close(&g->t);
    for (size_t i = 0; i < IP_BUCKETS; i++)
        while (g->bucket[i]) {
            ip_count *next = g->bucket[i]->next;
            free(g->bucket[i]);
            g->bucket[i] = next;
        }
    free(g->refusal);
    free(g);
}

static size_t ip_hash(const uint8_t addr[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h & (IP_BUCKETS - 1);
}

/* ip_take counts one more connection from addr (under g->t.mu): the entry,
 * or NULL when addr is at the cap or out of memory. */
static ip_count *ip_take(connguard *g, const uint8_t addr[16])
{
    ip_count **head = &g->bucket[ip_hash(addr)], *e = *head;
    while (e && memcmp(e->addr, addr, 16) != 0)
        e = e->next;
    if (!e) {
        if (!(e = calloc(1, sizeof *e)))
            return NULL;
        memcpy(e->addr, addr, 16);
        e->next = *head;
        *head = e;
    }
    if (e->n >= g->lim.per_ip)
        return NULL;
    e->n++;
    return e;
}

/* ip_drop gives back one of e's connections (under g->t.mu); the entry goes
 * when its last connection does. */
static void ip_drop(connguard *g, ip_count *e)
{
    if (--e->n)
        return;
    ip_count **p = &g->bucket[ip_hash(e->addr)];
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    free(e);
}

int connguard_open(connguard *g, int fd, const uint8_t addr[16], bool exempt, connguard_conn **out)
{
    connguard_conn *c = calloc(1, sizeof *c);
    *out = c;
    if (!c)
        return RK_ENOMEM;
    c->fd = fd;
    connguard_enter(g, c, CONNGUARD_HEAD);
    pthread_mutex_lock(&g->t.mu);
    bool refused = false;
    if (!exempt && g->lim.per_ip) {
        c->ip = ip_take(g, addr);
        refused = !c->ip;
    }
    dlist_push(&g->conns, &c->node);
    pthread_mutex_unlock(&g->t.mu);
    if (refused) {
        atomic_store(&c->deadline_ms, 0);
        if (g->refusal)
            (void)send(fd, g->refusal, g->lim.refusal_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        shutdown(fd, SHUT_RDWR);
        return RK_ELIMITED;
    }
    return RK_OK;
}

void connguard_enter(connguard *g, connguard_conn *c, connguard_phase p)
{
    if (!c)
        return;
    unsigned s = p == CONNGUARD_HEAD   ? g->lim.head_timeout_s
                 : p == CONNGUARD_BODY ? g->lim.body_timeout_s
                                       : 0;
    atomic_store(&c->deadline_ms, s ? (uint64_t)bgthread_now_ms() + (uint64_t)s * 1000u : 0);
}

void connguard_close(connguard *g, connguard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->t.mu);
    if (c->ip)
        ip_drop(g, c->ip);
    dlist_unlink(&g->conns, &c->node);
    pthread_mutex_unlock(&g->t.mu);
    free(c);
}
