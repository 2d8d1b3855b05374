/* apikey.h - backend API keys and the admin key. The config keeps only each
 * key's SHA-256; a presented key is hashed and compared with every
 * configured hash in constant time. */
#ifndef RK_APIKEY_H
#define RK_APIKEY_H

#include "../config/config.h"

#include <stdbool.h>
#include <stddef.h>

#define APIKEY_HASH_LEN 32

/* apikey_hash writes the SHA-256 of key[0..len) (borrowed) into out. */
int apikey_hash(const void *key, size_t len, unsigned char out[APIKEY_HASH_LEN])
    __attribute__((warn_unused_result));

/* apikey_match finds the API key of cfg whose hash equals that of key
 * (constant-time comparison against every configured key); NULL if none.
 * The result is borrowed from cfg. */
const config_apikey *apikey_match(const config *cfg, const char *key, size_t len)
    __attribute__((warn_unused_result));

/* apikey_is_admin reports whether key is cfg's admin key (constant time). */
bool apikey_is_admin(const config *cfg, const char *key, size_t len)
    __attribute__((warn_unused_result));

#endif
