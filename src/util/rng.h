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

/* The DRBG every thread's pool draws from: OpenSSL's Hash_DRBG over
 * SHA-256 (NIST SP 800-90A, 256-bit security strength, as OpenSSL's
 * default CTR_DRBG over AES-256). Its instantiation needs only the digest
 * the tokens are signed with; CTR_DRBG's first use builds every cipher of
 * OpenSSL's default provider, about 0.8 ms of a cold start (docs/
 * benchmarks.md). A 4 KiB refill costs about 14 instead of 2 us, once per
 * 340 tokens. */
#define RNG_DRBG        "HASH-DRBG"
#define RNG_DRBG_DIGEST "SHA2-256"

/* rng_init makes RNG_DRBG the type of OpenSSL's DRBGs. Call it first in
 * main, before anything draws random bytes (a DRBG already instantiated
 * keeps its type). RK_ECRYPTO when OpenSSL refuses (its default DRBG then
 * serves). Nothing to free. */
int rng_init(void);

/* Largest single request rng_bytes serves. */
#define RNG_MAX_REQUEST 256

/* rng_bytes fills out[0..n) with random bytes (n <= RNG_MAX_REQUEST).
 * Returns RK_OK, RK_ETOOBIG, or RK_ECRYPTO when the DRBG fails. */
int rng_bytes(uint8_t *out, size_t n);

#endif
