/* issuance.c - mint + audit + log, with one minter per worker thread. */
#include "issuance.h"
#include "../http/metrics.h"
#include "../http/ratelimit.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_key_t minter_key;
static pthread_once_t minter_once = PTHREAD_ONCE_INIT;

/* Per-thread minter and the keyring it was made for (by serial: a new
 * keyring after a reload may reuse a freed one's address). */
typedef struct thread_minter {
    minter *m;
    uint64_t serial;
} thread_minter;

static void thread_minter_free(void *p)
{
    thread_minter *tm = p;
    if (tm) {
        minter_free(tm->m);
        free(tm);
    }
}

static void make_key(void)
{
    pthread_key_create(&minter_key, thread_minter_free);
}

/* this_minter returns this thread's minter for kr, making it on first use. */
static minter *this_minter(const keyring *kr)
{
    pthread_once(&minter_once, make_key);
    thread_minter *tm = pthread_getspecific(minter_key);
    if (tm && tm->m && tm->serial == keyring_serial(kr))
        return tm->m;
    if (!tm) {
        tm = calloc(1, sizeof *tm);
        if (!tm)
            return NULL;
        pthread_setspecific(minter_key, tm);
    }
    minter_free(tm->m);
    tm->m = NULL;
    tm->serial = keyring_serial(kr);
    if (minter_new(kr, &tm->m) != RK_OK)
        return NULL;
    return tm->m;
}

void issuance_thread_exit(void)
{
    pthread_once(&minter_once, make_key);
    thread_minter *tm = pthread_getspecific(minter_key);
    thread_minter_free(tm);
    pthread_setspecific(minter_key, NULL);
}

bool issuance_configured(const api_ctx *api)
{
    return api->cfg->keys && keyring_count(api->cfg->keys) > 0;
}

/* A token's audit record on its way to the store, with the hold that keeps
 * the token's response back until the record is committed. */
typedef struct pending_audit {
    store_audit a;
    http_hold *hold;
    store *st;         /* borrowed: to give the seat back */
    int64_t seat;      /* the seat the token holds; 0 = none */
    admission *places; /* borrowed: where the token holds a place (place) */
    bool place;
} pending_audit;

/* Records that went out come back here for the next token instead of to
 * malloc: a 3 KiB block is past glibc's per-thread cache, and the writer
 * thread frees what a worker allocated, so malloc takes an arena lock
 * twice per token. At most POOL_MAX records wait here (96 KiB); the
 * rest go back to free. */
