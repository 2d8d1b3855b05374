/* config.c - loads RoomKey's configuration: built-in defaults, then the YAML
 * file (read with libyaml's event API into a small tree of our own, so that
 * every scalar can be wiped), then the environment, then whole-config
 * validation and the LiveKit keyring. Every refusal names the key; on
 * failure nothing stays allocated. API keys and the admin key are kept only
 * as SHA-256 hashes; HS256 issuer secrets are kept (owned, wiped on free). */
#include "config.h"
#include "../store/store.h"
#include "../token/grants.h"
#include "../util/duration.h"
#include "../util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define YAML_MAX_DEPTH  16                 /* the schema needs 4 levels */
#define YAML_MAX_NODES  (256u * 1024)      /* nodes in one file */
#define SECRET_FILE_MAX (64u * 1024)       /* any `*_file` */
#define PATH_CAP        320                /* a key path in messages */
#define TTL_CAP         (30LL * 24 * 3600) /* 30 days */
#define HS_MIN_SECRET   32                 /* bytes; shorter only in dev mode */
#define MAX_BODY_CAP    (16LL * 1024 * 1024)

/* ---- a tiny YAML tree ---------------------------------------------------- */

enum { YN_SCALAR, YN_SEQ, YN_MAP };

/* One YAML node. Scalars own str (NUL-terminated, len bytes, wiped on free);
 * sequences own their items in kids; mappings own key, value, key, value... */
typedef struct ynode {
    int kind;
    char *str;
    size_t len;
    bool plain; /* unquoted, untagged scalar: may be a number, bool or null */
    size_t line;
    struct ynode **kids;
    size_t n, cap;
} ynode;

/* ynode_free wipes and frees n and everything below it (NULL is fine). */
static void ynode_free(ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        ynode_free(n->kids[i]);
    free(n->kids);
    if (n->str) {
        OPENSSL_cleanse(n->str, n->len);
        free(n->str);
    }
    free(n);
}

/* ynode_push appends kid to parent (parent owns it from then on, even on
 * failure, when kid is freed). */
static int ynode_push(ynode *parent, ynode *kid)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        ynode **k = realloc(parent->kids, cap * sizeof *k);
        if (!k) {
            ynode_free(kid);
            return RK_ENOMEM;
        }
        parent->kids = k;
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
    return RK_OK;
}

/* ytree_parse parses buf[0..len) into *root (caller frees with ynode_free;
 * NULL for an empty file). Refuses aliases, several documents, non-scalar
 * mapping keys and more than YAML_MAX_DEPTH / YAML_MAX_NODES. Scalars and
 * libyaml's input buffers are wiped before they are freed. */
static int ytree_parse(const char *buf, size_t len, ynode **root, char *why, size_t cap)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        snprintf(why, cap, "config: out of memory");
        return RK_ENOMEM;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    ynode *stack[YAML_MAX_DEPTH];
    size_t depth = 0, nodes = 0, docs = 0;
    ynode *top = NULL;
    int rc = RK_OK;
    bool done = false;
    while (!done && rc == RK_OK) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(why, cap, "config: YAML error at line %zu: %s", p.problem_mark.line + 1,
                     p.problem ? p.problem : "syntax error");
            rc = RK_EINVAL;
            break;
        }
        size_t line = ev.start_mark.line + 1;
        ynode *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                snprintf(why, cap, "config: more than one YAML document (line %zu)", line);
                rc = RK_EINVAL;
            }
            break;
        case YAML_ALIAS_EVENT:
            snprintf(why, cap, "config: YAML aliases are not supported (line %zu)", line);
            rc = RK_EINVAL;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++nodes > YAML_MAX_NODES) {
                snprintf(why, cap, "config: more than %u YAML nodes", YAML_MAX_NODES);
                rc = RK_ETOOBIG;
                break;
            }
            n = calloc(1, sizeof *n);
            if (!n) {
                rc = RK_ENOMEM;
                break;
            }
            n->line = line;
            if (ev.type == YAML_SCALAR_EVENT) {
                n->kind = YN_SCALAR;
                n->len = ev.data.scalar.length;
                n->str = malloc(n->len + 1);
                if (!n->str) {
                    free(n);
                    rc = RK_ENOMEM;
                    break;
                }
                memcpy(n->str, ev.data.scalar.value, n->len);
                n->str[n->len] = '\0';
                n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                           (!ev.data.scalar.tag ||
                            strcmp((const char *)ev.data.scalar.tag, YAML_STR_TAG) != 0);
            } else {
                n->kind = ev.type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ;
            }
            if (depth) {
                ynode *parent = stack[depth - 1];
                if (parent->kind == YN_MAP && parent->n % 2 == 0 && n->kind != YN_SCALAR) {
                    snprintf(why, cap, "config: mapping keys must be strings (line %zu)", line);
                    ynode_free(n);
                    rc = RK_EINVAL;
                    break;
                }
                rc = ynode_push(parent, n);
                if (rc)
                    break;
            } else {
                top = n;
            }
            if (n->kind != YN_SCALAR) {
                if (depth == YAML_MAX_DEPTH) {
                    snprintf(why, cap, "config: YAML nested deeper than %d levels (line %zu)",
                             YAML_MAX_DEPTH, line);
                    rc = RK_ETOOBIG;
                    break;
                }
                stack[depth++] = n;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth)
                depth--;
            break;
        default:
            break;
        }
        if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.value)
            OPENSSL_cleanse(ev.data.scalar.value, ev.data.scalar.length);
        yaml_event_delete(&ev);
        if (rc == RK_ENOMEM)
            snprintf(why, cap, "config: out of memory");
    }
    if (p.raw_buffer.start)
        OPENSSL_cleanse(p.raw_buffer.start, (size_t)(p.raw_buffer.end - p.raw_buffer.start));
    if (p.buffer.start)
        OPENSSL_cleanse(p.buffer.start, (size_t)(p.buffer.end - p.buffer.start));
    yaml_parser_delete(&p);
    if (rc) {
        ynode_free(top);
        return rc;
    }
    *root = top;
    return RK_OK;
}

/* ---- the loader --------------------------------------------------------- */

/* A LiveKit key from `livekit.keys`, held until dev mode is known. */
typedef struct pending_key {
    char id[KEYRING_MAX_KEY_ID + 1];
    char *secret; /* owned, wiped */
    size_t len;
} pending_key;

/* State of one config_load: the config being built plus the secrets whose
 * checks depend on the final dev mode. Everything owned is wiped and freed
 * by loader_wipe. */
typedef struct loader {
    config *cfg;
    char *why;
    size_t cap;
    /* the signing key: livekit.api_key/api_secret or LIVEKIT_API_KEY/SECRET */
    char lk_key[KEYRING_MAX_KEY_ID + 1];
    bool has_lk_key;
    bool lk_key_env;
    char *lk_secret; /* owned, wiped */
    size_t lk_secret_len;
    pending_key lk_map[KEYRING_MAX_KEYS]; /* livekit.keys */
    size_t n_lk_map;
    char *lk_text;           /* livekit.keys_file contents or LIVEKIT_KEYS (owned, wiped) */
    const char *lk_text_src; /* key or env name, for messages */
    bool issuer_env[CONFIG_MAX_ISSUERS]; /* issuer came from ROOMKEY_SESSION_SECRET */
    bool role_set[CONFIG_MAX_ROLES];     /* role defined by the YAML */
    bool ttl_env;                        /* default_ttl from LIVEKIT_DEFAULT_TOKEN_TTL */
} loader;

