/* grant_tmpl.h - the end of a token's payload, written and encoded once
 * for the grants it holds.
 *
 * A payload is the registered claims and the name, then the grant claims
 * (video, sip, agent, inference, observability, kind, kindDetails,
 * roomPreset) and the closing brace. Tokens for one room and role differ
 * only in the first part, so a template keeps the second (its "tail") and
 * the tail's base64url at each of the three offsets (mod 3) the first part
 * can leave it at, each encoded when first needed. Minting the same grants
 * again then writes and encodes only the per-token part; the result is the
 * same bytes as encoding the whole payload. Claims with metadata,
 * attributes or roomConfig (per-token claims written among the grants) are
 * never templated. A template belongs to one minter (one thread). */
#ifndef RK_GRANT_TMPL_H
#define RK_GRANT_TMPL_H

#include "grants.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct grant_tmpl grant_tmpl;

/* grant_tmpl_new makes an empty template (it matches nothing); free with
 * grant_tmpl_free. */
int grant_tmpl_new(grant_tmpl **out);

/* grant_tmpl_free releases t (NULL is fine). */
void grant_tmpl_free(grant_tmpl *t);

/* grant_tmpl_usable says whether c's payload can end in a template: no
 * metadata, attributes or roomConfig. */
bool grant_tmpl_usable(const lk_claims *c);

/* grant_tmpl_matches says whether t holds c's grants. */
bool grant_tmpl_matches(const grant_tmpl *t, const lk_claims *c);

/* grant_tmpl_set makes t hold c's grants: c usable (grant_tmpl_usable),
 * checked by lk_claims_check, whose bound is json_bound. RK_ENOMEM or a
 * jsonw error; t then matches nothing. */
int grant_tmpl_set(grant_tmpl *t, const lk_claims *c, size_t json_bound);

/* grant_tmpl_encoded_max is the most grant_tmpl_encode writes (without
 * its NUL). */
size_t grant_tmpl_encoded_max(const grant_tmpl *t);

/* grant_tmpl_encode finishes a payload whose per-token part was encoded up
 * to its last carry_len (0..2) bytes: writes to out (capacity cap) the
 * base64url of carry[0..carry_len) followed by the tail, and a NUL; *len
 * gets its length. RK_ETOOBIG when cap is too small, RK_ENOMEM. */
int grant_tmpl_encode(grant_tmpl *t, const char *carry, size_t carry_len, char *out, size_t cap,
                      size_t *len);

#endif
