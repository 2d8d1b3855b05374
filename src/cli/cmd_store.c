/* cmd_store.c - `roomkey room|member|audit|meeting`: manage the rooms,
 * memberships, audit log and meetings in the store (store.h). The database
 * (a SQLite file or a postgres:// URL) comes from --database, else
 * ROOMKEY_DATABASE, else "roomkey.db"; it may be changed this way while the
 * server runs. */
#include "../api/live.h"
#include "../api/meetings.h"
#include "../store/store.h"
#include "../token/minter.h"
#include "../util/clock.h"
#include "../util/duration.h"
#include "../util/err.h"
#include "../util/utf8.h"
#include "cli.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_room(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_meeting(int argc, char **argv);

#define DEFAULT_DATABASE "roomkey.db"

static const char ROOM_HELP[] = "Usage: roomkey room create|list|show|delete [OPTIONS]\n"
                                "\n"
                                "  room create NAME     add a room\n"
                                "  room list            list the rooms\n"
                                "  room show NAME       print one room (by name or alias) as JSON\n"
                                "  room delete NAME     delete a room and its memberships\n"
                                "\n"
                                "  roomkey room COMMAND --help   help for one command\n";

static const char ROOM_CREATE_HELP[] =
    "Usage: roomkey room create NAME [OPTIONS]\n"
    "\n"
    "Add a room. NAME is the LiveKit room name.\n"
    "\n"
    "  --alias ALIAS            another unique name for the room (e.g. a channel id)\n"
    "  --mode MODE              who may join: members (default; only subjects with a\n"
    "                           membership) or authenticated (any authenticated caller)\n"
    "  --default-role ROLE      role when no membership gives one (default \"member\";\n"
    "                           \"\" for none). Roles: 1-64 of a-z 0-9 _ -\n"
    "  --max-participants N     participant cap (default 0 = no limit)\n"
    "  --max-ttl DURATION       longest token lifetime for the room, Go-style: 10m, 2h\n"
    "                           (default 0 = no room-specific cap; max 720h)\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char ROOM_LIST_HELP[] =
    "Usage: roomkey room list [OPTIONS]\n"
    "\n"
    "List the rooms, ordered by name.\n"
    "\n"
    "  --json                   print a JSON array\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char ROOM_SHOW_HELP[] =
    "Usage: roomkey room show NAME [OPTIONS]\n"
    "\n"
    "Print a room, found by name or alias, with its member count as JSON.\n"
    "\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char ROOM_DELETE_HELP[] =
    "Usage: roomkey room delete NAME [OPTIONS]\n"
    "\n"
    "Delete a room (by its name, not its alias) and all its memberships.\n"
    "\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char MEMBER_HELP[] =
    "Usage: roomkey member add|remove|list [OPTIONS]\n"
    "\n"
    "  member add ROOM SUBJECT      give SUBJECT a membership of ROOM\n"
    "  member remove ROOM SUBJECT   take it away\n"
    "  member list ROOM             list ROOM's members\n"
    "\n"
    "  roomkey member COMMAND --help   help for one command\n";

static const char MEMBER_ADD_HELP[] =
    "Usage: roomkey member add ROOM SUBJECT [OPTIONS]\n"
    "\n"
    "Give SUBJECT (a session subject or API key id) a membership of ROOM (name or\n"
    "alias). An existing membership gets the new role.\n"
    "\n"
    "  --role ROLE              role in the room (default: the room's default role).\n"
    "                           Roles: 1-64 of a-z 0-9 _ -\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char MEMBER_REMOVE_HELP[] =
    "Usage: roomkey member remove ROOM SUBJECT [OPTIONS]\n"
    "\n"
    "Remove SUBJECT's membership of ROOM (name or alias).\n"
    "\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char MEMBER_LIST_HELP[] =
    "Usage: roomkey member list ROOM [OPTIONS]\n"
    "\n"
    "List the members of ROOM (name or alias), ordered by subject.\n"
    "\n"
    "  --json                   print a JSON array\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char AUDIT_HELP[] =
    "Usage: roomkey audit list|prune [OPTIONS]\n"
    "\n"
    "  audit list                 list issued tokens, newest first\n"
    "  audit prune --before DATE  delete the records issued before DATE\n"
    "\n"
    "  roomkey audit COMMAND --help   help for a command\n";

static const char AUDIT_PRUNE_HELP[] =
    "Usage: roomkey audit prune --before DATE [OPTIONS]\n"
    "\n"
    "Delete the audit records of tokens issued before DATE, oldest first, in\n"
    "steps of at most N records. Each step is one short transaction and the\n"
    "store's write lock is free between steps, so a running `roomkey serve`\n"
    "keeps issuing tokens meanwhile. The prune ends at the first step that\n"
    "finds no record older than DATE.\n"
    "\n"
    "  --before DATE            UTC: 2026-01-31 (midnight) or 2026-01-31T12:00:00Z\n"
    "  --batch N                records per step (1-100000, default 500)\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char AUDIT_LIST_HELP[] =
    "Usage: roomkey audit list [OPTIONS]\n"
    "\n"
    "List the audit records of issued tokens, newest first.\n"
    "\n"
    "  --room NAME              only tokens for this LiveKit room name\n"
    "  --subject SUBJECT        only tokens this subject asked for\n"
    "  --since DURATION         only tokens issued in the last DURATION (e.g. 1h, 30m)\n"
    "  --limit N                at most N records (1-10000, default 100)\n"
    "  --before-id ID           only records older than ID (to page on)\n"
    "  --json                   print a JSON array\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

/* ---- helpers ---------------------------------------------------------- */

/* database_path returns the path from --database (db, may be NULL), else
 * ROOMKEY_DATABASE, else the default. Not allocated. */
static const char *database_path(const char *db)
{
    if (db)
        return db;
    const char *env = getenv("ROOMKEY_DATABASE");
    return env && *env ? env : DEFAULT_DATABASE;
}

/* open_store opens the store at db (see database_path), waiting for a
 * database server at most ROOMKEY_DATABASE_TIMEOUT; the caller frees
 * *out with store_close. Prints the reason and returns CLI_FAIL on error. */