/* fail writes the formatted message into the caller's why and returns rc. */
__attribute__((format(printf, 3, 4))) static int fail(loader *ld, int rc, const char *fmt, ...)
{
    if (ld->why && ld->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ld->why, ld->cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* loader_wipe wipes and frees the secrets ld holds (not ld->cfg). */
static void loader_wipe(loader *ld)
{
    if (ld->lk_secret) {
        OPENSSL_cleanse(ld->lk_secret, ld->lk_secret_len);
        free(ld->lk_secret);
    }
    for (size_t i = 0; i < ld->n_lk_map; i++) {
        OPENSSL_cleanse(ld->lk_map[i].secret, ld->lk_map[i].len);
        free(ld->lk_map[i].secret);
    }
    if (ld->lk_text) {
        OPENSSL_cleanse(ld->lk_text, strlen(ld->lk_text));
        free(ld->lk_text);
    }
    OPENSSL_cleanse(ld, sizeof *ld);
}

/* env returns the value of name, or NULL when unset or empty (borrowed). */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* path_key writes parent.key into out (key's unprintable bytes as '?'). */
static void path_key(char *out, size_t cap, const char *parent, const char *key, size_t klen)
{
    size_t o = 0;
    for (const char *p = parent; *p && o + 1 < cap; p++)
        out[o++] = *p;
    if (*parent && o + 1 < cap)
        out[o++] = '.';
    for (size_t i = 0; i < klen && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)key[i];
        out[o++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
    }
    out[o] = '\0';
}

/* path_idx writes parent[i] into out. */
static void path_idx(char *out, size_t cap, const char *parent, size_t i)
{
    snprintf(out, cap, "%.*s[%zu]", (int)(cap > 24 ? cap - 24 : 0), parent, i);
}

/* sha256 hashes data into out[32]. */
static int sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return RK_ECRYPTO;
    return RK_OK;
}

/* read_small reads file (at most SECRET_FILE_MAX bytes) into a new buffer,
 * NUL-terminated, with one trailing newline ("\n" or "\r\n") removed. The
 * caller owns *out and wipes it. With text, NUL bytes are refused. key names
 * the config key in messages; src is "config" or "env". */
static int read_small(loader *ld, const char *src, const char *key, const char *file, bool text,
                      char **out, size_t *out_len)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(ld, RK_EIO, "%s: %s: cannot open %s: %s", src, key, file, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(ld, RK_EIO, "%s: %s: %s is not a regular file", src, key, file);
    }
    char *buf = malloc(SECRET_FILE_MAX + 2);
    if (!buf) {
        close(fd);
        return fail(ld, RK_ENOMEM, "%s: %s: out of memory", src, key);
    }
    size_t len = 0;
    int rc = RK_OK;
    while (len <= SECRET_FILE_MAX) {
        ssize_t r = read(fd, buf + len, SECRET_FILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = fail(ld, RK_EIO, "%s: %s: cannot read %s: %s", src, key, file, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!rc && len > SECRET_FILE_MAX)
        rc = fail(ld, RK_ETOOBIG, "%s: %s: %s is larger than %u bytes", src, key, file,
                  SECRET_FILE_MAX);
    if (!rc && len && buf[len - 1] == '\n') {
        len--;
        if (len && buf[len - 1] == '\r')
            len--;
    }
    if (!rc && len == 0)
        rc = fail(ld, RK_EINVAL, "%s: %s: %s is empty", src, key, file);
    if (!rc && text && memchr(buf, '\0', len))
        rc = fail(ld, RK_EINVAL, "%s: %s: %s contains a NUL byte", src, key, file);
    if (rc) {
        OPENSSL_cleanse(buf, SECRET_FILE_MAX + 2);
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return RK_OK;
}

/* ---- typed getters: each refuses a wrong type naming the key ------------ */

/* is_null reports whether n is a YAML null (empty, ~, null). Borrows n. */
static bool is_null(const ynode *n)
{
    return n->kind == YN_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
            strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0);
}

/* kind_name names n's type for messages (static string). */
static const char *kind_name(const ynode *n)
{
    if (is_null(n))
        return "null";
    return n->kind == YN_MAP ? "a mapping" : n->kind == YN_SEQ ? "a list" : "a string";
}

/* type_err reports that path holds the wrong type; returns RK_EINVAL. */
static int type_err(loader *ld, const char *path, const ynode *n, const char *want)
{
    return fail(ld, RK_EINVAL, "config: %s: expected %s, got %s (line %zu)",
                *path ? path : "top level", want, kind_name(n), n->line);
}

/* get_str copies a string scalar (minlen..cap-1 bytes, no NUL) into dst. */
static int get_str(loader *ld, const ynode *n, const char *path, char *dst, size_t cap,
                   size_t minlen)
{
    if (n->kind != YN_SCALAR || is_null(n))
        return type_err(ld, path, n, "a string");
    if (strlen(n->str) != n->len)
        return fail(ld, RK_EINVAL, "config: %s: contains a NUL byte", path);
    if (n->len >= cap)
        return fail(ld, RK_ETOOBIG, "config: %s: longer than %zu bytes", path, cap - 1);
    if (n->len < minlen)
        return fail(ld, RK_EINVAL, "config: %s: must not be empty", path);
    memcpy(dst, n->str, n->len + 1);
    return RK_OK;
}

/* get_secret copies a non-empty string scalar of at most max bytes into a
 * new buffer (*out, caller wipes and frees). */
static int get_secret(loader *ld, const ynode *n, const char *path, size_t max, char **out,
                      size_t *len)
{
    if (n->kind != YN_SCALAR || is_null(n))
        return type_err(ld, path, n, "a string");
    if (n->len == 0)
        return fail(ld, RK_EINVAL, "config: %s: must not be empty", path);
    if (n->len > max)
        return fail(ld, RK_ETOOBIG, "config: %s: longer than %zu bytes", path, max);
    char *s = malloc(n->len + 1);
    if (!s)
        return fail(ld, RK_ENOMEM, "config: out of memory");
    memcpy(s, n->str, n->len + 1);
    *out = s;
    *len = n->len;
    return RK_OK;
}

/* get_bool reads a plain true/false into *dst. */
static int get_bool(loader *ld, const ynode *n, const char *path, bool *dst)
{
    if (n->kind == YN_SCALAR && n->plain) {
        if (!strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE")) {
            *dst = true;
            return RK_OK;
        }
        if (!strcmp(n->str, "false") || !strcmp(n->str, "False") || !strcmp(n->str, "FALSE")) {
            *dst = false;
            return RK_OK;
        }
    }
    return type_err(ld, path, n, "true or false");
}

/* get_int reads a plain decimal integer in min..max. */
static int get_int(loader *ld, const ynode *n, const char *path, int64_t min, int64_t max,
                   int64_t *dst)
{
    if (n->kind != YN_SCALAR || !n->plain || is_null(n))
        return type_err(ld, path, n, "an integer");
    const char *s = n->str;
    bool neg = *s == '-';
    if (neg || *s == '+')
        s++;
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || s[digits] != '\0')
        return type_err(ld, path, n, "an integer");
    if (digits > 18)
        return fail(ld, RK_EINVAL, "config: %s: must be between %lld and %lld", path,
                    (long long)min, (long long)max);
    int64_t v = strtoll(s, NULL, 10);
    if (neg)
        v = -v;
    if (v < min || v > max)
        return fail(ld, RK_EINVAL, "config: %s: must be between %lld and %lld", path,
                    (long long)min, (long long)max);
    *dst = v;
    return RK_OK;
}

/* parse_secs reads a duration ("1h30m", "90s") or bare seconds; "0" is 0. */
static int parse_secs(const char *s, int64_t *out)
{
    int64_t ns = 0;
    int rc = duration_parse(s, &ns);
    if (rc)
        return rc;
    *out = ns / 1000000000LL;
    if (ns > 0 && *out == 0)
        return RK_EINVAL; /* under a second and not zero */
    return RK_OK;
}

/* get_dur reads a duration in seconds, min..max. */
static int get_dur(loader *ld, const ynode *n, const char *path, int64_t min, int64_t max,
                   int64_t *dst)
{
    if (n->kind != YN_SCALAR || is_null(n))
        return type_err(ld, path, n, "a duration such as 30s, 10m or 1h");
    int64_t v = 0;
    if (strlen(n->str) != n->len || parse_secs(n->str, &v))
        return fail(ld, RK_EINVAL,
                    "config: %s: \"%.64s\" is not a duration (use e.g. 30s, 10m, 1h, or seconds)",
                    path, n->str);
    if (v < min || v > max)
        return fail(ld, RK_EINVAL, "config: %s: must be between %llds and %llds", path,
                    (long long)min, (long long)max);
    *dst = v;
    return RK_OK;
}

/* map_fields matches n's keys against names[0..nn): vals[i] gets the value
 * node of names[i] (NULL when absent). Unknown and repeated keys are refused
 * with their full path. A null n is an empty mapping. */
static int map_fields(loader *ld, const ynode *n, const char *path, const char *const *names,
                      size_t nn, const ynode **vals)
{
    for (size_t i = 0; i < nn; i++)
        vals[i] = NULL;
    if (is_null(n))
        return RK_OK;
    if (n->kind != YN_MAP)
        return type_err(ld, path, n, "a mapping");
    for (size_t k = 0; k + 1 < n->n; k += 2) {
        const ynode *key = n->kids[k];
        size_t i = 0;
        while (i < nn && !(strlen(names[i]) == key->len && !memcmp(names[i], key->str, key->len)))
            i++;
        char sub[PATH_CAP];
        path_key(sub, sizeof sub, path, key->str, key->len);
        if (i == nn)
            return fail(ld, RK_EINVAL, "config: unknown key \"%s\" (line %zu)", sub, key->line);
        if (vals[i])
            return fail(ld, RK_EINVAL, "config: duplicate key \"%s\" (line %zu)", sub, key->line);
        vals[i] = n->kids[k + 1];
    }
    return RK_OK;
}

/* seq_items checks n is a list (null: empty) of at most max items. */
static int seq_items(loader *ld, const ynode *n, const char *path, size_t max, size_t *count)
{
    if (is_null(n)) {
        *count = 0;
        return RK_OK;
    }
    if (n->kind != YN_SEQ)
        return type_err(ld, path, n, "a list");
    if (n->n > max)
        return fail(ld, RK_ETOOBIG, "config: %s: more than %zu entries", path, max);
    *count = n->n;
    return RK_OK;
}

/* sub writes parent.name into out; a shorthand for fixed key names. */
static const char *sub(char *out, const char *parent, const char *name)
{
    path_key(out, PATH_CAP, parent, name, strlen(name));
    return out;
}

/* ---- value checks shared by YAML and env ------------------------------- */

/* parse_listen splits "host:port" or "[v6]:port" into host (no brackets)
 * and port 0..65535. Returns a reason or NULL. */
static const char *parse_listen(const char *s, char host[256], uint16_t *port)
{
    const char *hs, *he, *ps;
    if (*s == '[') {
        hs = s + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':')
            return "expected [ipv6]:port";
        ps = he + 2;
    } else {
        he = strrchr(s, ':');
        if (!he)
            return "expected host:port";
        hs = s;
        ps = he + 1;
        if (memchr(hs, ':', (size_t)(he - hs)))
            return "an IPv6 address must be written [addr]:port";
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0)
        return "the host is empty";
    if (hl > 255)
        return "the host is longer than 255 bytes";
    for (const char *c = hs; c < he; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '/' || *c == '[' || *c == ']')
            return "the host holds an invalid character";
    size_t pl = strspn(ps, "0123456789");
    if (pl == 0 || pl > 5 || ps[pl] != '\0')
        return "the port must be a number from 0 to 65535";
    long p = strtol(ps, NULL, 10);
    if (p > 65535)
        return "the port must be a number from 0 to 65535";
    memcpy(host, hs, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return NULL;
}

/* url_ok accepts ws://, wss://, http:// and https:// URLs with a host. */
static bool url_ok(const char *u)
{
    static const char *const schemes[] = {"ws://", "wss://", "http://", "https://"};
    for (size_t i = 0; i < 4; i++) {
        size_t l = strlen(schemes[i]);
        if (strncmp(u, schemes[i], l) == 0) {
            if (u[l] == '\0' || u[l] == '/')
                return false;
            for (const char *c = u; *c; c++)
                if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                    return false;
            return true;
        }
    }
    return false;
}

/* ident_ok: 1..64 bytes of [a-z0-9_-] (roles), or with upper case and '.'
 * as well when loose (issuer names, API key ids). */
static bool ident_ok(const char *s, bool loose)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  (loose && ((c >= 'A' && c <= 'Z') || c == '.'));
        if (!ok)
            return false;
    }
    return true;
}

/* is_hex64 reports whether s is exactly 64 hex digits. */
static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    return strspn(s, "0123456789abcdefABCDEF") == 64;
}

/* hexval maps one hex digit (already checked) to 0..15. */
static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* ---- sections ----------------------------------------------------------- */

/* parse_server reads `server:` into ld->cfg (no allocation). */
static int parse_server(loader *ld, const ynode *n)
{
    enum { LISTEN, THREADS, BODY, HEADER, CONNS, TIMEOUT, NF };
    static const char *const names[NF] = {"listen",     "threads",         "max_body",
                                          "max_header", "max_connections", "connection_timeout"};
    const ynode *v[NF];
    config *c = ld->cfg;
    char p[PATH_CAP];
    int64_t x = 0;
    int rc = map_fields(ld, n, "server", names, NF, v);
    if (rc)
        return rc;
    if (v[LISTEN]) {
        char text[300];
        if ((rc = get_str(ld, v[LISTEN], sub(p, "server", "listen"), text, sizeof text, 1)))
            return rc;
        const char *bad = parse_listen(text, c->listen_host, &c->listen_port);
        if (bad)
            return fail(ld, RK_EINVAL, "config: server.listen: %s", bad);
    }
    if (v[THREADS]) {
        if ((rc = get_int(ld, v[THREADS], sub(p, "server", "threads"), 0, 256, &x)))
            return rc;
        c->threads = (unsigned)x;
    }
    if (v[BODY]) {
        if ((rc = get_int(ld, v[BODY], sub(p, "server", "max_body"), 1, MAX_BODY_CAP, &x)))
            return rc;
        c->max_body = (size_t)x;
    }
    if (v[HEADER]) {
        if ((rc = get_int(ld, v[HEADER], sub(p, "server", "max_header"), 1024, 65536, &x)))
            return rc;
        c->max_header = (size_t)x;
    }
    if (v[CONNS]) {
        if ((rc = get_int(ld, v[CONNS], sub(p, "server", "max_connections"), 1, 100000, &x)))
            return rc;
        c->max_connections = (unsigned)x;
    }
    if (v[TIMEOUT]) {
        if ((rc = get_dur(ld, v[TIMEOUT], sub(p, "server", "connection_timeout"), 1, 300, &x)))
            return rc;
        c->conn_timeout_s = (unsigned)x;
    }
    return RK_OK;
}

/* parse_livekit reads `livekit:`: URLs and TTLs into ld->cfg; key material
 * into ld (owned by ld, wiped by loader_wipe) until the keyring is built. */
