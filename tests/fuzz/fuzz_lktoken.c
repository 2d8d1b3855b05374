/* fuzz_lktoken.c - libFuzzer target: LiveKit token verification
 * (src/token/verifier.c) with one HS256 key, at a fixed time, and the
 * claims' shapes as LiveKit decodes them (lk_claims_shape_check). */
#include "../../src/token/grants.h"
#include "../../src/token/keyring.h"
#include "../../src/token/verifier.h"
#include "../../src/util/err.h"
#include "../../src/util/jws.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NOW 1700000100 /* the committed seeds are valid at this time */

static keyring *kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static const char secret[] = "fuzz-livekit-secret-0123456789abcdef";
    char why[128];
    if (keyring_new(&kr) != RK_OK ||
        keyring_add(kr, "APIfuzz", secret, strlen(secret), false, why, sizeof why) != RK_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *claims = NULL;
    const char *reason = NULL;
    if (lktoken_verify(kr, (const char *)data, size, FUZZ_NOW, 10, &claims, &reason) == RK_OK)
        json_decref(claims);
    /* The claims reader `token verify` applies next: a forged signature
     * never reaches it, so it reads the input as a payload directly. */
    char why[128];
    json_t *payload = NULL;
    if (jws_parse_json_object((const char *)data, size, &payload) == RK_OK) {
        (void)lk_claims_shape_check(payload, why, sizeof why);
        json_decref(payload);
    }
    return 0;
}
