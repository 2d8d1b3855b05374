/* jwks.h - public keys for verifying session JWTs: JWK sets (RFC 7517) from
 * a file or an https URL, cached, with signature checks by OpenSSL.
 *
 * Algorithms: RS256 (RSASSA-PKCS1-v1_5 SHA-256), PS256 (RSASSA-PSS SHA-256,
 * salt 32), ES256 (ECDSA P-256 SHA-256, JOSE r||s signature of exactly 64
 * bytes), EdDSA (Ed25519). Symmetric ("oct") keys in a set are ignored: HS
 * keys never come from a JWKS (RFC 8725). A key is used only for an
 * algorithm its kty/crv fits (RSA -> RS256/PS256, EC P-256 -> ES256, OKP
 * Ed25519 -> EdDSA), and only if its own "alg" (when present) equals the
 * token's and its "use" (when present) is "sig".
 *
 * URL sources are cached: refreshed when older than the refresh interval,
 * re-fetched on an unknown kid at most once per cooldown, and the last good
 * set is kept when a fetch fails. Fetches are bounded in size and time.
 * All functions are thread-safe. */
#ifndef RK_JWKS_H
#define RK_JWKS_H

#include <stddef.h>
#include <stdint.h>

#define JWKS_MAX_DOC  (256u * 1024) /* bytes of one JWKS document */
#define JWKS_MAX_KEYS 64

typedef struct jwks_opts {
    int64_t refresh_s;   /* re-fetch a URL set older than this; 0 -> 3600 */
    int64_t cooldown_s;  /* min seconds between unknown-kid re-fetches; 0 -> 30 */
    int64_t timeout_ms;  /* whole fetch time limit; 0 -> 3000 */
    const char *ca_file; /* extra CA bundle for https (tests); NULL = system */
    int allow_http;      /* allow http:// URLs (loopback tests only); 0 = https only */
} jwks_opts;

typedef struct jwks jwks;

/* jwks_new loads keys from source: a file path, or an https:// URL (http://
 * only with allow_http). The first load must succeed for a file; for a URL
 * a failed first fetch leaves the set empty and retried on use. On failure
 * why says why. Free with jwks_free. opts may be NULL (defaults). */
int jwks_new(const char *source, const jwks_opts *opts, jwks **out, char *why, size_t why_cap);

/* jwks_new_from_json builds a fixed set from a JWKS document (no refresh);
 * for config-embedded keys and tests. */
int jwks_new_from_json(const char *json, size_t len, jwks **out, char *why, size_t why_cap);

void jwks_free(jwks *j);

/* jwks_verify checks sig over signing[0..signing_len) with the key whose
 * kid matches exactly (kid NULL: the token has none; then the one key of a
 * fitting type is used only when the set has exactly one such key) for alg
 * ("RS256", "PS256", "ES256", "EdDSA"). now is Unix seconds (drives refresh
 * and cooldown). Returns RK_OK, RK_EVERIFY (bad signature, key/alg
 * mismatch, unsupported alg), RK_ENOTFOUND (no such kid, even after an
 * allowed re-fetch). */
__attribute__((warn_unused_result)) int jwks_verify(jwks *j, const char *kid, const char *alg,
                                                    const uint8_t *signing, size_t signing_len,
                                                    const uint8_t *sig, size_t sig_len,
                                                    int64_t now);

/* jwks_fetch_count returns how many fetches were attempted (for metrics)
 * and jwks_age the seconds since the last good load (-1 = never). */
uint64_t jwks_fetch_count(jwks *j);
int64_t jwks_age(jwks *j, int64_t now);

/* jwks_refresh refetches a URL set older than the refresh interval (at
 * most once per cooldown; the old set stays on failure), as jwks_verify
 * does before it checks; for readiness probes on an idle server. */
void jwks_refresh(jwks *j, int64_t now);

/* jwks_fetches_total reports the process-wide number of JWKS URL fetches
 * that succeeded (*ok) and failed (*failed), over every jwks ever made
 * (for /metrics; config reloads do not reset them). */
void jwks_fetches_total(uint64_t *ok, uint64_t *failed);

#endif