static int parse_livekit(loader *ld, const ynode *n)
{
    enum { URL, HOST, REGION, KEY, SECRET, SECRET_FILE, KEYS, KEYS_FILE, DTTL, MTTL, NF };
    static const char *const names[NF] = {
        "url",  "host",      "region",      "api_key", "api_secret", "api_secret_file",
        "keys", "keys_file", "default_ttl", "max_ttl"};
    const ynode *v[NF];
    config *c = ld->cfg;
    char p[PATH_CAP];
    int rc = map_fields(ld, n, "livekit", names, NF, v);
    if (rc)
        return rc;
    if (v[URL]) {
        if ((rc = get_str(ld, v[URL], sub(p, "livekit", "url"), c->livekit_url,
                          sizeof c->livekit_url, 1)))
            return rc;
        if (!url_ok(c->livekit_url))
            return fail(ld, RK_EINVAL,
                        "config: livekit.url: expected a ws://, wss://, http:// "
                        "or https:// URL");
    }
    if (v[HOST]) {
        if ((rc = get_str(ld, v[HOST], sub(p, "livekit", "host"), c->livekit_host,
                          sizeof c->livekit_host, 1)))
            return rc;
        if (!url_ok(c->livekit_host))
            return fail(ld, RK_EINVAL,
                        "config: livekit.host: expected an http:// or https:// "
                        "(or ws://, wss://) URL");
    }
    if (v[REGION] &&
        (rc = get_str(ld, v[REGION], sub(p, "livekit", "region"), c->region, sizeof c->region, 0)))
        return rc;
    if (v[KEY]) {
        if ((rc = get_str(ld, v[KEY], sub(p, "livekit", "api_key"), ld->lk_key, sizeof ld->lk_key,
                          1)))
            return rc;
        ld->has_lk_key = true;
    }
    if (v[SECRET] && v[SECRET_FILE])
        return fail(ld, RK_EINVAL,
                    "config: livekit.api_secret and livekit.api_secret_file are both set");
    if (v[SECRET] && (rc = get_secret(ld, v[SECRET], sub(p, "livekit", "api_secret"),
                                      KEYRING_MAX_SECRET, &ld->lk_secret, &ld->lk_secret_len)))
        return rc;
    if (v[SECRET_FILE]) {
        char file[CONFIG_MAX_STR];
        const char *k = sub(p, "livekit", "api_secret_file");
        if ((rc = get_str(ld, v[SECRET_FILE], k, file, sizeof file, 1)) ||
            (rc = read_small(ld, "config", k, file, false, &ld->lk_secret, &ld->lk_secret_len)))
            return rc;
    }
    if (ld->has_lk_key && !ld->lk_secret)
        return fail(ld, RK_EINVAL,
                    "config: livekit.api_key: set without livekit.api_secret "
                    "(or livekit.api_secret_file)");
    if (!ld->has_lk_key && ld->lk_secret)
        return fail(ld, RK_EINVAL, "config: livekit.api_secret: set without livekit.api_key");
    if (v[KEYS] && !is_null(v[KEYS])) {
        const ynode *m = v[KEYS];
        if (m->kind != YN_MAP)
            return type_err(ld, "livekit.keys", m, "a mapping of key: secret");
        if (m->n / 2 > KEYRING_MAX_KEYS)
            return fail(ld, RK_ETOOBIG, "config: livekit.keys: more than %d keys",
                        KEYRING_MAX_KEYS);
        for (size_t k = 0; k + 1 < m->n; k += 2) {
            pending_key *pk = &ld->lk_map[ld->n_lk_map];
            path_key(p, sizeof p, "livekit.keys", m->kids[k]->str, m->kids[k]->len);
            if ((rc = get_str(ld, m->kids[k], p, pk->id, sizeof pk->id, 1)) ||
                (rc = get_secret(ld, m->kids[k + 1], p, KEYRING_MAX_SECRET, &pk->secret, &pk->len)))
                return rc;
            ld->n_lk_map++;
        }
    }
    if (v[KEYS_FILE]) {
        char file[CONFIG_MAX_STR];
        size_t len = 0;
        const char *k = sub(p, "livekit", "keys_file");
        if ((rc = get_str(ld, v[KEYS_FILE], k, file, sizeof file, 1)) ||
            (rc = read_small(ld, "config", k, file, true, &ld->lk_text, &len)))
            return rc;
        ld->lk_text_src = "config: livekit.keys_file";
    }
    if (v[MTTL] &&
        (rc = get_dur(ld, v[MTTL], sub(p, "livekit", "max_ttl"), 1, TTL_CAP, &c->max_ttl)))
        return rc;
    if (v[DTTL] &&
        (rc = get_dur(ld, v[DTTL], sub(p, "livekit", "default_ttl"), 1, TTL_CAP, &c->default_ttl)))
        return rc;
    return RK_OK;
}

/* set_hs_secret hands secret (malloc'd, len bytes) to issuer is. */
static void set_hs_secret(config_issuer *is, char *secret, size_t len)
{
    if (is->hs_secret) {
        OPENSSL_cleanse(is->hs_secret, is->hs_secret_len);
        free(is->hs_secret);
    }
    is->hs_secret = (unsigned char *)secret;
    is->hs_secret_len = len;
}

/* parse_issuer reads one issuer into is; an HS secret it reads is owned by
 * is (freed by config_free, even when a later key fails). */
static int parse_issuer(loader *ld, const ynode *n, const char *path, config_issuer *is)
{
    enum {
        NAME,
        ALGS,
        SECRET,
        SECRET_FILE,
        SECRET_ENV,
        ISS,
        AUD,
        LEEWAY,
        SUBJ,
        NAMEC,
        ROLEC,
        JWKS,
        HTTP,
        NF
    };
    static const char *const names[NF] = {
        "name",       "algorithms", "secret",         "secret_file",   "secret_env",
        "issuer",     "audience",   "leeway",         "subject_claim", "name_claim",
        "role_claim", "jwks",       "allow_http_jwks"};
    static const char *const algs[] = {"HS256", "RS256", "PS256", "ES256", "EdDSA"};
    const ynode *v[NF];
    char p[PATH_CAP];
    int rc = map_fields(ld, n, path, names, NF, v);
    if (rc)
        return rc;
    is->leeway = 30;
    strcpy(is->subject_claim, "sub");
    strcpy(is->name_claim, "name");
    if (!v[NAME])
        return fail(ld, RK_EINVAL, "config: %s: required", sub(p, path, "name"));
    if ((rc = get_str(ld, v[NAME], sub(p, path, "name"), is->name, sizeof is->name, 1)))
        return rc;
    if (!ident_ok(is->name, true))
        return fail(ld, RK_EINVAL, "config: %s: use 1-64 letters, digits, '-', '_' or '.'", p);
    const char *ap = sub(p, path, "algorithms");
    if (!v[ALGS])
        return fail(ld, RK_EINVAL, "config: %s: required (e.g. [HS256] or [RS256, ES256])", ap);
    size_t na = 0;
    if ((rc = seq_items(ld, v[ALGS], ap, CONFIG_MAX_ALGS, &na)))
        return rc;
    if (na == 0)
        return fail(ld, RK_EINVAL, "config: %s: must list at least one algorithm", ap);
    bool hs = false;
    for (size_t i = 0; i < na; i++) {
        char a[16], ip[PATH_CAP];
        path_idx(ip, sizeof ip, ap, i);
        if ((rc = get_str(ld, v[ALGS]->kids[i], ip, a, sizeof a, 1)))
            return fail(ld, RK_EINVAL,
                        "config: %s: expected one of HS256, RS256, PS256, ES256, "
                        "EdDSA",
                        ip);
        size_t k = 0;
        while (k < 5 && strcmp(a, algs[k]) != 0)
            k++;
        if (k == 5)
            return fail(ld, RK_EINVAL,
                        "config: %s: \"%s\" is not one of HS256, RS256, PS256, ES256, EdDSA", ip,
                        a);
        for (size_t j = 0; j < is->n_algs; j++)
            if (strcmp(is->algs[j], a) == 0)
                return fail(ld, RK_EINVAL, "config: %s: %s is listed twice", ap, a);
        strcpy(is->algs[is->n_algs++], a);
        hs = hs || k == 0;
    }
    if (hs && na > 1)
        return fail(ld, RK_EINVAL,
                    "config: %s: HS256 cannot be mixed with asymmetric algorithms in one issuer "
                    "(RFC 8725 key confusion); declare two issuers",
                    ap);
    int nsec = !!v[SECRET] + !!v[SECRET_FILE] + !!v[SECRET_ENV];
    if (nsec > 1)
        return fail(ld, RK_EINVAL, "config: %s: set only one of secret, secret_file, secret_env",
                    sub(p, path, "secret"));
    if (hs) {
        if (nsec == 0)
            return fail(ld, RK_EINVAL,
                        "config: %s: required for HS256 (or secret_file / secret_env)",
                        sub(p, path, "secret"));
        if (v[JWKS])
            return fail(ld, RK_EINVAL,
                        "config: %s: not allowed for an HS256 issuer (HS keys never come from "
                        "a JWKS)",
                        sub(p, path, "jwks"));
    } else {
        if (nsec)
            return fail(ld, RK_EINVAL,
                        "config: %s: not allowed for asymmetric algorithms (use jwks)",
                        sub(p, path,
                            v[SECRET]        ? "secret"
                            : v[SECRET_FILE] ? "secret_file"
                                             : "secret_env"));
        if (!v[JWKS])
            return fail(ld, RK_EINVAL, "config: %s: required for %s (a URL or a file path)",
                        sub(p, path, "jwks"), is->algs[0]);
        if (!v[ISS])
            return fail(ld, RK_EINVAL, "config: %s: required for asymmetric algorithms",
                        sub(p, path, "issuer"));
    }
    char *sec = NULL;
    size_t slen = 0;
    if (v[SECRET] &&
        (rc = get_secret(ld, v[SECRET], sub(p, path, "secret"), CONFIG_MAX_STR, &sec, &slen)))
        return rc;
    if (v[SECRET_FILE]) {
        char file[CONFIG_MAX_STR];
        const char *k = sub(p, path, "secret_file");
        if ((rc = get_str(ld, v[SECRET_FILE], k, file, sizeof file, 1)) ||
            (rc = read_small(ld, "config", k, file, false, &sec, &slen)))
            return rc;
        if (slen > CONFIG_MAX_STR) {
            OPENSSL_cleanse(sec, slen);
            free(sec);
            return fail(ld, RK_ETOOBIG, "config: %s: the secret is longer than %d bytes", k,
                        CONFIG_MAX_STR);
        }
    }
    if (v[SECRET_ENV]) {
        char name[256];
        const char *k = sub(p, path, "secret_env");
        if ((rc = get_str(ld, v[SECRET_ENV], k, name, sizeof name, 1)))
            return rc;
        const char *val = env(name);
        if (!val)
            return fail(ld, RK_EINVAL, "config: %s: environment variable %s is not set", k, name);
        slen = strlen(val);
        if (slen > CONFIG_MAX_STR)
            return fail(ld, RK_ETOOBIG, "config: %s: %s is longer than %d bytes", k, name,
                        CONFIG_MAX_STR);
        sec = strdup(val);
        if (!sec)
            return fail(ld, RK_ENOMEM, "config: out of memory");
    }
    if (sec)
        set_hs_secret(is, sec, slen);
    if (v[ISS]) {
        const char *k = sub(p, path, "issuer");
        if ((rc = get_str(ld, v[ISS], k, is->iss, sizeof is->iss, 0)))
            return rc;
        if (!hs && !is->iss[0])
            return fail(ld, RK_EINVAL, "config: %s: must not be empty for asymmetric algorithms",
                        k);
    }
    if (v[AUD] && (rc = get_str(ld, v[AUD], sub(p, path, "audience"), is->aud, sizeof is->aud, 0)))
        return rc;
    if (v[LEEWAY] && (rc = get_dur(ld, v[LEEWAY], sub(p, path, "leeway"), 0, 300, &is->leeway)))
        return rc;
    if (v[SUBJ] && (rc = get_str(ld, v[SUBJ], sub(p, path, "subject_claim"), is->subject_claim,
                                 sizeof is->subject_claim, 1)))
        return rc;
    if (v[NAMEC] && (rc = get_str(ld, v[NAMEC], sub(p, path, "name_claim"), is->name_claim,
                                  sizeof is->name_claim, 1)))
        return rc;
    if (v[ROLEC]) {
        const char *k = sub(p, path, "role_claim");
        if ((rc = get_str(ld, v[ROLEC], k, is->role_claim, sizeof is->role_claim, 0)))
            return rc;
        const char *r = is->role_claim;
        size_t l = strlen(r);
        if (l && (r[0] == '.' || r[l - 1] == '.' || strstr(r, "..")))
            return fail(ld, RK_EINVAL, "config: %s: a dotted claim path such as app_metadata.role",
                        k);
    }
    if (v[HTTP] &&
        (rc = get_bool(ld, v[HTTP], sub(p, path, "allow_http_jwks"), &is->allow_http_jwks)))
        return rc;
    if (v[JWKS]) {
        const char *k = sub(p, path, "jwks");
        if ((rc = get_str(ld, v[JWKS], k, is->jwks, sizeof is->jwks, 1)))
            return rc;
        if (strncmp(is->jwks, "http://", 7) == 0) {
            /* The host must be exactly a loopback name: "127.0.0.1.evil.example"
             * is not loopback. */
            const char *h = is->jwks + 7;
            static const char *const LOOPBACK[] = {"127.0.0.1", "localhost", "[::1]"};
            bool loop = false;
            for (size_t l = 0; l < sizeof LOOPBACK / sizeof LOOPBACK[0]; l++) {
                size_t n = strlen(LOOPBACK[l]);
                if (!strncmp(h, LOOPBACK[l], n) && (h[n] == ':' || h[n] == '/' || !h[n]))
                    loop = true;
            }
            if (!is->allow_http_jwks || !loop)
                return fail(ld, RK_EINVAL,
                            "config: %s: http:// is refused (use https://; plain http only to a "
                            "loopback host with allow_http_jwks)",
                            k);
        } else if (strstr(is->jwks, "://") && strncmp(is->jwks, "https://", 8) != 0) {
            return fail(ld, RK_EINVAL, "config: %s: expected an https:// URL or a file path", k);
        } else if (!strcmp(is->jwks, "https://")) {
            return fail(ld, RK_EINVAL, "config: %s: the URL has no host", k);
        }
    }
    return RK_OK;
}

