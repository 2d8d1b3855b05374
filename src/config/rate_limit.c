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
    yaml_fields f;
    if (yaml_fields_open(&f, &ld->y, n, path, names, NF) || yaml_field_need(&f, REQ) ||
        yaml_field_int(&f, REQ, 1, RATE_MAX, &r->requests))
        return f.rc;
    r->per_s = 1;
    if (yaml_field_dur(&f, PER, 1, PER_MAX, &r->per_s))
        return f.rc;
    r->burst = r->requests;
    return yaml_field_int(&f, BURST, 1, RATE_MAX, &r->burst);
}

/* rate_limit_parse reads `rate_limit:`. */
static int rate_limit_parse(config_loader *ld, const ynode *n)
{
    enum { ENABLED, IP, SUBJECT, ENTRIES, PROBES, NF };
    static const char *const names[NF] = {"enabled", "ip", "subject", "max_entries",
                                          "limit_probes"};
    config_rate_limit *rl = &ld->cfg->rate_limit;
    yaml_fields f;
    yaml_fields_open(&f, &ld->y, n, "rate_limit", names, NF);
    yaml_field_bool(&f, ENABLED, &rl->enabled);
    if (yaml_field_has(&f, IP))
        f.rc = parse_rate(ld, f.v[IP], yaml_field_path(&f, IP), &rl->ip);
    if (yaml_field_has(&f, SUBJECT))
        f.rc = parse_rate(ld, f.v[SUBJECT], yaml_field_path(&f, SUBJECT), &rl->subject);
    yaml_field_int(&f, ENTRIES, ENTRIES_MIN, ENTRIES_MAX, &rl->max_entries);
    return yaml_field_bool(&f, PROBES, &rl->limit_probes);
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
