/* cli.c - helpers shared by the `roomkey` subcommands: key loading, file
 * reading. */
#include "cli.h"
#include "../util/err.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return RK_EIO;
    char *buf = malloc(max + 2);
    if (!buf) {
        if (f != stdin)
            fclose(f);
        return RK_ENOMEM;
    }
    size_t n = fread(buf, 1, max + 1, f);
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (err || n > max) {
        OPENSSL_cleanse(buf, n);
        free(buf);
        return err ? RK_EIO : RK_ETOOBIG;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return RK_OK;
}

/* read_secret_file reads an API secret from path ("-" = stdin), without one
 * trailing newline. Caller wipes and frees *out. */
static int read_secret_file(const char *path, char **out, size_t *len)
{
    int rc = cli_read_file(path, KEYRING_MAX_TEXT, out, len);
    if (rc) {
        fprintf(stderr, "roomkey: cannot read the API secret file %s: %s\n", path, rk_strerror(rc));
        return rc;
    }
    char *s = *out;
    if (*len && s[*len - 1] == '\n')
        s[--*len] = '\0';
    if (*len && s[*len - 1] == '\r')
        s[--*len] = '\0';
    if (*len == 0 || strlen(s) != *len) {
        fprintf(stderr, "roomkey: the API secret file %s is empty or holds a NUL byte\n", path);
        OPENSSL_cleanse(s, *len);
        free(s);
        return RK_EINVAL;
    }
    return RK_OK;
}

/* add_arg_key adds the key given on the command line (--api-key with
 * --api-secret or --api-secret-file) to kr; why gets a keyring error. */
static int add_arg_key(keyring *kr, const char *api_key, const char *api_secret,
                       const char *api_secret_file, bool dev, char *why, size_t cap)
{
    if (api_secret && api_secret_file) {
        fprintf(stderr, "roomkey: --api-secret and --api-secret-file exclude each other\n");
        return RK_EINVAL;
    }
    if ((api_key == NULL) != (api_secret == NULL && api_secret_file == NULL)) {
        fprintf(stderr, "roomkey: --api-key and --api-secret(-file) go together\n");
        return RK_EINVAL;
    }
    if (!api_key)
        return RK_OK;
    char *file = NULL;
    size_t len = api_secret ? strlen(api_secret) : 0;
    int rc = api_secret_file ? read_secret_file(api_secret_file, &file, &len) : RK_OK;
    if (rc == RK_OK) {
        rc = keyring_add(kr, api_key, file ? file : api_secret, len, dev, why, cap);
        if (rc)
            fprintf(stderr, "roomkey: %s\n", why);
    }
    if (file) {
        OPENSSL_cleanse(file, len);
        free(file);
    }
    return rc;
}

int cli_keyring(const char *api_key, const char *api_secret, const char *api_secret_file,
                const char *keys_file, bool dev, keyring **out)
{
    keyring *kr;
    char why[256] = "";
    int rc = keyring_new(&kr);
    if (rc)
        return rc;
    if ((rc = add_arg_key(kr, api_key, api_secret, api_secret_file, dev, why, sizeof why)))
        goto fail;
    if (keys_file) {
        char *text;
        size_t len;
        rc = cli_read_file(keys_file, KEYRING_MAX_TEXT, &text, &len);
        if (rc) {
            fprintf(stderr, "roomkey: cannot read keys file %s: %s\n", keys_file, rk_strerror(rc));
            goto fail;
        }
        rc = keyring_parse(kr, text, dev, why, sizeof why);
        OPENSSL_cleanse(text, len);
        free(text);
        if (rc)
            goto bad;
    }
    const char *env_keys = getenv("LIVEKIT_KEYS");
    if (env_keys && *env_keys && (rc = keyring_parse(kr, env_keys, dev, why, sizeof why)))
        goto bad;
    const char *ek = getenv("LIVEKIT_API_KEY"), *es = getenv("LIVEKIT_API_SECRET");
    if (ek && *ek && es && *es && !keyring_find(kr, ek, strlen(ek)) &&
        (rc = keyring_add(kr, ek, es, strlen(es), dev, why, sizeof why)))
        goto bad;
    if (keyring_count(kr) == 0 && (ek && *ek) != (es && *es)) {
        fprintf(stderr, "roomkey: %s is set but %s is not: set both (the API key and its secret)\n",
                ek && *ek ? "LIVEKIT_API_KEY" : "LIVEKIT_API_SECRET",
                ek && *ek ? "LIVEKIT_API_SECRET" : "LIVEKIT_API_KEY");
        rc = RK_ENOTFOUND;
        goto fail;
    }
    if (keyring_count(kr) == 0) {
        fprintf(stderr, "roomkey: no API key: use --api-key/--api-secret or set "
                        "LIVEKIT_API_KEY and LIVEKIT_API_SECRET\n");
        rc = RK_ENOTFOUND;
        goto fail;
    }
    *out = kr;
    return RK_OK;
bad:
    fprintf(stderr, "roomkey: %s\n", why);
fail:
    keyring_free(kr);
    return rc;
}

