/* yaml.c - the YAML tree (read with libyaml's event API into nodes of our
 * own, so that every scalar can be wiped) and the typed getters. */
#include "yaml.h"
#include "../util/duration.h"
#include "../util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

int yaml_fail(yaml_ctx *y, int rc, const char *fmt, ...)
{
    if (y->why && y->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(y->why, y->cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- the tree ------------------------------------------------------------ */

void ynode_free(ynode *n)
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

/* The state of one parse: the open collections and the counts bounded. */
typedef struct ybuild {
    yaml_ctx *y;
    ynode *stack[YAML_MAX_DEPTH];
    size_t depth, nodes, docs;
    ynode *top; /* owned until handed to the caller */
} ybuild;

/* node_new makes a node for a scalar or collection start event (*out owned
 * by the caller). */
static int node_new(ybuild *b, const yaml_event_t *ev, size_t line, ynode **out)
{
    if (++b->nodes > YAML_MAX_NODES)
        return yaml_fail(b->y, RK_ETOOBIG, "config: more than %u YAML nodes", YAML_MAX_NODES);
    ynode *n = calloc(1, sizeof *n);
    if (!n)
        return yaml_fail(b->y, RK_ENOMEM, "config: out of memory");
    n->line = line;
    n->kind = ev->type == YAML_MAPPING_START_EVENT    ? YN_MAP
              : ev->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ
                                                      : YN_SCALAR;
    if (n->kind == YN_SCALAR) {
        n->len = ev->data.scalar.length;
        n->str = malloc(n->len + 1);
        if (!n->str) {
            free(n);
            return yaml_fail(b->y, RK_ENOMEM, "config: out of memory");
        }
        memcpy(n->str, ev->data.scalar.value, n->len);
        n->str[n->len] = '\0';
        n->plain =
            ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            (!ev->data.scalar.tag || strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) != 0);
    }
    *out = n;
    return RK_OK;
}

/* node_attach hands n (owned) to its parent, or makes it the top node, and
 * opens it when it is a collection. */
static int node_attach(ybuild *b, ynode *n)
{
    if (b->depth) {
        ynode *parent = b->stack[b->depth - 1];
        if (parent->kind == YN_MAP && parent->n % 2 == 0 && n->kind != YN_SCALAR) {
            size_t line = n->line;
            ynode_free(n);
            return yaml_fail(b->y, RK_EINVAL, "config: mapping keys must be strings (line %zu)",
                             line);
        }
        int rc = ynode_push(parent, n);
        if (rc)
            return yaml_fail(b->y, rc, "config: out of memory");
    } else {
        b->top = n;
    }
    if (n->kind == YN_SCALAR)
        return RK_OK;
    if (b->depth == YAML_MAX_DEPTH)
        return yaml_fail(b->y, RK_ETOOBIG, "config: YAML nested deeper than %d levels (line %zu)",
                         YAML_MAX_DEPTH, n->line);
    b->stack[b->depth++] = n;
    return RK_OK;
}

/* on_event applies one libyaml event to the tree; *done at the stream end. */
static int on_event(ybuild *b, const yaml_event_t *ev, bool *done)
{
    size_t line = ev->start_mark.line + 1;
    ynode *n = NULL;
    int rc;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = true;
        return RK_OK;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1)
            return yaml_fail(b->y, RK_EINVAL, "config: more than one YAML document (line %zu)",
                             line);
        return RK_OK;
    case YAML_ALIAS_EVENT:
        return yaml_fail(b->y, RK_EINVAL, "config: YAML aliases are not supported (line %zu)",
                         line);
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if ((rc = node_new(b, ev, line, &n)))
            return rc;
        return node_attach(b, n);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth)
            b->depth--;
        return RK_OK;
    default:
        return RK_OK;
    }
}

int yaml_parse(yaml_ctx *y, const char *buf, size_t len, ynode **root)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return yaml_fail(y, RK_ENOMEM, "config: out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    ybuild b = {.y = y};
    int rc = RK_OK;
    bool done = false;
    while (!done && rc == RK_OK) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = yaml_fail(y, RK_EINVAL, "config: YAML error at line %zu: %s",
                           p.problem_mark.line + 1, p.problem ? p.problem : "syntax error");
            break;
        }
        rc = on_event(&b, &ev, &done);
        if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.value)
            OPENSSL_cleanse(ev.data.scalar.value, ev.data.scalar.length);
        yaml_event_delete(&ev);
    }
    if (p.raw_buffer.start)
        OPENSSL_cleanse(p.raw_buffer.start, (size_t)(p.raw_buffer.end - p.raw_buffer.start));
    if (p.buffer.start)
        OPENSSL_cleanse(p.buffer.start, (size_t)(p.buffer.end - p.buffer.start));
    yaml_parser_delete(&p);
    if (rc) {
        ynode_free(b.top);
        return rc;
    }
    *root = b.top;
    return RK_OK;
}

