/* families.c - the table of route families, which are served (`families:`,
 * ROOMKEY_FAMILIES, and each family's `missing` hook for the ones neither
 * names), and the families' config sections handed to config_load. Adding
 * a family: its own file (a `const family`, with its config section), one
 * line here, its docs and its tests. */
#include "families.h"
#include "../config/section.h"
#include "../util/err.h"
#include "../util/log.h"

#include <stdio.h>
#include <string.h>

static const family *const FAMILIES[] = {
    &family_livekit, &family_voice_agent, &family_token_source, &family_supabase, &family_meetings,
};

#define N_FAMILIES   (sizeof FAMILIES / sizeof FAMILIES[0])
#define MAX_FAMILIES 15 /* one section each, besides `families:` itself */

_Static_assert(N_FAMILIES <= MAX_FAMILIES, "too many families for the config's sections");

/* ---- `families:`, ROOMKEY_FAMILIES and the families' own sections ------- */

/* How a family was switched: not at all (then it is on when configured),
 * on or off. */
enum { SWITCH_UNSET, SWITCH_ON, SWITCH_OFF };

/* Which families are served, by position in FAMILIES: `families:` or
 * ROOMKEY_FAMILIES (which replaces it) set `how`; validate resolves `on`. */
typedef struct family_switches {
    unsigned char how[MAX_FAMILIES];
    bool from_env; /* ROOMKEY_FAMILIES set `how` */
    bool on[MAX_FAMILIES];
} family_switches;

extern const config_section families_section;

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
    for (size_t i = 0; rc == RK_OK && i < N_FAMILIES; i++) {
        bool on = false;
        if (v[i] &&
            (rc = yaml_get_bool(&ld->y, v[i], yaml_sub(p, "families", names[i]), &on)) == RK_OK)
            sw->how[i] = on ? SWITCH_ON : SWITCH_OFF;
    }
    return rc;
}

/* env_add switches on the family named item[0..len) (ROOMKEY_FAMILIES). */
static int env_add(config_loader *ld, const char *where, const char *item, size_t len)
{
    family_switches *sw = config_ext_mut(ld->cfg, &families_section);
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (strlen(FAMILIES[i]->name) == len && memcmp(FAMILIES[i]->name, item, len) == 0) {
            sw->how[i] = SWITCH_ON;
            return RK_OK;
        }
    char known[160] = "";
    for (size_t i = 0; i < N_FAMILIES; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 FAMILIES[i]->name);
    return yaml_fail(&ld->y, RK_EINVAL, "%s: no route family named \"%.*s\" (known: %s)", where,
                     (int)(len > 64 ? 64 : len), item, known);
}

/* switches_env applies ROOMKEY_FAMILIES: exactly the families it names are
 * served, whatever `families:` says. */
static int switches_env(config_loader *ld)
{
    if (!config_env("ROOMKEY_FAMILIES"))
        return RK_OK;
    family_switches *sw = config_ext_mut(ld->cfg, &families_section);
    for (size_t i = 0; i < N_FAMILIES; i++)
        sw->how[i] = SWITCH_OFF;
    sw->from_env = true;
    return config_env_list(ld, "ROOMKEY_FAMILIES", env_add);
}

/* switches_validate resolves which families are served: a family switched
 * on must be configured (its `missing` hook says what it lacks); one not
 * switched is served when it is configured. */
static int switches_validate(config_loader *ld)
{
    family_switches *sw = config_ext_mut(ld->cfg, &families_section);
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const family *f = FAMILIES[i];
        const char *missing = f->missing ? f->missing(ld->cfg) : NULL;
        if (sw->how[i] == SWITCH_ON && missing && sw->from_env)
            return yaml_fail(&ld->y, RK_EINVAL,
                             "env: ROOMKEY_FAMILIES names %s, but the %s family is not "
                             "configured: set %s",
                             f->name, f->name, missing);
        if (sw->how[i] == SWITCH_ON && missing)
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: families.%s is true, but the %s family is not configured: "
                             "set %s",
                             f->name, f->name, missing);
        sw->on[i] = sw->how[i] == SWITCH_ON || (sw->how[i] == SWITCH_UNSET && !missing);
    }
    return RK_OK;
}