static int open_store(const char *db, store **out)
{
    char why[256] = "";
    const char *path = database_path(db);
    const char *t = getenv("ROOMKEY_DATABASE_TIMEOUT");
    int64_t secs = 0;
    if (t && store_timeout_parse(t, &secs)) {
        fprintf(stderr, "roomkey: ROOMKEY_DATABASE_TIMEOUT: expected a duration from 1s to 300s\n");
        return CLI_USAGE;
    }
    store_options so = {.timeout_ms = secs * 1000};
    int rc = store_open_with(path, &so, out, why, sizeof why);
    if (rc) {
        char shown[512];
        store_url_redact(path, shown, sizeof shown);
        fprintf(stderr, "roomkey: cannot open database \"%s\": %s\n", shown,
                why[0] ? why : rk_strerror(rc));
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* store_fail prints a generic store failure and returns the exit code. */
static int store_fail(const char *what, int rc)
{
    fprintf(stderr, "roomkey: cannot %s: %s\n", what, rk_strerror(rc));
    return rc == RK_EINVAL || rc == RK_ETOOBIG ? CLI_USAGE : CLI_FAIL;
}

/* valid_role: 1..STORE_MAX_ROLE characters of [a-z0-9_-]. */
static bool valid_role(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > STORE_MAX_ROLE)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* check_role prints why role (from flag) is invalid; CLI_OK when valid. */
static int check_role(const char *flag, const char *role)
{
    if (valid_role(role))
        return CLI_OK;
    fprintf(stderr, "roomkey: %s \"%s\" is not a role name (1-64 of a-z 0-9 _ -)\n", flag, role);
    return CLI_USAGE;
}

/* check_name prints why s (a room name, alias or subject: what) is
 * unusable: empty, longer than STORE_MAX_NAME bytes, or not UTF-8. */
static int check_name(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n == 0) {
        fprintf(stderr, "roomkey: the %s is empty\n", what);
        return CLI_USAGE;
    }
    if (n > STORE_MAX_NAME) {
        fprintf(stderr, "roomkey: the %s is longer than %d bytes\n", what, STORE_MAX_NAME);
        return CLI_USAGE;
    }
    if (!utf8_valid(s, n)) {
        fprintf(stderr, "roomkey: the %s is not valid UTF-8\n", what);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* fmt_duration writes seconds s as e.g. "1h30m", "45s", "-" for 0. */
static void fmt_duration(int64_t s, char *buf, size_t cap)
{
    if (s <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    int64_t h = s / 3600, m = s / 60 % 60, sec = s % 60;
    size_t len = 0;
    buf[0] = '\0';
    if (h && len < cap)
        len += (size_t)snprintf(buf + len, cap - len, "%" PRId64 "h", h);
    if (m && len < cap)
        len += (size_t)snprintf(buf + len, cap - len, "%" PRId64 "m", m);
    if (sec && len < cap)
        snprintf(buf + len, cap - len, "%" PRId64 "s", sec);
}

/* cell copies s into buf for a table, "-" when empty, each character
 * utf8_unsafe_len names replaced by '?' so stored values can't drive the
 * terminal or reorder a line. */
static void cell(const char *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", *s ? s : "-");
    size_t o = 0;
    for (size_t i = 0; buf[i];) {
        size_t n = utf8_unsafe_len(buf + i);
        buf[o++] = n ? '?' : buf[i];
        i += n ? n : 1;
    }
    buf[o] = '\0';
}

/* A cell formatter writes row i, column col of rows into buf. */
typedef void (*cell_fn)(const void *rows, size_t i, size_t col, char *buf, size_t cap);

/* print_table prints a header and n rows, columns padded to their widest
 * cell (measured in bytes). */
static void print_table(const char *const *hdr, size_t ncols, const void *rows, size_t n,
                        cell_fn fn)
{
    size_t width[16] = {0};
    char buf[2 * STORE_MAX_NAME + 8];
    for (size_t c = 0; c < ncols; c++)
        width[c] = strlen(hdr[c]);
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < ncols; c++) {
            fn(rows, i, c, buf, sizeof buf);
            size_t w = strlen(buf);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t i = 0; i <= n; i++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *s = hdr[c];
            if (i > 0) {
                fn(rows, i - 1, c, buf, sizeof buf);
                s = buf;
            }
            if (c + 1 < ncols)
                printf("%-*s  ", (int)width[c], s);
            else
                printf("%s\n", s);
        }
    }
}

/* jstr returns a new JSON string of s, or null when s isn't UTF-8 (the
 * store keeps bytes it did not write through this CLI as they are). */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s);
    return v ? v : json_null();
}

/* A row-to-JSON function: a new object for rows[i]; NULL when out of memory. */
typedef json_t *(*row_json_fn)(const void *rows, size_t i);

/* json_rows returns a new JSON array of fn(rows, i) for every i < n; NULL
 * when out of memory. */
static json_t *json_rows(const void *rows, size_t n, row_json_fn fn)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (json_array_append_new(arr, fn(rows, i))) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

static const char *mode_name(int mode)
{
    return mode == STORE_MODE_AUTHENTICATED ? "authenticated" : "members";
}

/* room_json returns a new JSON object for r; NULL when out of memory. */
static json_t *room_json(const store_room *r)
{
    return json_pack("{s:o, s:o, s:s, s:o, s:I, s:I, s:I}", "name", jstr(r->name), "alias",
                     r->alias[0] ? jstr(r->alias) : json_null(), "mode", mode_name(r->mode),
                     "default_role", r->default_role[0] ? jstr(r->default_role) : json_null(),
                     "max_participants", (json_int_t)r->max_participants, "max_ttl",
                     (json_int_t)r->max_ttl, "created_at", (json_int_t)r->created_at);
}

/* room_row_json is room_json for rows[i] of a store_room array. */
static json_t *room_row_json(const void *rows, size_t i)
{
    return room_json((const store_room *)rows + i);
}

/* found turns rc, the result of reading the `what` named name, into an
 * exit code, printing why it failed. */
static int found(int rc, const char *what, const char *name)
{
    char doing[32];
    if (rc == RK_ENOTFOUND) {
        fprintf(stderr, "roomkey: %s \"%s\" not found\n", what, name);
        return CLI_FAIL;
    }
    snprintf(doing, sizeof doing, "read the %s", what);
    return rc ? store_fail(doing, rc) : CLI_OK;
}

/* find_room looks ROOM up by name or alias into *r, printing why not. */
static int find_room(store *st, const char *name, store_room *r)
{
    return found(store_room_get(st, name, r), "room", name);
}

/* find_meeting reads meeting id into *m, printing why not. */
static int find_meeting(store *st, const char *id, store_meeting *m)
{
    return found(store_meeting_get(st, id, m), "meeting", id);
}

/* role_flag takes a --*role value: a role name (CLI_USAGE with the reason
 * when it is not; "" is allowed for --default-role, meaning none). */
static int role_flag(void *ctx, const char *name, char *value)
{
    char flag[32];
    snprintf(flag, sizeof flag, "--%s", name);
    if ((*value || strcmp(name, "default-role") != 0) && check_role(flag, value))
        return CLI_USAGE;
    *(const char **)ctx = value;
    return CLI_OK;
}

/* check_meeting_id prints why id is not a meeting id; CLI_OK when it is. */
static int check_meeting_id(const char *id)
{
    if (meeting_id_valid(id))
        return CLI_OK;
    fprintf(stderr, "roomkey: \"%s\" is not a meeting id (1-%d of A-Z a-z 0-9 _ -)\n", id,
            STORE_MAX_MEETING_ID);
    return CLI_USAGE;
}

/* What a store command's first argument names, found before its body
 * runs (cmd_with_store). */
typedef enum cmd_target {
    ON_STORE,   /* nothing: the store alone */
    ON_ROOM,    /* a room, by name or alias */
    ON_MEETING, /* a meeting, by id */
} cmd_target;

/* What a store command takes: its name and help (cli_flags), its usage
 * line and positional arguments, what each argument is (check_arg),
 * whether it takes --json, and what its first argument names. */
typedef struct cmd_spec {
    const char *cmd; /* e.g. "room show", for messages */
    const char *help;
    const char *usage; /* shown with a wrong number of arguments */
    int nargs;         /* 0..2 */
    const char *kinds[2];
    bool json;
    cmd_target on;
} cmd_spec;

