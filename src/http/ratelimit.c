/* ratelimit.c - token buckets in a fixed-size set-associative table. */
#include "ratelimit.h"
#include "../util/err.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define SHARDS 16

/* One bucket. last_ms == 0 marks a free slot. */
typedef struct entry {
    uint8_t key[16];
    double tokens;
    uint64_t last_ms; /* last refill (monotonic ms, +1 so never 0) */
} entry;

/* A shard: nsets sets of RATELIMIT_WAYS entries behind one mutex. */
typedef struct shard {
    pthread_mutex_t mu;
    entry *e; /* nsets * RATELIMIT_WAYS, in the table's mapping */
} shard;

struct ratelimit {
    shard shards[SHARDS];
    size_t nsets; /* sets per shard */
    void *map;    /* every shard's entries: one anonymous mapping, owned */
    size_t map_len;
    size_t n_mu; /* shard mutexes initialised */
};

int ratelimit_new(size_t max_entries, ratelimit **out)
{
    if (max_entries < RATELIMIT_MIN_ENTRIES || max_entries > RATELIMIT_MAX_ENTRIES)
        return RK_EINVAL;
    ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return RK_ENOMEM;
    size_t per_set = (size_t)SHARDS * RATELIMIT_WAYS;
    rl->nsets = (max_entries + per_set - 1) / per_set;
    size_t n = rl->nsets * RATELIMIT_WAYS;
    /* An anonymous mapping, not calloc: its pages are the kernel's zero
     * page until a bucket is written, so a table costs no start-up time and
     * no resident memory for buckets never used (calloc clears memory it
     * takes from the heap, touching every page of a 32 KiB shard). */
    rl->map_len = (size_t)SHARDS * n * sizeof(entry);
    rl->map = mmap(NULL, rl->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rl->map == MAP_FAILED) {
        rl->map = NULL;
        ratelimit_free(rl);
        return RK_ENOMEM;
    }
    for (size_t i = 0; i < SHARDS; i++) {
        shard *s = &rl->shards[i];
        s->e = (entry *)rl->map + i * n;
        if (pthread_mutex_init(&s->mu, NULL) != 0) {
            ratelimit_free(rl);
            return RK_ENOMEM;
        }
        rl->n_mu++;
    }
    *out = rl;
    return RK_OK;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->n_mu; i++)
        pthread_mutex_destroy(&rl->shards[i].mu);
    if (rl->map)
        munmap(rl->map, rl->map_len);
    free(rl);
}

size_t ratelimit_bytes(const ratelimit *rl)
{
    return sizeof *rl + (size_t)SHARDS * rl->nsets * RATELIMIT_WAYS * sizeof(entry);
}

uint64_t ratelimit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* mix spreads the 16 key bytes over 64 bits (keys are addresses or
 * SHA-256 prefixes; a collision of sets only shares eviction, never a
 * bucket, since entries compare the whole key). */
static uint64_t mix(const uint8_t key[16])
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    uint64_t x = a * 0x9e3779b97f4a7c15ull ^ b;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 32);
}

int ratelimit_take(ratelimit *rl, const uint8_t key[16], const ratelimit_rule *rule,
                   uint64_t now_ms, unsigned *retry_after_s)
{
    uint64_t h = mix(key);
    shard *s = &rl->shards[h % SHARDS];
    entry *set = s->e + (h / SHARDS % rl->nsets) * RATELIMIT_WAYS;
    uint64_t now = now_ms + 1;
    int rc = RK_OK;
    pthread_mutex_lock(&s->mu);
    entry *e = NULL, *victim = &set[0];
    for (size_t i = 0; i < RATELIMIT_WAYS && !e; i++) {
        if (set[i].last_ms && memcmp(set[i].key, key, 16) == 0)
            e = &set[i];
        else if (set[i].last_ms < victim->last_ms)
            victim = &set[i]; /* a free slot (0) or the least recently used */
    }
    if (!e) {
        e = victim;
        memcpy(e->key, key, 16);
        e->tokens = rule->burst;
        e->last_ms = now;
    }
    if (now > e->last_ms) {
        e->tokens += (double)(now - e->last_ms) / 1000.0 * rule->rate;
        e->last_ms = now;
    }
    if (e->tokens > rule->burst)
        e->tokens = rule->burst;
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
    } else {
        double wait = ceil((1.0 - e->tokens) / rule->rate);
        *retry_after_s = wait < 1 ? 1 : wait > 86400 ? 86400 : (unsigned)wait;
        rc = RK_ELIMITED;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void ratelimit_key_ip(const uint8_t addr[16], uint8_t key[16])
{
    static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memcpy(key, addr, 16);
    if (memcmp(addr, v4, 12) != 0)
        memset(key + 8, 0, 8); /* IPv6: the /64 */
}

int ratelimit_key_str(const char *s, size_t len, uint8_t key[16])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(s, len, md, &n, EVP_sha256(), NULL) != 1 || n < 16)
        return RK_ECRYPTO;
    memcpy(key, md, 16);
    return RK_OK;
}
