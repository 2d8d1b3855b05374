/* cli.h - the `roomkey` subcommands' entry points and shared helpers. */
#ifndef RK_CLI_H
#define RK_CLI_H

#include "../token/keyring.h"
#include "../util/version.h"

#include <stdbool.h>

/* Exit codes of every subcommand. */
enum {
    CLI_OK = 0,
    CLI_FAIL = 1,  /* the operation was refused or failed */
    CLI_USAGE = 2, /* bad flags or arguments */
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

/* cli_keyring builds a keyring from, in order: api_key/api_secret (flags),
 * keys_file ("key: secret" lines), LIVEKIT_KEYS, and
 * LIVEKIT_API_KEY/LIVEKIT_API_SECRET. The first key found signs. Prints the
 * reason and returns non-zero when no key is configured or one is invalid.
 * The caller frees *out with keyring_free. */
int cli_keyring(const char *api_key, const char *api_secret, const char *keys_file, bool dev,
                keyring **out);

/* A subcommand: name and entry point (argv[0] is the subcommand's name). */
typedef struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
} cli_cmd;

/* cli_dispatch runs `roomkey GROUP SUB ...`: argv[0] is GROUP, argv[1] SUB.
 * No SUB prints help to stderr (CLI_USAGE); --help/-h prints it to stdout
 * (CLI_OK); an unknown SUB names the choices (CLI_USAGE). */
int cli_dispatch(int argc, char **argv, const char *help, const cli_cmd *cmds, size_t n);

/* cli_read_file reads at most max bytes of path (or stdin for "-") into a
 * new NUL-terminated buffer; RK_ETOOBIG beyond max. Caller frees *out. */
int cli_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
