/* service.c - the service's own settings: `server:` (listen address, worker
 * threads, request and connection limits), `database:`, `database_timeout:`, `dev_mode:`,
 * `shutdown_timeout:` and `audit:` (retention), with ROOMKEY_LISTEN,
 * ROOMKEY_DATABASE, ROOMKEY_DATABASE_TIMEOUT, ROOMKEY_DEV_MODE and
 * ROOMKEY_AUDIT_RETAIN_DAYS. */
#include "section.h"
#include "../store/audit_retention.h"
#include "../store/store.h"
#include "../util/err.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BODY_CAP    (16LL * 1024 * 1024)
#define LISTEN_TEXT_MAX 300

/* parse_listen splits "host:port" or "[v6]:port" into host (no brackets)
 * and port 0..65535. Returns a reason or NULL. */
static const char *parse_listen(const char *s, char host[256], uint16_t *port)
{
    const char *hs, *he, *ps;
    if (*s == '[') {
        hs = s + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':')
            return "expected [ipv6]:port";
        ps = he + 2;
    } else {
        he = strrchr(s, ':');
        if (!he)
            return "expected host:port";
        hs = s;
        ps = he + 1;
        if (memchr(hs, ':', (size_t)(he - hs)))
            return "an IPv6 address must be written [addr]:port";
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0)
        return "the host is empty";
    if (hl > 255)
        return "the host is longer than 255 bytes";
    for (const char *c = hs; c < he; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '/' || *c == '[' || *c == ']')
            return "the host holds an invalid character";
    size_t pl = strspn(ps, "0123456789");
    if (pl == 0 || pl > 5 || ps[pl] != '\0')
        return "the port must be a number from 0 to 65535";
    long p = strtol(ps, NULL, 10);
    if (p > 65535)
        return "the port must be a number from 0 to 65535";
    memcpy(host, hs, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return NULL;
}

