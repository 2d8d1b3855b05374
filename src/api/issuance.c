/* issuance.c - mint + audit + log, with one minter per worker thread. */
#include "issuance.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_key_t minter_key;
static pthread_once_t minter_once = PTHREAD_ONCE_INIT;

/* Per-thread minter and the keyring it was made for. */
typedef struct thread_minter {
    minter *m;
    const keyring *kr;
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
    if (tm && tm->kr == kr)
        return tm->m;
    if (!tm) {
        tm = calloc(1, sizeof *tm);
        if (!tm)
            return NULL;
        pthread_setspecific(minter_key, tm);
    }
    minter_free(tm->m);
    tm->m = NULL;
    tm->kr = kr;
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

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* A token's audit record on its way to the store, with the hold that keeps
 * the token's response back until the record is committed. */
typedef struct pending_audit {
    store_audit a;
    http_hold *hold;
} pending_audit;

/* log_result logs the outcome of a's audit write: token_issued with the
 * jti (never the token), or audit_failed. */
static void log_result(const store_audit *a, int rc)
{
    if (rc)
        log_event("error", "audit_failed", "route", a->route, "jti", a->jti, NULL);
    else
        log_event("info", "token_issued", "route", a->route, "subject", a->subject, "room", a->room,
                  "role", a->role, "jti", a->jti, NULL);
}

/* audit_done runs on the store's writer thread once the record is
 * committed (rc RK_OK) or refused: the held response goes out, or becomes
 * a 500 with the token never sent. */
static void audit_done(void *arg, int rc)
{
    pending_audit *p = arg;
    log_result(&p->a, rc);
    http_hold_release(p->hold, rc == RK_OK);
    free(p);
}

int issuance_mint(const api_ctx *api, const caller *who, const decision *d, const http_req *req,
                  const char **tok, size_t *tok_len, mint_info *info)
{
    if (!issuance_configured(api))
        return RK_ENOTFOUND;
    minter *m = this_minter(api->cfg->keys);
    pending_audit *p = calloc(1, sizeof *p);
    if (!m || !p) {
        free(p);
        return m ? RK_ENOMEM : RK_ECRYPTO;
    }
    char why[128];
    int64_t now = clock_now();
    int rc = minter_mint(m, &d->claims, now, d->ttl, tok, tok_len, info, why, sizeof why);
    if (rc) {
        log_event("error", "mint_failed", "route", req->route, "reason", why, NULL);
        free(p);
        return rc;
    }
    store_audit *a = &p->a;
    copy(a->jti, sizeof a->jti, info->jti);
    copy(a->subject, sizeof a->subject, who->subject);
    copy(a->identity, sizeof a->identity, d->identity);
    copy(a->room, sizeof a->room, d->room.name);
    copy(a->role, sizeof a->role, d->role->name);
    if ((rc = policy_grants_json(d, a->grants, sizeof a->grants)) != RK_OK) {
        log_event("error", "audit_failed", "route", req->route, "jti", info->jti, "reason",
                  "grants do not fit the audit record", NULL);
        free(p);
        return rc;
    }
    a->issued_at = now;
    a->exp = info->exp;
    copy(a->client_ip, sizeof a->client_ip, req->client_ip);
    copy(a->route, sizeof a->route, req->route);

    /* Served over HTTP: queue the record and hold the response until it is
     * committed; this thread goes on with other requests meanwhile. */
    if (http_req_hold(req, &p->hold) == RK_OK) {
        rc = store_audit_submit(api->st, a, audit_done, p);
        if (rc == RK_OK)
            return RK_OK;
        log_result(a, rc);
        http_hold_release(p->hold, false);
        free(p);
        return rc;
    }
    /* No server to hold a response (a direct caller): wait for the commit. */
    rc = store_audit_add(api->st, a);
    log_result(a, rc);
    free(p);
    return rc;
}