const config_section families_section = {.key = "families",
                                         .size = sizeof(family_switches),
                                         .parse = switches_parse,
                                         .env = switches_env,
                                         .validate = switches_validate};

/* The families' sections, then `families:` last: its validate asks each
 * family whether it is configured, once every family section has run. */
size_t config_family_section_count(void)
{
    size_t n = 1;
    for (size_t i = 0; i < N_FAMILIES; i++)
        n += FAMILIES[i]->section != NULL;
    return n;
}

const config_section *config_family_section(size_t i)
{
    for (size_t k = 0; k < N_FAMILIES; k++)
        if (FAMILIES[k]->section && i-- == 0)
            return FAMILIES[k]->section;
    return i == 0 ? &families_section : NULL;
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
    const family_switches *x = config_ext(a, &families_section);
    const family_switches *y = config_ext(b, &families_section);
    return memcmp(x->on, y->on, sizeof x->on) == 0;
}

size_t families_names(const config *cfg, bool on, char *buf, size_t cap)
{
    size_t n = 0, len = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t i = 0; i < N_FAMILIES && cap; i++) {
        const family *f = FAMILIES[i];
        if (families_on(cfg, f) != on)
            continue;
        const char *missing = on || !f->missing ? NULL : f->missing(cfg);
        int w = snprintf(buf + len, cap - len, "%s%s%s%s%s", n ? ", " : "", f->name,
                         missing ? " (not configured: set " : "", missing ? missing : "",
                         missing ? ")" : "");
        if (w < 0 || (size_t)w >= cap - len) {
            buf[len] = '\0'; /* cut short after the last name that fit */
            break;
        }
        len += (size_t)w;
        n++;
    }
    return n;
}

/* admits_anonymous reports whether f, served by cfg, admits callers
 * without credentials now (its anonymous_ok hook reads only the config). */
static bool admits_anonymous(const config *cfg, const family *f)
{
    const api_ctx api = {.cfg = cfg};
    return f->auth == FAMILY_AUTH_ANON_ROOMS && f->anonymous_ok && f->anonymous_ok(&api);
}

void families_check(const config *cfg, families_gaps *g)
{
    memset(g, 0, sizeof *g);
    g->no_key = !cfg->keys || keyring_count(cfg->keys) == 0;
    g->no_family = g->no_caller = g->no_url_only = true;
    size_t len = 0;
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const family *f = FAMILIES[i];
        if (!families_on(cfg, f))
            continue;
        g->no_family = false;
        if (admits_anonymous(cfg, f))
            g->no_caller = false;
        if (!f->needs_url || cfg->livekit_url[0]) {
            g->no_url_only = false;
            continue;
        }
        g->no_url = true;
        int w =
            snprintf(g->need_url + len, sizeof g->need_url - len, "%s%s", len ? ", " : "", f->name);
        if (w > 0 && (size_t)w < sizeof g->need_url - len)
            len += (size_t)w;
        else
            g->need_url[len] = '\0'; /* cut short after the last name that fit */
    }
    if (cfg->n_issuers || cfg->n_apikeys)
        g->no_caller = false;
    if (g->no_family)
        g->no_caller = g->no_url_only = false; /* said once, as no_family */
}

bool families_hopeless(const families_gaps *g)
{
    return g->no_key || g->no_family || g->no_caller || g->no_url_only;
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
    char on[FAMILIES_NAMES_CAP], off[FAMILIES_NAMES_CAP];
    families_names(cfg, true, on, sizeof on);
    families_names(cfg, false, off, sizeof off);
    log_event("info", "families", "served", on, "off", off, NULL);
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
