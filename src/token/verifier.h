/* verifier.h - verifies LiveKit access tokens (HS256) against a keyring.
 *
 * The checks follow LiveKit's server: the token's iss selects the secret,
 * the HMAC must match (constant-time compare), exp is required, nbf and exp
 * hold within a bounded leeway. On top: strict base64url and JSON, duplicate
 * keys refused, alg exactly HS256, no `crit`. Used by `roomkey token verify`
 * and by webhooks. */
#ifndef RK_VERIFIER_H
#define RK_VERIFIER_H

#include "keyring.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Largest leeway a caller may ask for, in seconds. */
#define VERIFIER_MAX_LEEWAY 300

/* lktoken_numeric_date reads claims' NumericDate claim name into *out:
 * RK_ENOTFOUND when absent, RK_EINVAL unless a number within +-9.2e18
 * (a real is rounded down). */
int lktoken_numeric_date(const json_t *claims, const char *name, int64_t *out);

/* lktoken_verify checks tok[0..len) at time now (Unix seconds) with leeway
 * seconds of clock skew (0..VERIFIER_MAX_LEEWAY). On RK_OK *claims is a new
 * reference to the payload (caller frees with json_decref). On failure
 * *reason is a static message and nothing is allocated. Codes: RK_EINVAL
 * (malformed), RK_EVERIFY (unknown key, bad signature, disallowed header),
 * RK_EEXPIRED, RK_ENOTYET, RK_ETOOBIG. */
__attribute__((warn_unused_result)) int lktoken_verify(const keyring *kr, const char *tok,
                                                       size_t len, int64_t now, int64_t leeway,
                                                       json_t **claims, const char **reason);

#endif
