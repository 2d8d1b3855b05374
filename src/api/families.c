/* families.c - the table of route families. Adding a family: its own file
 * (a `const family`), one line here, its docs and its tests. */
#include "families.h"
#include "../util/err.h"

#include <string.h>

static const family *const FAMILIES[] = {
    &family_livekit, &family_voice_agent, &family_token_source, &family_supabase, &family_meetings,
};

#define N_FAMILIES (sizeof FAMILIES / sizeof FAMILIES[0])

/* add_routes adds f's routes to srv with ctx api. */
static int add_routes(const family *f, http_server *srv, api_ctx *api)
{
    for (size_t i = 0; i < FAMILY_MAX_ROUTES && f->routes[i].method; i++) {
        const family_route *r = &f->routes[i];
        const http_route hr = {.method = r->method,
                               .path = r->path,
                               .label = r->label,
                               .fn = r->handler,
                               .ctx = api,
                               .json_body = r->json_body,
                               .errors = f->plain_error};
        int rc = http_server_add(srv, &hr);
        if (rc)
            return rc;
    }
    return RK_OK;
}

int families_register(const config *cfg, http_server *srv, api_ctx *api)
{
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const family *f = FAMILIES[i];
        if (!cfg->families[f->id])
            continue;
        int rc = f->setup ? f->setup(api) : RK_OK;
        if (rc == RK_OK)
            rc = add_routes(f, srv, api);
        if (rc)
            return rc;
    }
    return RK_OK;
}

int families_rules(const config *cfg, policy_rules *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const family *f = FAMILIES[i];
        size_t before = out->n;
        int rc = cfg->families[f->id] && f->rules ? f->rules(cfg, out, why, cap) : RK_OK;
        if (rc)
            return rc;
        for (size_t j = before; j < out->n; j++)
            for (size_t k = 0; k < j; k++)
                if (strcmp(out->rooms[j].room, out->rooms[k].room) == 0)
                    return rk_fail(RK_EINVAL, why, cap,
                                   "config: room \"%s\" is given rules twice (%s); a room has "
                                   "one set of rules",
                                   out->rooms[j].room, f->name);
    }
    return RK_OK;
}
