/* connguard.c - per-IP connection cap and head/body deadlines (see
 * connguard.h). One mutex guards the per-IP counts and the list of open
 * connections; deadlines are atomics, so phase changes take no lock. */
#include "connguard.h"
#include "../util/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define IP_BUCKETS 1024 /* per-IP count chains (a power of two) */

typedef struct ip_count {
    uint8_t addr[16];
    unsigned n;
    struct ip_count *next;
} ip_count;

struct connguard_conn {
    int fd;
    _Atomic uint64_t deadline_ms; /* monotonic; 0 = none */
    ip_count *ip;                 /* NULL: not counted (exempt or refused) */
    connguard_conn *prev, *next;
};

struct connguard {
    connguard_limits lim;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the watchdog to stop */
    bool stop;
    pthread_t watchdog;
    ip_count *bucket[IP_BUCKETS];
    connguard_conn *conns; /* every open connection */
    char *refusal;         /* lim.refusal's copy (owned) */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* watch shuts down, every tick, the connections whose deadline passed. */
static void *watch(void *arg)
{
    connguard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += CONNGUARD_TICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&g->cv, &g->mu, &until);
        uint64_t now = now_ms();
        for (connguard_conn *c = g->conns; c; c = c->next) {
            uint64_t d = atomic_load(&c->deadline_ms);
            if (d && d <= now) {
                atomic_store(&c->deadline_ms, 0);
                shutdown(c->fd, SHUT_RDWR);
            }
        }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int connguard_new(const connguard_limits *lim, connguard **out)
{
    connguard *g = calloc(1, sizeof *g);
    if (!g)
        return RK_ENOMEM;
    g->lim = *lim;
    if (lim->refusal) {
        if (!(g->refusal = malloc(lim->refusal_len))) {
            free(g);
            return RK_ENOMEM;
        }
        memcpy(g->refusal, lim->refusal, lim->refusal_len);
    }
    g->lim.refusal = g->refusal;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&g->mu, NULL);
    if (pthread_create(&g->watchdog, NULL, watch, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g->refusal);
        free(g);
        return RK_ENOMEM;
    }
    *out = g;
    return RK_OK;
}

void connguard_free(connguard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->watchdog, NULL);
    for (size_t i = 0; i < IP_BUCKETS; i++)
        while (g->bucket[i]) {
            ip_count *next = g->bucket[i]->next;
            free(g->bucket[i]);
            g->bucket[i] = next;
        }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
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

/* ip_take counts one more connection from addr (under g->mu): the entry,
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

/* ip_drop gives back one of e's connections (under g->mu); the entry goes
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
    pthread_mutex_lock(&g->mu);
    bool refused = false;
    if (!exempt && g->lim.per_ip) {
        c->ip = ip_take(g, addr);
        refused = !c->ip;
    }
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    pthread_mutex_unlock(&g->mu);
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
    atomic_store(&c->deadline_ms, s ? now_ms() + (uint64_t)s * 1000u : 0);
}

void connguard_close(connguard *g, connguard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (c->ip)
        ip_drop(g, c->ip);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->mu);
    free(c);
}