/* server_defaults: 127.0.0.1:8080, roomkey.db and the documented limits. */
static void server_defaults(config *c)
{
    strcpy(c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    strcpy(c->database, "roomkey.db");
    c->threads = 0;
    c->max_body = 65536;
    c->max_header = 8192;
    c->max_connections = 1024;
    c->conn_timeout_s = 10;
    c->max_conns_per_ip = 64;
    c->head_timeout_s = 10;
    c->body_timeout_s = 30;
    c->shutdown_timeout = 10;
    c->database_timeout_s = STORE_DEFAULT_TIMEOUT_MS / 1000;
}

/* server_guard_parse reads server.max_connections_per_ip, head_timeout and
 * body_timeout (any may be NULL: absent) into c. */
static int server_guard_parse(yaml_ctx *y, config *c, const ynode *per_ip, const ynode *head,
                              const ynode *body)
{
    char p[YAML_PATH_CAP];
    int64_t x = 0;
    int rc;
    if (per_ip) {
        if ((rc = yaml_get_int(y, per_ip, yaml_sub(p, "server", "max_connections_per_ip"), 0,
                               100000, &x)))
            return rc;
        c->max_conns_per_ip = (unsigned)x;
    }
    if (head) {
        if ((rc = yaml_get_dur(y, head, yaml_sub(p, "server", "head_timeout"), 1, 300, &x)))
            return rc;
        c->head_timeout_s = (unsigned)x;
    }
    if (body) {
        if ((rc = yaml_get_dur(y, body, yaml_sub(p, "server", "body_timeout"), 1, 300, &x)))
            return rc;
        c->body_timeout_s = (unsigned)x;
    }
    return RK_OK;
}

/* server_parse reads `server:` into ld->cfg (no allocation). */
static int server_parse(config_loader *ld, const ynode *n)
{
    enum { LISTEN, THREADS, BODY, HEADER, CONNS, TIMEOUT, PER_IP, HEAD_T, BODY_T, NF };
    static const char *const names[NF] = {"listen",
                                          "threads",
                                          "max_body",
                                          "max_header",
                                          "max_connections",
                                          "connection_timeout",
                                          "max_connections_per_ip",
                                          "head_timeout",
                                          "body_timeout"};
    const ynode *v[NF];
    yaml_ctx *y = &ld->y;
    config *c = ld->cfg;
    char p[YAML_PATH_CAP];
    int64_t x = 0;
    int rc = yaml_map_fields(y, n, "server", names, NF, v);
    if (rc)
        return rc;
    if (v[LISTEN]) {
        char text[LISTEN_TEXT_MAX];
        if ((rc =
                 yaml_get_str(y, v[LISTEN], yaml_sub(p, "server", "listen"), text, sizeof text, 1)))
            return rc;
        const char *bad = parse_listen(text, c->listen_host, &c->listen_port);
        if (bad)
            return yaml_fail(y, RK_EINVAL, "config: server.listen: %s", bad);
    }
    if (v[THREADS]) {
        if ((rc = yaml_get_int(y, v[THREADS], yaml_sub(p, "server", "threads"), 0, 256, &x)))
            return rc;
        c->threads = (unsigned)x;
    }
    if (v[BODY]) {
        if ((rc = yaml_get_int(y, v[BODY], yaml_sub(p, "server", "max_body"), 1, MAX_BODY_CAP, &x)))
            return rc;
        c->max_body = (size_t)x;
    }
    if (v[HEADER]) {
        if ((rc = yaml_get_int(y, v[HEADER], yaml_sub(p, "server", "max_header"), 1024, 65536, &x)))
            return rc;
        c->max_header = (size_t)x;
    }
    if (v[CONNS]) {
        if ((rc = yaml_get_int(y, v[CONNS], yaml_sub(p, "server", "max_connections"), 1, 100000,
                               &x)))
            return rc;
        c->max_connections = (unsigned)x;
    }
    if (v[TIMEOUT]) {
        if ((rc = yaml_get_dur(y, v[TIMEOUT], yaml_sub(p, "server", "connection_timeout"), 1, 300,
                               &x)))
            return rc;
        c->conn_timeout_s = (unsigned)x;
    }
    return server_guard_parse(y, c, v[PER_IP], v[HEAD_T], v[BODY_T]);
}

/* server_env overlays ROOMKEY_LISTEN, ROOMKEY_DATABASE and ROOMKEY_DEV_MODE. */
static int server_env(config_loader *ld)
{
    config *c = ld->cfg;
    const char *v;
    int rc;
    if ((v = config_env("ROOMKEY_LISTEN"))) {
        const char *bad = strlen(v) > LISTEN_TEXT_MAX
                              ? "too long"
                              : parse_listen(v, c->listen_host, &c->listen_port);
        if (bad)
            return yaml_fail(&ld->y, RK_EINVAL, "env: ROOMKEY_LISTEN: %s", bad);
    }
    if ((rc = config_env_str(ld, "ROOMKEY_DATABASE", c->database, sizeof c->database)))
        return rc;
    if ((v = config_env("ROOMKEY_DEV_MODE"))) {
        if (!strcmp(v, "1") || !strcmp(v, "true"))
            c->dev_mode = true;
        else if (!strcmp(v, "0") || !strcmp(v, "false"))
            c->dev_mode = false;
        else
            return yaml_fail(&ld->y, RK_EINVAL, "env: ROOMKEY_DEV_MODE: expected 1 or 0");
    }
    return RK_OK;
}

/* dev_mode_parse, database_parse, shutdown_parse: one top-level scalar each. */
static int dev_mode_parse(config_loader *ld, const ynode *n)
{
    return yaml_get_bool(&ld->y, n, "dev_mode", &ld->cfg->dev_mode);
}

static int database_parse(config_loader *ld, const ynode *n)
{
    config *c = ld->cfg;
    return yaml_get_str(&ld->y, n, "database", c->database, sizeof c->database, 1);
}

/* database_timeout_parse reads how long RoomKey waits for the database
 * server (PostgreSQL): to connect, and for each statement's answer. */
static int database_timeout_parse(config_loader *ld, const ynode *n)
{
    return yaml_get_dur(&ld->y, n, "database_timeout", STORE_MIN_TIMEOUT_S, STORE_MAX_TIMEOUT_S,
                        &ld->cfg->database_timeout_s);
}

/* database_timeout_env: ROOMKEY_DATABASE_TIMEOUT overrides database_timeout. */
static int database_timeout_env(config_loader *ld)
{
    const char *v = config_env("ROOMKEY_DATABASE_TIMEOUT");
    if (v && store_timeout_parse(v, &ld->cfg->database_timeout_s))
        return yaml_fail(&ld->y, RK_EINVAL,
                         "env: ROOMKEY_DATABASE_TIMEOUT: expected a duration from 1s to 300s");
    return RK_OK;
}

static int shutdown_parse(config_loader *ld, const ynode *n)
{
    return yaml_get_dur(&ld->y, n, "shutdown_timeout", 0, 300, &ld->cfg->shutdown_timeout);
}

/* audit_parse reads `audit:` (retain_days: how many days of audit records
 * the service keeps; 0 keeps every one). */
static int audit_parse(config_loader *ld, const ynode *n)
{
    static const char *const names[] = {"retain_days"};
    yaml_fields f;
    yaml_fields_open(&f, &ld->y, n, "audit", names, 1);
    return yaml_field_int(&f, 0, 0, AUDIT_RETAIN_MAX_DAYS, &ld->cfg->audit_retain_days);
}

/* audit_env: ROOMKEY_AUDIT_RETAIN_DAYS overrides audit.retain_days. */
static int audit_env(config_loader *ld)
{
    const char *v = config_env("ROOMKEY_AUDIT_RETAIN_DAYS");
    if (!v)
        return RK_OK;
    char *end;
    long long d = strtoll(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || d > AUDIT_RETAIN_MAX_DAYS)
        return yaml_fail(&ld->y, RK_EINVAL,
                         "env: ROOMKEY_AUDIT_RETAIN_DAYS: expected a number of days from 0 to %d",
                         AUDIT_RETAIN_MAX_DAYS);
    ld->cfg->audit_retain_days = d;
    return RK_OK;
}

const config_section config_dev_mode_section = {.key = "dev_mode", .parse = dev_mode_parse};
const config_section config_server_section = {
    .key = "server", .defaults = server_defaults, .parse = server_parse, .env = server_env};
const config_section config_database_section = {.key = "database", .parse = database_parse};
const config_section config_database_timeout_section = {
    .key = "database_timeout", .parse = database_timeout_parse, .env = database_timeout_env};
const config_section config_shutdown_section = {.key = "shutdown_timeout", .parse = shutdown_parse};
const config_section config_audit_section = {
    .key = "audit", .parse = audit_parse, .env = audit_env};