/* parse_issuers reads the `issuers:` list into ld->cfg. */
static int parse_issuers(loader *ld, const ynode *n)
{
    size_t count = 0;
    int rc = seq_items(ld, n, "issuers", CONFIG_MAX_ISSUERS, &count);
    if (rc)
        return rc;
    config *c = ld->cfg;
    for (size_t i = 0; i < count; i++) {
        char p[PATH_CAP];
        path_idx(p, sizeof p, "issuers", i);
        config_issuer *is = &c->issuers[c->n_issuers++];
        if ((rc = parse_issuer(ld, n->kids[i], p, is)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->issuers[j].name, is->name) == 0)
                return fail(ld, RK_EINVAL, "config: %s.name: issuer \"%s\" is defined twice", p,
                            is->name);
    }
    return RK_OK;
}

/* parse_apikeys reads `api_keys:`; each plaintext key is hashed into the
 * config and wiped and freed here at once. */
static int parse_apikeys(loader *ld, const ynode *n)
{
    enum { ID, KEY, KEY_FILE, KEY_ENV, KEY_SHA, PERMS, NF };
    static const char *const names[NF] = {"id",      "key",        "key_file",
                                          "key_env", "key_sha256", "permissions"};
    size_t count = 0;
    int rc = seq_items(ld, n, "api_keys", CONFIG_MAX_APIKEYS, &count);
    if (rc)
        return rc;
    config *c = ld->cfg;
    for (size_t i = 0; i < count; i++) {
        char path[PATH_CAP], p[PATH_CAP];
        const ynode *v[NF];
        path_idx(path, sizeof path, "api_keys", i);
        if ((rc = map_fields(ld, n->kids[i], path, names, NF, v)))
            return rc;
        config_apikey *k = &c->apikeys[c->n_apikeys++];
        if (!v[ID])
            return fail(ld, RK_EINVAL, "config: %s: required", sub(p, path, "id"));
        if ((rc = get_str(ld, v[ID], sub(p, path, "id"), k->id, sizeof k->id, 1)))
            return rc;
        if (!ident_ok(k->id, true))
            return fail(ld, RK_EINVAL, "config: %s: use 1-64 letters, digits, '-', '_' or '.'", p);
        for (size_t j = 0; j + 1 < c->n_apikeys; j++)
            if (strcmp(c->apikeys[j].id, k->id) == 0)
                return fail(ld, RK_EINVAL, "config: %s: API key id \"%s\" is used twice", p, k->id);
        int nsrc = !!v[KEY] + !!v[KEY_FILE] + !!v[KEY_ENV] + !!v[KEY_SHA];
        if (nsrc != 1)
            return fail(ld, RK_EINVAL,
                        "config: %s: set exactly one of key, key_file, key_env, key_sha256",
                        sub(p, path, "key"));
        char *plain = NULL;
        size_t plen = 0;
        if (v[KEY])
            rc = get_secret(ld, v[KEY], sub(p, path, "key"), CONFIG_MAX_STR, &plain, &plen);
        if (v[KEY_FILE]) {
            char file[CONFIG_MAX_STR];
            const char *kp = sub(p, path, "key_file");
            if (!(rc = get_str(ld, v[KEY_FILE], kp, file, sizeof file, 1)))
                rc = read_small(ld, "config", kp, file, false, &plain, &plen);
        }
        if (v[KEY_ENV]) {
            char name[256];
            const char *kp = sub(p, path, "key_env");
            if (!(rc = get_str(ld, v[KEY_ENV], kp, name, sizeof name, 1))) {
                const char *val = env(name);
                if (!val)
                    rc = fail(ld, RK_EINVAL, "config: %s: environment variable %s is not set", kp,
                              name);
                else if (!(plain = strdup(val)))
                    rc = fail(ld, RK_ENOMEM, "config: out of memory");
                else
                    plen = strlen(val);
            }
        }
        if (v[KEY_SHA]) {
            char hex[80];
            const char *kp = sub(p, path, "key_sha256");
            if ((rc = get_str(ld, v[KEY_SHA], kp, hex, sizeof hex, 1)))
                return rc;
            if (!is_hex64(hex))
                return fail(ld, RK_EINVAL, "config: %s: expected 64 hex digits (a SHA-256)", kp);
            for (size_t b = 0; b < 32; b++)
                k->hash[b] = (unsigned char)(hexval(hex[2 * b]) << 4 | hexval(hex[2 * b + 1]));
        }
        if (plain) {
            int hrc = rc ? rc : sha256(plain, plen, k->hash);
            OPENSSL_cleanse(plain, plen);
            free(plain);
            if (hrc && !rc)
                rc = fail(ld, hrc, "config: %s: SHA-256 failed", path);
        }
        if (rc)
            return rc;
        for (size_t j = 0; j + 1 < c->n_apikeys; j++)
            if (CRYPTO_memcmp(c->apikeys[j].hash, k->hash, 32) == 0)
                return fail(ld, RK_EINVAL, "config: %s: the same key as api_keys[%zu]", path, j);
        if (v[PERMS]) {
            size_t np = 0;
            const char *pp = sub(p, path, "permissions");
            if ((rc = seq_items(ld, v[PERMS], pp, 8, &np)))
                return rc;
            for (size_t j = 0; j < np; j++) {
                char perm[32], ip[PATH_CAP];
                path_idx(ip, sizeof ip, pp, j);
                if (get_str(ld, v[PERMS]->kids[j], ip, perm, sizeof perm, 1) ||
                    (strcmp(perm, "mint_any") && strcmp(perm, "admin")))
                    return fail(ld, RK_EINVAL, "config: %s: expected mint_any or admin", ip);
                k->perms |= perm[0] == 'a' ? PERM_ADMIN : PERM_MINT_ANY;
            }
        }
    }
    return RK_OK;
}

/* set_admin_key hashes key[0..len) as the admin key and wipes nothing (the
 * caller wipes its plaintext). */
static int set_admin_key(loader *ld, const char *src, const char *key, size_t len)
{
    if (sha256(key, len, ld->cfg->admin_key_hash))
        return fail(ld, RK_ECRYPTO, "%s: SHA-256 failed", src);
    ld->cfg->has_admin_key = true;
    return RK_OK;
}

/* parse_admin hashes `admin_key` or `admin_key_file`; the plaintext is
 * wiped and freed here. */
