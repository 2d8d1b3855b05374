/* fuzz_request.c - libFuzzer target: the route families' shared body
 * reader (request_json_object in src/api/request.c): strict JSON, one
 * object, duplicates refused. */
#include "../../src/api/request.h"
#include "../../src/util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size + 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    http_req req = {.method = "POST", .path = "/fuzz", .body = body, .body_len = size};
    json_t *o = NULL;
    const char *why = NULL;
    if (request_json_object(&req, size % 2 == 0, &o, &why) == RK_OK)
        json_decref(o);
    free(body);
    return 0;
}
