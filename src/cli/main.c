/* main.c - `roomkey`: dispatches to the subcommands. */
#include "../util/rng.h"
#include "../util/version.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "roomkey %s - LiveKit access service\n", rk_version());
    fputs("\n"
          "Usage: roomkey COMMAND [OPTIONS]\n"
          "\n"
          "Commands:\n"
          "  serve          run the service (--config FILE; see docs/config.md)\n"
          "  check-config   validate the configuration and exit\n"
          "  room           create|list|show|delete rooms in the store\n"
          "  member         add|remove|list room members\n"
          "  audit list     show issued tokens (jti, subject, room, role; never tokens)\n"
          "  meeting        create|list|show|delete meetings, add|remove participants\n"
          "  token create   mint a LiveKit access token (flags follow `lk token create`)\n"
          "  token verify   verify a LiveKit access token and print its claims\n"
          "  token decode   print a token's header and claims WITHOUT verifying it\n"
          "  healthcheck    exit 0 when a running RoomKey answers ready (--url URL)\n"
          "  version        print the version and the commit it was built from\n"
          "  participant    list|kick: who is in a LiveKit room; remove someone from it\n"
          "  livekit        rooms|participants|remove: LiveKit's server API (LIVEKIT_HOST)\n"
          "\n"
          "  roomkey COMMAND --help   help for one command\n"
          "  roomkey --version        the same as roomkey version\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    /* before any random byte is drawn; on failure OpenSSL's default DRBG
     * serves, as strong, only slower to start (util/rng.h) */
    (void)rng_init();
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("roomkey %s (commit %s)\n", rk_version(), rk_commit());
        return CLI_OK;
    }
    static const cli_cmd cmds[] = {
        {"token", cmd_token},
        {"serve", cmd_serve},
        {"check-config", cmd_check_config},
        {"room", cmd_room},
        {"member", cmd_member},
        {"audit", cmd_audit},
        {"meeting", cmd_meeting},
        {"healthcheck", cmd_healthcheck},
        {"livekit", cmd_livekit},
        {"participant", cmd_participant},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "roomkey: unknown command \"%s\" (see roomkey --help)\n", cmd);
    return CLI_USAGE;
}
