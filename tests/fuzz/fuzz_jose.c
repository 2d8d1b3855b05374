/* fuzz_jose.c - libFuzzer target: JOSE compact parsing (src/util/jws.c),
 * the first step of every session JWT and LiveKit token check. */
#include "../../src/util/err.h"
#include "../../src/util/jws.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jws j;
    const char *reason = NULL;
    if (jws_parse((const char *)data, size, &j, &reason) == RK_OK)
        jws_clear(&j);
    json_t *o = NULL;
    if (jws_parse_json_object((const char *)data, size, &o) == RK_OK)
        json_decref(o);
    return 0;
}