/* One run of a store command: its --database and --json flags, its
 * positional arguments (borrowed from argv), its store (the command
 * closes it) and, with cmd_with_store, its target. */
typedef struct cmd_run {
    const char *db;
    bool json;
    char **args;
    store *st;
    store_room room;       /* ON_ROOM */
    store_meeting meeting; /* ON_MEETING */
} cmd_run;

/* check_arg prints why s, a `what`, is unusable: a meeting id
 * (check_meeting_id), else a name (check_name). */
static int check_arg(const char *what, const char *s)
{
    return strcmp(what, "meeting id") == 0 ? check_meeting_id(s) : check_name(what, s);
}

/* cmd_args parses argv's flags (--database, --json with s->json, and
 * extra[0..n)) into r and the extra flags' targets, and checks the
 * positional arguments: CLI_OK, or the exit code once it printed why (or
 * the help). */
static int cmd_args(int argc, char **argv, const cmd_spec *s, const cli_flag *extra, size_t n,
                    cmd_run *r)
{
    cli_flag flags[CLI_MAX_FLAGS] = {{"database", .str = &r->db}};
    size_t nf = 1;
    if (s->json)
        flags[nf++] = (cli_flag){"json", .on = &r->json};
    for (size_t i = 0; i < n && nf < CLI_MAX_FLAGS; i++)
        flags[nf++] = extra[i];
    int first = 0;
    int status = cli_flags(argc, argv, s->cmd, s->help, flags, nf, &first);
    if (status || (status = cli_positional(argc, argv, first, s->nargs, s->usage)))
        return cli_exit(status);
    for (int i = 0; i < s->nargs; i++)
        if (check_arg(s->kinds[i], argv[first + i]))
            return CLI_USAGE;
    r->args = argv + first;
    return CLI_OK;
}

/* cmd_open is cmd_args, then open_store: on CLI_OK the caller closes
 * r->st with store_close. */
static int cmd_open(int argc, char **argv, const cmd_spec *s, const cli_flag *extra, size_t n,
                    cmd_run *r)
{
    int status = cmd_args(argc, argv, s, extra, n, r);
    return status ? status : open_store(r->db, &r->st);
}

/* A store command's body: it runs with r->st open and r's target found,
 * and returns the exit code; arg is the command's own (its flags' values). */
typedef int (*cmd_body)(cmd_run *r, void *arg);

/* cmd_with_store is cmd_open, then the lookup of s->on's target (printing
 * why it failed), then body(r, arg); it closes the store after. */
static int cmd_with_store(int argc, char **argv, const cmd_spec *s, const cli_flag *extra, size_t n,
                          cmd_body body, void *arg)
{
    cmd_run run = {0};
    int status = cmd_open(argc, argv, s, extra, n, &run);
    if (status)
        return status;
    if (s->on == ON_ROOM)
        status = find_room(run.st, run.args[0], &run.room);
    else if (s->on == ON_MEETING)
        status = find_meeting(run.st, run.args[0], &run.meeting);
    if (status == CLI_OK)
        status = body(&run, arg);
    store_close(run.st);
    return status;
}

/* print_with prints object o with key set to v, like cli_print_json. Both
 * are new references it takes (NULL: out of memory, then CLI_FAIL). */
static int print_with(json_t *o, const char *key, json_t *v)
{
    if (!o)
        json_decref(v);
    else if (json_object_set_new(o, key, v)) { /* it releases v, also on failure */
        json_decref(o);
        o = NULL;
    }
    return cli_print_json(o);
}

/* print_rows prints rows[0..n) as a JSON array (to_json) or a table
 * (hdr[0..ncols), cell); CLI_OK, or CLI_FAIL when out of memory. */
static int print_rows(bool json, const void *rows, size_t n, row_json_fn to_json,
                      const char *const *hdr, size_t ncols, cell_fn cell)
{
    if (json)
        return cli_print_json(json_rows(rows, n, to_json));
    print_table(hdr, ncols, rows, n, cell);
    return CLI_OK;
}

/* ---- room ------------------------------------------------------------- */

/* mode_flag takes --mode members|authenticated into the store_room at ctx. */
static int mode_flag(void *ctx, const char *name, char *value)
{
    store_room *r = ctx;
    (void)name;
    if (strcmp(value, "members") == 0)
        r->mode = STORE_MODE_MEMBERS;
    else if (strcmp(value, "authenticated") == 0)
        r->mode = STORE_MODE_AUTHENTICATED;
    else
        return cli_usage("--mode is members or authenticated, not \"%s\"\n", value);
    return CLI_OK;
}

/* max_ttl_flag takes --max-ttl DURATION (0: none) into the store_room at ctx. */
static int max_ttl_flag(void *ctx, const char *name, char *value)
{
    store_room *r = ctx;
    (void)name;
    if (strcmp(value, "0") == 0)
        r->max_ttl = 0;
    else if (duration_parse_seconds(value, &r->max_ttl) || r->max_ttl > MINTER_MAX_TTL)
        return cli_usage("--max-ttl \"%s\" is not a duration between 1s and 720h "
                         "(examples: 90s, 10m, 1h30m)\n",
                         value);
    return CLI_OK;
}

/* room_taken prints why room name (with alias, "" for none) could not be
 * created: its name or alias is already a room's name or alias. */
static void room_taken(store *st, const char *name, const char *alias)
{
    store_room old;
    if (store_room_get(st, name, &old) == RK_OK && strcmp(old.name, name) == 0)
        fprintf(stderr, "roomkey: room \"%s\" already exists\n", name);
    else if (store_room_get(st, name, &old) == RK_OK)
        fprintf(stderr, "roomkey: \"%s\" is already the alias of room \"%s\"\n", name, old.name);
    else if (*alias && store_room_get(st, alias, &old) == RK_OK && strcmp(old.name, alias) == 0)
        fprintf(stderr, "roomkey: alias \"%s\" is already the name of a room\n", alias);
    else if (*alias && store_room_get(st, alias, &old) == RK_OK)
        fprintf(stderr, "roomkey: alias \"%s\" is taken by room \"%s\"\n", alias, old.name);
    else
        fprintf(stderr, "roomkey: room \"%s\" already exists\n", name);
}

static int room_create(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "room create",
                                  .help = ROOM_CREATE_HELP,
                                  .usage = "roomkey room create NAME [OPTIONS]",
                                  .nargs = 1,
                                  .kinds = {"room name"}};
    const char *alias = "", *role = "member";
    store_room r = {.mode = STORE_MODE_MEMBERS};
    const cli_flag flags[] = {
        {"alias", .str = &alias},
        {"mode", .fn = mode_flag, .ctx = &r},
        {"default-role", .fn = role_flag, .ctx = &role},
        {"max-participants", .num = &r.max_participants, .min = 0, .max = INT32_MAX},
        {"max-ttl", .fn = max_ttl_flag, .ctx = &r},
    };
    cmd_run run = {0};
    int status = cmd_args(argc, argv, &spec, flags, sizeof flags / sizeof flags[0], &run);
    if (status)
        return status;
    const char *name = run.args[0];
    if (*alias && check_name("alias", alias))
        return CLI_USAGE;
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.alias, sizeof r.alias, "%s", alias);
    snprintf(r.default_role, sizeof r.default_role, "%s", role);
    store *st = NULL;
    if (open_store(run.db, &st))
        return CLI_FAIL;
    int rc = store_room_create(st, &r);
    if (rc == RK_ECONFLICT) {
        room_taken(st, name, alias);
        status = CLI_FAIL;
    } else if (rc) {
        status = store_fail("create the room", rc);
    } else {
        printf("created room %s\n", name);
    }
    store_close(st);
    return status;
}

