/* console.c - `console:`, the admin console's switch (docs/console.md). */
#include "section.h"
#include "../util/err.h"

/* parse_console reads `console:` (the admin console, docs/console.md). */
static int parse_console(config_loader *ld, const ynode *n)
{
    static const char *const names[] = {"enabled"};
    const ynode *v[1];
    char p[YAML_PATH_CAP];
    int rc = yaml_map_fields(&ld->y, n, "console", names, 1, v);
    if (!rc && v[0])
        rc = yaml_get_bool(&ld->y, v[0], yaml_sub(p, "console", "enabled"),
                           &ld->cfg->console.enabled);
    return rc;
}

const config_section config_console_section = {.key = "console", .parse = parse_console};
