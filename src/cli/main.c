/* main.c - `roomkey`: dispatches to the subcommands. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("roomkey " ROOMKEY_VERSION " - LiveKit access service\n"
          "\n"
          "Usage: roomkey COMMAND [OPTIONS]\n"
          "\n"
          "Commands:\n"
          "  token create   mint a LiveKit access token (flags follow `lk token create`)\n"
          "  token verify   verify a LiveKit access token and print its claims\n"
          "  token decode   print a token's header and claims WITHOUT verifying it\n"
          "\n"
          "  roomkey COMMAND --help   help for one command\n"
          "  roomkey --version        print the version\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        puts("roomkey " ROOMKEY_VERSION);
        return CLI_OK;
    }
    if (strcmp(cmd, "token") == 0)
        return cmd_token(argc - 1, argv + 1);
    fprintf(stderr, "roomkey: unknown command \"%s\" (see roomkey --help)\n", cmd);
    return CLI_USAGE;
}
