/* console.c - `console:`, the admin console's switch (docs/console.md). */
#include "section.h"
#include "../util/err.h"

/* parse_console reads `console:` (the admin console, docs/console.md). */
static int parse_console(config_loader *ld, const ynode *n)
{
    static const char *const names[] = {"enabled"};
    yaml_fields f;
    yaml_fields_open(&f, &ld->y, n, "console", names, 1);
    return yaml_field_bool(&f, 0, &ld->cfg->console.enabled);
}

const config_section config_console_section = {.key = "console", .parse = parse_console};
