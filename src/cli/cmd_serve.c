/* cmd_serve.c - `roomkey serve` (the service) and `roomkey check-config`. */
#include "../api/admin.h"
#include "../api/console.h"
#include "../api/families.h"
#include "../api/issuance.h"
#include "../api/probes.h"
#include "../api/runtime.h"
#include "../api/live.h"
#include "../api/webhook.h"
#include "../auth/session.h"
#include "../config/config.h"
#include "../config/envsecret.h"
#include "../http/server.h"
#include "../store/audit_retention.h"
#include "../store/store.h"
#include "../util/err.h"
#include "../util/log.h"
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest a request's log line waits in its thread's buffer (util/log.h). */
#define REQUEST_LOG_FLUSH_MS 100

static const char SERVE_HELP[] =
    "Usage: roomkey serve [--config FILE]\n"
    "\n"
    "Run the service. Configuration: the YAML file (or ROOMKEY_CONFIG), overlaid by\n"
    "environment variables (ROOMKEY_LISTEN, ROOMKEY_DATABASE, ROOMKEY_SESSION_SECRET,\n"
    "ROOMKEY_ADMIN_KEY, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_URL, ...);\n"
    "see docs/config.md. Prints \"listening on http://HOST:PORT\" once ready.\n"
    "SIGHUP reloads the configuration (a bad one is refused and the running one\n"
    "kept); SIGINT/SIGTERM stop accepting, let requests in flight finish\n"
    "(shutdown_timeout) and exit 0. See docs/operations.md.\n";

static const char CHECK_HELP[] =
    "Usage: roomkey check-config [--config FILE]\n"
    "\n"
    "Validate the configuration (file + environment) and exit: 0 when it is valid\n"
    "and can issue tokens (the route families served are listed); 1 with the\n"
    "offending key named when it is not valid, or with what is missing when no\n"
    "token could be issued (no LiveKit key; no session issuer, API key or\n"
    "anonymous room; no route family; no LiveKit URL for families that all need\n"
    "it). A LiveKit URL missing for some families only is a warning.\n";

/* parse_config_flag reads [--config FILE] [--help]; returns -1 to continue,
 * or an exit code. */
static int parse_config_flag(int argc, char **argv, const char *help, const char **path)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            *path = argv[i] + 9;
        } else {
            fprintf(stderr, "roomkey: unexpected argument \"%s\"\n%s", argv[i], help);
            return CLI_USAGE;
        }
    }
    return -1;
}

/* check_gaps prints, for check-config, what the valid configuration cfg
 * lacks: first what leaves it unable to issue any token (then it returns
 * true), then what only some routes need, as a warning. */
static bool check_gaps(const config *cfg)
{
    families_gaps g;
    families_check(cfg, &g);
    bool hopeless = families_hopeless(&g);
    if (hopeless)
        fprintf(stderr, "roomkey: the configuration is valid, but it can issue no token:\n");
    if (g.no_key)
        fprintf(stderr, "  no LiveKit API key: every token request fails until LIVEKIT_API_KEY "
                        "and LIVEKIT_API_SECRET (or livekit.api_key and livekit.api_secret) are "
                        "set\n");
    if (g.no_family)
        fprintf(stderr, "  no route family is served: see families: or ROOMKEY_FAMILIES\n");
    if (g.no_caller)
        fprintf(stderr, "  no session issuer and no API key: every caller is refused (401); set "
                        "ROOMKEY_SESSION_SECRET (or issuers:, api_keys:)\n");
    if (g.no_url_only)
        fprintf(stderr,
                "  no LiveKit URL: every route family served (%s) answers with it; set "
                "LIVEKIT_URL (or livekit.url), the server clients connect to\n",
                g.need_url);
    else if (g.no_url)
        fprintf(stderr,
                "roomkey: warning: no LiveKit URL: %s answer 500 until LIVEKIT_URL (or "
                "livekit.url), the server clients connect to, is set\n",
                g.need_url);
    return hopeless;
}

