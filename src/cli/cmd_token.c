/* cmd_token.c - `roomkey token create|verify|decode`. */
#include "../token/grants.h"
#include "../token/minter.h"
#include "../token/verifier.h"
#include "../util/clock.h"
#include "../util/duration.h"
#include "../util/err.h"
#include "../util/jws.h"
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char CREATE_HELP[] =
    "Usage: roomkey token create [OPTIONS]\n"
    "\n"
    "Mint a LiveKit access token. Flags follow `lk token create`.\n"
    "\n"
    "Keys:\n"
    "  --api-key KEY, --api-secret SECRET   (or LIVEKIT_API_KEY / LIVEKIT_API_SECRET)\n"
    "  --dev                  allow API secrets shorter than 32 bytes (development only)\n"
    "\n"
    "Participant:\n"
    "  -r, --room NAME        room to join or administer\n"
    "  -i, --identity ID      participant identity (required with --join)\n"
    "  -n, --name NAME        display name\n"
    "  -m, --metadata TEXT    participant metadata\n"
    "  -a, --attribute K=V    participant attribute (repeatable)\n"
    "  --valid-for DURATION   lifetime, Go-style: 90s, 10m, 1h30m (default 5m, max 720h)\n"
    "\n"
    "Grants:\n"
    "  --join                 join the room (roomJoin)\n"
    "  --admin                administer the room (roomAdmin)\n"
    "  --list                 list rooms (roomList)\n"
    "  --create               create rooms (roomCreate)\n"
    "  --egress               record / egress (roomRecord)\n"
    "  --ingress              manage ingress (ingressAdmin)\n"
    "  --allow-source SRC     publish only these sources: camera, microphone,\n"
    "                         screen_share, screen_share_audio (repeatable or comma list)\n"
    "  --allow-update-metadata  may update own metadata (canUpdateOwnMetadata)\n"
    "  --hidden               hidden participant\n"
    "  --recorder             participant is a recorder\n"
    "  --agent NAME           dispatch agent NAME to the room (roomConfig.agents)\n"
    "  --job-metadata TEXT    metadata for the dispatched agent's job\n"
    "  --grant JSON           extra VideoGrant fields, merged over the flags above\n"
    "\n"
    "Output:\n"
    "  --json                 print a JSON object\n"
    "  --token-only           print only the token\n";

static const char VERIFY_HELP[] =
    "Usage: roomkey token verify [OPTIONS] TOKEN|-\n"
    "\n"
    "Verify a LiveKit access token (HS256) and print its claims as JSON.\n"
    "Exit 0 when valid; 1 with the reason on stderr when not.\n"
    "\n"
    "  --api-key KEY, --api-secret SECRET   (or LIVEKIT_API_KEY / LIVEKIT_API_SECRET)\n"
    "  --keys-file FILE       \"key: secret\" per line; every key verifies\n"
    "                         (LIVEKIT_KEYS=\"k1: s1, k2: s2\" works too)\n"
    "  --leeway SECONDS       clock skew allowed for exp/nbf (default 10, max 300)\n"
    "  --dev                  allow API secrets shorter than 32 bytes\n";

static const char DECODE_HELP[] =
    "Usage: roomkey token decode TOKEN|-\n"
    "\n"
    "Print a token's header and claims WITHOUT checking its signature or times.\n"
    "The output is marked \"verified\": false; use `roomkey token verify` to trust it.\n";

/* Options shared by the subcommands. */
enum {
    O_API_KEY = 256,
    O_API_SECRET,
    O_KEYS_FILE,
    O_DEV,
    O_VALID_FOR,
    O_JOIN,
    O_ADMIN,
    O_LIST,
    O_CREATE,
    O_EGRESS,
    O_INGRESS,
    O_ALLOW_SOURCE,
    O_ALLOW_UPDATE_MD,
    O_HIDDEN,
    O_RECORDER,
    O_AGENT,
    O_JOB_MD,
    O_GRANT,
    O_JSON,
    O_TOKEN_ONLY,
    O_LEEWAY,
    O_HELP,
};

#define MAX_TOKEN_INPUT JWS_MAX_LEN

/* read_token takes the token from argv or stdin ("-"), trims white space.
 * Caller frees *out. */