static int parse_admin(loader *ld, const ynode *key, const ynode *file)
{
    if (key && file)
        return fail(ld, RK_EINVAL, "config: admin_key and admin_key_file are both set");
    char *plain = NULL;
    size_t plen = 0;
    int rc = RK_OK;
    if (key)
        rc = get_secret(ld, key, "admin_key", CONFIG_MAX_STR, &plain, &plen);
    if (file) {
        char f[CONFIG_MAX_STR];
        if (!(rc = get_str(ld, file, "admin_key_file", f, sizeof f, 1)))
            rc = read_small(ld, "config", "admin_key_file", f, false, &plain, &plen);
    }
    if (plain) {
        if (!rc)
            rc = set_admin_key(ld, "config: admin_key", plain, plen);
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
    return rc;
}

/* parse_role reads one role's grants into r (already zeroed and named). */
static int parse_role(loader *ld, const ynode *n, const char *path, config_role *r)
{
    enum { PUB, SUBS, DATA, META, ADMIN, HIDDEN, REC, SOURCES, TTL, AGENTS, NF };
    static const char *const names[NF] = {"can_publish",      "can_subscribe",
                                          "can_publish_data", "can_update_own_metadata",
                                          "room_admin",       "hidden",
                                          "recorder",         "sources",
                                          "max_ttl",          "may_dispatch_agents"};
    bool *flags[NF] = {&r->can_publish,
                       &r->can_subscribe,
                       &r->can_publish_data,
                       &r->can_update_own_metadata,
                       &r->room_admin,
                       &r->hidden,
                       &r->recorder,
                       NULL,
                       NULL,
                       &r->may_dispatch_agents};
    const ynode *v[NF];
    char p[PATH_CAP];
    int rc = map_fields(ld, n, path, names, NF, v);
    if (rc)
        return rc;
    for (size_t i = 0; i < NF; i++)
        if (flags[i] && v[i] && (rc = get_bool(ld, v[i], sub(p, path, names[i]), flags[i])))
            return rc;
    if (v[TTL] && (rc = get_dur(ld, v[TTL], sub(p, path, "max_ttl"), 0, TTL_CAP, &r->max_ttl)))
        return rc;
    if (v[SOURCES]) {
        size_t ns = 0;
        const char *sp = sub(p, path, "sources");
        if ((rc = seq_items(ld, v[SOURCES], sp, 8, &ns)))
            return rc;
        r->sources_set = true;
        for (size_t i = 0; i < ns; i++) {
            char s[32], ip[PATH_CAP];
            unsigned bit = 0;
            path_idx(ip, sizeof ip, sp, i);
            if (get_str(ld, v[SOURCES]->kids[i], ip, s, sizeof s, 1) || lk_source_parse(s, &bit))
                return fail(ld, RK_EINVAL,
                            "config: %s: expected camera, microphone, screen_share or "
                            "screen_share_audio",
                            ip);
            r->sources |= bit;
        }
    }
    return RK_OK;
}

/* parse_roles reads `roles:`; a built-in's name replaces that built-in. */
static int parse_roles(loader *ld, const ynode *n)
{
    if (is_null(n))
        return RK_OK;
    if (n->kind != YN_MAP)
        return type_err(ld, "roles", n, "a mapping of role name to grants");
    config *c = ld->cfg;
    for (size_t k = 0; k + 1 < n->n; k += 2) {
        const ynode *key = n->kids[k];
        char p[PATH_CAP], name[65];
        path_key(p, sizeof p, "roles", key->str, key->len);
        if (key->len > 64 || strlen(key->str) != key->len || !ident_ok(key->str, false))
            return fail(ld, RK_EINVAL, "config: %s: a role name is 1-64 of a-z, 0-9, '_', '-'", p);
        memcpy(name, key->str, key->len + 1);
        size_t i = 0;
        while (i < c->n_roles && strcmp(c->roles[i].name, name) != 0)
            i++;
        if (i < c->n_roles && ld->role_set[i])
            return fail(ld, RK_EINVAL, "config: %s: role \"%s\" is defined twice", p, name);
        if (i == c->n_roles && c->n_roles == CONFIG_MAX_ROLES)
            return fail(ld, RK_ETOOBIG, "config: roles: more than %d roles (built-ins included)",
                        CONFIG_MAX_ROLES);
        config_role *r = &c->roles[i];
        memset(r, 0, sizeof *r);
        memcpy(r->name, name, sizeof r->name);
        if (i == c->n_roles)
            c->n_roles++;
        ld->role_set[i] = true;
        int rc = parse_role(ld, n->kids[k + 1], p, r);
        if (rc)
            return rc;
    }
    return RK_OK;
}

/* parse_rooms reads `rooms:` (names and aliases unique; roles checked in
 * validate, once every role is known). */
static int parse_rooms(loader *ld, const ynode *n)
{
    enum { NAME, ALIAS, MODE, DROLE, MAXP, TTL, NF };
    static const char *const names[NF] = {
        "name", "alias", "mode", "default_role", "max_participants", "max_ttl"};
    size_t count = 0;
    int rc = seq_items(ld, n, "rooms", CONFIG_MAX_ROOMS, &count);
    if (rc)
        return rc;
    config *c = ld->cfg;
    for (size_t i = 0; i < count; i++) {
        char path[PATH_CAP], p[PATH_CAP];
        const ynode *v[NF];
        path_idx(path, sizeof path, "rooms", i);
        if ((rc = map_fields(ld, n->kids[i], path, names, NF, v)))
            return rc;
        config_room *r = &c->rooms[c->n_rooms++];
        r->mode = STORE_MODE_MEMBERS;
        if (!v[NAME])
            return fail(ld, RK_EINVAL, "config: %s: required", sub(p, path, "name"));
        if ((rc = get_str(ld, v[NAME], sub(p, path, "name"), r->name, sizeof r->name, 1)))
            return rc;
        if (v[ALIAS] &&
            (rc = get_str(ld, v[ALIAS], sub(p, path, "alias"), r->alias, sizeof r->alias, 0)))
            return rc;
        if (v[MODE]) {
            char mode[32];
            if (get_str(ld, v[MODE], sub(p, path, "mode"), mode, sizeof mode, 1) ||
                (strcmp(mode, "members") && strcmp(mode, "authenticated")))
                return fail(ld, RK_EINVAL, "config: %s: expected members or authenticated", p);
            r->mode = mode[0] == 'a' ? STORE_MODE_AUTHENTICATED : STORE_MODE_MEMBERS;
        }
        if (v[DROLE] && (rc = get_str(ld, v[DROLE], sub(p, path, "default_role"), r->default_role,
                                      sizeof r->default_role, 0)))
            return rc;
        if (v[MAXP] && (rc = get_int(ld, v[MAXP], sub(p, path, "max_participants"), 0, UINT32_MAX,
                                     &r->max_participants)))
            return rc;
        if (v[TTL] && (rc = get_dur(ld, v[TTL], sub(p, path, "max_ttl"), 0, TTL_CAP, &r->max_ttl)))
            return rc;
        for (size_t j = 0; j + 1 < c->n_rooms; j++) {
            const config_room *o = &c->rooms[j];
            if (!strcmp(o->name, r->name) || (o->alias[0] && !strcmp(o->alias, r->name)))
                return fail(ld, RK_EINVAL, "config: %s.name: \"%s\" is used by rooms[%zu]", path,
                            r->name, j);
            if (r->alias[0] && (!strcmp(o->name, r->alias) || !strcmp(o->alias, r->alias)))
                return fail(ld, RK_EINVAL, "config: %s.alias: \"%s\" is used by rooms[%zu]", path,
                            r->alias, j);
        }
        if (r->alias[0] && !strcmp(r->alias, r->name))
            return fail(ld, RK_EINVAL, "config: %s.alias: the same as the room's name", path);
    }
    return RK_OK;
}

/* parse_members reads `members:` (role defaults to "member"). */
static int parse_members(loader *ld, const ynode *n)
{
    enum { ROOM, SUBJ, ROLE, NF };
    static const char *const names[NF] = {"room", "subject", "role"};
    size_t count = 0;
    int rc = seq_items(ld, n, "members", CONFIG_MAX_MEMBERS, &count);
    if (rc)
        return rc;
    config *c = ld->cfg;
    for (size_t i = 0; i < count; i++) {
        char path[PATH_CAP], p[PATH_CAP];
        const ynode *v[NF];
        path_idx(path, sizeof path, "members", i);
        if ((rc = map_fields(ld, n->kids[i], path, names, NF, v)))
            return rc;
        config_member *m = &c->members[c->n_members++];
        strcpy(m->role, "member");
        if (!v[ROOM])
            return fail(ld, RK_EINVAL, "config: %s: required", sub(p, path, "room"));
        if (!v[SUBJ])
            return fail(ld, RK_EINVAL, "config: %s: required", sub(p, path, "subject"));
        if ((rc = get_str(ld, v[ROOM], sub(p, path, "room"), m->room, sizeof m->room, 1)) ||
            (rc =
                 get_str(ld, v[SUBJ], sub(p, path, "subject"), m->subject, sizeof m->subject, 1)) ||
            (v[ROLE] &&
             (rc = get_str(ld, v[ROLE], sub(p, path, "role"), m->role, sizeof m->role, 1))))
            return rc;
        for (size_t j = 0; j + 1 < c->n_members; j++)
            if (!strcmp(c->members[j].room, m->room) && !strcmp(c->members[j].subject, m->subject))
                return fail(ld, RK_EINVAL,
                            "config: %s: %s is already a member of %s (members[%zu])", path,
                            m->subject, m->room, j);
    }
    return RK_OK;
}

/* parse_root reads the top-level mapping; root is borrowed. dev_mode first,
 * though checks that depend on it wait for validate (env may change it). */
static const char *const family_names[FAMILY_COUNT] = {
    [FAMILY_LIVEKIT] = "livekit",           [FAMILY_VOICE_AGENT] = "voice_agent",
    [FAMILY_SUPABASE] = "supabase",         [FAMILY_MEETINGS] = "meetings",
    [FAMILY_TOKEN_SOURCE] = "token_source",
};

const char *config_family_name(enum config_family f)
{
    return (unsigned)f < FAMILY_COUNT ? family_names[f] : "?";
}

/* parse_families reads `families:`, a mapping of family name to bool. */
static int parse_families(loader *ld, const ynode *n)
{
    const ynode *v[FAMILY_COUNT];
    char p[PATH_CAP];
    int rc = map_fields(ld, n, "families", family_names, FAMILY_COUNT, v);
    for (size_t i = 0; rc == RK_OK && i < FAMILY_COUNT; i++)
        if (v[i])
            rc = get_bool(ld, v[i], sub(p, "families", family_names[i]), &ld->cfg->families[i]);
    return rc;
}

/* parse_voice_agent reads `voice_agent:` (the seed 003 family's options). */
static int parse_voice_agent(loader *ld, const ynode *n)
{
    enum { ANON, NF };
    static const char *const names[NF] = {"anonymous_rooms"};
    const ynode *v[NF];
    config_voice_agent *va = &ld->cfg->voice_agent;
    char p[PATH_CAP];
    size_t count = 0;
    int rc = map_fields(ld, n, "voice_agent", names, NF, v);
    if (rc || !v[ANON])
        return rc;
    const char *lp = sub(p, "voice_agent", "anonymous_rooms");
    if ((rc = seq_items(ld, v[ANON], lp, CONFIG_MAX_ANON_ROOMS, &count)))
        return rc;
    for (size_t i = 0; i < count; i++) {
        char ip[PATH_CAP];
        char *room = va->anonymous_rooms[i];
        path_idx(ip, sizeof ip, lp, i);
        if ((rc = get_str(ld, v[ANON]->kids[i], ip, room, sizeof va->anonymous_rooms[0], 1)))
            return rc;
        if (strspn(room, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            strlen(room))
            return fail(ld, RK_EINVAL, "config: %s: a room name of letters, digits, '-', '_'", ip);
        va->n_anonymous_rooms = i + 1;
    }
    return RK_OK;
}

/* parse_token_source reads `token_source:` (the standard endpoint's limits). */
static int parse_token_source(loader *ld, const ynode *n)
{
    enum { META, ATTRS, NF };
    static const char *const names[NF] = {"max_metadata", "max_attributes"};
    const ynode *v[NF];
    config_token_source *ts = &ld->cfg->token_source;
    char p[PATH_CAP];
    int64_t x = 0;
    int rc = map_fields(ld, n, "token_source", names, NF, v);
    if (rc)
        return rc;
    if (v[META]) {
        if ((rc = get_int(ld, v[META], sub(p, "token_source", "max_metadata"), 0, 65536, &x)))
            return rc;
        ts->max_metadata = (size_t)x;
    }
    if (v[ATTRS]) {
        if ((rc = get_int(ld, v[ATTRS], sub(p, "token_source", "max_attributes"), 0, 65536, &x)))
            return rc;
        ts->max_attributes = (size_t)x;
    }
    return RK_OK;
}

/* supabase_defaults sets the room types of seed 002: audition ->
 * audition-room, main_show -> main-show, no role mapping, no seats. */
static void supabase_defaults(config_supabase *sb)
{
    static const char *const types[][2] = {{"audition", "audition-room"},
                                           {"main_show", "main-show"}};
    memset(sb, 0, sizeof *sb);
    for (size_t i = 0; i < 2; i++) {
        config_room_type *t = &sb->room_types[sb->n_room_types++];
        snprintf(t->type, sizeof t->type, "%s", types[i][0]);
        snprintf(t->room, sizeof t->room, "%s", types[i][1]);
        snprintf(t->seat_role, sizeof t->seat_role, "judge");
    }
}

/* role_ref reads a string that must name a configured role into dst[65]. */
static int role_ref(loader *ld, const ynode *n, const char *path, char *dst)
{
    int rc = get_str(ld, n, path, dst, 65, 1);
    if (rc == RK_OK && !config_role_find(ld->cfg, dst))
        return fail(ld, RK_EINVAL, "config: %s: no role named \"%s\"", path, dst);
    return rc;
}

/* parse_role_map reads a room type's `roles:` (session role -> role). */
static int parse_role_map(loader *ld, const ynode *n, const char *path, config_room_type *t)
{
    if (n->kind != YN_MAP)
        return type_err(ld, path, n, "a mapping of session role to role");
    if (n->n / 2 > CONFIG_MAX_ROLE_MAP)
        return fail(ld, RK_ETOOBIG, "config: %s: more than %d entries", path, CONFIG_MAX_ROLE_MAP);
    for (size_t k = 0; k + 1 < n->n; k += 2) {
        const ynode *key = n->kids[k];
        char p[PATH_CAP];
        path_key(p, sizeof p, path, key->str, key->len);
        config_role_map *m = &t->roles[t->n_roles];
        int rc = get_str(ld, key, p, m->session_role, sizeof m->session_role, 1);
        if (rc || (rc = role_ref(ld, n->kids[k + 1], p, m->role)))
            return rc;
        for (size_t j = 0; j < t->n_roles; j++)
            if (!strcmp(t->roles[j].session_role, m->session_role))
                return fail(ld, RK_EINVAL, "config: %s: listed twice", p);
        t->n_roles++;
    }
    return RK_OK;
}

/* parse_supabase reads `supabase:` (after roles:, whose names it checks):
 * room_types, when given, replaces the default room types entirely. */
static int parse_supabase(loader *ld, const ynode *n)
{
    enum { TYPES, ANON, NF };
    static const char *const names[NF] = {"room_types", "allow_anonymous"};
    enum { ROOM, ROLES, SEATS, SEAT_ROLE, NT };
    static const char *const tnames[NT] = {"room", "roles", "seats", "seat_role"};
    const ynode *v[NF];
    char p[PATH_CAP];
    config_supabase *sb = &ld->cfg->supabase;
    int rc = map_fields(ld, n, "supabase", names, NF, v);
    if (rc ||
        (v[ANON] && (rc = get_bool(ld, v[ANON], "supabase.allow_anonymous", &sb->allow_anonymous))))
        return rc;
    if (!v[TYPES])
        return RK_OK;
    const ynode *types = v[TYPES];
    if (types->kind != YN_MAP || types->n == 0)
        return type_err(ld, "supabase.room_types", types, "a non-empty mapping of roomType");
    if (types->n / 2 > CONFIG_MAX_ROOM_TYPES)
        return fail(ld, RK_ETOOBIG, "config: supabase.room_types: more than %d entries",
                    CONFIG_MAX_ROOM_TYPES);
    sb->n_room_types = 0;
    for (size_t k = 0; k + 1 < types->n; k += 2) {
        const ynode *key = types->kids[k];
        char path[PATH_CAP];
        path_key(path, sizeof path, "supabase.room_types", key->str, key->len);
        config_room_type *t = &sb->room_types[sb->n_room_types];
        memset(t, 0, sizeof *t);
        strcpy(t->seat_role, "judge");
        if (key->len > 64 || strlen(key->str) != key->len || !ident_ok(key->str, true))
            return fail(ld, RK_EINVAL,
                        "config: %s: a roomType is 1-64 of letters, digits, '_', '-', '.'", path);
        memcpy(t->type, key->str, key->len + 1);
        for (size_t j = 0; j < sb->n_room_types; j++)
            if (!strcmp(sb->room_types[j].type, t->type))
                return fail(ld, RK_EINVAL, "config: %s: listed twice", path);
        const ynode *tv[NT];
        if ((rc = map_fields(ld, types->kids[k + 1], path, tnames, NT, tv)))
            return rc;
        if (!tv[ROOM])
            return fail(ld, RK_EINVAL, "config: %s: required", sub(p, path, "room"));
        if ((rc = get_str(ld, tv[ROOM], sub(p, path, "room"), t->room, sizeof t->room, 1)) ||
            (tv[ROLES] && (rc = parse_role_map(ld, tv[ROLES], sub(p, path, "roles"), t))) ||
            (tv[SEATS] &&
             (rc = get_int(ld, tv[SEATS], sub(p, path, "seats"), 0, STORE_MAX_SEATS, &t->seats))) ||
            (tv[SEAT_ROLE] && (rc = get_str(ld, tv[SEAT_ROLE], sub(p, path, "seat_role"),
                                            t->seat_role, sizeof t->seat_role, 1))))
            return rc;
        if (t->seats > 0 && !config_role_find(ld->cfg, t->seat_role))
            return fail(ld, RK_EINVAL, "config: %s: no role named \"%s\" (seat_role)", path,
                        t->seat_role);
        sb->n_room_types++;
    }
    return RK_OK;
}

/* ---- operations: rate_limit, cors, trusted_proxies ---------------------- */

#define RATE_MAX     1000000
#define ENTRIES_MIN  1024
#define ENTRIES_MAX  (4LL * 1024 * 1024)
#define CORS_HEADERS "Authorization, Content-Type, X-API-Key, apikey, x-client-info"

/* parse_rate reads {requests, per, burst} into r (burst defaults to
 * requests; per to 1s). */
static int parse_rate(loader *ld, const ynode *n, const char *path, config_rate *r)
{
    enum { REQ, PER, BURST, NF };
    static const char *const names[NF] = {"requests", "per", "burst"};
    const ynode *v[NF];
    char p[PATH_CAP];
    int rc = map_fields(ld, n, path, names, NF, v);
    if (rc)
        return rc;
    if (!v[REQ])
        return fail(ld, RK_EINVAL, "config: %s: required", sub(p, path, "requests"));
    if ((rc = get_int(ld, v[REQ], sub(p, path, "requests"), 1, RATE_MAX, &r->requests)))
        return rc;
    r->per_s = 1;
    if (v[PER] && (rc = get_dur(ld, v[PER], sub(p, path, "per"), 1, 86400, &r->per_s)))
        return rc;
    r->burst = r->requests;
    if (v[BURST] && (rc = get_int(ld, v[BURST], sub(p, path, "burst"), 1, RATE_MAX, &r->burst)))
        return rc;
    return RK_OK;
}

/* parse_rate_limit reads `rate_limit:`. */
static int parse_rate_limit(loader *ld, const ynode *n)
{
    enum { ENABLED, IP, SUBJECT, ENTRIES, PROBES, NF };
    static const char *const names[NF] = {"enabled", "ip", "subject", "max_entries",
                                          "limit_probes"};
    const ynode *v[NF];
    config_rate_limit *rl = &ld->cfg->rate_limit;
    char p[PATH_CAP];
    int rc = map_fields(ld, n, "rate_limit", names, NF, v);
    if (!rc && v[ENABLED])
        rc = get_bool(ld, v[ENABLED], sub(p, "rate_limit", "enabled"), &rl->enabled);
    if (!rc && v[IP])
        rc = parse_rate(ld, v[IP], sub(p, "rate_limit", "ip"), &rl->ip);
    if (!rc && v[SUBJECT])
        rc = parse_rate(ld, v[SUBJECT], sub(p, "rate_limit", "subject"), &rl->subject);
    if (!rc && v[ENTRIES])
        rc = get_int(ld, v[ENTRIES], sub(p, "rate_limit", "max_entries"), ENTRIES_MIN, ENTRIES_MAX,
                     &rl->max_entries);
    if (!rc && v[PROBES])
        rc = get_bool(ld, v[PROBES], sub(p, "rate_limit", "limit_probes"), &rl->limit_probes);
    return rc;
}

/* origin_ok: "*", or scheme://host[:port] in lower case with no path (what
 * a browser sends in Origin). */
static bool origin_ok(const char *o)
{
    if (strcmp(o, "*") == 0)
        return true;
    size_t n = strspn(o, "abcdefghijklmnopqrstuvwxyz0123456789+.-");
    if (n == 0 || !(o[0] >= 'a' && o[0] <= 'z') || strncmp(o + n, "://", 3) != 0)
        return false;
    const char *h = o + n + 3;
    size_t hl = *h == '[' ? strspn(h + 1, "0123456789abcdef:.") + 2
                          : strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789.-");
    if (hl < (*h == '[' ? 3u : 1u) || (*h == '[' && h[hl - 1] != ']'))
        return false;
    const char *rest = h + hl;
    if (*rest == ':') {
        size_t pl = strspn(rest + 1, "0123456789");
        if (pl == 0 || pl > 5)
            return false;
        rest += 1 + pl;
    }
    return *rest == '\0';
}

/* add_origin appends origin text (from where, for messages) to cors.origins. */
static int add_origin(loader *ld, const char *where, const char *o, size_t len)
{
    config_cors *c = &ld->cfg->cors;
    char buf[sizeof c->origins[0]];
    if (len >= sizeof buf)
        return fail(ld, RK_ETOOBIG, "%s: longer than %zu bytes", where, sizeof buf - 1);
    memcpy(buf, o, len);
    buf[len] = '\0';
    if (!origin_ok(buf))
        return fail(ld, RK_EINVAL,
                    "%s: \"%.64s\" is not an origin (scheme://host[:port] in lower case, no "
                    "path or trailing slash; or \"*\")",
                    where, buf);
    for (size_t i = 0; i < c->n_origins; i++)
        if (strcmp(c->origins[i], buf) == 0)
            return fail(ld, RK_EINVAL, "%s: \"%.64s\" is listed twice", where, buf);
    if (c->n_origins == CONFIG_MAX_ORIGINS)
        return fail(ld, RK_ETOOBIG, "%s: more than %d origins", where, CONFIG_MAX_ORIGINS);
    memcpy(c->origins[c->n_origins++], buf, len + 1);
    return RK_OK;
}

/* add_proxy appends network text (an address or CIDR) to trusted_proxies. */
static int add_proxy(loader *ld, const char *where, const char *t, size_t len)
{
    config *c = ld->cfg;
    char buf[IPNET_MAX_TEXT + 1];
    if (len >= sizeof buf)
        return fail(ld, RK_ETOOBIG, "%s: longer than %zu bytes", where, sizeof buf - 1);
    memcpy(buf, t, len);
    buf[len] = '\0';
    if (c->n_trusted_proxies == CONFIG_MAX_PROXIES)
        return fail(ld, RK_ETOOBIG, "%s: more than %d entries", where, CONFIG_MAX_PROXIES);
    if (ipnet_parse(buf, &c->trusted_proxies[c->n_trusted_proxies]) != RK_OK)
        return fail(ld, RK_EINVAL,
                    "%s: \"%.64s\" is not an IP address or network (e.g. 10.0.0.0/8, ::1)", where,
                    buf);
    c->n_trusted_proxies++;
    return RK_OK;
}

/* parse_str_list calls add(ld, path[i], item) for each string of list n. */
static int parse_str_list(loader *ld, const ynode *n, const char *path, size_t max,
                          int (*add)(loader *, const char *, const char *, size_t))
{
    size_t count = 0;
    int rc = seq_items(ld, n, path, max, &count);
    for (size_t i = 0; !rc && i < count; i++) {
        char ip[PATH_CAP], item[CONFIG_MAX_STR];
        path_idx(ip, sizeof ip, path, i);
        char where[PATH_CAP + 8];
        snprintf(where, sizeof where, "config: %s", ip);
        if (!(rc = get_str(ld, n->kids[i], ip, item, sizeof item, 1)))
            rc = add(ld, where, item, strlen(item));
    }
    return rc;
}

/* parse_cors reads `cors:`. */
static int parse_cors(loader *ld, const ynode *n)
{
    enum { ORIGINS, CREDS, HEADERS, AGE, NF };
    static const char *const names[NF] = {"origins", "allow_credentials", "allow_headers",
                                          "max_age"};
    const ynode *v[NF];
    config_cors *c = &ld->cfg->cors;
    char p[PATH_CAP];
    int rc = map_fields(ld, n, "cors", names, NF, v);
    if (!rc && v[ORIGINS])
        rc = parse_str_list(ld, v[ORIGINS], "cors.origins", CONFIG_MAX_ORIGINS, add_origin);
    if (!rc && v[CREDS])
        rc = get_bool(ld, v[CREDS], sub(p, "cors", "allow_credentials"), &c->allow_credentials);
    if (!rc && v[HEADERS]) {
        rc = get_str(ld, v[HEADERS], sub(p, "cors", "allow_headers"), c->allow_headers,
                     sizeof c->allow_headers, 0);
        for (const char *h = c->allow_headers; !rc && *h; h++)
            if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
                  (*h >= '0' && *h <= '9') || strchr("-_, ", *h)))
                rc = fail(ld, RK_EINVAL,
                          "config: cors.allow_headers: header names separated by commas");
    }
    if (!rc && v[AGE])
        rc = get_dur(ld, v[AGE], sub(p, "cors", "max_age"), 0, 86400, &c->max_age);
    return rc;
}

