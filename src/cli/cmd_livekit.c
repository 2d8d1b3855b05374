/* cmd_livekit.c - `roomkey livekit`: LiveKit's server API (RoomService) from
 * a shell, through the same client the service uses (src/livekit/). */
#include "../livekit/roomservice.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVEKIT_HELP                                                                               \
    "Usage: roomkey livekit COMMAND [OPTIONS]\n"                                                   \
    "\n"                                                                                           \
    "Calls LiveKit's server API (Twirp RoomService) at --host or LIVEKIT_HOST, each call\n"        \
    "with a 60-second service token carrying only the grant it needs.\n"                           \
    "\n"                                                                                           \
    "Commands:\n"                                                                                  \
    "  rooms                      list the server's rooms (name, sid, participants)\n"             \
    "  participants ROOM          list a room's participants (identity, sid, kind, name)\n"        \
    "  remove ROOM IDENTITY       remove a participant (--revoke-before UNIX_TS also sends\n"      \
    "                             revoke_token_ts)\n"                                              \
    "\n"                                                                                           \
    "Options: --host URL, --api-key KEY --api-secret SECRET, --keys-file FILE\n"                   \
    "(else LIVEKIT_KEYS or LIVEKIT_API_KEY/LIVEKIT_API_SECRET), --timeout MS (default 5000).\n"

typedef struct lk_opts {
    const char *host, *key, *secret, *keys_file;
    int64_t timeout_ms;
    int64_t revoke_before;
} lk_opts;

/* parse_opts reads argv's flags (cli_flags) into *o (its strings borrowed
 * from argv) and checks that npos arguments follow, the first at *first.
 * -1 to go on, else the exit status (help printed, or a usage error). */
static int parse_opts(int argc, char **argv, int npos, lk_opts *o, int *first)
{
    *o = (lk_opts){.host = getenv("LIVEKIT_HOST"), .timeout_ms = 5000};
    const cli_flag flags[] = {
        {"host", .str = &o->host},
        {"api-key", .str = &o->key},
        {"api-secret", .str = &o->secret},
        {"keys-file", .str = &o->keys_file},
        {"timeout", .num = &o->timeout_ms, .min = 1, .max = 600000},
        {"revoke-before", .num = &o->revoke_before, .min = 1, .max = INT64_MAX},
    };
    char cmd[64];
    snprintf(cmd, sizeof cmd, "livekit %s", argv[0]);
    int status =
        cli_flags(argc, argv, cmd, LIVEKIT_HELP, flags, sizeof flags / sizeof flags[0], first);
    if (status)
        return cli_exit(status);
    if (argc - *first != npos) {
        fprintf(stderr, "roomkey: livekit %s takes %d argument(s) (see roomkey livekit --help)\n",
                argv[0], npos);
        return CLI_USAGE;
    }
    if (!o->host || !*o->host) {
        fprintf(stderr, "roomkey: no LiveKit server API URL: use --host or set LIVEKIT_HOST\n");
        return CLI_USAGE;
    }
    return -1;
}

typedef lk_outcome (*lk_call)(roomservice *rs, const lk_opts *o, char **args, char *why,
                              size_t cap);

/* run parses flags, checks the positional count, opens a client, makes the
 * call and reports a failure. */
static int run(int argc, char **argv, int npos, lk_call call)
{
    lk_opts o;
    int first = 0;
    int status = parse_opts(argc, argv, npos, &o, &first);
    if (status >= 0)
        return status;
    keyring *kr = NULL;
    roomservice *rs = NULL;
    char why[256] = "";
    if (cli_keyring(o.key, o.secret, NULL, o.keys_file, false, &kr))
        return CLI_USAGE;
    if (roomservice_new(o.host, kr, o.timeout_ms, &rs, why, sizeof why)) {
        fprintf(stderr, "roomkey: %s\n", why);
        keyring_free(kr);
        return CLI_USAGE;
    }
    lk_outcome out = call(rs, &o, argv + first, why, sizeof why);
    if (out != LK_OK)
        fprintf(stderr, "roomkey: LiveKit answered %s: %s\n", lk_outcome_name(out), why);
    roomservice_free(rs);
    keyring_free(kr);
    return out == LK_OK ? CLI_OK : CLI_FAIL;
}

static lk_outcome list_rooms(roomservice *rs, const lk_opts *o, char **args, char *why, size_t cap)
{
    (void)o, (void)args;
    lk_room_info *r = NULL;
    size_t n = 0;
    lk_outcome out = roomservice_list_rooms(rs, clock_now(), &r, &n, why, cap);
    for (size_t i = 0; out == LK_OK && i < n; i++)
        printf("%s\t%s\t%u\n", r[i].name, r[i].sid, r[i].num_participants);
    free(r);
    return out;
}

static lk_outcome list_participants(roomservice *rs, const lk_opts *o, char **args, char *why,
                                    size_t cap)
{
    (void)o;
    lk_participant_info *p = NULL;
    size_t n = 0;
    lk_outcome out = roomservice_list_participants(rs, clock_now(), args[0], &p, &n, why, cap);
    for (size_t i = 0; out == LK_OK && i < n; i++)
        printf("%s\t%s\t%s\t%s\n", p[i].identity, p[i].sid, p[i].kind, p[i].name);
    free(p);
    return out;
}

static lk_outcome remove_one(roomservice *rs, const lk_opts *o, char **args, char *why, size_t cap)
{
    lk_outcome out = roomservice_remove_participant(rs, clock_now(), args[0], args[1],
                                                    o->revoke_before, why, cap);
    if (out == LK_OK)
        printf("removed %s from room %s\n", args[1], args[0]);
    return out;
}

static int rooms(int argc, char **argv)
{
    return run(argc, argv, 0, list_rooms);
}

static int participants(int argc, char **argv)
{
    return run(argc, argv, 1, list_participants);
}

static int remove_participant(int argc, char **argv)
{
    return run(argc, argv, 2, remove_one);
}

int cmd_livekit(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"rooms", rooms},
        {"participants", participants},
        {"remove", remove_participant},
    };
    return cli_dispatch(argc, argv, LIVEKIT_HELP, cmds, sizeof cmds / sizeof cmds[0]);
}