static int read_token(const char *arg, char **out, size_t *len)
{
    char *buf;
    size_t n;
    if (strcmp(arg, "-") == 0) {
        int rc = cli_read_file("-", MAX_TOKEN_INPUT, &buf, &n);
        if (rc)
            return rc;
    } else {
        n = strnlen(arg, MAX_TOKEN_INPUT + 1);
        if (n > MAX_TOKEN_INPUT)
            return RK_ETOOBIG;
        buf = strndup(arg, n);
        if (!buf)
            return RK_ENOMEM;
    }
    size_t start = 0;
    while (start < n &&
           (buf[start] == ' ' || buf[start] == '\n' || buf[start] == '\r' || buf[start] == '\t'))
        start++;
    while (n > start &&
           (buf[n - 1] == ' ' || buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '\t'))
        n--;
    memmove(buf, buf + start, n - start);
    buf[n - start] = '\0';
    *out = buf;
    *len = n - start;
    return RK_OK;
}

static int create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"api-key", required_argument, NULL, O_API_KEY},
        {"api-secret", required_argument, NULL, O_API_SECRET},
        {"dev", no_argument, NULL, O_DEV},
        {"room", required_argument, NULL, 'r'},
        {"identity", required_argument, NULL, 'i'},
        {"name", required_argument, NULL, 'n'},
        {"metadata", required_argument, NULL, 'm'},
        {"attribute", required_argument, NULL, 'a'},
        {"valid-for", required_argument, NULL, O_VALID_FOR},
        {"join", no_argument, NULL, O_JOIN},
        {"admin", no_argument, NULL, O_ADMIN},
        {"list", no_argument, NULL, O_LIST},
        {"create", no_argument, NULL, O_CREATE},
        {"egress", no_argument, NULL, O_EGRESS},
        {"ingress", no_argument, NULL, O_INGRESS},
        {"allow-source", required_argument, NULL, O_ALLOW_SOURCE},
        {"allow-update-metadata", no_argument, NULL, O_ALLOW_UPDATE_MD},
        {"hidden", no_argument, NULL, O_HIDDEN},
        {"recorder", no_argument, NULL, O_RECORDER},
        {"agent", required_argument, NULL, O_AGENT},
        {"job-metadata", required_argument, NULL, O_JOB_MD},
        {"grant", required_argument, NULL, O_GRANT},
        {"json", no_argument, NULL, O_JSON},
        {"token-only", no_argument, NULL, O_TOKEN_ONLY},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *api_key = NULL, *api_secret = NULL, *valid_for = "5m", *grant_json = NULL;
    const char *agent = NULL, *job_md = NULL;
    bool dev = false, as_json = false, token_only = false;
    lk_claims c = {0};
    lk_attr attrs[GRANTS_MAX_ATTR_COUNT];
    size_t n_attrs = 0;
    int status = CLI_USAGE;
    json_t *grant = NULL;
    keyring *kr = NULL;
    minter *m = NULL;

    int opt;
    optind = 1;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, "r:i:n:m:a:", opts, NULL)) != -1) {
        switch (opt) {
        case O_API_KEY:
            api_key = optarg;
            break;
        case O_API_SECRET:
            api_secret = optarg;
            break;
        case O_DEV:
            dev = true;
            break;
        case 'r':
            c.video.room = optarg;
            break;
        case 'i':
            c.identity = optarg;
            break;
        case 'n':
            c.name = optarg;
            break;
        case 'm':
            c.metadata = optarg;
            break;
        case 'a': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                fprintf(stderr, "roomkey: --attribute takes KEY=VALUE, got \"%s\"\n", optarg);
                goto out;
            }
            if (n_attrs == GRANTS_MAX_ATTR_COUNT) {
                fprintf(stderr, "roomkey: more than %d attributes\n", GRANTS_MAX_ATTR_COUNT);
                goto out;
            }
            *eq = '\0';
            attrs[n_attrs].key = optarg;
            attrs[n_attrs].value = eq + 1;
            n_attrs++;
            break;
        }
        case O_VALID_FOR:
            valid_for = optarg;
            break;
        case O_JOIN:
            c.video.room_join = TRI_TRUE;
            break;
        case O_ADMIN:
            c.video.room_admin = TRI_TRUE;
            break;
        case O_LIST:
            c.video.room_list = TRI_TRUE;
            break;
        case O_CREATE:
            c.video.room_create = TRI_TRUE;
            break;
        case O_EGRESS:
            c.video.room_record = TRI_TRUE;
            break;
        case O_INGRESS:
            c.video.ingress_admin = TRI_TRUE;
            break;
        case O_ALLOW_SOURCE: {
            char *save = NULL;
            for (char *s = strtok_r(optarg, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
                unsigned bit;
                if (lk_source_parse(s, &bit)) {
                    fprintf(stderr,
                            "roomkey: unknown source \"%s\" (camera, microphone, "
                            "screen_share, screen_share_audio)\n",
                            s);
                    goto out;
                }
                c.video.sources |= bit;
                c.video.sources_set = true;
            }
            break;
        }
        case O_ALLOW_UPDATE_MD:
            c.video.can_update_own_metadata = TRI_TRUE;
            break;
        case O_HIDDEN:
            c.video.hidden = TRI_TRUE;
            break;
        case O_RECORDER:
            c.video.recorder = TRI_TRUE;
            break;
        case O_AGENT:
            agent = optarg;
            break;
        case O_JOB_MD:
            job_md = optarg;
            break;
        case O_GRANT:
            grant_json = optarg;
            break;
        case O_JSON:
            as_json = true;
            break;
        case O_TOKEN_ONLY:
            token_only = true;
            break;
        case O_HELP:
            fputs(CREATE_HELP, stdout);
            return CLI_OK;
        default:
            fputs("(see roomkey token create --help)\n", stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "roomkey: unexpected argument \"%s\"\n", argv[optind]);
        goto out;
    }
    if (as_json && token_only) {
        fprintf(stderr, "roomkey: --json and --token-only exclude each other\n");
        goto out;
    }
    if (job_md && !agent) {
        fprintf(stderr, "roomkey: --job-metadata needs --agent\n");
        goto out;
    }
    char why[256] = "";
    if (grant_json) {
        json_error_t jerr;
        grant = json_loads(grant_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!grant) {
            fprintf(stderr, "roomkey: --grant is not valid JSON: %s\n", jerr.text);
            goto out;
        }
        if (lk_video_grant_from_json(grant, &c.video, why, sizeof why)) {
            fprintf(stderr, "roomkey: --grant: %s\n", why);
            goto out;
        }
    }
    lk_agent_dispatch dispatch = {agent, job_md};
    lk_room_config rcfg = {0};
    if (agent) {
        rcfg.agents = &dispatch;
        rcfg.n_agents = 1;
        c.room_config = &rcfg;
    }
    /* A permission must be asked for: a token naming only a room (or only
     * an identity) grants nothing and is almost certainly a mistake. */
    bool permission = c.video.room_join || c.video.room_admin || c.video.room_list ||
                      c.video.room_create || c.video.room_record || c.video.ingress_admin ||
                      agent || (grant && json_object_size(grant) > 0);
    if (!permission) {
        fprintf(stderr, "roomkey: no grant given: use at least one of --join, --admin, --list, "
                        "--create, --egress, --ingress, --agent or --grant\n");
        goto out;
    }
    int64_t ttl;
    int rc = duration_parse_seconds(valid_for, &ttl);
    if (rc || ttl > MINTER_MAX_TTL) {
        fprintf(stderr,
                "roomkey: --valid-for \"%s\" is not a duration between 1s and 720h "
                "(examples: 90s, 10m, 1h30m)\n",
                valid_for);
        goto out;
    }
    c.attrs = attrs;
    c.n_attrs = n_attrs;

    status = CLI_FAIL;
    if (cli_keyring(api_key, api_secret, NULL, dev, &kr))
        goto out;
    if (minter_new(kr, &m)) {
        fprintf(stderr, "roomkey: cannot set up signing\n");
        goto out;
    }
    const char *tok;
    size_t tok_len;
    mint_info info;
    rc = minter_mint(m, &c, clock_now(), ttl, &tok, &tok_len, &info, why, sizeof why);
    if (rc) {
        fprintf(stderr, "roomkey: cannot mint: %s\n", why[0] ? why : rk_strerror(rc));
        status = rc == RK_EINVAL || rc == RK_ETOOBIG ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    char expires[CLOCK_ISO_LEN];
    clock_iso8601(info.exp, expires, sizeof expires);
    if (token_only) {
        printf("%s\n", tok);
    } else if (as_json) {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:I, s:s}", "token", tok, "jti", info.jti, "expires_at",
                      expires, "exp", (json_int_t)info.exp, "api_key", keyring_signer(kr)->id);
        if (o && c.identity)
            json_object_set_new(o, "identity", json_string(c.identity));
        if (o && c.name)
            json_object_set_new(o, "name", json_string(c.name));
        if (o && c.video.room)
            json_object_set_new(o, "room", json_string(c.video.room));
        const char *url = getenv("LIVEKIT_URL");
        if (o && url && *url)
            json_object_set_new(o, "server_url", json_string(url));
        char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!s) {
            fprintf(stderr, "roomkey: out of memory\n");
            goto out;
        }
        printf("%s\n", s);
        free(s);
    } else {
        printf("identity:   %s\n", c.identity ? c.identity : "(none)");
        if (c.video.room)
            printf("room:       %s\n", c.video.room);
        printf("api key:    %s\n", keyring_signer(kr)->id);
        printf("expires:    %s\n", expires);
        printf("jti:        %s\n", info.jti);
        printf("token:      %s\n", tok);
    }
    status = CLI_OK;