static void room_cell(const void *rows, size_t i, size_t col, char *buf, size_t cap)
{
    const store_room *r = (const store_room *)rows + i;
    switch (col) {
    case 0:
        cell(r->name, buf, cap);
        break;
    case 1:
        cell(r->alias, buf, cap);
        break;
    case 2:
        cell(mode_name(r->mode), buf, cap);
        break;
    case 3:
        cell(r->default_role, buf, cap);
        break;
    case 4:
        fmt_duration(r->max_ttl, buf, cap);
        break;
    default:
        if (r->max_participants > 0)
            snprintf(buf, cap, "%" PRId64, r->max_participants);
        else
            snprintf(buf, cap, "-");
        break;
    }
}

static int room_list_body(cmd_run *r, void *arg)
{
    (void)arg;
    static const char *const hdr[] = {"NAME",         "ALIAS",   "MODE",
                                      "DEFAULT ROLE", "MAX TTL", "MAX PARTICIPANTS"};
    store_room *rooms = NULL;
    size_t n = 0;
    int rc = store_room_list(r->st, &rooms, &n);
    int status = rc ? store_fail("list the rooms", rc)
                    : print_rows(r->json, rooms, n, room_row_json, hdr, 6, room_cell);
    free(rooms);
    return status;
}

static int room_list(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "room list",
                                  .help = ROOM_LIST_HELP,
                                  .usage = "roomkey room list [--json]",
                                  .json = true};
    return cmd_with_store(argc, argv, &spec, NULL, 0, room_list_body, NULL);
}

static int room_show_body(cmd_run *r, void *arg)
{
    (void)arg;
    store_member *members = NULL;
    size_t n = 0;
    int rc = store_member_list(r->st, r->room.name, &members, &n);
    free(members);
    if (rc)
        return store_fail("count the members", rc);
    return print_with(room_json(&r->room), "member_count", json_integer((json_int_t)n));
}

static int room_show(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "room show",
                                  .help = ROOM_SHOW_HELP,
                                  .usage = "roomkey room show NAME",
                                  .nargs = 1,
                                  .kinds = {"room name"},
                                  .on = ON_ROOM};
    return cmd_with_store(argc, argv, &spec, NULL, 0, room_show_body, NULL);
}

static int room_delete_body(cmd_run *run, void *arg)
{
    (void)arg;
    int status = CLI_OK;
    const char *name = run->args[0];
    int rc = store_room_delete(run->st, name);
    if (rc == RK_OK && (rc = live_room_deleted(run->st, name, clock_now())))
        return store_fail("record the kicks of the deleted room's participants", rc);
    store_room r;
    if (rc == RK_ENOTFOUND && store_room_get(run->st, name, &r) == RK_OK)
        fprintf(stderr,
                "roomkey: room \"%s\" not found (\"%s\" is the alias of room \"%s\"; delete "
                "rooms by name)\n",
                name, name, r.name);
    else if (rc == RK_ENOTFOUND)
        fprintf(stderr, "roomkey: room \"%s\" not found\n", name);
    else if (rc)
        status = store_fail("delete the room", rc);
    else
        printf("deleted room %s\n", name);
    return rc == RK_ENOTFOUND ? CLI_FAIL : status;
}

static int room_delete(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "room delete",
                                  .help = ROOM_DELETE_HELP,
                                  .usage = "roomkey room delete NAME",
                                  .nargs = 1,
                                  .kinds = {"room name"}};
    return cmd_with_store(argc, argv, &spec, NULL, 0, room_delete_body, NULL);
}

int cmd_room(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"create", room_create},
        {"list", room_list},
        {"show", room_show},
        {"delete", room_delete},
    };
    return cli_dispatch(argc, argv, ROOM_HELP, cmds, sizeof cmds / sizeof cmds[0]);
}

/* ---- member ----------------------------------------------------------- */

/* member_add_body sets the membership; arg is the --role value (NULL: the
 * room's default role). */
static int member_add_body(cmd_run *run, void *arg)
{
    const char *role = *(const char **)arg;
    store *st = run->st;
    const char *room = run->args[0], *subject = run->args[1];
    const store_room *rm = &run->room;
    int status = CLI_OK;
    if (!role && !rm->default_role[0]) {
        fprintf(stderr, "roomkey: room \"%s\" has no default role; give --role\n", rm->name);
        return CLI_USAGE;
    }
    store_member m = {0}, old;
    snprintf(m.room, sizeof m.room, "%s", rm->name);
    snprintf(m.subject, sizeof m.subject, "%s", subject);
    snprintf(m.role, sizeof m.role, "%s", role ? role : rm->default_role);
    bool existed = store_member_get(st, m.room, m.subject, &old) == RK_OK;
    int rc = store_member_set(st, &m);
    if (rc == RK_ENOTFOUND) { /* deleted meanwhile */
        fprintf(stderr, "roomkey: room \"%s\" not found\n", room);
        status = CLI_FAIL;
    } else if (rc) {
        status = store_fail("set the membership", rc);
    } else if (existed && strcmp(old.role, m.role) != 0 &&
               (rc = live_member_role_changed(st, m.room, m.subject, old.role, m.role,
                                              clock_now()))) {
        status = store_fail("record the permission update", rc);
    } else if (existed) {
        printf("changed role of %s in room %s to %s\n", subject, m.room, m.role);
    } else {
        printf("added %s to room %s as %s\n", subject, m.room, m.role);
    }
    return status;
}

static int member_add(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "member add",
                                  .help = MEMBER_ADD_HELP,
                                  .usage = "roomkey member add ROOM SUBJECT [--role ROLE]",
                                  .nargs = 2,
                                  .kinds = {"room name", "subject"},
                                  .on = ON_ROOM};
    const char *role = NULL;
    const cli_flag flags[] = {{"role", .fn = role_flag, .ctx = &role}};
    return cmd_with_store(argc, argv, &spec, flags, 1, member_add_body, &role);
}

static int member_remove_body(cmd_run *run, void *arg)
{
    (void)arg;
    const char *room = run->room.name, *subject = run->args[1];
    int rc = store_member_remove(run->st, room, subject);
    if (rc == RK_ENOTFOUND) {
        fprintf(stderr, "roomkey: \"%s\" is not a member of room \"%s\"\n", subject, room);
        return CLI_FAIL;
    }
    if (rc)
        return store_fail("remove the membership", rc);
    if ((rc = live_member_removed(run->st, room, subject, clock_now())))
        return store_fail("record the kick of the removed member", rc);
    printf("removed %s from room %s\n", subject, room);
    return CLI_OK;
}

