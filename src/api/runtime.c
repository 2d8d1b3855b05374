/* runtime.c - refcounted configuration snapshots and their atomic swap. */
#include "runtime.h"
#include "../http/cors.h"
#include "../http/ratelimit.h"
#include "../util/err.h"
#include "../util/log.h"
#include "families.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One configuration with everything derived from it. */
typedef struct snapshot {
    size_t refs; /* the runtime's (while current) + one per request; under rt->mu */
    config *cfg; /* owned */
    authn *auth; /* owned */
    cors_policy cors;
    http_policy pol;    /* what the server sees; pol.ctx = &api */
    policy_rules rules; /* the rooms' own rules; strings borrowed from cfg */
    api_ctx api;
} snapshot;

struct runtime {
    pthread_mutex_t mu; /* guards cur and every snapshot's refs */
    snapshot *cur;
    store *st;             /* borrowed */
    admission *places;     /* borrowed */
    struct live *live;     /* borrowed; NULL until runtime_set_live */
    ratelimit *ip_limits;  /* owned; outlive snapshots */
    ratelimit *sub_limits; /* owned */
    api_ctx base;          /* what families register with (the first snapshot's) */
};

static void snapshot_free(snapshot *s)
{
    if (!s)
        return;
    authn_free(s->auth);
    config_free(s->cfg);
    free(s);
}

/* snapshot_new builds a snapshot of cfg (taking it: freed on failure). */
static int snapshot_new(runtime *rt, config *cfg, snapshot **out, char *why, size_t cap)
{
    snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        config_free(cfg);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    s->cfg = cfg;
    int rc = families_rules(cfg, &s->rules, why, cap);
    if (!rc)
        rc = authn_new(cfg, &s->auth, why, cap);
    if (rc) {
        snapshot_free(s);
        return rc;
    }
    const config_cors *cc = &cfg->cors;
    for (size_t i = 0; i < cc->n_origins && i < CORS_MAX_ORIGINS; i++)
        s->cors.origins[s->cors.n_origins++] = cc->origins[i];
    s->cors.credentials = cc->allow_credentials;
    s->cors.allow_headers = cc->allow_headers;
    s->cors.max_age_s = (unsigned)cc->max_age;
    const config_rate_limit *rl = &cfg->rate_limit;
    s->api = (api_ctx){.cfg = cfg,
                       .st = rt->st,
                       .auth = s->auth,
                       .subject_limits = rt->sub_limits,
                       .live = rt->live,
                       .rules = &s->rules,
                       .places = rt->places};
    s->pol = (http_policy){
        .cors = s->cors.n_origins ? &s->cors : NULL,
        .ip_limits = rl->enabled ? rt->ip_limits : NULL,
        .ip_rate = (double)rl->ip.requests / (double)rl->ip.per_s,
        .ip_burst = (double)rl->ip.burst,
        .limit_probes = rl->limit_probes,
        .trusted = cfg->trusted_proxies,
        .n_trusted = cfg->n_trusted_proxies,
        .base_ctx = &rt->base,
        .ctx = &s->api,
    };
    s->refs = 1;
    *out = s;
    return RK_OK;
}

int runtime_new(config *cfg, store *st, admission *places, runtime **out, char *why, size_t cap)
{
    runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        config_free(cfg);
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    }
    rt->st = st;
    rt->places = places;
    size_t entries = (size_t)cfg->rate_limit.max_entries;
    int rc = pthread_mutex_init(&rt->mu, NULL) ? RK_ENOMEM : RK_OK;
    if (!rc && ((rc = ratelimit_new(entries, &rt->ip_limits)) ||
                (rc = ratelimit_new(entries, &rt->sub_limits))))
        rk_fail(rc, why, cap, "rate limit tables: %s", rk_strerror(rc));
    if (!rc)
        rc = snapshot_new(rt, cfg, &rt->cur, why, cap);
    else
        config_free(cfg);
    if (rc) {
        runtime_free(rt);
        return rc;
    }
    rt->base = rt->cur->api;
    *out = rt;
    return RK_OK;
}

