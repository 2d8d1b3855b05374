/* embed_yaml.c - a build tool: reads a YAML document and writes a C file
 * that defines it as compact JSON text, so the binary carries a document
 * (docs/openapi.yaml) without reading any file at run time:
 *
 *     embed_yaml IN.yaml NAME > OUT.c
 *
 * defines `const char NAME[]` (the JSON, NUL-terminated) and
 * `const size_t NAME_len` (its length without the NUL). Scalars follow
 * YAML 1.2's core schema, as JavaScript YAML parsers read them: a plain
 * null/~/empty is null, true/false booleans, plain integers and decimals
 * numbers, everything else (and everything quoted) a string. Keys keep their
 * document order. Aliases are resolved by libyaml's loader. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define EMBED_MAX_DEPTH 64

/* plain_scalar turns an unquoted scalar into null, a boolean, a number or
 * a string (a new reference). */
static json_t *plain_scalar(const char *s, size_t len)
{
    if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        return json_boolean(s[0] == 't');
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0 && s[0] != '+' && !(s[0] == '0' && len > 1))
        return json_integer(i);
    double d = strtod(s, &end);
    if (*end == '\0' && errno == 0 && strspn(s, "-0123456789.eE") == len)
        return json_real(d);
    return json_stringn(s, len);
}

/* to_json converts node (and its children) of doc; NULL on bad input. */
static json_t *to_json(yaml_document_t *doc, yaml_node_t *node, int depth)
{
    if (!node || depth > EMBED_MAX_DEPTH)
        return NULL;
    if (node->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)node->data.scalar.value;
        size_t len = node->data.scalar.length;
        return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s, len)
                                                                  : json_stringn(s, len);
    }
    if (node->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             a && it < node->data.sequence.items.top; it++) {
            json_t *v = to_json(doc, yaml_document_get_node(doc, *it), depth + 1);
            if (!v || json_array_append_new(a, v)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    json_t *o = json_object();
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         o && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        json_t *v = to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
        if (!k || k->type != YAML_SCALAR_NODE || !v ||
            json_object_setn_new(o, (const char *)k->data.scalar.value, k->data.scalar.length, v)) {
            json_decref(v);
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* load reads the YAML file path as JSON; NULL (reason on stderr) on error. */
static json_t *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "embed_yaml: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    json_t *j = NULL;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        fprintf(stderr, "embed_yaml: %s:%zu: %s\n", path, parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "bad YAML");
    } else {
        j = to_json(&doc, yaml_document_get_root_node(&doc), 0);
        if (!j)
            fprintf(stderr, "embed_yaml: %s: empty, too deep or not convertible\n", path);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return j;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: embed_yaml IN.yaml NAME > OUT.c\n");
        return 2;
    }
    json_t *j = load(argv[1]);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text)
        return 1;
    size_t len = strlen(text);
    printf("/* Generated from %s by tools/embed_yaml.c; do not edit. */\n"
           "#include <stddef.h>\n\nconst char %s[] = {",
           argv[1], argv[2]);
    for (size_t i = 0; i < len; i++)
        printf("%s0x%02x,", i % 16 ? "" : "\n", (unsigned char)text[i]);
    printf("0x00};\nconst size_t %s_len = %zu;\n", argv[2], len);
    free(text);
    return ferror(stdout) ? 1 : 0;
}
