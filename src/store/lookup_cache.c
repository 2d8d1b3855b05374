/* lookup_cache.c - per-thread direct-mapped tables behind a pthread key,
 * validated by a shared atomic generation and a monotonic timestamp. */
#include "lookup_cache.h"
#include "../util/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct room_slot {
    uint64_t gen; /* 0 = empty */
    int64_t at_ms;
    int rc;
    char key[STORE_MAX_NAME + 1];
    store_room room;
} room_slot;

typedef struct member_slot {
    uint64_t gen;
    int64_t at_ms;
    int rc;
    store_member m; /* m.room and m.subject are the key */
} member_slot;

/* One thread's table (calloc'd: untouched slots cost no resident memory). */
typedef struct table {
    room_slot rooms[LOOKUP_CACHE_ROOMS];
    member_slot members[LOOKUP_CACHE_MEMBERS];
    struct table *next; /* in the cache's list, under mu */
} table;

struct lookup_cache {
    _Atomic uint64_t gen;
    int64_t ttl_ms;
    pthread_key_t key;
    pthread_mutex_t mu;
    table *tables;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fnv1a hashes s into h (FNV-1a, 64 bit). */
static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

#define FNV_BASIS 0xcbf29ce484222325ull

int lookup_cache_new(int64_t ttl_ms, lookup_cache **out)
{
    if (ttl_ms <= 0)
        return RK_EINVAL;
    lookup_cache *c = calloc(1, sizeof *c);
    if (!c)
        return RK_ENOMEM;
    if (pthread_key_create(&c->key, NULL) != 0) {
        free(c);
        return RK_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->gen, 1);
    c->ttl_ms = ttl_ms;
    *out = c;
    return RK_OK;
}

void lookup_cache_free(lookup_cache *c)
{
    if (!c)
        return;
    for (table *t = c->tables, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    pthread_key_delete(c->key);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void lookup_cache_invalidate(lookup_cache *c)
{
    atomic_fetch_add(&c->gen, 1);
}

/* my_table returns this thread's table, making it on first use; NULL when
 * out of memory (the caller then just doesn't cache). */
static table *my_table(lookup_cache *c)
{
    table *t = pthread_getspecific(c->key);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (pthread_setspecific(c->key, t) != 0) {
        free(t);
        return NULL;
    }
    pthread_mutex_lock(&c->mu);
    t->next = c->tables;
    c->tables = t;
    pthread_mutex_unlock(&c->mu);
    return t;
}

/* fresh reports whether an entry stored at (gen, at_ms) may still be used. */
static bool fresh(const lookup_cache *c, uint64_t gen, int64_t at_ms, uint64_t cur, int64_t now)
{
    return gen == cur && now - at_ms < c->ttl_ms;
}

bool lookup_cache_room(lookup_cache *c, const char *key, store_room *out, int *rc, uint64_t *gen)
{
    *gen = atomic_load(&c->gen);
    table *t = my_table(c);
    if (!t)
        return false;
    room_slot *s = &t->rooms[fnv1a(FNV_BASIS, key) % LOOKUP_CACHE_ROOMS];
    if (!fresh(c, s->gen, s->at_ms, *gen, now_ms()) || strcmp(s->key, key) != 0)
        return false;
    *rc = s->rc;
    if (s->rc == RK_OK)
        *out = s->room;
    return true;
}

void lookup_cache_room_put(lookup_cache *c, uint64_t gen, const char *key, int rc,
                           const store_room *r)
{
    table *t = my_table(c);
    size_t n = strlen(key);
    if (!t || (rc != RK_OK && rc != RK_ENOTFOUND) || n > STORE_MAX_NAME)
        return;
    room_slot *s = &t->rooms[fnv1a(FNV_BASIS, key) % LOOKUP_CACHE_ROOMS];
    memcpy(s->key, key, n + 1);
    s->rc = rc;
    if (rc == RK_OK)
        s->room = *r;
    s->at_ms = now_ms();
    s->gen = gen;
}

/* member_hash hashes (room, subject) with a separator no name contains. */
static size_t member_hash(const char *room, const char *subject)
{
    uint64_t h = fnv1a(FNV_BASIS, room);
    h = (h ^ 0xffu) * 0x100000001b3ull;
    return fnv1a(h, subject) % LOOKUP_CACHE_MEMBERS;
}

bool lookup_cache_member(lookup_cache *c, const char *room, const char *subject, store_member *out,
                         int *rc, uint64_t *gen)
{
    *gen = atomic_load(&c->gen);
    table *t = my_table(c);
    if (!t)
        return false;
    member_slot *s = &t->members[member_hash(room, subject)];
    if (!fresh(c, s->gen, s->at_ms, *gen, now_ms()) || strcmp(s->m.room, room) != 0 ||
        strcmp(s->m.subject, subject) != 0)
        return false;
    *rc = s->rc;
    if (s->rc == RK_OK)
        *out = s->m;
    return true;
}

void lookup_cache_member_put(lookup_cache *c, uint64_t gen, const char *room, const char *subject,
                             int rc, const store_member *m)
{
    table *t = my_table(c);
    size_t rn = strlen(room), sn = strlen(subject);
    if (!t || (rc != RK_OK && rc != RK_ENOTFOUND) || rn > STORE_MAX_NAME || sn > STORE_MAX_NAME)
        return;
    member_slot *s = &t->members[member_hash(room, subject)];
    if (rc == RK_OK)
        s->m = *m;
    memcpy(s->m.room, room, rn + 1);
    memcpy(s->m.subject, subject, sn + 1);
    s->rc = rc;
    s->at_ms = now_ms();
    s->gen = gen;
}