int cmd_check_config(int argc, char **argv)
{
    const char *path = NULL;
    int rc = parse_config_flag(argc, argv, CHECK_HELP, &path);
    if (rc >= 0)
        return rc;
    config *cfg;
    char why[512] = "";
    if (config_load(path, &cfg, why, sizeof why) != RK_OK) {
        fprintf(stderr, "roomkey: %s\n", why);
        return CLI_FAIL;
    }
    if (check_gaps(cfg)) {
        config_free(cfg);
        return CLI_FAIL;
    }
    char on[FAMILIES_NAMES_CAP], off[FAMILIES_NAMES_CAP];
    families_names(cfg, true, on, sizeof on);
    families_names(cfg, false, off, sizeof off);
    printf("config ok: %zu issuer(s), %zu API key(s), %zu role(s), %zu room(s) seeded, %zu "
           "LiveKit key(s)\nfamilies served: %s\n",
           cfg->n_issuers, cfg->n_apikeys, cfg->n_roles, cfg->n_rooms, keyring_count(cfg->keys),
           on);
    if (off[0])
        printf("families not served: %s\n", off);
    config_free(cfg);
    return CLI_OK;
}

/* seed_store creates the config's rooms and memberships when absent; why
 * explains a failure. */
static int seed_store(const config *cfg, store *st, char *why, size_t cap)
{
    for (size_t i = 0; i < cfg->n_rooms; i++) {
        const config_room *r = &cfg->rooms[i];
        store_room sr = {0};
        snprintf(sr.name, sizeof sr.name, "%s", r->name);
        snprintf(sr.alias, sizeof sr.alias, "%s", r->alias);
        snprintf(sr.default_role, sizeof sr.default_role, "%s", r->default_role);
        sr.mode = r->mode;
        sr.max_participants = r->max_participants;
        sr.max_ttl = r->max_ttl;
        int rc = store_room_create(st, &sr);
        if (rc && rc != RK_ECONFLICT)
            return rk_fail(rc, why, cap, "cannot create room %s: %s", r->name, rk_strerror(rc));
    }
    for (size_t i = 0; i < cfg->n_members; i++) {
        const config_member *m = &cfg->members[i];
        store_member sm = {0};
        snprintf(sm.room, sizeof sm.room, "%s", m->room);
        snprintf(sm.subject, sizeof sm.subject, "%s", m->subject);
        snprintf(sm.role, sizeof sm.role, "%s", m->role);
        int rc = store_member_set(st, &sm);
        if (rc)
            return rk_fail(rc, why, cap, "cannot add member %s to %s: %s", m->subject, m->room,
                           rk_strerror(rc));
    }
    return RK_OK;
}

/* Route sets that are always served: probes, the admin API and the
 * console (whose paths are 404 unless console.enabled). */
static int (*const always[])(http_server *s, api_ctx *api) = {
    api_probes_register,
    api_admin_register,
    api_console_register,
};

/* register_families adds the routes that are always served and those of
 * every family the config switches on (families.c; a family switched off
 * under `families:` is not registered at all: its paths 404). */
static int register_families(const config *cfg, http_server *srv, api_ctx *api)
{
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++) {
        int rc = always[i](srv, api);
        if (rc != RK_OK)
            return rc;
    }
    return families_register(cfg, srv, api);
}

/* warn_config logs what an operator should know about cfg. */
/* store_down tells the HTTP server that the database server is unreachable
 * (its 500s become 503s with Retry-After). */
static bool store_down(void *arg)
{
    return store_unreachable(arg);
}

static void warn_config(const config *cfg)
{
    if (cfg->dev_mode)
        log_event("warn", "dev_mode", "note",
                  "development mode: short secrets allowed; never run this in production", NULL);
    if (!cfg->keys || keyring_count(cfg->keys) == 0)
        log_event("warn", "livekit_not_configured", "note",
                  "no LiveKit API key: token routes answer 500 until LIVEKIT_API_KEY and "
                  "LIVEKIT_API_SECRET are set",
                  NULL);
    if (!cfg->rate_limit.enabled)
        log_event("warn", "rate_limit_off", "note",
                  "rate limiting is off (ROOMKEY_RATE_LIMIT=off or rate_limit.enabled: false)",
                  NULL);
}