/* unref drops one reference to s; the last one frees it. */
static void unref(runtime *rt, snapshot *s)
{
    pthread_mutex_lock(&rt->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&rt->mu);
    if (last)
        snapshot_free(s);
}

void runtime_free(runtime *rt)
{
    if (!rt)
        return;
    if (rt->cur)
        unref(rt, rt->cur);
    ratelimit_free(rt->ip_limits);
    ratelimit_free(rt->sub_limits);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
}

void runtime_set_live(runtime *rt, struct live *l)
{
    pthread_mutex_lock(&rt->mu);
    rt->live = l;
    rt->cur->api.live = l;
    rt->base.live = l;
    pthread_mutex_unlock(&rt->mu);
}

api_ctx *runtime_api(runtime *rt)
{
    return &rt->base;
}

const config *runtime_config(runtime *rt)
{
    return rt->cur->cfg;
}

static const http_policy *acquire(void *arg)
{
    runtime *rt = arg;
    pthread_mutex_lock(&rt->mu);
    snapshot *s = rt->cur;
    s->refs++;
    pthread_mutex_unlock(&rt->mu);
    return &s->pol;
}

static void release(void *arg, const http_policy *p)
{
    unref(arg, (snapshot *)(void *)((const char *)p - offsetof(snapshot, pol)));
}

void runtime_install(runtime *rt, http_server *srv)
{
    http_server_set_policy(srv, acquire, release, rt);
}

/* note_fixed logs a warning for each setting that differs in n but only
 * takes effect at start (o is the running config). */
static void note_fixed(const config *o, const config *n)
{
    const struct {
        bool differs;
        const char *key;
    } fixed[] = {
        {strcmp(o->listen_host, n->listen_host) || o->listen_port != n->listen_port,
         "server.listen"},
        {strcmp(o->database, n->database) != 0, "database"},
        {o->threads != n->threads, "server.threads"},
        {o->max_body != n->max_body, "server.max_body"},
        {o->max_header != n->max_header, "server.max_header"},
        {o->max_connections != n->max_connections, "server.max_connections"},
        {o->conn_timeout_s != n->conn_timeout_s, "server.connection_timeout"},
        {o->max_conns_per_ip != n->max_conns_per_ip, "server.max_connections_per_ip"},
        {o->head_timeout_s != n->head_timeout_s, "server.head_timeout"},
        {o->body_timeout_s != n->body_timeout_s, "server.body_timeout"},
        {!families_same_switches(o, n), "families"},
        {o->rate_limit.max_entries != n->rate_limit.max_entries, "rate_limit.max_entries"},
        {strcmp(o->live.webhook_path, n->live.webhook_path) != 0, "live_rooms.webhook_path"},
        {strcmp(o->livekit_host, n->livekit_host) != 0,
         "livekit.host (LIVEKIT_HOST: live rooms' RoomService calls)"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i].differs)
            log_event("warn", "reload_ignored", "key", fixed[i].key, "note",
                      "changed in the new config but only takes effect on restart; the running "
                      "value is kept",
                      NULL);
}

int runtime_reload(runtime *rt, const char *path, runtime_prepare prepare, void *arg, char *why,
                   size_t cap)
{
    config *cfg = NULL;
    int rc = config_load(path, &cfg, why, cap);
    if (rc)
        return rc;
    if (prepare && (rc = prepare(cfg, rt->st, arg, why, cap))) {
        config_free(cfg);
        return rc;
    }
    note_fixed(rt->cur->cfg, cfg);
    snapshot *s = NULL;
    if ((rc = snapshot_new(rt, cfg, &s, why, cap)))
        return rc;
    pthread_mutex_lock(&rt->mu);
    snapshot *old = rt->cur;
    rt->cur = s;
    pthread_mutex_unlock(&rt->mu);
    unref(rt, old);
    return RK_OK;
}