int cli_dispatch(int argc, char **argv, const char *help, const cli_cmd *cmds, size_t n)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "roomkey: unknown %s command \"%s\" (", argv[0], argv[1]);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", cmds[i].name);
    fputs(")\n", stderr);
    return CLI_USAGE;
}

/* num_value stores v, a whole decimal number in f's [min, max], in *f->num;
 * else it prints why and returns CLI_USAGE. */
static int num_value(const cli_flag *f, const char *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*v && !*end && !errno && x >= f->min && x <= f->max) {
        *f->num = x;
        return CLI_OK;
    }
    if (f->max == INT64_MAX)
        return cli_usage("--%s takes a whole number >= %" PRId64 ", not \"%s\"\n", f->name, f->min,
                         v);
    return cli_usage("--%s takes a whole number from %" PRId64 " to %" PRId64 ", not \"%s\"\n",
                     f->name, f->min, f->max, v);
}

/* flag_value applies flag f to its value v (NULL for a switch). */
static int flag_value(const cli_flag *f, char *v)
{
    if (f->num)
        return num_value(f, v);
    if (f->str)
        *f->str = v;
    else if (f->on)
        *f->on = true;
    else if (f->grant)
        *f->grant = TRI_TRUE;
    else if (f->fn)
        return f->fn(f->ctx, f->name, v);
    return CLI_OK;
}

/* bad_flag reports the flag getopt stopped at (opterr is off). */
static int bad_flag(const char *cmd, char **argv, int opt)
{
    if (opt == ':')
        fprintf(stderr, "roomkey: %s: flag \"%s\" needs a value\n", cmd, argv[optind - 1]);
    else
        fprintf(stderr, "roomkey: %s: unknown flag \"%s\"\n", cmd, argv[optind - 1]);
    fprintf(stderr, "(see roomkey %s --help)\n", cmd);
    return CLI_USAGE;
}

int cli_flags(int argc, char **argv, const char *cmd, const char *help, const cli_flag *flags,
              size_t n, int *first)
{
    struct option opts[CLI_MAX_FLAGS + 2];
    char letters[2 * CLI_MAX_FLAGS + 4] = ":h";
    size_t nl = 2;
    if (n > CLI_MAX_FLAGS)
        return CLI_USAGE;
    for (size_t i = 0; i < n; i++) {
        bool value = flags[i].str || flags[i].fn || flags[i].num;
        opts[i] = (struct option){flags[i].name, value ? required_argument : no_argument, NULL,
                                  256 + (int)i};
        if (flags[i].letter) {
            letters[nl++] = flags[i].letter;
            if (value)
                letters[nl++] = ':';
        }
    }
    letters[nl] = '\0';
    opts[n] = (struct option){"help", no_argument, NULL, 'h'};
    opts[n + 1] = (struct option){NULL, 0, NULL, 0};
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, letters, opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(help, stdout);
            return CLI_DONE;
        }
        size_t i = opt >= 256 ? (size_t)opt - 256 : 0;
        while (opt < 256 && i < n && flags[i].letter != opt)
            i++;
        if (opt == '?' || opt == ':' || i >= n)
            return bad_flag(cmd, argv, opt);
        int rc = flag_value(&flags[i], optarg);
        if (rc)
            return rc;
    }
    *first = optind;
    return CLI_OK;
}

int cli_positional(int argc, char **argv, int first, int want, const char *usage)
{
    int have = argc - first;
    if (have == want)
        return CLI_OK;
    if (have > want)
        fprintf(stderr, "roomkey: unexpected argument \"%s\"\n", argv[first + want]);
    else
        fprintf(stderr, "roomkey: missing arguments\n");
    fprintf(stderr, "usage: %s\n", usage);
    return CLI_USAGE;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("roomkey: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

int cli_exit(int status)
{
    return status == CLI_DONE ? CLI_OK : status;
}

int cli_print_json(json_t *v)
{
    char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!s) {
        fprintf(stderr, "roomkey: out of memory\n");
        return CLI_FAIL;
    }
    printf("%s\n", s);
    free(s);
    return CLI_OK;
}
