/* cors.c - exact-match CORS allow-list, response headers and preflights. */
#include "cors.h"

#include <stdio.h>
#include <string.h>

const char *cors_allowed(const cors_policy *p, const char *origin)
{
    if (!p || !origin)
        return NULL;
    const char *star = NULL;
    for (size_t i = 0; i < p->n_origins; i++) {
        if (strcmp(p->origins[i], "*") == 0)
            star = p->origins[i];
        else if (strcmp(p->origins[i], origin) == 0)
            return p->origins[i];
    }
    return star;
}

/* allow_origin adds Access-Control-Allow-Origin (and credentials) for the
 * allowed value v. */
static void allow_origin(const cors_policy *p, const char *v, http_resp *resp)
{
    http_resp_header(resp, "Access-Control-Allow-Origin", v);
    if (p->credentials && strcmp(v, "*") != 0)
        http_resp_header(resp, "Access-Control-Allow-Credentials", "true");
}

void cors_headers(const cors_policy *p, const char *origin, http_resp *resp)
{
    if (!p || !p->n_origins)
        return;
    /* the answer depends on Origin whether or not it is allowed: a cache
     * must not hand one origin's (or no origin's) answer to another */
    http_resp_header(resp, "Vary", "Origin");
    const char *v = cors_allowed(p, origin);
    if (!v)
        return;
    allow_origin(p, v, resp);
    http_resp_header(resp, "Access-Control-Expose-Headers", "Retry-After, X-Request-Id");
}

/* method_listed reports whether method is one of the comma-separated list. */
static bool method_listed(const char *list, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t l = strcspn(p, ", ");
        if (l == n && n && strncmp(p, method, n) == 0)
            return true;
        p += l;
    }
    return false;
}

bool cors_preflight(const cors_policy *p, const char *origin, const char *req_method,
                    const char *allow_methods, http_resp *resp)
{
    const char *v = cors_allowed(p, origin);
    if (!v || !req_method || !method_listed(allow_methods, req_method))
        return false;
    resp->status = 204;
    http_resp_header(resp, "Vary", "Origin");
    allow_origin(p, v, resp);
    http_resp_header(resp, "Access-Control-Allow-Methods", allow_methods);
    if (p->allow_headers && p->allow_headers[0])
        http_resp_header(resp, "Access-Control-Allow-Headers", p->allow_headers);
    char age[16];
    snprintf(age, sizeof age, "%u", p->max_age_s);
    http_resp_header(resp, "Access-Control-Max-Age", age);
    return true;
}