/* env_list calls add(ld, "env: NAME", item) for each comma-separated item
 * of env var name (spaces around items ignored). */
static int env_list(loader *ld, const char *name,
                    int (*add)(loader *, const char *, const char *, size_t))
{
    const char *v = env(name);
    char where[64];
    snprintf(where, sizeof where, "env: %s", name);
    for (const char *p = v; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t l = strcspn(p, ", ");
        int rc = l ? add(ld, where, p, l) : RK_OK;
        if (rc)
            return rc;
        p += l;
    }
    return RK_OK;
}

/* env_rate reads "REQUESTS/PER[:BURST]" (e.g. 50/1s:100) into r. */
static bool env_rate(const char *s, config_rate *r)
{
    char per[DURATION_MAX_TEXT + 1];
    char *end;
    long long req = strtoll(s, &end, 10);
    if (end == s || *end != '/' || req < 1 || req > RATE_MAX)
        return false;
    const char *p = end + 1;
    size_t pl = strcspn(p, ":");
    if (pl == 0 || pl >= sizeof per)
        return false;
    memcpy(per, p, pl);
    per[pl] = '\0';
    int64_t secs = 0;
    if (parse_secs(per, &secs) || secs < 1 || secs > 86400)
        return false;
    long long burst = req;
    if (p[pl] == ':') {
        burst = strtoll(p + pl + 1, &end, 10);
        if (end == p + pl + 1 || *end || burst < 1 || burst > RATE_MAX)
            return false;
    }
    r->requests = req;
    r->per_s = secs;
    r->burst = burst;
    return true;
}

