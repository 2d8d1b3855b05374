/* rate_limit.c - `rate_limit:` and ROOMKEY_RATE_LIMIT: token buckets per
 * client IP and per subject. */
#include "section.h"
#include "../util/duration.h"
#include "../util/err.h"

#include <stdlib.h>
#include <string.h>

#define RATE_MAX    1000000
#define ENTRIES_MIN 1024
#define ENTRIES_MAX (4LL * 1024 * 1024)
#define PER_MAX     86400 /* seconds */

/* rate_limit_defaults: on; 50/s (burst 100) per IP, 30/min (burst 10) per subject. */
static void rate_limit_defaults(config *c)
{
    c->rate_limit = (config_rate_limit){
        .enabled = true, .ip = {50, 1, 100}, .subject = {30, 60, 10}, .max_entries = 16384};
}

/* parse_rate reads {requests, per, burst} into r (burst defaults to
 * requests; per to 1s). */
static int parse_rate(config_loader *ld, const ynode *n, const char *path, config_rate *r)
{
    enum { REQ, PER, BURST, NF };
    static const char *const names[NF] = {"requests", "per", "burst"};
    yaml_ctx *y = &ld->y;
    const ynode *v[NF];
    char p[YAML_PATH_CAP];
    int rc = yaml_map_fields(y, n, path, names, NF, v);
    if (rc)
        return rc;
    if (!v[REQ])
        return yaml_fail(y, RK_EINVAL, "config: %s: required", yaml_sub(p, path, "requests"));
    if ((rc = yaml_get_int(y, v[REQ], yaml_sub(p, path, "requests"), 1, RATE_MAX, &r->requests)))
        return rc;
    r->per_s = 1;
    if (v[PER] && (rc = yaml_get_dur(y, v[PER], yaml_sub(p, path, "per"), 1, PER_MAX, &r->per_s)))
        return rc;
    r->burst = r->requests;
    if (v[BURST] &&
        (rc = yaml_get_int(y, v[BURST], yaml_sub(p, path, "burst"), 1, RATE_MAX, &r->burst)))
        return rc;
    return RK_OK;
}

/* rate_limit_parse reads `rate_limit:`. */
static int rate_limit_parse(config_loader *ld, const ynode *n)
{
    enum { ENABLED, IP, SUBJECT, ENTRIES, PROBES, NF };
    static const char *const names[NF] = {"enabled", "ip", "subject", "max_entries",
                                          "limit_probes"};
    yaml_ctx *y = &ld->y;
    const ynode *v[NF];
    config_rate_limit *rl = &ld->cfg->rate_limit;
    char p[YAML_PATH_CAP];
    int rc = yaml_map_fields(y, n, "rate_limit", names, NF, v);
    if (!rc && v[ENABLED])
        rc = yaml_get_bool(y, v[ENABLED], yaml_sub(p, "rate_limit", "enabled"), &rl->enabled);
    if (!rc && v[IP])
        rc = parse_rate(ld, v[IP], yaml_sub(p, "rate_limit", "ip"), &rl->ip);
    if (!rc && v[SUBJECT])
        rc = parse_rate(ld, v[SUBJECT], yaml_sub(p, "rate_limit", "subject"), &rl->subject);
    if (!rc && v[ENTRIES])
        rc = yaml_get_int(y, v[ENTRIES], yaml_sub(p, "rate_limit", "max_entries"), ENTRIES_MIN,
                          ENTRIES_MAX, &rl->max_entries);
    if (!rc && v[PROBES])
        rc = yaml_get_bool(y, v[PROBES], yaml_sub(p, "rate_limit", "limit_probes"),
                           &rl->limit_probes);
    return rc;
}

/* env_rate reads "REQUESTS/PER[:BURST]" (e.g. 50/1s:100) into r. */
static bool env_rate(const char *s, config_rate *r)
{
    char per[DURATION_MAX_TEXT + 1];
    char *end;
    long long req = strtoll(s, &end, 10);
    if (end == s || *end != '/' || req < 1 || req > RATE_MAX)
        return false;
    const char *p = end + 1;
    size_t pl = strcspn(p, ":");
    if (pl == 0 || pl >= sizeof per)
        return false;
    memcpy(per, p, pl);
    per[pl] = '\0';
    int64_t secs = 0;
    if (duration_parse_whole_seconds(per, &secs) || secs < 1 || secs > PER_MAX)
        return false;
    long long burst = req;
    if (p[pl] == ':') {
        burst = strtoll(p + pl + 1, &end, 10);
        if (end == p + pl + 1 || *end || burst < 1 || burst > RATE_MAX)
            return false;
    }
    r->requests = req;
    r->per_s = secs;
    r->burst = burst;
    return true;
}

/* rate_limit_env reads ROOMKEY_RATE_LIMIT: "off", "on", or a list such as
 * "ip=50/1s:100,subject=30/1m:10" (which also switches limiting on). */
static int rate_limit_env(config_loader *ld)
{
    const char *v = config_env("ROOMKEY_RATE_LIMIT");
    config_rate_limit *rl = &ld->cfg->rate_limit;
    if (!v)
        return RK_OK;
    if (!strcmp(v, "off") || !strcmp(v, "on")) {
        rl->enabled = v[1] == 'n';
        return RK_OK;
    }
    char buf[256];
    if (strlen(v) >= sizeof buf)
        return yaml_fail(&ld->y, RK_ETOOBIG, "env: ROOMKEY_RATE_LIMIT is longer than %zu bytes",
                         sizeof buf - 1);
    strcpy(buf, v);
    char *save = NULL;
    for (char *it = strtok_r(buf, ", ", &save); it; it = strtok_r(NULL, ", ", &save)) {
        config_rate *r = !strncmp(it, "ip=", 3)        ? &rl->ip
                         : !strncmp(it, "subject=", 8) ? &rl->subject
                                                       : NULL;
        if (!r || !env_rate(strchr(it, '=') + 1, r))
            return yaml_fail(&ld->y, RK_EINVAL,
                             "env: ROOMKEY_RATE_LIMIT: expected off, on, or items such as "
                             "ip=50/1s:100,subject=30/1m:10 (requests/per[:burst])");
    }
    rl->enabled = true;
    return RK_OK;
}

const config_section config_rate_limit_section = {.key = "rate_limit",
                                                  .defaults = rate_limit_defaults,
                                                  .parse = rate_limit_parse,
                                                  .env = rate_limit_env};