/* ---- files ------------------------------------------------------------- */

/* open_regular opens path read-only into *fd: 0, an errno value when open
 * fails, or -1 (nothing open) when path is not a regular file. */
static int open_regular(const char *path, int *fd, struct stat *st)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return errno ? errno : EIO;
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(*fd);
        return -1;
    }
    return 0;
}

/* read_all reads fd into buf[0..max+1) until EOF or max+1 bytes (so a file
 * over max shows as *len > max). Returns 0 or an errno value. */
static int read_all(int fd, char *buf, size_t max, size_t *len)
{
    *len = 0;
    while (*len <= max) {
        ssize_t r = read(fd, buf + *len, max + 1 - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (r == 0)
            break;
        *len += (size_t)r;
    }
    return 0;
}

int yaml_load(yaml_ctx *y, const char *path, ynode **root)
{
    int fd;
    struct stat st;
    int e = open_regular(path, &fd, &st);
    if (e > 0)
        return yaml_fail(y, RK_EIO, "config: cannot open %s: %s", path, strerror(e));
    if (e < 0)
        return yaml_fail(y, RK_EIO, "config: %s is not a regular file", path);
    if ((uint64_t)st.st_size > YAML_MAX_FILE) {
        close(fd);
        return yaml_fail(y, RK_ETOOBIG, "config: %s is larger than %u bytes", path, YAML_MAX_FILE);
    }
    char *buf = malloc(YAML_MAX_FILE + 1);
    if (!buf) {
        close(fd);
        return yaml_fail(y, RK_ENOMEM, "config: out of memory");
    }
    size_t len = 0;
    int rc = RK_OK;
    if ((e = read_all(fd, buf, YAML_MAX_FILE, &len)))
        rc = yaml_fail(y, RK_EIO, "config: cannot read %s: %s", path, strerror(e));
    close(fd);
    if (!rc && len > YAML_MAX_FILE)
        rc = yaml_fail(y, RK_ETOOBIG, "config: %s is larger than %u bytes", path, YAML_MAX_FILE);
    *root = NULL;
    if (!rc)
        rc = yaml_parse(y, buf, len, root);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

/* small_checks trims one trailing newline off buf[0..*len) and refuses an
 * empty file, or (text) one holding a NUL byte. */
static int small_checks(yaml_ctx *y, const char *src, const char *key, const char *file, bool text,
                        const char *buf, size_t *len)
{
    if (*len && buf[*len - 1] == '\n') {
        (*len)--;
        if (*len && buf[*len - 1] == '\r')
            (*len)--;
    }
    if (*len == 0)
        return yaml_fail(y, RK_EINVAL, "%s: %s: %s is empty", src, key, file);
    if (text && memchr(buf, '\0', *len))
        return yaml_fail(y, RK_EINVAL, "%s: %s: %s contains a NUL byte", src, key, file);
    return RK_OK;
}

int yaml_read_small(yaml_ctx *y, const char *src, const char *key, const char *file, bool text,
                    char **out, size_t *out_len)
{
    int fd;
    struct stat st;
    int e = open_regular(file, &fd, &st);
    if (e > 0)
        return yaml_fail(y, RK_EIO, "%s: %s: cannot open %s: %s", src, key, file, strerror(e));
    if (e < 0)
        return yaml_fail(y, RK_EIO, "%s: %s: %s is not a regular file", src, key, file);
    char *buf = malloc(YAML_SECRET_FILE_MAX + 2);
    if (!buf) {
        close(fd);
        return yaml_fail(y, RK_ENOMEM, "%s: %s: out of memory", src, key);
    }
    size_t len = 0;
    int rc = RK_OK;
    if ((e = read_all(fd, buf, YAML_SECRET_FILE_MAX, &len)))
        rc = yaml_fail(y, RK_EIO, "%s: %s: cannot read %s: %s", src, key, file, strerror(e));
    close(fd);
    if (!rc && len > YAML_SECRET_FILE_MAX)
        rc = yaml_fail(y, RK_ETOOBIG, "%s: %s: %s is larger than %u bytes", src, key, file,
                       YAML_SECRET_FILE_MAX);
    if (!rc)
        rc = small_checks(y, src, key, file, text, buf, &len);
    if (rc) {
        OPENSSL_cleanse(buf, YAML_SECRET_FILE_MAX + 2);
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return RK_OK;
}

/* ---- paths ------------------------------------------------------------- */

void yaml_path_key(char *out, size_t cap, const char *parent, const char *key, size_t klen)
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

void yaml_path_idx(char *out, size_t cap, const char *parent, size_t i)
{
    snprintf(out, cap, "%.*s[%zu]", (int)(cap > 24 ? cap - 24 : 0), parent, i);
}

const char *yaml_sub(char *out, const char *parent, const char *name)
{
    yaml_path_key(out, YAML_PATH_CAP, parent, name, strlen(name));
    return out;
}

/* ---- typed getters ----------------------------------------------------- */

bool yaml_is_null(const ynode *n)
{
    return n->kind == YN_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
            strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0);
}

/* kind_name names n's type for messages (static string). */
static const char *kind_name(const ynode *n)
{
    if (yaml_is_null(n))
        return "null";
    return n->kind == YN_MAP ? "a mapping" : n->kind == YN_SEQ ? "a list" : "a string";
}

int yaml_type_err(yaml_ctx *y, const char *path, const ynode *n, const char *want)
{
    return yaml_fail(y, RK_EINVAL, "config: %s: expected %s, got %s (line %zu)",
                     *path ? path : "top level", want, kind_name(n), n->line);
}

int yaml_get_str(yaml_ctx *y, const ynode *n, const char *path, char *dst, size_t cap,
                 size_t minlen)
{
    if (n->kind != YN_SCALAR || yaml_is_null(n))
        return yaml_type_err(y, path, n, "a string");
    if (strlen(n->str) != n->len)
        return yaml_fail(y, RK_EINVAL, "config: %s: contains a NUL byte", path);
    if (n->len >= cap)
        return yaml_fail(y, RK_ETOOBIG, "config: %s: longer than %zu bytes", path, cap - 1);
    if (n->len < minlen)
        return yaml_fail(y, RK_EINVAL, "config: %s: must not be empty", path);
    memcpy(dst, n->str, n->len + 1);
    return RK_OK;
}

int yaml_get_secret(yaml_ctx *y, const ynode *n, const char *path, size_t max, char **out,
                    size_t *len)
{
    if (n->kind != YN_SCALAR || yaml_is_null(n))
        return yaml_type_err(y, path, n, "a string");
    if (n->len == 0)
        return yaml_fail(y, RK_EINVAL, "config: %s: must not be empty", path);
    if (n->len > max)
        return yaml_fail(y, RK_ETOOBIG, "config: %s: longer than %zu bytes", path, max);
    char *s = malloc(n->len + 1);
    if (!s)
        return yaml_fail(y, RK_ENOMEM, "config: out of memory");
    memcpy(s, n->str, n->len + 1);
    *out = s;
    *len = n->len;
    return RK_OK;
}

int yaml_get_bool(yaml_ctx *y, const ynode *n, const char *path, bool *dst)
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
    return yaml_type_err(y, path, n, "true or false");
}

int yaml_get_int(yaml_ctx *y, const ynode *n, const char *path, int64_t min, int64_t max,
                 int64_t *dst)
{
    if (n->kind != YN_SCALAR || !n->plain || yaml_is_null(n))
        return yaml_type_err(y, path, n, "an integer");
    const char *s = n->str;
    bool neg = *s == '-';
    if (neg || *s == '+')
        s++;
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || s[digits] != '\0')
        return yaml_type_err(y, path, n, "an integer");
    int64_t v = digits > 18 ? INT64_MAX : strtoll(s, NULL, 10);
    if (neg)
        v = -v;
    if (digits > 18 || v < min || v > max)
        return yaml_fail(y, RK_EINVAL, "config: %s: must be between %lld and %lld", path,
                         (long long)min, (long long)max);
    *dst = v;
    return RK_OK;
}

