/* yaml.h - a small YAML tree and the typed getters every config section
 * parser uses. libyaml's event API builds a tree of our own so that every
 * scalar can be wiped when freed. Each getter refuses a wrong type or an
 * out-of-range value with a message that names the key's full path (and its
 * line) in the caller's why buffer; nothing falls back silently. */
#ifndef RK_YAML_H
#define RK_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YAML_MAX_DEPTH       16             /* nesting levels in one file */
#define YAML_MAX_NODES       (256u * 1024)  /* nodes in one file */
#define YAML_MAX_FILE        (1024u * 1024) /* the YAML file, bytes */
#define YAML_SECRET_FILE_MAX (64u * 1024)   /* any file a key names (`*_file`) */
#define YAML_PATH_CAP        320            /* a key path in messages */

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };

/* One YAML node. Scalars own str (NUL-terminated, len bytes, wiped on free);
 * sequences own their items in kids; mappings own key, value, key, value... */
typedef struct ynode {
    int kind; /* enum ynode_kind */
    char *str;
    size_t len;
    bool plain; /* unquoted, untagged scalar: may be a number, bool or null */
    size_t line;
    struct ynode **kids;
    size_t n, cap;
} ynode;

/* Where refusals are written: why[0..cap) (cap 0: nowhere). */
typedef struct yaml_ctx {
    char *why;
    size_t cap;
} yaml_ctx;

/* yaml_fail formats a message into y's why and returns rc. */
int yaml_fail(yaml_ctx *y, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* yaml_load reads the YAML file at path (at most YAML_MAX_FILE bytes) and
 * parses it into *root (caller frees with ynode_free; NULL for an empty
 * file). Refuses aliases, several documents, non-scalar mapping keys and
 * more than YAML_MAX_DEPTH / YAML_MAX_NODES. The file's bytes are wiped. */
int yaml_load(yaml_ctx *y, const char *path, ynode **root);

/* yaml_parse parses buf[0..len) as yaml_load does (buf is borrowed). */
int yaml_parse(yaml_ctx *y, const char *buf, size_t len, ynode **root);

/* ynode_free wipes and frees n and everything below it (NULL is fine). */
void ynode_free(ynode *n);

/* yaml_is_null reports whether n is a YAML null (empty, ~, null). */
bool yaml_is_null(const ynode *n);

/* yaml_type_err reports that path holds n, not want; returns RK_EINVAL. */
int yaml_type_err(yaml_ctx *y, const char *path, const ynode *n, const char *want);

/* The typed getters. path names the key in messages; n is borrowed. */

/* yaml_get_str copies a string scalar (minlen..cap-1 bytes, no NUL) into dst. */
int yaml_get_str(yaml_ctx *y, const ynode *n, const char *path, char *dst, size_t cap,
                 size_t minlen);

/* yaml_get_secret copies a non-empty string scalar of at most max bytes into
 * a new buffer (*out, *len; the caller wipes and frees it). */
int yaml_get_secret(yaml_ctx *y, const ynode *n, const char *path, size_t max, char **out,
                    size_t *len);

/* yaml_get_bool reads a plain true/false. */
int yaml_get_bool(yaml_ctx *y, const ynode *n, const char *path, bool *dst);

/* yaml_get_int reads a plain decimal integer in min..max. */
int yaml_get_int(yaml_ctx *y, const ynode *n, const char *path, int64_t min, int64_t max,
                 int64_t *dst);

/* yaml_get_dur reads a duration ("1h30m", "90s") or bare seconds, in whole
 * seconds min..max. */
int yaml_get_dur(yaml_ctx *y, const ynode *n, const char *path, int64_t min, int64_t max,
                 int64_t *dst);

/* yaml_map_fields matches n's keys against names[0..nn): vals[i] gets the
 * value node of names[i] (NULL when absent). Unknown and repeated keys are
 * refused with their full path. A null n is an empty mapping. */
int yaml_map_fields(yaml_ctx *y, const ynode *n, const char *path, const char *const *names,
                    size_t nn, const ynode **vals);

/* A mapping read field by field. yaml_fields_open matches n's keys against
 * names[0..nn) (as yaml_map_fields does); then each yaml_field_* call reads
 * field i (names[i], at path.names[i]) when it is present and nothing has
 * failed before. rc keeps the first failure, so a run of calls stops at it
 * and the section returns f.rc. Nodes are borrowed from the tree. */
#define YAML_MAX_FIELDS 32
typedef struct yaml_fields {
    yaml_ctx *y;
    const char *path;
    const char *const *names;
    const ynode *v[YAML_MAX_FIELDS]; /* v[i]: names[i]'s value, NULL when absent */
    char p[YAML_PATH_CAP];           /* the path yaml_field_path wrote last */
    int rc;
} yaml_fields;

/* yaml_fields_open starts reading mapping n (null: empty) at path into f;
 * names and path are borrowed for f's lifetime. Returns f->rc. */
int yaml_fields_open(yaml_fields *f, yaml_ctx *y, const ynode *n, const char *path,
                     const char *const *names, size_t nn);

/* yaml_field_path writes path.names[i] into f->p and returns it. */
const char *yaml_field_path(yaml_fields *f, size_t i);

/* yaml_field_has: field i is present and nothing has failed so far. */
bool yaml_field_has(const yaml_fields *f, size_t i);

/* yaml_field_need refuses a missing field i ("required"). Returns f->rc. */
int yaml_field_need(yaml_fields *f, size_t i);

/* The typed getters on field i (see yaml_get_*); each returns f->rc. */
int yaml_field_str(yaml_fields *f, size_t i, char *dst, size_t cap, size_t minlen);
int yaml_field_bool(yaml_fields *f, size_t i, bool *dst);
int yaml_field_int(yaml_fields *f, size_t i, int64_t min, int64_t max, int64_t *dst);
int yaml_field_dur(yaml_fields *f, size_t i, int64_t min, int64_t max, int64_t *dst);

/* yaml_seq_items checks n is a list (null: empty) of at most max items. */
int yaml_seq_items(yaml_ctx *y, const ynode *n, const char *path, size_t max, size_t *count);

/* yaml_path_key writes parent.key into out (key's unprintable bytes as '?'). */
void yaml_path_key(char *out, size_t cap, const char *parent, const char *key, size_t klen);

/* yaml_path_idx writes parent[i] into out. */
void yaml_path_idx(char *out, size_t cap, const char *parent, size_t i);

/* yaml_sub writes parent.name into out[YAML_PATH_CAP] and returns out. */
const char *yaml_sub(char *out, const char *parent, const char *name);

/* yaml_read_small reads file (at most YAML_SECRET_FILE_MAX bytes) into a new
 * buffer, NUL-terminated, with one trailing newline ("\n" or "\r\n")
 * removed. The caller owns *out and wipes it. With text, NUL bytes are
 * refused. key names the config key in messages; src is "config" or "env". */
int yaml_read_small(yaml_ctx *y, const char *src, const char *key, const char *file, bool text,
                    char **out, size_t *out_len);

#endif
