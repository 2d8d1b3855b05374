/* rng.h - random bytes for identifiers (jti), from OpenSSL's DRBG.
 *
 * RAND_bytes costs about a microsecond per call however few bytes it gives,
 * more than a whole token's HMAC, so each thread keeps a pool filled 4 KiB at
 * a time. Bytes are wiped from the pool as they are handed out. Not for use
 * across fork() without a refill (RoomKey never forks after start). */
#ifndef RK_RNG_H
#define RK_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Largest single request rng_bytes serves. */
#define RNG_MAX_REQUEST 256

/* rng_bytes fills out[0..n) with random bytes (n <= RNG_MAX_REQUEST).
 * Returns RK_OK, RK_ETOOBIG, or RK_ECRYPTO when the DRBG fails. */
int rng_bytes(uint8_t *out, size_t n);

#endif