static int member_remove(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "member remove",
                                  .help = MEMBER_REMOVE_HELP,
                                  .usage = "roomkey member remove ROOM SUBJECT",
                                  .nargs = 2,
                                  .kinds = {"room name", "subject"},
                                  .on = ON_ROOM};
    return cmd_with_store(argc, argv, &spec, NULL, 0, member_remove_body, NULL);
}

/* member_json returns a new JSON object for membership rows[i]; NULL when
 * out of memory. */
static json_t *member_json(const void *rows, size_t i)
{
    const store_member *m = (const store_member *)rows + i;
    return json_pack("{s:o, s:o, s:o, s:I}", "room", jstr(m->room), "subject", jstr(m->subject),
                     "role", jstr(m->role), "created_at", (json_int_t)m->created_at);
}

static void member_cell(const void *rows, size_t i, size_t col, char *buf, size_t cap)
{
    const store_member *m = (const store_member *)rows + i;
    if (col == 0)
        cell(m->subject, buf, cap);
    else if (col == 1)
        cell(m->role, buf, cap);
    else if (clock_iso8601(m->created_at, buf, cap))
        snprintf(buf, cap, "%" PRId64, m->created_at);
}

static int member_list_body(cmd_run *run, void *arg)
{
    (void)arg;
    static const char *const hdr[] = {"SUBJECT", "ROLE", "ADDED"};
    store_member *members = NULL;
    size_t n = 0;
    int rc = store_member_list(run->st, run->room.name, &members, &n);
    int status = CLI_OK;
    if (rc == RK_ENOTFOUND) {
        fprintf(stderr, "roomkey: room \"%s\" not found\n", run->args[0]);
        status = CLI_FAIL;
    } else if (rc) {
        status = store_fail("list the members", rc);
    } else {
        status = print_rows(run->json, members, n, member_json, hdr, 3, member_cell);
    }
    free(members);
    return status;
}

static int member_list(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "member list",
                                  .help = MEMBER_LIST_HELP,
                                  .usage = "roomkey member list ROOM [--json]",
                                  .nargs = 1,
                                  .kinds = {"room name"},
                                  .json = true,
                                  .on = ON_ROOM};
    return cmd_with_store(argc, argv, &spec, NULL, 0, member_list_body, NULL);
}

/* ---- participant (live rooms) ----------------------------------------- */

static const char LIVE_PARTICIPANT_HELP[] =
    "Usage: roomkey participant list|kick [OPTIONS]\n"
    "\n"
    "  participant list ROOM [--json]        who is in the LiveKit room now (from webhooks)\n"
    "  participant kick ROOM IDENTITY [--ban DURATION]\n"
    "                                        remove IDENTITY from the room; with --ban, no\n"
    "                                        new token for it until DURATION (e.g. 10m) passed\n"
    "\n"
    "A running `roomkey serve` with LIVEKIT_HOST carries a kick out within a second.\n"
    "Options: --database URL (else ROOMKEY_DATABASE, else roomkey.db)\n";

static void presence_cell(const void *rows, size_t i, size_t col, char *buf, size_t cap)
{
    const store_presence *p = (const store_presence *)rows + i;
    const char *cells[] = {p->identity, p->sid, p->kind, p->name};
    if (col < 4) /* the name is the one the participant's token carries: theirs */
        cell(cells[col], buf, cap);
    else
        snprintf(buf, cap, "%lld", (long long)p->joined_at);
}

static int presence_json(const store_presence *p, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:I}", "identity", jstr(p[i].identity), "sid",
                              jstr(p[i].sid), "kind", jstr(p[i].kind), "name", jstr(p[i].name),
                              "joined_at", (json_int_t)p[i].joined_at);
        if (json_array_append_new(arr, o)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!text)
        return store_fail("print the participants", RK_ENOMEM);
    puts(text);
    free(text);
    return CLI_OK;
}

static int presence_list_body(cmd_run *run, void *arg)
{
    (void)arg;
    static const char *const hdr[] = {"IDENTITY", "SID", "KIND", "NAME", "JOINED_AT"};
    store_presence *ps = NULL;
    size_t n = 0;
    int status = CLI_OK;
    int rc = store_presence_list(run->st, run->room.name, &ps, &n);
    if (rc)
        status = store_fail("list the participants", rc);
    else if (run->json)
        status = presence_json(ps, n);
    else
        print_table(hdr, 5, ps, n, presence_cell);
    free(ps);
    return status;
}

static int presence_list(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "participant list",
                                  .help = LIVE_PARTICIPANT_HELP,
                                  .usage = "roomkey participant list ROOM [--json]",
                                  .nargs = 1,
                                  .kinds = {"room name"},
                                  .json = true,
                                  .on = ON_ROOM};
    return cmd_with_store(argc, argv, &spec, NULL, 0, presence_list_body, NULL);
}

/* ban_flag takes --ban DURATION (at most a year) into the int64_t at ctx. */
static int ban_flag(void *ctx, const char *name, char *value)
{
    (void)name;
    int64_t *ban = ctx;
    if (duration_parse_seconds(value, ban) != RK_OK || *ban <= 0 || *ban > 31536000)
        return cli_usage("--ban takes a duration such as 10m (at most a year)");
    return CLI_OK;
}

/* presence_kick_body records the kick; arg is the --ban seconds (0: none). */
static int presence_kick_body(cmd_run *run, void *arg)
{
    int64_t ban = *(const int64_t *)arg, now = clock_now();
    const char *identity = run->args[1];
    int rc =
        live_kick_record(run->st, run->room.name, identity, "admin_kick", ban ? now + ban : 0, now);
    if (rc)
        return store_fail("record the kick", rc);
    printf("kick of %s from room %s recorded%s\n", identity, run->room.name,
           ban ? " (banned for the duration given)" : "");
    return CLI_OK;
}

static int presence_kick(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "participant kick",
                                  .help = LIVE_PARTICIPANT_HELP,
                                  .usage =
                                      "roomkey participant kick ROOM IDENTITY [--ban DURATION]",
                                  .nargs = 2,
                                  .kinds = {"room name", "identity"},
                                  .on = ON_ROOM};
    int64_t ban = 0;
    const cli_flag flags[] = {{"ban", .fn = ban_flag, .ctx = &ban}};
    return cmd_with_store(argc, argv, &spec, flags, 1, presence_kick_body, &ban);
}

int cmd_participant(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"list", presence_list},
        {"kick", presence_kick},
    };
    return cli_dispatch(argc, argv, LIVE_PARTICIPANT_HELP, cmds, sizeof cmds / sizeof cmds[0]);
}

int cmd_member(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"add", member_add},
        {"remove", member_remove},
        {"list", member_list},
    };
    return cli_dispatch(argc, argv, MEMBER_HELP, cmds, sizeof cmds / sizeof cmds[0]);
}

/* ---- audit ------------------------------------------------------------ */

static void audit_cell(const void *rows, size_t i, size_t col, char *buf, size_t cap)
{
    const store_audit *a = (const store_audit *)rows + i;
    switch (col) {
    case 0:
        snprintf(buf, cap, "%" PRId64, a->id);
        break;
    case 1:
        if (clock_iso8601(a->issued_at, buf, cap))
            snprintf(buf, cap, "%" PRId64, a->issued_at);
        break;
    case 2:
        cell(a->subject, buf, cap);
        break;
    case 3:
        cell(a->identity, buf, cap);
        break;
    case 4:
        cell(a->room, buf, cap);
        break;
    case 5:
        cell(a->role, buf, cap);
        break;
    case 6:
        cell(a->route, buf, cap);
        break;
    default:
        cell(a->client_ip, buf, cap);
        break;
    }
}