/* reload_prepare seeds the store from a new config before it is swapped
 * in (runtime_prepare). */
static int reload_prepare(const config *cfg, store *st, void *arg, char *why, size_t cap)
{
    (void)arg;
    return seed_store(cfg, st, why, cap);
}

/* serve_signals waits for signals: SIGHUP reloads (path: the config file
 * given at start; the audit retention and live rooms follow the new
 * config), SIGINT/SIGTERM return. */
static void serve_signals(runtime *rt, audit_retention *ret, live *lv, const char *path,
                          const sigset_t *set)
{
    for (;;) {
        int sig = 0;
        sigwait(set, &sig);
        if (sig != SIGHUP) {
            log_event("info", "stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
            return;
        }
        char why[512] = "";
        if (runtime_reload(rt, path, reload_prepare, NULL, why, sizeof why) != RK_OK) {
            log_event("error", "reload_refused", "reason", why, "note",
                      "the running configuration is kept", NULL);
            continue;
        }
        warn_config(runtime_config(rt));
        audit_retention_set_days(ret, runtime_config(rt)->audit_retain_days);
        live_reload(lv, runtime_config(rt));
        const char *file = path ? path : getenv("ROOMKEY_CONFIG");
        log_event("info", "reloaded", "config",
                  file && *file ? file : "(no file: the environment only)", NULL);
    }
}

/* block_signals blocks SIGINT, SIGTERM and SIGHUP (set) in every thread
 * started from here on, so that the main thread waits for them, and ignores
 * SIGPIPE. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* drain stops srv, letting requests in flight finish for up to the
 * configured shutdown_timeout, and logs what was cut off. */
static void drain(runtime *rt, http_server *srv)
{
    unsigned timeout_ms = (unsigned)runtime_config(rt)->shutdown_timeout * 1000u;
    size_t left = http_server_shutdown(srv, timeout_ms);
    if (left) {
        char n[24];
        snprintf(n, sizeof n, "%zu", left);
        log_event("warn", "shutdown_timeout", "in_flight", n, "note",
                  "requests still running when shutdown_timeout ran out were cut off", NULL);
    }
    log_event("info", "stopped", NULL);
}

/* announce prints the address srv listens on and logs the start. */
static void announce(const config *c, http_server *srv, const char *db_shown)
{
    const char *host = c->listen_host;
    bool v6 = strchr(host, ':') != NULL;
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "",
           http_server_port(srv));
    fflush(stdout);
    log_event("info", "started", "database", db_shown, NULL);
}

/* What a running service holds; serve_close frees what is set. */
typedef struct service {
    config *cfg; /* until the runtime owns it */
    store *st;
    admission *places; /* tokens being issued (freed after the store: its queue releases them) */
    runtime *rt;
    live *lv;
    http_server *srv;
    audit_retention *ret;
    char db_shown[CONFIG_MAX_STR]; /* the database without its password */
} service;

/* serve_open loads the config at path, opens and seeds the store and
 * starts the runtime and live rooms into sv. On failure why says what and
 * sv holds what to free (serve_close). */
