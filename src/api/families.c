/* families.c - the table of route families, `families:` (which are
 * served), and the families' config sections handed to config_load. Adding
 * a family: its own file (a `const family`, with its config section), one
 * line here, its docs and its tests. */
#include "families.h"
#include "../config/section.h"
#include "../util/err.h"

#include <string.h>

static const family *const FAMILIES[] = {
    &family_livekit, &family_voice_agent, &family_token_source, &family_supabase, &family_meetings,
};

#define N_FAMILIES   (sizeof FAMILIES / sizeof FAMILIES[0])
#define MAX_FAMILIES 15 /* one section each, besides `families:` itself */

_Static_assert(N_FAMILIES <= MAX_FAMILIES, "too many families for the config's sections");

/* ---- `families:` (which are served) and the families' own sections ----- */

/* Which families are served (`families:`), by position in FAMILIES. */
typedef struct family_switches {
    bool on[MAX_FAMILIES];
} family_switches;

extern const config_section families_section;

static void switches_defaults(config *cfg)
{
    family_switches *sw = config_ext_mut(cfg, &families_section);
    for (size_t i = 0; i < N_FAMILIES; i++)
        sw->on[i] = true;
}

/* switches_parse reads `families:`, a mapping of family name to bool. */
static int switches_parse(config_loader *ld, const ynode *n)
{
    family_switches *sw = config_ext_mut(ld->cfg, &families_section);
    const char *names[N_FAMILIES];
    const ynode *v[N_FAMILIES];
    char p[YAML_PATH_CAP];
    for (size_t i = 0; i < N_FAMILIES; i++)
        names[i] = FAMILIES[i]->name;
    int rc = yaml_map_fields(&ld->y, n, "families", names, N_FAMILIES, v);
    for (size_t i = 0; rc == RK_OK && i < N_FAMILIES; i++)
        if (v[i])
            rc = yaml_get_bool(&ld->y, v[i], yaml_sub(p, "families", names[i]), &sw->on[i]);
    return rc;
}

const config_section families_section = {.key = "families",
                                         .size = sizeof(family_switches),
                                         .defaults = switches_defaults,
                                         .parse = switches_parse};

size_t config_family_section_count(void)
{
    size_t n = 1;
    for (size_t i = 0; i < N_FAMILIES; i++)
        n += FAMILIES[i]->section != NULL;
    return n;
}

const config_section *config_family_section(size_t i)
{
    if (i == 0)
        return &families_section;
    for (size_t k = 0; k < N_FAMILIES; k++)
        if (FAMILIES[k]->section && --i == 0)
            return FAMILIES[k]->section;
    return NULL;
}

size_t families_count(void)
{
    return N_FAMILIES;
}

const family *families_at(size_t i)
{
    return i < N_FAMILIES ? FAMILIES[i] : NULL;
}

bool families_on(const config *cfg, const family *f)
{
    const family_switches *sw = config_ext(cfg, &families_section);
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (FAMILIES[i] == f)
            return sw->on[i];
    return false;
}

bool families_same_switches(const config *a, const config *b)
{
    return memcmp(config_ext(a, &families_section), config_ext(b, &families_section),
                  sizeof(family_switches)) == 0;
}

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
        if (!families_on(cfg, f))
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
        int rc = families_on(cfg, f) && f->rules ? f->rules(cfg, out, why, cap) : RK_OK;
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