out:
    minter_free(m);
    keyring_free(kr);
    json_decref(grant);
    return status;
}

static int verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"api-key", required_argument, NULL, O_API_KEY},
        {"api-secret", required_argument, NULL, O_API_SECRET},
        {"keys-file", required_argument, NULL, O_KEYS_FILE},
        {"leeway", required_argument, NULL, O_LEEWAY},
        {"dev", no_argument, NULL, O_DEV},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *api_key = NULL, *api_secret = NULL, *keys_file = NULL;
    bool dev = false;
    int64_t leeway = 10;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case O_API_KEY:
            api_key = optarg;
            break;
        case O_API_SECRET:
            api_secret = optarg;
            break;
        case O_KEYS_FILE:
            keys_file = optarg;
            break;
        case O_DEV:
            dev = true;
            break;
        case O_LEEWAY: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 0 || v > VERIFIER_MAX_LEEWAY) {
                fprintf(stderr, "roomkey: --leeway takes seconds from 0 to %d\n",
                        VERIFIER_MAX_LEEWAY);
                return CLI_USAGE;
            }
            leeway = v;
            break;
        }
        case O_HELP:
            fputs(VERIFY_HELP, stdout);
            return CLI_OK;
        default:
            fputs("(see roomkey token verify --help)\n", stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind != 1) {
        fputs("roomkey: token verify takes exactly one TOKEN (or - for stdin)\n", stderr);
        return CLI_USAGE;
    }
    char *tok;
    size_t len;
    if (read_token(argv[optind], &tok, &len)) {
        fputs("roomkey: cannot read the token\n", stderr);
        return CLI_USAGE;
    }
    keyring *kr = NULL;
    int status = CLI_FAIL;
    if (cli_keyring(api_key, api_secret, keys_file, dev, &kr)) {
        free(tok);
        return CLI_FAIL;
    }
    json_t *claims = NULL;
    const char *reason = "";
    int rc = lktoken_verify(kr, tok, len, clock_now(), leeway, &claims, &reason);
    if (rc) {
        fprintf(stderr, "roomkey: token rejected: %s\n", reason);
    } else {
        char *s = json_dumps(claims, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (s) {
            printf("%s\n", s);
            free(s);
            fputs("roomkey: token valid\n", stderr);
            status = CLI_OK;
        }
        json_decref(claims);
    }
    keyring_free(kr);
    free(tok);
    return status;
}