static int serve_open(const char *path, service *sv, char *why, size_t cap)
{
    /* Secrets leave the environment before anything else runs (and before
     * any thread exists): /proc/PID/environ must not show them. */
    if (envsecret_take() != RK_OK)
        return rk_fail(RK_ENOMEM, why, cap, "out of memory");
    int rc = config_load(path, &sv->cfg, why, cap);
    if (rc)
        return rc;
    warn_config(sv->cfg);
    store_url_redact(sv->cfg->database, sv->db_shown, sizeof sv->db_shown);
    char err[400] = "";
    store_options so = {.timeout_ms = sv->cfg->database_timeout_s * 1000};
    if ((rc = store_open_with(sv->cfg->database, &so, &sv->st, err, sizeof err)) != RK_OK)
        return rk_fail(rc, why, cap, "database %s: %s", sv->db_shown, err);
    if ((rc = seed_store(sv->cfg, sv->st, why, cap)) != RK_OK)
        return rc;
    if ((rc = admission_new(&sv->places)) != RK_OK)
        return rk_fail(rc, why, cap, "out of memory"); /* serve_close frees the config */
    rc = runtime_new(sv->cfg, sv->st, sv->places, &sv->rt, why, cap);
    sv->cfg = NULL; /* the runtime owns it now */
    if (rc == RK_OK &&
        (rc = live_start(runtime_config(sv->rt), sv->st, &sv->lv, why, cap)) == RK_OK)
        runtime_set_live(sv->rt, sv->lv);
    return rc;
}

/* serve_listen sets up sv's HTTP server with every route and starts it. */
static int serve_listen(service *sv, char *why, size_t cap)
{
    const config *c = runtime_config(sv->rt);
    http_limits lim = {c->threads,         c->max_body,       c->max_header,
                       c->max_connections, c->conn_timeout_s, c->max_conns_per_ip,
                       c->head_timeout_s,  c->body_timeout_s};
    if (http_server_new(&lim, &sv->srv) != RK_OK ||
        register_families(c, sv->srv, runtime_api(sv->rt)) != RK_OK ||
        api_webhook_register(sv->srv, runtime_api(sv->rt), live_webhook_path(sv->lv)) != RK_OK)
        return rk_fail(RK_EIO, why, cap, "cannot set up routes");
    runtime_install(sv->rt, sv->srv);
    http_server_set_unavailable(sv->srv, store_down, sv->st);
    return http_server_start(sv->srv, c->listen_host, c->listen_port, why, cap);
}

/* serve_close frees everything sv holds, in order. */
static void serve_close(service *sv)
{
    http_server_free(sv->srv);
    audit_retention_stop(sv->ret);
    live_stop(sv->lv);
    runtime_free(sv->rt);
    store_close(sv->st);
    admission_free(sv->places);
    config_free(sv->cfg);
    issuance_thread_exit();
    log_buffer_stop(); /* after the worker threads ended: every request line is out */
}

int cmd_serve(int argc, char **argv)
{
    const char *path = NULL;
    int rc = parse_config_flag(argc, argv, SERVE_HELP, &path);
    if (rc >= 0)
        return rc;
    service sv = {0};
    int status = CLI_FAIL;
    char why[512] = "";
    sigset_t set;
    block_signals(&set);
    if (serve_open(path, &sv, why, sizeof why) != RK_OK ||
        serve_listen(&sv, why, sizeof why) != RK_OK) {
        fprintf(stderr, "roomkey: %s\n", why);
        goto out;
    }
    announce(runtime_config(sv.rt), sv.srv, sv.db_shown);
    /* the threads a serving process needs start beside the first client's
     * connect, not inside its first request */
    if (store_audit_start(sv.st) != RK_OK)
        log_event("warn", "audit_writer_start", "note", "started with the first token instead",
                  NULL);
    /* request lines are written in batches, at most this late */
    if (log_buffer_start(REQUEST_LOG_FLUSH_MS) != RK_OK)
        log_event("warn", "log_unbuffered", "note", "request lines are written one by one", NULL);
    if (audit_retention_start(sv.st, runtime_config(sv.rt)->audit_retain_days, &sv.ret) != RK_OK) {
        fprintf(stderr, "roomkey: cannot start the audit retention\n");
        goto out;
    }
    serve_signals(sv.rt, sv.ret, sv.lv, path, &set);
    drain(sv.rt, sv.srv);
    status = CLI_OK;
out:
    serve_close(&sv);
    return status;
}