#define POOL_MAX 32
static struct {
    pthread_mutex_t mu;
    pending_audit *free[POOL_MAX];
    size_t n;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* pending_get returns a record, not zeroed, from the pool or malloc; NULL
 * when out of memory. The caller gives it back with pending_put. */
static pending_audit *pending_get(void)
{
    pending_audit *p = NULL;
    pthread_mutex_lock(&pool.mu);
    if (pool.n)
        p = pool.free[--pool.n];
    pthread_mutex_unlock(&pool.mu);
    return p ? p : malloc(sizeof *p);
}

/* pending_put gives p (may be NULL) back to the pool, or frees it when the
 * pool is full. */
static void pending_put(pending_audit *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&pool.mu);
    if (pool.n < POOL_MAX) {
        pool.free[pool.n++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&pool.mu);
    free(p);
}

/* audit_result accounts for the outcome of a's audit write: a token
 * counted as issued (the request's own log line carries its jti), or an
 * audit_failed log line (the token is never sent then). */
static void audit_result(const store_audit *a, int rc)
{
    if (rc)
        log_event("error", "audit_failed", "route", a->route, "jti", a->jti, NULL);
    else
        metrics_token_issued(a->route, a->role);
}

/* audit_done runs on the store's writer thread once the record is
 * committed (rc RK_OK) or refused: the held response goes out, or becomes
 * a 500 with the token never sent. */
static void audit_done(void *arg, int rc)
{
    pending_audit *p = arg;
    audit_result(&p->a, rc);
    if (rc) /* never handed out: its seat is free again */
        policy_seat_give_back(p->st, p->a.room, p->seat, p->a.subject, "audit_failed", clock_now());
    /* Committed, the store counts the identity from now on; failed, its
     * place is free again. */
    if (p->place)
        admission_release(p->places, p->a.room, p->a.identity);
    http_hold_release(p->hold, rc == RK_OK);
    pending_put(p);
}

int issuance_limit(const api_ctx *api, const caller *who, const http_req *req)
{
    const config_rate_limit *rl = &api->cfg->rate_limit;
    if (req->info && req->info->limit_checked)
        return req->info->retry_after ? RK_ELIMITED : RK_OK;
    if (req->info)
        req->info->limit_checked = true;
    http_req_set_subject(req, who->subject);
    /* A backend's mint_any key mints for many users: the per-IP limit is
     * its only one. */
    if (!rl->enabled || !api->subject_limits || (who->is_api_key && who->perms & PERM_MINT_ANY))
        return RK_OK;
    /* The bucket is the issuer's subject: the same sub from two issuers
     * (or an API key id) is two callers. */
    char id[sizeof who->issuer + sizeof who->subject + 2];
    int n = snprintf(id, sizeof id, "%s\n%s", who->issuer, who->subject);
    uint8_t key[16];
    if (n < 0 || ratelimit_key_str(id, (size_t)n, key) != RK_OK)
        return RK_ECRYPTO;
    ratelimit_rule rule = {(double)rl->subject.requests / (double)rl->subject.per_s,
                           (double)rl->subject.burst};
    unsigned retry = 0;
    if (ratelimit_take(api->subject_limits, key, &rule, ratelimit_now_ms(), &retry) == RK_OK)
        return RK_OK;
    metrics_rate_limited(METRICS_SCOPE_SUBJECT);
    http_req_rate_limited(req, retry);
    return RK_ELIMITED;
}

/* fill_audit sets every field of a, the record of the token info says
 * was minted at now for d. RK_ETOOBIG (logged) when the grants don't fit. */
static int fill_audit(store_audit *a, const caller *who, const decision *d, const http_req *req,
                      const mint_info *info, int64_t now)
{
    text_copy(a->jti, sizeof a->jti, info->jti);
    text_copy(a->subject, sizeof a->subject, who->subject);
    text_copy(a->identity, sizeof a->identity, d->identity);
    text_copy(a->room, sizeof a->room, d->room.name);
    text_copy(a->role, sizeof a->role, d->role->name);
    int rc = policy_grants_json(d, a->grants, sizeof a->grants);
    if (rc != RK_OK) {
        log_event("error", "audit_failed", "route", req->route, "jti", info->jti, "reason",
                  "grants do not fit the audit record", NULL);
        return rc;
    }
    a->issued_at = now;
    a->exp = info->exp;
    text_copy(a->client_ip, sizeof a->client_ip, req->client_ip);
    text_copy(a->route, sizeof a->route, req->route);
    return RK_OK;
}

/* mint_record is issuance_mint but for d's place: *queued says whether
 * the record went to the store's queue (audit_done then releases it). */
static int mint_record(const api_ctx *api, const caller *who, const decision *d,
                       const http_req *req, const char **tok, size_t *tok_len, mint_info *info,
                       bool *queued)
{
    int rc = issuance_limit(api, who, req);
    if (rc)
        return rc;
    if (!issuance_configured(api))
        return RK_ENOTFOUND;
    minter *m = this_minter(api->cfg->keys);
    /* Not zeroed (the record is 3 KiB): fill_audit sets every field, the
     * strings NUL-terminated, before the record leaves this function. */
    pending_audit *p = pending_get();
    if (p) {
        p->a.id = 0;
        p->hold = NULL;
        p->st = api->st;
        p->seat = d->seat;
        p->places = api->places;
        p->place = d->place;
    }
    if (!m || !p) {
        pending_put(p);
        return m ? RK_ENOMEM : RK_ECRYPTO;
    }
    char why[128];
    int64_t now = clock_now();
    rc = minter_mint(m, &d->claims, now, d->ttl, tok, tok_len, info, why, sizeof why);
    if (rc)
        log_event("error", "mint_failed", "route", req->route, "reason", why, NULL);
    else
        rc = fill_audit(&p->a, who, d, req, info, now);
    if (rc) {
        pending_put(p);
        return rc;
    }
    store_audit *a = &p->a;
    http_req_set_jti(req, info->jti); /* for the request's log line */
    /* Before the record is submitted: a give-back for a failed record
     * (audit_done, on the store's writer thread) always comes after. */
    policy_seat_keep(api->st, who->subject, d, info->exp, info->jti, now);

    /* Served over HTTP: queue the record and hold the response until it is
     * committed; this thread goes on with other requests meanwhile. */
    if (http_req_hold(req, &p->hold) == RK_OK) {
        rc = store_audit_submit(api->st, a, audit_done, p);
        if ((*queued = rc == RK_OK))
            return RK_OK;
        audit_result(a, rc);
        http_hold_release(p->hold, false);
        pending_put(p);
        return rc;
    }
    /* No server to hold a response (a direct caller): wait for the commit. */
    rc = store_audit_add(api->st, a);
    audit_result(a, rc);
    pending_put(p);
    return rc;
}

int issuance_mint(const api_ctx *api, const caller *who, const decision *d, const http_req *req,
                  const char **tok, size_t *tok_len, mint_info *info)
{
    bool queued = false;
    int rc = mint_record(api, who, d, req, tok, tok_len, info, &queued);
    if (!queued && d->place) /* committed or failed already, or never submitted */
        admission_release(api->places, d->room.name, d->identity);
    return rc;
}