static int decode(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(DECODE_HELP, stdout);
        return CLI_OK;
    }
    if (argc != 2) {
        fputs("roomkey: token decode takes exactly one TOKEN (or - for stdin)\n", stderr);
        return CLI_USAGE;
    }
    char *tok;
    size_t len;
    if (read_token(argv[1], &tok, &len)) {
        fputs("roomkey: cannot read the token\n", stderr);
        return CLI_USAGE;
    }
    jws j;
    const char *reason;
    int rc = jws_parse(tok, len, &j, &reason);
    free(tok);
    if (rc) {
        fprintf(stderr, "roomkey: cannot decode: %s\n", reason);
        return CLI_FAIL;
    }
    json_t *o =
        json_pack("{s:b, s:O, s:O}", "verified", 0, "header", j.header, "claims", j.payload);
    jws_clear(&j);
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return CLI_FAIL;
    printf("%s\n", s);
    free(s);
    fputs("roomkey: WARNING: decoded only; the signature and times were NOT verified\n", stderr);
    return CLI_OK;
}

int cmd_token(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"create", create},
        {"verify", verify},
        {"decode", decode},
    };
    return cli_dispatch(argc, argv, "Usage: roomkey token create|verify|decode [OPTIONS]\n", cmds,
                        sizeof cmds / sizeof cmds[0]);
}