/* env_rate_limit reads ROOMKEY_RATE_LIMIT: "off", "on", or a list such as
 * "ip=50/1s:100,subject=30/1m:10" (which also switches limiting on). */
static int env_rate_limit(loader *ld)
{
    const char *v = env("ROOMKEY_RATE_LIMIT");
    config_rate_limit *rl = &ld->cfg->rate_limit;
    if (!v)
        return RK_OK;
    if (!strcmp(v, "off") || !strcmp(v, "on")) {
        rl->enabled = v[1] == 'n';
        return RK_OK;
    }
    char buf[256];
    if (strlen(v) >= sizeof buf)
        return fail(ld, RK_ETOOBIG, "env: ROOMKEY_RATE_LIMIT is longer than %zu bytes",
                    sizeof buf - 1);
    strcpy(buf, v);
    char *save = NULL;
    for (char *it = strtok_r(buf, ", ", &save); it; it = strtok_r(NULL, ", ", &save)) {
        config_rate *r = !strncmp(it, "ip=", 3)        ? &rl->ip
                         : !strncmp(it, "subject=", 8) ? &rl->subject
                                                       : NULL;
        if (!r || !env_rate(strchr(it, '=') + 1, r))
            return fail(ld, RK_EINVAL,
                        "env: ROOMKEY_RATE_LIMIT: expected off, on, or items such as "
                        "ip=50/1s:100,subject=30/1m:10 (requests/per[:burst])");
    }
    rl->enabled = true;
    return RK_OK;
}

/* env_ops overlays ROOMKEY_RATE_LIMIT, ROOMKEY_CORS_ORIGINS (replacing
 * cors.origins) and ROOMKEY_TRUSTED_PROXIES (replacing trusted_proxies). */
static int env_ops(loader *ld)
{
    config *c = ld->cfg;
    int rc = env_rate_limit(ld);
    if (!rc && env("ROOMKEY_CORS_ORIGINS")) {
        c->cors.n_origins = 0;
        rc = env_list(ld, "ROOMKEY_CORS_ORIGINS", add_origin);
    }
    if (!rc && env("ROOMKEY_TRUSTED_PROXIES")) {
        c->n_trusted_proxies = 0;
        rc = env_list(ld, "ROOMKEY_TRUSTED_PROXIES", add_proxy);
    }
    if (!rc && c->cors.allow_credentials)
        for (size_t i = 0; i < c->cors.n_origins; i++)
            if (!strcmp(c->cors.origins[i], "*"))
                return fail(ld, RK_EINVAL,
                            "config: cors.allow_credentials: not allowed with the origin \"*\" "
                            "(list the origins)");
    return rc;
}

static int parse_root(loader *ld, const ynode *root)
{
    enum {
        SERVER,
        DB,
        DEV,
        LK,
        ISS,
        APIK,
        ADMIN,
        ADMIN_FILE,
        ROLES,
        ROOMS,
        MEMBERS,
        FAM,
        VOICE,
        TSRC,
        SUPA,
        RATE,
        CORS,
        PROXIES,
        SHUTDOWN,
        NF
    };
    static const char *const names[NF] = {
        "server",     "database",  "dev_mode",        "livekit",         "issuers",
        "api_keys",   "admin_key", "admin_key_file",  "roles",           "rooms",
        "members",    "families",  "voice_agent",     "token_source",    "supabase",
        "rate_limit", "cors",      "trusted_proxies", "shutdown_timeout"};
    const ynode *v[NF];
    config *c = ld->cfg;
    int rc = map_fields(ld, root, "", names, NF, v);
    if (rc)
        return rc;
    if (v[DEV] && (rc = get_bool(ld, v[DEV], "dev_mode", &c->dev_mode)))
        return rc;
    if (v[SERVER] && (rc = parse_server(ld, v[SERVER])))
        return rc;
    if (v[DB] && (rc = get_str(ld, v[DB], "database", c->database, sizeof c->database, 1)))
        return rc;
    if (v[LK] && (rc = parse_livekit(ld, v[LK])))
        return rc;
    if (v[ISS] && (rc = parse_issuers(ld, v[ISS])))
        return rc;
    if (v[APIK] && (rc = parse_apikeys(ld, v[APIK])))
        return rc;
    if ((v[ADMIN] || v[ADMIN_FILE]) && (rc = parse_admin(ld, v[ADMIN], v[ADMIN_FILE])))
        return rc;
    if (v[ROLES] && (rc = parse_roles(ld, v[ROLES])))
        return rc;
    if (v[ROOMS] && (rc = parse_rooms(ld, v[ROOMS])))
        return rc;
    if (v[MEMBERS] && (rc = parse_members(ld, v[MEMBERS])))
        return rc;
    if (v[FAM] && (rc = parse_families(ld, v[FAM])))
        return rc;
    if (v[VOICE] && (rc = parse_voice_agent(ld, v[VOICE])))
        return rc;
    if (v[TSRC] && (rc = parse_token_source(ld, v[TSRC])))
        return rc;
    if (v[SUPA] && (rc = parse_supabase(ld, v[SUPA])))
        return rc;
    if (v[RATE] && (rc = parse_rate_limit(ld, v[RATE])))
        return rc;
    if (v[CORS] && (rc = parse_cors(ld, v[CORS])))
        return rc;
    if (v[PROXIES] &&
        (rc = parse_str_list(ld, v[PROXIES], "trusted_proxies", CONFIG_MAX_PROXIES, add_proxy)))
        return rc;
    if (v[SHUTDOWN] &&
        (rc = get_dur(ld, v[SHUTDOWN], "shutdown_timeout", 0, 300, &c->shutdown_timeout)))
        return rc;
    return RK_OK;
}

