/* jws.h - strict parsing of JOSE compact serialisation (RFC 7515), no crypto.
 *
 * Splits "header.payload.signature", decodes each part with strict
 * base64url, and parses header and payload as JSON objects with duplicate
 * keys refused. Signature checks live with whoever owns the keys
 * (src/token for LiveKit tokens, src/auth for session JWTs). */
#ifndef RK_JWS_H
#define RK_JWS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits. */
#define JWS_MAX_LEN        (8u * 1024 * 1024) /* whole compact token */
#define JWS_MAX_HEADER_LEN 4096u              /* encoded header */
#define JWS_MAX_SIG_LEN    1024u              /* decoded signature */

typedef struct jws {
    json_t *header;      /* parsed protected header (a reference owned; the
                            object may be shared with a per-thread cache of
                            the last header parsed: read it, never change it) */
    json_t *payload;     /* parsed claims (owned) */
    const char *signing; /* "header.payload" inside the caller's token */
    size_t signing_len;
    uint8_t sig[JWS_MAX_SIG_LEN]; /* decoded signature */
    size_t sig_len;
} jws;

/* jws_parse parses tok[0..len) into *out. On RK_OK the caller frees with
 * jws_clear; out->signing points into tok, which must outlive *out. On
 * failure nothing is left allocated and *reason names the problem (a static
 * string). */
int jws_parse(const char *tok, size_t len, jws *out, const char **reason);

/* jws_clear releases what jws_parse allocated. Safe on a zeroed jws. */
void jws_clear(jws *j);

/* jws_parse_json_object parses s[0..len) strictly (duplicates refused) and
 * requires an object. On RK_OK *out is a new reference the caller frees. */
int jws_parse_json_object(const char *s, size_t len, json_t **out);

#endif
