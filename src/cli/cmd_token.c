/* cmd_token.c - `roomkey token create|verify|decode`. */
#include "../token/grants.h"
#include "../token/minter.h"
#include "../token/verifier.h"
#include "../util/clock.h"
#include "../util/duration.h"
#include "../util/err.h"
#include "../util/jws.h"
#include "cli.h"

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
    "  --api-key KEY          (or LIVEKIT_API_KEY)\n"
    "  --api-secret-file FILE its secret, read from FILE (- = stdin; one trailing\n"
    "                         newline dropped), or LIVEKIT_API_SECRET: use one of these\n"
    "  --api-secret SECRET    the secret on the command line: every user of the machine\n"
    "                         can read it (ps, /proc/PID/cmdline); avoid\n"
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
    "  --agent-attribute K=V  attribute of the dispatched agent's job (repeatable)\n"
    "  --agent-deployment NAME  deployment of the dispatched agent\n"
    "  --room-tag K=V         tag of the room the token creates (roomConfig.tags; repeatable)\n"
    "  --agent-grant PERM     Cloud Agents permissions (agent grant): admin,\n"
    "                         simulationAdmin, databaseAdmin (repeatable or comma list)\n"
    "  --kind KIND            participant kind: standard, agent, sip, ...\n"
    "  --kind-detail DETAIL   kindDetails: cloud_agent, forwarded, connector_whatsapp,\n"
    "                         connector_twilio, bridge_rtsp, simulation (repeatable or comma "
    "list)\n"
    "  --grant JSON           extra VideoGrant fields, merged over the flags above\n"
    "\n"
    "Output:\n"
    "  --json                 print a JSON object\n"
    "  --token-only           print only the token\n";

static const char VERIFY_HELP[] =
    "Usage: roomkey token verify [OPTIONS] TOKEN|-\n"
    "\n"
    "Verify a LiveKit access token (HS256) and print its claims as JSON.\n"
    "Claims LiveKit knows must have the types it decodes them into; claims it\n"
    "does not know are kept and printed, as LiveKit's own verifier tolerates them.\n"
    "Exit 0 when valid; 1 with the reason on stderr when not.\n"
    "\n"
    "  --api-key KEY          (or LIVEKIT_API_KEY)\n"
    "  --api-secret-file FILE its secret, read from FILE (- = stdin; one trailing\n"
    "                         newline dropped), or LIVEKIT_API_SECRET: use one of these\n"
    "  --api-secret SECRET    the secret on the command line: every user of the machine\n"
    "                         can read it (ps, /proc/PID/cmdline); avoid\n"
    "  --keys-file FILE       \"key: secret\" per line; every key verifies\n"
    "                         (LIVEKIT_KEYS=\"k1: s1, k2: s2\" works too)\n"
    "  --leeway SECONDS       clock skew allowed for exp/nbf (default 10, max 300)\n"
    "  --dev                  allow API secrets shorter than 32 bytes\n";

static const char DECODE_HELP[] =
    "Usage: roomkey token decode TOKEN|-\n"
    "\n"
    "Print a token's header and claims WITHOUT checking its signature or times.\n"
    "The output is marked \"verified\": false; use `roomkey token verify` to trust it.\n";

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

/* A repeatable KEY=VALUE flag's entries (borrowed from argv). */
typedef struct kv_list {
    lk_attr items[GRANTS_MAX_ATTR_COUNT];
    size_t n;
} kv_list;

/* What `token create` was asked for (strings borrowed from argv). */
typedef struct create_args {
    const char *api_key, *api_secret, *api_secret_file, *valid_for, *grant_json, *agent, *job_md,
        *deployment;
    bool dev, as_json, token_only;
    lk_claims c;
    kv_list attrs, agent_attrs, tags;
    const char *kind_details[GRANTS_MAX_KIND_DETAILS];
    json_t *grant; /* --grant, parsed (owned) */
    lk_agent_dispatch dispatch;
    lk_room_config rcfg;
    int64_t ttl;
} create_args;

/* add_kv takes a KEY=VALUE flag (--attribute, --room-tag, ...) into the
 * kv_list ctx (value is argv's, split in place at the first "="). */