int yaml_get_dur(yaml_ctx *y, const ynode *n, const char *path, int64_t min, int64_t max,
                 int64_t *dst)
{
    if (n->kind != YN_SCALAR || yaml_is_null(n))
        return yaml_type_err(y, path, n, "a duration such as 30s, 10m or 1h");
    int64_t v = 0;
    if (strlen(n->str) != n->len || duration_parse_whole_seconds(n->str, &v))
        return yaml_fail(
            y, RK_EINVAL,
            "config: %s: \"%.64s\" is not a duration (use e.g. 30s, 10m, 1h, or seconds)", path,
            n->str);
    if (v < min || v > max)
        return yaml_fail(y, RK_EINVAL, "config: %s: must be between %llds and %llds", path,
                         (long long)min, (long long)max);
    *dst = v;
    return RK_OK;
}

int yaml_map_fields(yaml_ctx *y, const ynode *n, const char *path, const char *const *names,
                    size_t nn, const ynode **vals)
{
    for (size_t i = 0; i < nn; i++)
        vals[i] = NULL;
    if (yaml_is_null(n))
        return RK_OK;
    if (n->kind != YN_MAP)
        return yaml_type_err(y, path, n, "a mapping");
    for (size_t k = 0; k + 1 < n->n; k += 2) {
        const ynode *key = n->kids[k];
        size_t i = 0;
        while (i < nn && !(strlen(names[i]) == key->len && !memcmp(names[i], key->str, key->len)))
            i++;
        char sub[YAML_PATH_CAP];
        yaml_path_key(sub, sizeof sub, path, key->str, key->len);
        if (i == nn)
            return yaml_fail(y, RK_EINVAL, "config: unknown key \"%s\" (line %zu)", sub, key->line);
        if (vals[i])
            return yaml_fail(y, RK_EINVAL, "config: duplicate key \"%s\" (line %zu)", sub,
                             key->line);
        vals[i] = n->kids[k + 1];
    }
    return RK_OK;
}

