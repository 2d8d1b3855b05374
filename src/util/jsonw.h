/* jsonw.h - a bounded JSON writer into a caller-owned buffer.
 *
 * Every write checks the hard capacity; the first failure latches in `err`
 * and later writes do nothing, so callers check once at the end. Strings are
 * validated as UTF-8 and escaped per RFC 8259, so an attacker-chosen value
 * can never break out of its string. */
#ifndef RK_JSONW_H
#define RK_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jsonw {
    char *buf;  /* output buffer, owned by the caller */
    size_t len; /* bytes written so far (buf[len] is kept NUL) */
    size_t cap; /* capacity of buf, including room for the NUL */
    int err;    /* first error (RK_ETOOBIG, RK_EINVAL), RK_OK while fine */
    bool comma; /* a value was written at this nesting level */
} jsonw;

/* jsonw_init points w at buf (capacity cap >= 1) and empties it. */
void jsonw_init(jsonw *w, char *buf, size_t cap);

/* jsonw_open writes an object's or an array's opening bracket ('{' or
 * '['), after a comma when a value came before; jsonw_close its closing
 * one ('}' or ']'). The four names below say which. */
void jsonw_open(jsonw *w, char bracket);
void jsonw_close(jsonw *w, char bracket);
#define jsonw_obj_open(w)  jsonw_open((w), '{')
#define jsonw_obj_close(w) jsonw_close((w), '}')
#define jsonw_arr_open(w)  jsonw_open((w), '[')
#define jsonw_arr_close(w) jsonw_close((w), ']')
/* jsonw_key writes `"key":` (with a comma first when needed), escaped;
 * invalid UTF-8 sets RK_EINVAL. */
void jsonw_key(jsonw *w, const char *key);
/* jsonw_key_lit writes a trusted, already quoted key with its colon
 * (`"name":`); JSONW_KEY(w, "name") builds that from a literal at compile
 * time. Only for literals that need no escaping. */
void jsonw_key_lit(jsonw *w, const char *quoted, size_t len);
#define JSONW_KEY(w, lit) jsonw_key_lit((w), "\"" lit "\":", sizeof(lit) + 2)
/* jsonw_str writes s[0..len) as a JSON string; invalid UTF-8 sets RK_EINVAL. */
void jsonw_strn(jsonw *w, const char *s, size_t len);
void jsonw_str(jsonw *w, const char *s);
void jsonw_int(jsonw *w, int64_t v);
void jsonw_bool(jsonw *w, bool v);
void jsonw_null(jsonw *w);
/* jsonw_raw appends already-valid JSON text verbatim (trusted input only). */
void jsonw_raw(jsonw *w, const char *s, size_t len);

#endif
