/* issuance.c - mint + audit + log, with one minter per worker thread. */
#include "issuance.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"

#include <pthread.h>
#include <stdio.h>
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

int issuance_mint(const api_ctx *api, const caller *who, const decision *d, const http_req *req,
                  const char **tok, size_t *tok_len, mint_info *info)
{
    if (!issuance_configured(api))
        return RK_ENOTFOUND;
    minter *m = this_minter(api->cfg->keys);
    if (!m)
        return RK_ECRYPTO;
    char why[128];
    int64_t now = clock_now();
    int rc = minter_mint(m, &d->claims, now, d->ttl, tok, tok_len, info, why, sizeof why);
    if (rc) {
        log_event("error", "mint_failed", "route", req->route, "reason", why, NULL);
        return rc;
    }
    store_audit a = {0};
    copy(a.jti, sizeof a.jti, info->jti);
    copy(a.subject, sizeof a.subject, who->subject);
    copy(a.identity, sizeof a.identity, d->identity);
    copy(a.room, sizeof a.room, d->room.name);
    copy(a.role, sizeof a.role, d->role->name);
    if (policy_grants_json(d, a.grants, sizeof a.grants) != RK_OK)
        copy(a.grants, sizeof a.grants, "{}");
    a.issued_at = now;
    a.exp = info->exp;
    copy(a.client_ip, sizeof a.client_ip, req->client_ip);
    copy(a.route, sizeof a.route, req->route);
    rc = store_audit_add(api->st, &a);
    if (rc) {
        log_event("error", "audit_failed", "route", req->route, "jti", info->jti, NULL);
        return rc;
    }
    log_event("info", "token_issued", "route", req->route, "subject", who->subject, "room",
              d->room.name, "role", d->role->name, "jti", info->jti, NULL);
    return RK_OK;
}