/* audit_json returns a new JSON object for rows[i]; grants are embedded as JSON
 * when they parse, else as a string. NULL when out of memory. */
static json_t *audit_json(const void *rows, size_t i)
{
    const store_audit *a = (const store_audit *)rows + i;
    json_t *grants = json_loads(a->grants, JSON_DECODE_ANY, NULL);
    if (!grants)
        grants = a->grants[0] ? jstr(a->grants) : json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o}", "id",
                     (json_int_t)a->id, "jti", jstr(a->jti), "subject", jstr(a->subject),
                     "identity", jstr(a->identity), "room", jstr(a->room), "role", jstr(a->role),
                     "grants", grants, "issued_at", (json_int_t)a->issued_at, "exp",
                     (json_int_t)a->exp, "client_ip", jstr(a->client_ip), "route", jstr(a->route));
}

/* name_flag takes --room / --subject (a room name or subject) into *ctx. */
static int name_flag(void *ctx, const char *name, char *value)
{
    if (check_name(strcmp(name, "room") == 0 ? "room name" : name, value))
        return CLI_USAGE;
    *(const char **)ctx = value;
    return CLI_OK;
}

/* since_flag takes --since DURATION (ago) into the filter at ctx. */
static int since_flag(void *ctx, const char *name, char *value)
{
    store_audit_filter *f = ctx;
    int64_t v;
    (void)name;
    if (duration_parse_seconds(value, &v))
        return cli_usage("--since takes a duration ago such as 30m, 1h or 24h, not \"%s\"\n",
                         value);
    f->since = clock_now() - v;
    if (f->since < 1)
        f->since = 1;
    return CLI_OK;
}

/* audit_print prints recs[0..n) as JSON or a table (with a hint to page on
 * when the limit was reached). */
static int audit_print(const store_audit *recs, size_t n, bool json, size_t limit)
{
    static const char *const hdr[] = {"ID",   "ISSUED", "SUBJECT", "IDENTITY",
                                      "ROOM", "ROLE",   "ROUTE",   "CLIENT IP"};
    int status = print_rows(json, recs, n, audit_json, hdr, 8, audit_cell);
    if (!json && n == limit)
        fprintf(stderr, "roomkey: more records may follow: add --before-id %" PRId64 "\n",
                recs[n - 1].id);
    return status;
}

/* An audit list's filter and its --limit as read (a cli_flag num). */
typedef struct audit_query {
    store_audit_filter f;
    int64_t limit;
} audit_query;

/* audit_list_body lists the records arg (an audit_query) selects. */
static int audit_list_body(cmd_run *run, void *arg)
{
    audit_query *q = arg;
    const store_audit_filter *f = &q->f;
    q->f.limit = (size_t)q->limit;
    store_audit *recs = NULL;
    size_t n = 0;
    int rc = store_audit_list(run->st, f, &recs, &n);
    int status =
        rc ? store_fail("list the audit records", rc) : audit_print(recs, n, run->json, f->limit);
    free(recs);
    return status;
}

static int audit_list(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "audit list",
                                  .help = AUDIT_LIST_HELP,
                                  .usage = "roomkey audit list [OPTIONS]",
                                  .json = true};
    audit_query q = {.limit = 100};
    const cli_flag flags[] = {
        {"room", .fn = name_flag, .ctx = &q.f.room},
        {"subject", .fn = name_flag, .ctx = &q.f.subject},
        {"since", .fn = since_flag, .ctx = &q.f},
        {"limit", .num = &q.limit, .min = 1, .max = STORE_MAX_LIST},
        {"before-id", .num = &q.f.before_id, .min = 1, .max = INT64_MAX},
    };
    return cmd_with_store(argc, argv, &spec, flags, sizeof flags / sizeof flags[0], audit_list_body,
                          &q);
}

/* A prune's --before date: the text (for the report) and the time. */
typedef struct prune_date {
    const char *text;
    int64_t at;
} prune_date;

/* date_flag takes --before DATE (UTC) into the prune_date at ctx. */
static int date_flag(void *ctx, const char *name, char *value)
{
    prune_date *d = ctx;
    (void)name;
    if (clock_parse_date(value, &d->at))
        return cli_usage("--before takes a UTC date such as 2026-01-31 or "
                         "2026-01-31T12:00:00Z, not \"%s\"\n",
                         value);
    d->text = value;
    return CLI_OK;
}

static int audit_prune(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "audit prune",
                                  .help = AUDIT_PRUNE_HELP,
                                  .usage = "roomkey audit prune --before DATE [OPTIONS]"};
    prune_date date = {0};
    int64_t batch = STORE_PRUNE_WINDOW;
    const cli_flag flags[] = {
        {"before", .fn = date_flag, .ctx = &date},
        {"batch", .num = &batch, .min = 1, .max = STORE_PRUNE_MAX_WINDOW},
    };
    cmd_run run = {0};
    int status = cmd_args(argc, argv, &spec, flags, 2, &run);
    if (status)
        return status;
    if (!date.text)
        return cli_usage("audit prune needs --before DATE\n");
    store *st = NULL;
    if (open_store(run.db, &st))
        return CLI_FAIL;
    size_t n = 0;
    int rc = store_audit_prune(st, date.at, (size_t)batch, NULL, NULL, &n);
    store_close(st);
    printf("deleted %zu audit records issued before %s\n", n, date.text);
    return rc ? store_fail("prune the audit records", rc) : CLI_OK;
}

int cmd_audit(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"list", audit_list},
        {"prune", audit_prune},
    };
    return cli_dispatch(argc, argv, AUDIT_HELP, cmds, sizeof cmds / sizeof cmds[0]);
}

/* ---- meeting ---------------------------------------------------------- */

static const char MEETING_HELP[] =
    "Usage: roomkey meeting create|list|show|delete|participant [OPTIONS]\n"
    "\n"
    "Meetings of the meetings API contract (docs/api-meetings.md): each one owns the room\n"
    "\"meeting-ID\", whose members are its creator and participants.\n"
    "\n"
    "  meeting create ID                      add a meeting (and its room)\n"
    "  meeting list                           list the meetings\n"
    "  meeting show ID                        print one meeting with its participants as JSON\n"
    "  meeting delete ID                      delete a meeting, its room and participants\n"
    "  meeting participant add ID SUBJECT     let SUBJECT join the meeting\n"
    "  meeting participant remove ID SUBJECT  take that away\n"
    "\n"
    "  roomkey meeting COMMAND --help   help for one command\n";

