/* fuzz_session.c - libFuzzer target: caller authentication
 * (src/auth/session.c): the input is an Authorization header value checked
 * against an HS256 issuer and three JWKS issuers (RS256/PS256, ES256,
 * EdDSA; public keys in tests/fuzz/keys.jwks.json, run from the repository
 * root or set ROOMKEY_FUZZ_JWKS), at a fixed time. */
#include "../../src/auth/session.h"
#include "../../src/config/config.h"
#include "../../src/util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_NOW 1700000100 /* the committed seeds are valid at this time */

static config *cfg;
static authn *auth;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *jwks = getenv("ROOMKEY_FUZZ_JWKS");
    char path[] = "/tmp/rk-fuzz-session-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        abort();
    jwks = jwks ? jwks : "tests/fuzz/keys.jwks.json";
    fprintf(f,
            "issuers:\n"
            "  - {name: hs, algorithms: [HS256], issuer: \"https://hs.fuzz.test\",\n"
            "     secret: fuzz-session-secret-0123456789abcdef}\n"
            "  - {name: rsa, algorithms: [RS256, PS256], issuer: \"https://rsa.fuzz.test\",\n"
            "     jwks: \"%s\", subject_prefix: \"rsa:\"}\n"
            "  - {name: ec, algorithms: [ES256], issuer: \"https://ec.fuzz.test\", jwks: \"%s\",\n"
            "     subject_prefix: \"ec:\"}\n"
            "  - {name: ed, algorithms: [EdDSA], issuer: \"https://ed.fuzz.test\", jwks: \"%s\",\n"
            "     subject_prefix: \"\"}\n",
            jwks, jwks, jwks);
    fclose(f);
    char why[512];
    if (config_load(path, &cfg, why, sizeof why) != RK_OK ||
        authn_new(cfg, &auth, why, sizeof why) != RK_OK) {
        fprintf(stderr, "fuzz_session: %s\n", why);
        abort();
    }
    unlink(path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    if (!h)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    caller who;
    auth_fail fail;
    json_t *claims = NULL;
    if (authn_caller_claims(auth, h, NULL, FUZZ_NOW, &who, &fail, &claims) == RK_OK)
        json_decref(claims);
    if (authn_caller(auth, NULL, h, FUZZ_NOW, &who, &fail) != RK_OK)
        fail = AUTH_NONE; /* the outcome itself is not checked */
    free(h);
    return 0;
}