static int add_kv(void *ctx, const char *name, char *value)
{
    kv_list *l = ctx;
    char *eq = strchr(value, '=');
    if (!eq || eq == value) {
        fprintf(stderr, "roomkey: --%s takes KEY=VALUE, got \"%s\"\n", name, value);
        return CLI_USAGE;
    }
    if (l->n == GRANTS_MAX_ATTR_COUNT) {
        fprintf(stderr, "roomkey: --%s given more than %d times\n", name, GRANTS_MAX_ATTR_COUNT);
        return CLI_USAGE;
    }
    *eq = '\0';
    l->items[l->n++] = (lk_attr){.key = value, .value = eq + 1};
    return CLI_OK;
}

/* agent_grant takes --agent-grant PERM[,PERM...] into the agent grant. */
static int agent_grant(void *ctx, const char *name, char *value)
{
    create_args *a = ctx;
    char *save = NULL;
    for (char *s = strtok_r(value, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (lk_claims_grant(&a->c, "agent", s))
            return cli_usage("--%s: unknown permission \"%s\" (admin, simulationAdmin, "
                             "databaseAdmin)\n",
                             name, s);
    }
    return CLI_OK;
}

/* kind_details takes --kind-detail DETAIL[,DETAIL...]. */
static int kind_details(void *ctx, const char *name, char *value)
{
    create_args *a = ctx;
    char *save = NULL;
    for (char *s = strtok_r(value, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (lk_kind_detail_parse(s))
            return cli_usage("--%s: unknown kind detail \"%s\" (cloud_agent, forwarded, "
                             "connector_whatsapp, connector_twilio, bridge_rtsp, simulation)\n",
                             name, s);
        if (a->c.n_kind_details == GRANTS_MAX_KIND_DETAILS)
            return cli_usage("more than %d kind details\n", GRANTS_MAX_KIND_DETAILS);
        a->kind_details[a->c.n_kind_details++] = s;
    }
    return CLI_OK;
}

/* allow_sources takes --allow-source SRC[,SRC...]. */
static int allow_sources(void *ctx, const char *name, char *value)
{
    create_args *a = ctx;
    (void)name;
    char *save = NULL;
    for (char *s = strtok_r(value, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        unsigned bit;
        if (lk_source_parse(s, &bit)) {
            fprintf(stderr,
                    "roomkey: unknown source \"%s\" (camera, microphone, "
                    "screen_share, screen_share_audio)\n",
                    s);
            return CLI_USAGE;
        }
        a->c.video.sources |= bit;
        a->c.video.sources_set = true;
    }
    return CLI_OK;
}

/* create_flags parses `token create`'s flags into a (CLI_DONE after --help). */
static int create_flags(int argc, char **argv, create_args *a)
{
    lk_video_grant *v = &a->c.video;
    const cli_flag flags[] = {
        {"api-key", .str = &a->api_key},
        {"api-secret", .str = &a->api_secret},
        {"api-secret-file", .str = &a->api_secret_file},
        {"dev", .on = &a->dev},
        {"room", 'r', .str = &v->room},
        {"identity", 'i', .str = &a->c.identity},
        {"name", 'n', .str = &a->c.name},
        {"metadata", 'm', .str = &a->c.metadata},
        {"attribute", 'a', .fn = add_kv, .ctx = &a->attrs},
        {"valid-for", .str = &a->valid_for},
        {"join", .grant = &v->room_join},
        {"admin", .grant = &v->room_admin},
        {"list", .grant = &v->room_list},
        {"create", .grant = &v->room_create},
        {"egress", .grant = &v->room_record},
        {"ingress", .grant = &v->ingress_admin},
        {"allow-source", .fn = allow_sources, .ctx = a},
        {"allow-update-metadata", .grant = &v->can_update_own_metadata},
        {"hidden", .grant = &v->hidden},
        {"recorder", .grant = &v->recorder},
        {"agent", .str = &a->agent},
        {"job-metadata", .str = &a->job_md},
        {"agent-attribute", .fn = add_kv, .ctx = &a->agent_attrs},
        {"agent-deployment", .str = &a->deployment},
        {"room-tag", .fn = add_kv, .ctx = &a->tags},
        {"agent-grant", .fn = agent_grant, .ctx = a},
        {"kind", .str = &a->c.kind},
        {"kind-detail", .fn = kind_details, .ctx = a},
        {"grant", .str = &a->grant_json},
        {"json", .on = &a->as_json},
        {"token-only", .on = &a->token_only},
    };
    int first = 0;
    int rc = cli_flags(argc, argv, "token create", CREATE_HELP, flags,
                       sizeof flags / sizeof flags[0], &first);
    if (rc == CLI_OK && first < argc) {
        fprintf(stderr, "roomkey: unexpected argument \"%s\"\n", argv[first]);
        rc = CLI_USAGE;
    }
    return rc;
}

/* create_check checks the flags' combination, parses --grant into a->grant
 * (owned by a) and --valid-for into a->ttl, and links the attributes and
 * the agent dispatch into a->c. Prints why and returns CLI_USAGE when not. */
static int create_check(create_args *a)
{
    char why[256] = "";
    lk_claims *c = &a->c;
    if (a->as_json && a->token_only)
        return cli_usage("--json and --token-only exclude each other\n");
    if ((a->job_md || a->deployment || a->agent_attrs.n) && !a->agent)
        return cli_usage("--job-metadata, --agent-attribute and --agent-deployment need --agent\n");
    if (a->grant_json) {
        json_error_t jerr;
        a->grant = json_loads(a->grant_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!a->grant)
            return cli_usage("--grant is not valid JSON: %s\n", jerr.text);
        if (lk_video_grant_from_json(a->grant, &c->video, why, sizeof why))
            return cli_usage("--grant: %s\n", why);
    }
    if (a->agent) {
        a->dispatch = (lk_agent_dispatch){.agent_name = a->agent,
                                          .metadata = a->job_md,
                                          .deployment = a->deployment,
                                          .attrs = a->agent_attrs.items,
                                          .n_attrs = a->agent_attrs.n};
        a->rcfg.agents = &a->dispatch;
        a->rcfg.n_agents = 1;
    }
    if (a->agent || a->tags.n) {
        a->rcfg.tags = a->tags.items;
        a->rcfg.n_tags = a->tags.n;
        c->room_config = &a->rcfg;
    }
    /* A permission must be asked for: a token naming only a room (or only
     * an identity) grants nothing and is almost certainly a mistake. */
    if (!(c->video.room_join || c->video.room_admin || c->video.room_list || c->video.room_create ||
          c->video.room_record || c->video.ingress_admin || a->agent || c->agent_admin ||
          c->agent_simulation_admin || c->agent_database_admin ||
          (a->grant && json_object_size(a->grant) > 0)))
        return cli_usage("no grant given: use at least one of --join, --admin, --list, "
                         "--create, --egress, --ingress, --agent, --agent-grant or --grant\n");
    if (duration_parse_seconds(a->valid_for, &a->ttl) || a->ttl > MINTER_MAX_TTL)
        return cli_usage("--valid-for \"%s\" is not a duration between 1s and 720h "
                         "(examples: 90s, 10m, 1h30m)\n",
                         a->valid_for);
    c->attrs = a->attrs.items;
    c->n_attrs = a->attrs.n;
    c->kind_details = a->kind_details;
    return CLI_OK;
}

/* token_json prints the minted token and what it is for as a JSON object. */
static int token_json(const create_args *a, const char *tok, const mint_info *info,
                      const char *expires, const char *api_key)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "token", tok, "jti", info->jti, "expires_at",
                          expires, "exp", (json_int_t)info->exp, "api_key", api_key);
    if (o && a->c.identity)
        json_object_set_new(o, "identity", json_string(a->c.identity));
    if (o && a->c.name)
        json_object_set_new(o, "name", json_string(a->c.name));
    if (o && a->c.video.room)
        json_object_set_new(o, "room", json_string(a->c.video.room));
    const char *url = getenv("LIVEKIT_URL");
    if (o && url && *url)
        json_object_set_new(o, "server_url", json_string(url));
    return cli_print_json(o);
}

/* print_token prints the minted token in the form a asks for. */
static int print_token(const create_args *a, const char *tok, const mint_info *info,
                       const char *api_key)
{
    char expires[CLOCK_ISO_LEN];
    clock_iso8601(info->exp, expires, sizeof expires);
    if (a->token_only) {
        printf("%s\n", tok);
        return CLI_OK;
    }
    if (a->as_json)
        return token_json(a, tok, info, expires, api_key);
    printf("identity:   %s\n", a->c.identity ? a->c.identity : "(none)");
    if (a->c.video.room)
        printf("room:       %s\n", a->c.video.room);
    printf("api key:    %s\n", api_key);
    printf("expires:    %s\n", expires);
    printf("jti:        %s\n", info->jti);
    printf("token:      %s\n", tok);
    return CLI_OK;
}

/* mint_and_print signs a's claims with the configured key and prints them. */
static int mint_and_print(const create_args *a)
{
    keyring *kr = NULL;
    minter *m = NULL;
    char why[256] = "";
    int status = CLI_FAIL;
    if (cli_keyring(a->api_key, a->api_secret, a->api_secret_file, NULL, a->dev, &kr))
        return CLI_FAIL;
    if (minter_new(kr, &m)) {
        fprintf(stderr, "roomkey: cannot set up signing\n");
    } else {
        const char *tok;
        size_t tok_len;
        mint_info info;
        int rc = minter_mint(m, &a->c, clock_now(), a->ttl, &tok, &tok_len, &info, why, sizeof why);
        if (rc) {
            fprintf(stderr, "roomkey: cannot mint: %s\n", why[0] ? why : rk_strerror(rc));
            status = rc == RK_EINVAL || rc == RK_ETOOBIG ? CLI_USAGE : CLI_FAIL;
        } else {
            status = print_token(a, tok, &info, keyring_signer(kr)->id);
        }
    }
    minter_free(m);
    keyring_free(kr);
    return status;
}

static int create(int argc, char **argv)
{
    create_args a = {.valid_for = "5m"};
    int status = create_flags(argc, argv, &a);
    if (status == CLI_OK)
        status = create_check(&a);
    if (status == CLI_OK)
        status = mint_and_print(&a);
    json_decref(a.grant);
    return cli_exit(status);
}

/* leeway_flag takes --leeway SECONDS (0..VERIFIER_MAX_LEEWAY) into *ctx. */
static int leeway_flag(void *ctx, const char *name, char *value)
{
    char *end;
    (void)name;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end || v < 0 || v > VERIFIER_MAX_LEEWAY) {
        fprintf(stderr, "roomkey: --leeway takes seconds from 0 to %d\n", VERIFIER_MAX_LEEWAY);
        return CLI_USAGE;
    }
    *(int64_t *)ctx = v;
    return CLI_OK;
}

