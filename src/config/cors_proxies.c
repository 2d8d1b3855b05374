/* cors_proxies.c - `cors:` with ROOMKEY_CORS_ORIGINS, and `trusted_proxies:`
 * with ROOMKEY_TRUSTED_PROXIES (each env var replaces its YAML list). */
#include "section.h"
#include "../util/err.h"

#include <string.h>

#define CORS_HEADERS "Authorization, Content-Type, X-API-Key, apikey, x-client-info"

/* cors_defaults: no origins (CORS off), the usual headers, 10 minutes. */
static void cors_defaults(config *c)
{
    strcpy(c->cors.allow_headers, CORS_HEADERS);
    c->cors.max_age = 600;
}

/* origin_ok: "*", or scheme://host[:port] in lower case with no path (what
 * a browser sends in Origin). */
static bool origin_ok(const char *o)
{
    if (strcmp(o, "*") == 0)
        return true;
    size_t n = strspn(o, "abcdefghijklmnopqrstuvwxyz0123456789+.-");
    if (n == 0 || !(o[0] >= 'a' && o[0] <= 'z') || strncmp(o + n, "://", 3) != 0)
        return false;
    const char *h = o + n + 3;
    size_t hl = *h == '[' ? strspn(h + 1, "0123456789abcdef:.") + 2
                          : strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789.-");
    if (hl < (*h == '[' ? 3u : 1u) || (*h == '[' && h[hl - 1] != ']'))
        return false;
    const char *rest = h + hl;
    if (*rest == ':') {
        size_t pl = strspn(rest + 1, "0123456789");
        if (pl == 0 || pl > 5)
            return false;
        rest += 1 + pl;
    }
    return *rest == '\0';
}

/* add_origin appends origin text (from where, for messages) to cors.origins. */
static int add_origin(config_loader *ld, const char *where, const char *o, size_t len)
{
    config_cors *c = &ld->cfg->cors;
    char buf[sizeof c->origins[0]];
    if (len >= sizeof buf)
        return yaml_fail(&ld->y, RK_ETOOBIG, "%s: longer than %zu bytes", where, sizeof buf - 1);
    memcpy(buf, o, len);
    buf[len] = '\0';
    if (!origin_ok(buf))
        return yaml_fail(&ld->y, RK_EINVAL,
                         "%s: \"%.64s\" is not an origin (scheme://host[:port] in lower case, "
                         "no path or trailing slash; or \"*\")",
                         where, buf);
    for (size_t i = 0; i < c->n_origins; i++)
        if (strcmp(c->origins[i], buf) == 0)
            return yaml_fail(&ld->y, RK_EINVAL, "%s: \"%.64s\" is listed twice", where, buf);
    if (c->n_origins == CORS_MAX_ORIGINS)
        return yaml_fail(&ld->y, RK_ETOOBIG, "%s: more than %d origins", where, CORS_MAX_ORIGINS);
    memcpy(c->origins[c->n_origins++], buf, len + 1);
    return RK_OK;
}

/* cors_parse reads `cors:`. */
static int cors_parse(config_loader *ld, const ynode *n)
{
    enum { ORIGINS, CREDS, HEADERS, AGE, NF };
    static const char *const names[NF] = {"origins", "allow_credentials", "allow_headers",
                                          "max_age"};
    config_cors *c = &ld->cfg->cors;
    yaml_fields f;
    yaml_fields_open(&f, &ld->y, n, "cors", names, NF);
    if (yaml_field_has(&f, ORIGINS))
        f.rc = config_str_list(ld, f.v[ORIGINS], "cors.origins", CORS_MAX_ORIGINS, add_origin);
    yaml_field_bool(&f, CREDS, &c->allow_credentials);
    if (yaml_field_has(&f, HEADERS)) {
        yaml_field_str(&f, HEADERS, c->allow_headers, sizeof c->allow_headers, 0);
        for (const char *h = c->allow_headers; !f.rc && *h; h++)
            if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
                  (*h >= '0' && *h <= '9') || strchr("-_, ", *h)))
                f.rc = yaml_fail(&ld->y, RK_EINVAL,
                                 "config: cors.allow_headers: header names separated by commas");
    }
    return yaml_field_dur(&f, AGE, 0, 86400, &c->max_age);
}

/* cors_env reads ROOMKEY_CORS_ORIGINS (replacing cors.origins), then refuses
 * credentials with the origin "*". */
static int cors_env(config_loader *ld)
{
    config_cors *c = &ld->cfg->cors;
    if (config_env("ROOMKEY_CORS_ORIGINS")) {
        c->n_origins = 0;
        int rc = config_env_list(ld, "ROOMKEY_CORS_ORIGINS", add_origin);
        if (rc)
            return rc;
    }
    if (c->allow_credentials)
        for (size_t i = 0; i < c->n_origins; i++)
            if (!strcmp(c->origins[i], "*"))
                return yaml_fail(&ld->y, RK_EINVAL,
                                 "config: cors.allow_credentials: not allowed with the origin "
                                 "\"*\" (list the origins)");
    return RK_OK;
}

/* add_proxy appends network text (an address or CIDR) to trusted_proxies. */
static int add_proxy(config_loader *ld, const char *where, const char *t, size_t len)
{
    config *c = ld->cfg;
    char buf[IPNET_MAX_TEXT + 1];
    if (len >= sizeof buf)
        return yaml_fail(&ld->y, RK_ETOOBIG, "%s: longer than %zu bytes", where, sizeof buf - 1);
    memcpy(buf, t, len);
    buf[len] = '\0';
    if (c->n_trusted_proxies == CONFIG_MAX_PROXIES)
        return yaml_fail(&ld->y, RK_ETOOBIG, "%s: more than %d entries", where, CONFIG_MAX_PROXIES);
    if (ipnet_parse(buf, &c->trusted_proxies[c->n_trusted_proxies]) != RK_OK)
        return yaml_fail(&ld->y, RK_EINVAL,
                         "%s: \"%.64s\" is not an IP address or network (e.g. 10.0.0.0/8, ::1)",
                         where, buf);
    c->n_trusted_proxies++;
    return RK_OK;
}

/* proxies_parse reads `trusted_proxies:`, a list of addresses or networks. */
static int proxies_parse(config_loader *ld, const ynode *n)
{
    return config_str_list(ld, n, "trusted_proxies", CONFIG_MAX_PROXIES, add_proxy);
}

/* proxies_env reads ROOMKEY_TRUSTED_PROXIES (replacing trusted_proxies). */
static int proxies_env(config_loader *ld)
{
    if (!config_env("ROOMKEY_TRUSTED_PROXIES"))
        return RK_OK;
    ld->cfg->n_trusted_proxies = 0;
    return config_env_list(ld, "ROOMKEY_TRUSTED_PROXIES", add_proxy);
}

const config_section config_cors_section = {
    .key = "cors", .defaults = cors_defaults, .parse = cors_parse, .env = cors_env};
const config_section config_trusted_proxies_section = {
    .key = "trusted_proxies", .parse = proxies_parse, .env = proxies_env};