static const char MEETING_CREATE_HELP[] =
    "Usage: roomkey meeting create ID --creator SUBJECT --heading TEXT [OPTIONS]\n"
    "\n"
    "Add meeting ID (1-64 of A-Z a-z 0-9 _ -) with its room \"meeting-ID\"; the\n"
    "creator becomes its first participant.\n"
    "\n"
    "  --creator SUBJECT        the creator's session subject (required)\n"
    "  --heading TEXT           the meeting's heading (required, at most 256 bytes)\n"
    "  --description TEXT       its description (at most 2048 bytes; default empty)\n"
    "  --status STATUS          PENDING, SCHEDULED, PROCESSING (default), COMPLETED or\n"
    "                           CANCELED\n"
    "  --creator-role ROLE      the creator's role in the room (default member)\n"
    "  --participant-role ROLE  the participants' default role (default member)\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char MEETING_LIST_HELP[] =
    "Usage: roomkey meeting list [OPTIONS]\n"
    "\n"
    "List the meetings, ordered by id.\n"
    "\n"
    "  --after ID               only meetings whose id sorts after ID (to page on)\n"
    "  --limit N                at most N meetings (1-1000, default 100)\n"
    "  --json                   print a JSON array\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char MEETING_SHOW_HELP[] =
    "Usage: roomkey meeting show ID [OPTIONS]\n"
    "\n"
    "Print meeting ID with its room and participants as JSON.\n"
    "\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char MEETING_DELETE_HELP[] =
    "Usage: roomkey meeting delete ID [OPTIONS]\n"
    "\n"
    "Delete meeting ID with its room, participants and seats.\n"
    "\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char PARTICIPANT_HELP[] =
    "Usage: roomkey meeting participant add|remove ID SUBJECT [OPTIONS]\n"
    "\n"
    "  participant add ID SUBJECT      let SUBJECT join meeting ID\n"
    "  participant remove ID SUBJECT   take that away (not from the creator)\n"
    "\n"
    "  roomkey meeting participant COMMAND --help   help for one command\n";

static const char PARTICIPANT_ADD_HELP[] =
    "Usage: roomkey meeting participant add ID SUBJECT [OPTIONS]\n"
    "\n"
    "Make SUBJECT (a session subject) a participant of meeting ID. An existing\n"
    "participant gets the new role.\n"
    "\n"
    "  --role ROLE              role in the meeting's room (default: the meeting's\n"
    "                           participant role)\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

static const char PARTICIPANT_REMOVE_HELP[] =
    "Usage: roomkey meeting participant remove ID SUBJECT [OPTIONS]\n"
    "\n"
    "Remove participant SUBJECT from meeting ID. The creator can't be removed\n"
    "(delete the meeting instead).\n"
    "\n"
    "  --database DB            SQLite file or postgres:// URL (or ROOMKEY_DATABASE;\n"
    "                           default roomkey.db)\n";

/* check_text prints why s (flag's value) is not UTF-8 text of at most max
 * bytes, non-empty when required. */
static int check_text(const char *flag, const char *s, size_t max, bool required)
{
    size_t n = strlen(s);
    if (required && n == 0)
        fprintf(stderr, "roomkey: %s is empty\n", flag);
    else if (n > max)
        fprintf(stderr, "roomkey: %s is longer than %zu bytes\n", flag, max);
    else if (!utf8_valid(s, n))
        fprintf(stderr, "roomkey: %s is not valid UTF-8\n", flag);
    else
        return CLI_OK;
    return CLI_USAGE;
}

/* What `meeting create` was asked for (strings borrowed from argv). */
typedef struct meeting_args {
    const char *db, *id, *creator, *heading, *description, *status, *creator_role,
        *participant_role;
} meeting_args;

/* meeting_check checks a's values (CLI_USAGE with the reason when one is
 * unusable). */
static int meeting_check(const meeting_args *a)
{
    if (!a->creator || !a->heading)
        return cli_usage("meeting create needs --creator and --heading\n");
    if (check_meeting_id(a->id) || check_name("creator", a->creator) ||
        check_text("--heading", a->heading, STORE_MAX_HEADING, true) ||
        check_text("--description", a->description, STORE_MAX_DESCRIPTION, false) ||
        check_role("--creator-role", a->creator_role) ||
        check_role("--participant-role", a->participant_role))
        return CLI_USAGE;
    if (!meeting_status_valid(a->status)) {
        char list[96];
        meeting_status_list(list, sizeof list);
        return cli_usage("--status \"%s\" is not one of %s\n", a->status, list);
    }
    return CLI_OK;
}

/* meeting_store writes the meeting a describes (already checked). */
static int meeting_store(const meeting_args *a)
{
    store_meeting m = {0};
    snprintf(m.id, sizeof m.id, "%s", a->id);
    meeting_room_name(a->id, m.room, sizeof m.room);
    snprintf(m.heading, sizeof m.heading, "%s", a->heading);
    snprintf(m.description, sizeof m.description, "%s", a->description);
    snprintf(m.status, sizeof m.status, "%s", a->status);
    snprintf(m.creator, sizeof m.creator, "%s", a->creator);
    store *st = NULL;
    if (open_store(a->db, &st))
        return CLI_FAIL;
    int rc = store_meeting_create(st, &m, a->creator_role, a->participant_role);
    int status = CLI_OK;
    if (rc == RK_ECONFLICT) {
        store_meeting old;
        if (store_meeting_get(st, a->id, &old) == RK_OK)
            fprintf(stderr, "roomkey: meeting \"%s\" already exists\n", a->id);
        else
            fprintf(stderr, "roomkey: room \"%s\" already exists\n", m.room);
        status = CLI_FAIL;
    } else if (rc) {
        status = store_fail("create the meeting", rc);
    } else {
        printf("created meeting %s (room %s)\n", a->id, m.room);
    }
    store_close(st);
    return status;
}

static int meeting_create(int argc, char **argv)
{
    meeting_args a = {.description = "",
                      .status = "PROCESSING",
                      .creator_role = "member",
                      .participant_role = "member"};
    const cli_flag flags[] = {
        {"database", .str = &a.db},
        {"creator", .str = &a.creator},
        {"heading", .str = &a.heading},
        {"description", .str = &a.description},
        {"status", .str = &a.status},
        {"creator-role", .str = &a.creator_role},
        {"participant-role", .str = &a.participant_role},
    };
    int first = 0;
    int status = cli_flags(argc, argv, "meeting create", MEETING_CREATE_HELP, flags,
                           sizeof flags / sizeof flags[0], &first);
    if (status || (status = cli_positional(argc, argv, first, 1,
                                           "roomkey meeting create ID --creator SUBJECT "
                                           "--heading TEXT")))
        return cli_exit(status);
    a.id = argv[first];
    return meeting_check(&a) ? CLI_USAGE : meeting_store(&a);
}

/* participant_json returns a new {subject, role} for membership rows[i]. */
static json_t *participant_json(const void *rows, size_t i)
{
    const store_member *m = (const store_member *)rows + i;
    return json_pack("{s:o, s:o}", "subject", jstr(m->subject), "role", jstr(m->role));
}

/* meeting_json returns a new JSON object for meeting rows[i]; NULL when out
 * of memory. */
static json_t *meeting_json(const void *rows, size_t i)
{
    const store_meeting *m = (const store_meeting *)rows + i;

    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "meeting_id", m->id, "room",
                     jstr(m->room), "heading", jstr(m->heading), "description",
                     jstr(m->description), "status", jstr(m->status), "creator", jstr(m->creator),
                     "created_at", (json_int_t)m->created_at, "updated_at",
                     (json_int_t)m->updated_at);
}

