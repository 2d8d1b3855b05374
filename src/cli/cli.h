/* cli.h - the `roomkey` subcommands' entry points and shared helpers. */
#ifndef RK_CLI_H
#define RK_CLI_H

#include "../token/grants.h"
#include "../token/keyring.h"
#include "../util/version.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit codes of every subcommand. */
enum {
    CLI_OK = 0,
    CLI_FAIL = 1,  /* the operation was refused or failed */
    CLI_USAGE = 2, /* bad flags or arguments */
    CLI_DONE = -1, /* not an exit code: --help was printed, exit CLI_OK */
};

/* Each cmd_* runs one `roomkey` command; argv[0] is the command's name. */
int cmd_token(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_room(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_meeting(int argc, char **argv);
int cmd_healthcheck(int argc, char **argv);
int cmd_livekit(int argc, char **argv);
int cmd_participant(int argc, char **argv);

/* cli_keyring builds a keyring from, in order: api_key with api_secret or
 * the contents of api_secret_file (flags; at most one of the two), keys_file ("key: secret" lines),
 * LIVEKIT_KEYS, and LIVEKIT_API_KEY/LIVEKIT_API_SECRET. The first key found signs. Prints the
 * reason and returns non-zero when no key is configured or one is invalid.
 * The caller frees *out with keyring_free. */
int cli_keyring(const char *api_key, const char *api_secret, const char *api_secret_file,
                const char *keys_file, bool dev, keyring **out);

/* A subcommand: name and entry point (argv[0] is the subcommand's name). */
typedef struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
} cli_cmd;

/* cli_dispatch runs `roomkey GROUP SUB ...`: argv[0] is GROUP, argv[1] SUB.
 * No SUB prints help to stderr (CLI_USAGE); --help/-h prints it to stdout
 * (CLI_OK); an unknown SUB names the choices (CLI_USAGE). */
int cli_dispatch(int argc, char **argv, const char *help, const cli_cmd *cmds, size_t n);

/* One flag of a subcommand: --name, and -letter when letter is not 0.
 * Exactly one target says what it does:
 *   str    takes a value, stored here (borrowed from argv);
 *   on     a switch: sets *on to true;
 *   grant  a switch: sets *grant to TRI_TRUE;
 *   fn     takes a value, handed to fn(ctx, name, value), which stores it,
 *          or prints why not and returns CLI_USAGE;
 *   num    takes a whole decimal number in [min, max], stored here (else
 *          it prints why and the flag fails with CLI_USAGE). */
typedef struct cli_flag {
    const char *name;
    char letter;
    const char **str;
    bool *on;
    tri *grant;
    int (*fn)(void *ctx, const char *name, char *value);
    void *ctx;
    int64_t *num;
    int64_t min, max;
} cli_flag;

#define CLI_MAX_FLAGS 32 /* of one subcommand */

/* cli_flags parses the flags of argv (argv[0] is the subcommand's name)
 * against flags[0..n) and --help/-h, which prints help to stdout. cmd
 * names the command in messages ("room create"). On CLI_OK, *first is the
 * index of the first positional argument (argv is permuted so that they
 * come last). Returns CLI_DONE after printing help, CLI_USAGE after
 * printing why for an unknown flag, a flag without its value or a value fn
 * refused. */
int cli_flags(int argc, char **argv, const char *cmd, const char *help, const cli_flag *flags,
              size_t n, int *first);

/* cli_print_json prints v indented to stdout and releases it (v may be
 * NULL: out of memory, then CLI_FAIL with the reason on stderr). */
int cli_print_json(json_t *v);

/* cli_usage prints "roomkey: " and the formatted message to stderr and
 * returns CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_exit turns a status of cli_flags or of a command into an exit code. */
int cli_exit(int status);

/* cli_positional checks that argc - first positional arguments are want;
 * otherwise it prints why and usage and returns CLI_USAGE. */
int cli_positional(int argc, char **argv, int first, int want, const char *usage);

/* cli_read_file reads at most max bytes of path (or stdin for "-") into a
 * new NUL-terminated buffer; RK_ETOOBIG beyond max. Caller frees *out. */
int cli_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
