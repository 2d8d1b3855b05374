/* rng.c - per-thread pool over OpenSSL's RAND_bytes. */
#include "rng.h"
#include "err.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#define POOL_SIZE 4096

static _Thread_local uint8_t pool[POOL_SIZE];
static _Thread_local size_t pool_left; /* unused bytes at the end of pool */

int rng_init(void)
{
    return RAND_set_DRBG_type(NULL, RNG_DRBG, NULL, NULL, RNG_DRBG_DIGEST) == 1 ? RK_OK
                                                                                : RK_ECRYPTO;
}

int rng_bytes(uint8_t *out, size_t n)
{
    if (n > RNG_MAX_REQUEST)
        return RK_ETOOBIG;
    if (pool_left < n) {
        if (RAND_bytes(pool, POOL_SIZE) != 1)
            return RK_ECRYPTO;
        pool_left = POOL_SIZE;
    }
    uint8_t *src = pool + POOL_SIZE - pool_left;
    memcpy(out, src, n);
    OPENSSL_cleanse(src, n);
    pool_left -= n;
    return RK_OK;
}