static void meeting_cell(const void *rows, size_t i, size_t col, char *buf, size_t cap)
{
    const store_meeting *m = (const store_meeting *)rows + i;
    cell(col == 0 ? m->id : col == 1 ? m->status : col == 2 ? m->creator : m->heading, buf, cap);
}

/* after_flag takes --after ID (a meeting id) into *ctx. */
static int after_flag(void *ctx, const char *name, char *value)
{
    (void)name;
    if (check_meeting_id(value))
        return CLI_USAGE;
    *(const char **)ctx = value;
    return CLI_OK;
}

/* A meetings page: --after and --limit. */
typedef struct meeting_page {
    const char *after;
    int64_t limit;
} meeting_page;

static int meeting_list_body(cmd_run *run, void *arg)
{
    const meeting_page *pg = arg;
    static const char *const hdr[] = {"ID", "STATUS", "CREATOR", "HEADING"};
    store_meeting *list = NULL;
    size_t n = 0;
    int rc = store_meeting_list(run->st, pg->after, (size_t)pg->limit, &list, &n);
    int status = rc ? store_fail("list the meetings", rc)
                    : print_rows(run->json, list, n, meeting_json, hdr, 4, meeting_cell);
    if (!rc && !run->json && n == (size_t)pg->limit)
        fprintf(stderr, "roomkey: more meetings may follow: add --after %s\n", list[n - 1].id);
    free(list);
    return status;
}

static int meeting_list(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "meeting list",
                                  .help = MEETING_LIST_HELP,
                                  .usage = "roomkey meeting list [--json]",
                                  .json = true};
    meeting_page pg = {.limit = 100};
    const cli_flag flags[] = {
        {"after", .fn = after_flag, .ctx = &pg.after},
        {"limit", .num = &pg.limit, .min = 1, .max = STORE_MAX_MEETING_LIST},
    };
    return cmd_with_store(argc, argv, &spec, flags, 2, meeting_list_body, &pg);
}

static int meeting_show_body(cmd_run *run, void *arg)
{
    (void)arg;
    store_member *members = NULL;
    size_t n = 0;
    int rc = store_member_list(run->st, run->meeting.room, &members, &n);
    if (rc) {
        free(members);
        return store_fail("list the participants", rc);
    }
    json_t *arr = json_rows(members, n, participant_json);
    free(members);
    return print_with(meeting_json(&run->meeting, 0), "participants", arr);
}

static int meeting_show(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "meeting show",
                                  .help = MEETING_SHOW_HELP,
                                  .usage = "roomkey meeting show ID",
                                  .nargs = 1,
                                  .kinds = {"meeting id"},
                                  .on = ON_MEETING};
    return cmd_with_store(argc, argv, &spec, NULL, 0, meeting_show_body, NULL);
}

static int meeting_delete_body(cmd_run *run, void *arg)
{
    (void)arg;
    const char *id = run->meeting.id; /* found by cmd_with_store (ON_MEETING) */
    int rc = store_meeting_delete(run->st, id);
    if (rc && rc != RK_ENOTFOUND)
        return store_fail("delete the meeting", rc);
    if (rc)
        return found(rc, "meeting", id);
    if ((rc = live_room_deleted(run->st, run->meeting.room, clock_now())))
        return store_fail("record the kicks of the meeting room's participants", rc);
    printf("deleted meeting %s\n", id);
    return CLI_OK;
}

static int meeting_delete(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "meeting delete",
                                  .help = MEETING_DELETE_HELP,
                                  .usage = "roomkey meeting delete ID",
                                  .nargs = 1,
                                  .kinds = {"meeting id"},
                                  .on = ON_MEETING};
    return cmd_with_store(argc, argv, &spec, NULL, 0, meeting_delete_body, NULL);
}

/* participant_add_body adds the participant; arg is the --role value (NULL:
 * the meeting room's default role). */
static int participant_add_body(cmd_run *run, void *arg)
{
    const char *role = *(const char **)arg;
    const store_meeting *m = &run->meeting;
    const char *subject = run->args[1];
    store_member mem = {0};
    int rc = store_room_get(run->st, m->room, &run->room);
    snprintf(mem.room, sizeof mem.room, "%s", m->room);
    snprintf(mem.subject, sizeof mem.subject, "%s", subject);
    snprintf(mem.role, sizeof mem.role, "%s",
             role          ? role
             : rc == RK_OK ? run->room.default_role
                           : "");
    if (rc == RK_OK)
        rc = store_member_set(run->st, &mem);
    if (rc)
        return store_fail("add the participant", rc);
    printf("added %s to meeting %s as %s\n", subject, m->id, mem.role);
    return CLI_OK;
}

static int participant_add(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "meeting participant add",
                                  .help = PARTICIPANT_ADD_HELP,
                                  .usage =
                                      "roomkey meeting participant add ID SUBJECT [--role ROLE]",
                                  .nargs = 2,
                                  .kinds = {"meeting id", "subject"},
                                  .on = ON_MEETING};
    const char *role = NULL;
    const cli_flag flags[] = {{"role", .fn = role_flag, .ctx = &role}};
    return cmd_with_store(argc, argv, &spec, flags, 1, participant_add_body, &role);
}

static int participant_remove_body(cmd_run *run, void *arg)
{
    (void)arg;
    const store_meeting *m = &run->meeting;
    const char *subject = run->args[1];
    if (strcmp(subject, m->creator) == 0) {
        fprintf(stderr, "roomkey: %s created meeting %s and can't be removed from it\n", subject,
                m->id);
        return CLI_FAIL;
    }
    int rc = store_member_remove(run->st, m->room, subject);
    if (rc == RK_ENOTFOUND) {
        fprintf(stderr, "roomkey: \"%s\" is not a participant of meeting %s\n", subject, m->id);
        return CLI_FAIL;
    }
    if (rc)
        return store_fail("remove the participant", rc);
    if ((rc = live_member_removed(run->st, m->room, subject, clock_now())))
        return store_fail("record the kick of the removed participant", rc);
    printf("removed %s from meeting %s\n", subject, m->id);
    return CLI_OK;
}

static int participant_remove(int argc, char **argv)
{
    static const cmd_spec spec = {.cmd = "meeting participant remove",
                                  .help = PARTICIPANT_REMOVE_HELP,
                                  .usage = "roomkey meeting participant remove ID SUBJECT",
                                  .nargs = 2,
                                  .kinds = {"meeting id", "subject"},
                                  .on = ON_MEETING};
    return cmd_with_store(argc, argv, &spec, NULL, 0, participant_remove_body, NULL);
}

static int meeting_participant(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"add", participant_add},
        {"remove", participant_remove},
    };
    return cli_dispatch(argc, argv, PARTICIPANT_HELP, cmds, sizeof cmds / sizeof cmds[0]);
}

int cmd_meeting(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"create", meeting_create},
        {"list", meeting_list},
        {"show", meeting_show},
        {"delete", meeting_delete},
        {"participant", meeting_participant},
    };
    return cli_dispatch(argc, argv, MEETING_HELP, cmds, sizeof cmds / sizeof cmds[0]);
}