int yaml_fields_open(yaml_fields *f, yaml_ctx *y, const ynode *n, const char *path,
                     const char *const *names, size_t nn)
{
    f->y = y;
    f->path = path;
    f->names = names;
    f->p[0] = '\0';
    if (nn > YAML_MAX_FIELDS) {
        f->rc = yaml_fail(y, RK_EINVAL, "config: %s: more than %d fields", path, YAML_MAX_FIELDS);
        return f->rc;
    }
    f->rc = yaml_map_fields(y, n, path, names, nn, f->v);
    return f->rc;
}

const char *yaml_field_path(yaml_fields *f, size_t i)
{
    return yaml_sub(f->p, f->path, f->names[i]);
}

bool yaml_field_has(const yaml_fields *f, size_t i)
{
    return !f->rc && f->v[i];
}

int yaml_field_need(yaml_fields *f, size_t i)
{
    if (!f->rc && !f->v[i])
        f->rc = yaml_fail(f->y, RK_EINVAL, "config: %s: required", yaml_field_path(f, i));
    return f->rc;
}

int yaml_field_str(yaml_fields *f, size_t i, char *dst, size_t cap, size_t minlen)
{
    if (yaml_field_has(f, i))
        f->rc = yaml_get_str(f->y, f->v[i], yaml_field_path(f, i), dst, cap, minlen);
    return f->rc;
}

int yaml_field_bool(yaml_fields *f, size_t i, bool *dst)
{
    if (yaml_field_has(f, i))
        f->rc = yaml_get_bool(f->y, f->v[i], yaml_field_path(f, i), dst);
    return f->rc;
}

int yaml_field_int(yaml_fields *f, size_t i, int64_t min, int64_t max, int64_t *dst)
{
    if (yaml_field_has(f, i))
        f->rc = yaml_get_int(f->y, f->v[i], yaml_field_path(f, i), min, max, dst);
    return f->rc;
}

int yaml_field_dur(yaml_fields *f, size_t i, int64_t min, int64_t max, int64_t *dst)
{
    if (yaml_field_has(f, i))
        f->rc = yaml_get_dur(f->y, f->v[i], yaml_field_path(f, i), min, max, dst);
    return f->rc;
}

int yaml_seq_items(yaml_ctx *y, const ynode *n, const char *path, size_t max, size_t *count)
{
    if (yaml_is_null(n)) {
        *count = 0;
        return RK_OK;
    }
    if (n->kind != YN_SEQ)
        return yaml_type_err(y, path, n, "a list");
    if (n->n > max)
        return yaml_fail(y, RK_ETOOBIG, "config: %s: more than %zu entries", path, max);
    *count = n->n;
    return RK_OK;
}