/* load_file reads and parses the YAML file at path into ld->cfg. */
static int load_file(loader *ld, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(ld, RK_EIO, "config: cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(ld, RK_EIO, "config: %s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > CONFIG_MAX_FILE) {
        close(fd);
        return fail(ld, RK_ETOOBIG, "config: %s is larger than %u bytes", path, CONFIG_MAX_FILE);
    }
    char *buf = malloc(CONFIG_MAX_FILE + 1);
    if (!buf) {
        close(fd);
        return fail(ld, RK_ENOMEM, "config: out of memory");
    }
    size_t len = 0;
    int rc = RK_OK;
    while (len <= CONFIG_MAX_FILE) {
        ssize_t r = read(fd, buf + len, CONFIG_MAX_FILE + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = fail(ld, RK_EIO, "config: cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!rc && len > CONFIG_MAX_FILE)
        rc = fail(ld, RK_ETOOBIG, "config: %s is larger than %u bytes", path, CONFIG_MAX_FILE);
    ynode *root = NULL;
    if (!rc)
        rc = ytree_parse(buf, len, &root, ld->why, ld->cap);
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (!rc && root)
        rc = parse_root(ld, root);
    ynode_free(root);
    return rc;
}

/* ---- environment -------------------------------------------------------- */

/* env_str copies env var name (when set) into dst of capacity cap. */
static int env_str(loader *ld, const char *name, char *dst, size_t cap)
{
    const char *v = env(name);
    if (!v)
        return RK_OK;
    if (strlen(v) >= cap)
        return fail(ld, RK_ETOOBIG, "env: %s is longer than %zu bytes", name, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return RK_OK;
}

/* env_session adds (or replaces) the HS256 issuer "env" from
 * ROOMKEY_SESSION_SECRET / _ISSUER / _AUDIENCE. */
static int env_session(loader *ld)
{
    config *c = ld->cfg;
    const char *secret = env("ROOMKEY_SESSION_SECRET");
    if (!secret) {
        if (env("ROOMKEY_SESSION_ISSUER") || env("ROOMKEY_SESSION_AUDIENCE"))
            return fail(ld, RK_EINVAL,
                        "env: ROOMKEY_SESSION_ISSUER/ROOMKEY_SESSION_AUDIENCE set "
                        "without ROOMKEY_SESSION_SECRET");
        return RK_OK;
    }
    size_t slen = strlen(secret);
    if (slen > CONFIG_MAX_STR)
        return fail(ld, RK_ETOOBIG, "env: ROOMKEY_SESSION_SECRET is longer than %d bytes",
                    CONFIG_MAX_STR);
    size_t i = 0;
    while (i < c->n_issuers && strcmp(c->issuers[i].name, "env") != 0)
        i++;
    if (i == CONFIG_MAX_ISSUERS)
        return fail(ld, RK_ETOOBIG, "env: ROOMKEY_SESSION_SECRET: already %d issuers",
                    CONFIG_MAX_ISSUERS);
    config_issuer *is = &c->issuers[i];
    set_hs_secret(is, NULL, 0);
    memset(is, 0, sizeof *is);
    strcpy(is->name, "env");
    strcpy(is->algs[0], "HS256");
    is->n_algs = 1;
    is->leeway = 30;
    strcpy(is->subject_claim, "sub");
    strcpy(is->name_claim, "name");
    int rc;
    if ((rc = env_str(ld, "ROOMKEY_SESSION_ISSUER", is->iss, sizeof is->iss)) ||
        (rc = env_str(ld, "ROOMKEY_SESSION_AUDIENCE", is->aud, sizeof is->aud)))
        return rc;
    char *copy = strdup(secret);
    if (!copy)
        return fail(ld, RK_ENOMEM, "env: out of memory");
    set_hs_secret(is, copy, slen);
    if (i == c->n_issuers)
        c->n_issuers++;
    ld->issuer_env[i] = true;
    return RK_OK;
}

/* apply_env overlays the environment on ld->cfg (env wins). */
static int apply_env(loader *ld)
{
    config *c = ld->cfg;
    const char *v;
    int rc;
    if ((v = env("ROOMKEY_LISTEN"))) {
        const char *bad =
            strlen(v) > 300 ? "too long" : parse_listen(v, c->listen_host, &c->listen_port);
        if (bad)
            return fail(ld, RK_EINVAL, "env: ROOMKEY_LISTEN: %s", bad);
    }
    if ((rc = env_str(ld, "ROOMKEY_DATABASE", c->database, sizeof c->database)))
        return rc;
    if ((v = env("ROOMKEY_DEV_MODE"))) {
        if (!strcmp(v, "1") || !strcmp(v, "true"))
            c->dev_mode = true;
        else if (!strcmp(v, "0") || !strcmp(v, "false"))
            c->dev_mode = false;
        else
            return fail(ld, RK_EINVAL, "env: ROOMKEY_DEV_MODE: expected 1 or 0");
    }
    if ((v = env("ROOMKEY_ADMIN_KEY"))) {
        if (strlen(v) > CONFIG_MAX_STR)
            return fail(ld, RK_ETOOBIG, "env: ROOMKEY_ADMIN_KEY is longer than %d bytes",
                        CONFIG_MAX_STR);
        if ((rc = set_admin_key(ld, "env: ROOMKEY_ADMIN_KEY", v, strlen(v))))
            return rc;
    }
    if ((rc = env_session(ld)))
        return rc;
    const char *key = env("LIVEKIT_API_KEY"), *secret = env("LIVEKIT_API_SECRET");
    if (key && !secret)
        return fail(ld, RK_EINVAL, "env: LIVEKIT_API_KEY set without LIVEKIT_API_SECRET");
    if (!key && secret)
        return fail(ld, RK_EINVAL, "env: LIVEKIT_API_SECRET set without LIVEKIT_API_KEY");
    if (key) {
        if (strlen(key) >= sizeof ld->lk_key)
            return fail(ld, RK_ETOOBIG, "env: LIVEKIT_API_KEY is longer than %d bytes",
                        KEYRING_MAX_KEY_ID);
        if (strlen(secret) > KEYRING_MAX_SECRET)
            return fail(ld, RK_ETOOBIG, "env: LIVEKIT_API_SECRET is longer than %d bytes",
                        KEYRING_MAX_SECRET);
        char *copy = strdup(secret);
        if (!copy)
            return fail(ld, RK_ENOMEM, "env: out of memory");
        if (ld->lk_secret) {
            OPENSSL_cleanse(ld->lk_secret, ld->lk_secret_len);
            free(ld->lk_secret);
        }
        ld->lk_secret = copy;
        ld->lk_secret_len = strlen(copy);
        strcpy(ld->lk_key, key);
        ld->has_lk_key = true;
        ld->lk_key_env = true;
    }
    if ((v = env("LIVEKIT_KEYS"))) {
        if (strlen(v) > KEYRING_MAX_TEXT)
            return fail(ld, RK_ETOOBIG, "env: LIVEKIT_KEYS is longer than %u bytes",
                        KEYRING_MAX_TEXT);
        char *copy = strdup(v);
        if (!copy)
            return fail(ld, RK_ENOMEM, "env: out of memory");
        /* LIVEKIT_KEYS replaces livekit.keys and livekit.keys_file. */
        for (size_t i = 0; i < ld->n_lk_map; i++) {
            OPENSSL_cleanse(ld->lk_map[i].secret, ld->lk_map[i].len);
            free(ld->lk_map[i].secret);
        }
        ld->n_lk_map = 0;
        if (ld->lk_text) {
            OPENSSL_cleanse(ld->lk_text, strlen(ld->lk_text));
            free(ld->lk_text);
        }
        ld->lk_text = copy;
        ld->lk_text_src = "env: LIVEKIT_KEYS";
    }
    const char *url = env("LIVEKIT_URL"), *surl = env("LIVEKIT_SERVER_URL");
    if (url && surl && strcmp(url, surl) != 0)
        return fail(ld, RK_EINVAL,
                    "env: LIVEKIT_URL and LIVEKIT_SERVER_URL are both set and "
                    "differ");
    if (url || surl) {
        const char *name = url ? "LIVEKIT_URL" : "LIVEKIT_SERVER_URL";
        if ((rc = env_str(ld, name, c->livekit_url, sizeof c->livekit_url)))
            return rc;
        if (!url_ok(c->livekit_url))
            return fail(ld, RK_EINVAL, "env: %s: expected a ws://, wss://, http:// or https:// URL",
                        name);
    }
    if ((rc = env_str(ld, "LIVEKIT_HOST", c->livekit_host, sizeof c->livekit_host)))
        return rc;
    if (env("LIVEKIT_HOST") && !url_ok(c->livekit_host))
        return fail(ld, RK_EINVAL, "env: LIVEKIT_HOST: expected an http:// or https:// URL");
    if ((v = env("LIVEKIT_DEFAULT_TOKEN_TTL"))) {
        int64_t s = 0;
        if (parse_secs(v, &s) || s < 1 || s > TTL_CAP)
            return fail(ld, RK_EINVAL,
                        "env: LIVEKIT_DEFAULT_TOKEN_TTL: expected a duration (e.g. 1h) or seconds "
                        "from 1s to 30 days");
        c->default_ttl = s;
        ld->ttl_env = true;
    }
    return env_ops(ld);
}

/* ---- whole-config checks and the keyring -------------------------------- */

/* validate runs the checks that need the whole config and the final dev
 * mode: TTL order, HS secret lengths, role references. */
static int validate(loader *ld)
{
    config *c = ld->cfg;
    if (c->default_ttl > c->max_ttl)
        return fail(ld, RK_EINVAL, "%s (%llds) is above livekit.max_ttl (%llds)",
                    ld->ttl_env ? "env: LIVEKIT_DEFAULT_TOKEN_TTL" : "config: livekit.default_ttl",
                    (long long)c->default_ttl, (long long)c->max_ttl);
    for (size_t i = 0; i < c->n_issuers; i++) {
        const config_issuer *is = &c->issuers[i];
        if (is->hs_secret && is->hs_secret_len < HS_MIN_SECRET && !c->dev_mode) {
            if (ld->issuer_env[i])
                return fail(ld, RK_EINVAL,
                            "env: ROOMKEY_SESSION_SECRET is %zu bytes; at least %d are required "
                            "(dev mode allows shorter)",
                            is->hs_secret_len, HS_MIN_SECRET);
            return fail(ld, RK_EINVAL,
                        "config: issuers[%zu].secret is %zu bytes; at least %d are required "
                        "(dev mode allows shorter)",
                        i, is->hs_secret_len, HS_MIN_SECRET);
        }
    }
    for (size_t i = 0; i < c->n_roles; i++)
        if (c->roles[i].max_ttl > c->max_ttl)
            return fail(ld, RK_EINVAL, "config: roles.%s.max_ttl is above livekit.max_ttl (%llds)",
                        c->roles[i].name, (long long)c->max_ttl);
    for (size_t i = 0; i < c->n_rooms; i++) {
        const config_room *r = &c->rooms[i];
        if (r->default_role[0] && !config_role_find(c, r->default_role))
            return fail(ld, RK_EINVAL, "config: rooms[%zu].default_role: no role named \"%s\"", i,
                        r->default_role);
        if (r->max_ttl > c->max_ttl)
            return fail(ld, RK_EINVAL,
                        "config: rooms[%zu].max_ttl is above livekit.max_ttl (%llds)", i,
                        (long long)c->max_ttl);
    }
    for (size_t i = 0; i < c->n_members; i++)
        if (!config_role_find(c, c->members[i].role))
            return fail(ld, RK_EINVAL, "config: members[%zu].role: no role named \"%s\"", i,
                        c->members[i].role);
    return RK_OK;
}

/* build_keyring turns the pending LiveKit keys into c->keys: the signing key
 * first, then livekit.keys, then the key file / LIVEKIT_KEYS. */
static int build_keyring(loader *ld)
{
    config *c = ld->cfg;
    char kwhy[256] = "";
    int rc = keyring_new(&c->keys);
    if (rc)
        return fail(ld, rc, "config: out of memory");
    bool dev = c->dev_mode;
    if (ld->has_lk_key) {
        rc = keyring_add(c->keys, ld->lk_key, ld->lk_secret, ld->lk_secret_len, dev, kwhy,
                         sizeof kwhy);
        if (rc)
            return fail(ld, rc, "%s: %s",
                        ld->lk_key_env ? "env: LIVEKIT_API_KEY" : "config: livekit.api_key", kwhy);
    }
    for (size_t i = 0; i < ld->n_lk_map; i++) {
        const pending_key *pk = &ld->lk_map[i];
        rc = keyring_add(c->keys, pk->id, pk->secret, pk->len, dev, kwhy, sizeof kwhy);
        if (rc)
            return fail(ld, rc, "config: livekit.keys.%s: %s", pk->id, kwhy);
    }
    if (ld->lk_text) {
        rc = keyring_parse(c->keys, ld->lk_text, dev, kwhy, sizeof kwhy);
        if (rc)
            return fail(ld, rc, "%s: %s", ld->lk_text_src, kwhy);
    }
    return RK_OK;
}

/* set_defaults fills a zeroed c with the built-in defaults and roles. */
static void set_defaults(config *c)
{
    strcpy(c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    strcpy(c->database, "roomkey.db");
    c->threads = 0;
    c->max_body = 65536;
    c->max_header = 8192;
    c->max_connections = 1024;
    c->conn_timeout_s = 10;
    for (size_t i = 0; i < FAMILY_COUNT; i++)
        c->families[i] = true;
    c->default_ttl = 3600;
    c->max_ttl = 86400;
    c->token_source.max_metadata = 4096;
    c->token_source.max_attributes = 4096;
    c->rate_limit = (config_rate_limit){
        .enabled = true, .ip = {50, 1, 100}, .subject = {30, 60, 10}, .max_entries = 16384};
    strcpy(c->cors.allow_headers, CORS_HEADERS);
    c->cors.max_age = 600;
    c->shutdown_timeout = 10;
    config_role *r = c->roles;
    strcpy(r[0].name, "member");
    r[0].can_publish = r[0].can_subscribe = r[0].can_publish_data = true;
    strcpy(r[1].name, "listener");
    r[1].can_subscribe = true;
    strcpy(r[2].name, "moderator");
    r[2].can_publish = r[2].can_subscribe = r[2].can_publish_data = r[2].room_admin = true;
    c->n_roles = 3;
    supabase_defaults(&c->supabase);
}

/* ---- public ------------------------------------------------------------- */

/* config_load: *out gets a new config owned by the caller (config_free). */
int config_load(const char *path, config **out, char *why, size_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    loader ld = {.why = why, .cap = why ? why_cap : 0};
    config *c = calloc(1, sizeof *c);
    if (!c)
        return fail(&ld, RK_ENOMEM, "config: out of memory");
    ld.cfg = c;
    set_defaults(c);
    if (!path)
        path = env("ROOMKEY_CONFIG");
    int rc = path ? load_file(&ld, path) : RK_OK;
    if (!rc)
        rc = apply_env(&ld);
    if (!rc)
        rc = validate(&ld);
    if (!rc)
        rc = build_keyring(&ld);
    loader_wipe(&ld);
    if (rc) {
        config_free(c);
        return rc;
    }
    *out = c;
    return RK_OK;
}

/* config_free wipes HS secrets and the whole struct, frees the keyring. */
void config_free(config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < CONFIG_MAX_ISSUERS; i++)
        set_hs_secret(&cfg->issuers[i], NULL, 0);
    keyring_free(cfg->keys);
    OPENSSL_cleanse(cfg, sizeof *cfg);
    free(cfg);
}

/* config_role_find: the result is borrowed from cfg. */
const config_role *config_role_find(const config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_roles; i++)
        if (strcmp(cfg->roles[i].name, name) == 0)
            return &cfg->roles[i];
    return NULL;
}

/* config_apikey_match hashes key (borrowed; the hash is wiped) and compares
 * with every configured hash, selecting the match without a branch. The
 * result is borrowed from cfg. */
const config_apikey *config_apikey_match(const config *cfg, const char *key, size_t len)
{
    unsigned char h[32];
    if (!key || sha256(key, len, h))
        return NULL;
    size_t found = 0, idx = 0;
    for (size_t i = 0; i < cfg->n_apikeys; i++) {
        size_t eq = (size_t)(CRYPTO_memcmp(cfg->apikeys[i].hash, h, 32) == 0);
        size_t mask = (size_t)0 - eq; /* all ones on a match, without a branch */
        idx = (idx & ~mask) | (i & mask);
        found |= eq;
    }
    OPENSSL_cleanse(h, sizeof h);
    return found ? &cfg->apikeys[idx] : NULL;
}

/* config_is_admin_key: key is borrowed; its hash is wiped after the compare. */
bool config_is_admin_key(const config *cfg, const char *key, size_t len)
{
    unsigned char h[32];
    if (!key || sha256(key, len, h))
        return false;
    bool eq = CRYPTO_memcmp(cfg->admin_key_hash, h, 32) == 0;
    OPENSSL_cleanse(h, sizeof h);
    return cfg->has_admin_key && eq;
}
