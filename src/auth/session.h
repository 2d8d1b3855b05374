/* session.h - authenticates callers: session JWTs from configured issuers
 * (HS256 shared secrets, or RS256/PS256/ES256/EdDSA keys from a JWKS) and
 * static API keys for backends.
 *
 * Session JWT rules (RFC 8725): strict base64url and JSON (duplicate keys
 * refused); alg must be in the issuer's allow-list, never "none"; an issuer
 * is either symmetric (HS256 secret) or asymmetric (JWKS), never both, so
 * HS/asymmetric confusion can't happen and HS keys never come from a JWKS;
 * kid matched exactly; `crit` refused; typ in the issuer's allow-list
 * (default JWT or none; at+jwt for RFC 9068 access tokens); exp required;
 * nbf/iat honoured with the issuer's bounded leeway; iss and aud checked
 * when configured. */
#ifndef RK_SESSION_H
#define RK_SESSION_H

#include "../config/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_MAX_TOKEN (16u * 1024) /* a session JWT, bytes */

/* Who is calling, once authenticated. */
typedef struct caller {
    char subject[257]; /* issuer's subject_prefix + session subject, or "api-key:<id>" */
    char name[257];    /* display name from the session ("" = none) */
    char role[65];     /* role from the session's role claim ("" = none) */
    char issuer[65];   /* issuer name, or "api-key" */
    bool is_api_key;
    unsigned perms; /* enum config_perm bits (API keys only) */
    /* What a session JWT says of itself (Supabase's convention; false for
     * API keys and sessions without the claims): */
    bool user_session; /* its own "role" claim is "authenticated" (a signed-in user) */
    bool is_anonymous; /* its "is_anonymous" claim is true (an anonymous sign-in) */
} caller;

/* Why authentication failed (for metrics and logs; never sent verbatim to
 * clients beyond a generic message). */
typedef enum auth_fail {
    AUTH_NONE = 0,
    AUTH_MISSING,   /* no credentials */
    AUTH_MALFORMED, /* not a well-formed JWT */
    AUTH_ALG,       /* algorithm not allowed */
    AUTH_ISSUER,    /* no configured issuer matches */
    AUTH_SIGNATURE, /* signature or key lookup failed */
    AUTH_EXPIRED,
    AUTH_NOT_YET,
    AUTH_AUDIENCE,
    AUTH_CLAIMS,    /* subject/name/role claims unusable */
    AUTH_API_KEY,   /* unknown API key */
    AUTH_AMBIGUOUS, /* both Authorization and X-API-Key */
} auth_fail;

typedef struct authn authn;

/* authn_new prepares verifiers for cfg's issuers (keyed HMAC contexts,
 * JWKS caches). cfg must outlive the authn. Free with authn_free. */
int authn_new(const config *cfg, authn **out, char *why, size_t why_cap);
void authn_free(authn *a);

/* authn_caller authenticates a request from its Authorization header
 * ("Bearer <jwt or api key>") or its X-API-Key header (either may be NULL;
 * both present is refused, AUTH_AMBIGUOUS: a request names one caller).
 * On RK_OK *out is filled; otherwise RK_EDENIED with *fail saying why. */
int authn_caller(authn *a, const char *authorization, const char *x_api_key, int64_t now,
                 caller *out, auth_fail *fail) __attribute__((warn_unused_result));

/* authn_caller_claims is authn_caller that also hands back the verified
 * session JWT's claims, for a route family that reads claims the caller
 * struct doesn't carry: on RK_OK with a session JWT *claims is a new
 * reference the caller json_decref()s; for an API key, or on failure, it
 * is NULL. claims may be NULL (then it is authn_caller). */
int authn_caller_claims(authn *a, const char *authorization, const char *x_api_key, int64_t now,
                        caller *out, auth_fail *fail, json_t **claims)
    __attribute__((warn_unused_result));

/* auth_fail_name returns a short static label ("expired", ...). */
const char *auth_fail_name(auth_fail f);

#define AUTH_FAIL_COUNT (AUTH_AMBIGUOUS + 1)

/* authn_fail_counts copies the process-wide count of failed
 * authentications by reason (index: auth_fail) into out (for /metrics;
 * the counts survive config reloads). */
void authn_fail_counts(uint64_t out[AUTH_FAIL_COUNT]);

/* authn_jwks_ready checks every JWKS issuer has keys: a good load that is
 * not older than max_age_s seconds (a URL set past its refresh interval is
 * refetched first, at most once per cooldown; see jwks_refresh). On false,
 * why names the issuer. */
bool authn_jwks_ready(authn *a, int64_t now, int64_t max_age_s, char *why, size_t why_cap)
    __attribute__((warn_unused_result));

#endif