static int verify(int argc, char **argv)
{
    const char *api_key = NULL, *api_secret = NULL, *api_secret_file = NULL, *keys_file = NULL;
    bool dev = false;
    int64_t leeway = 10;
    const cli_flag flags[] = {
        {"api-key", .str = &api_key},
        {"api-secret", .str = &api_secret},
        {"api-secret-file", .str = &api_secret_file},
        {"keys-file", .str = &keys_file},
        {"leeway", .fn = leeway_flag, .ctx = &leeway},
        {"dev", .on = &dev},
    };
    int first = 0;
    int rc = cli_flags(argc, argv, "token verify", VERIFY_HELP, flags,
                       sizeof flags / sizeof flags[0], &first);
    if (rc)
        return cli_exit(rc);
    if (argc - first != 1) {
        fputs("roomkey: token verify takes exactly one TOKEN (or - for stdin)\n", stderr);
        return CLI_USAGE;
    }
    char *tok;
    size_t len;
    if (read_token(argv[first], &tok, &len)) {
        fputs("roomkey: cannot read the token\n", stderr);
        return CLI_USAGE;
    }
    keyring *kr = NULL;
    int status = CLI_FAIL;
    if (cli_keyring(api_key, api_secret, api_secret_file, keys_file, dev, &kr)) {
        free(tok);
        return CLI_FAIL;
    }
    json_t *claims = NULL;
    const char *reason = "";
    char why[256] = "";
    rc = lktoken_verify(kr, tok, len, clock_now(), leeway, &claims, &reason);
    if (!rc && lk_claims_shape_check(claims, why, sizeof why)) {
        reason = why;
        rc = RK_EINVAL;
        json_decref(claims);
    }
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
