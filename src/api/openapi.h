/* openapi.h - the OpenAPI 3.1 document of every route (docs/openapi.yaml),
 * compiled into the binary as compact JSON by tools/embed_yaml.c at build
 * time (build/gen/openapi_json.c) and served at GET /openapi.json by the
 * probes (probes.c). */
#ifndef RK_API_OPENAPI_H
#define RK_API_OPENAPI_H

#include <stddef.h>

extern const char api_openapi_json[];     /* NUL-terminated JSON text */
extern const size_t api_openapi_json_len; /* without the NUL */

#endif
