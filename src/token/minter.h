/* minter.h - signs LiveKit access tokens (HS256), fast.
 *
 * A minter belongs to one thread. It keeps its own copy of the signing
 * key's keyed HMAC context (re-initialised per token, reusing OpenSSL's
 * precomputed inner/outer key state), its own payload and token buffers,
 * and the payload's tail for the grants it minted last (grant_tmpl.h), so
 * steady-state minting allocates nothing and writes and encodes only what
 * differs token to token. Every token gets
 * header {"alg":"HS256","typ":"JWT"}, iss = API key, sub = identity,
 * iat = nbf = now, exp = now + ttl, and a jti that is a time-ordered prefix
 * plus 96 random bits. */
#ifndef RK_MINTER_H
#define RK_MINTER_H

#include "grants.h"
#include "keyring.h"

#include <stddef.h>
#include <stdint.h>

/* Longest lifetime any token may have, whatever the caller asks: 24 h is the
 * service default maximum; the CLI may ask for up to 30 days. */
#define MINTER_MAX_TTL (30LL * 24 * 3600)

/* jti: 9 characters of issue time in microseconds (order-preserving; read
 * from the coarse wall clock, so it moves in steps of the kernel's tick),
 * then 12 random bytes in base64url (16 characters), plus NUL. */
#define MINTER_JTI_TIME_CHARS   9
#define MINTER_JTI_RANDOM_BYTES 12
#define MINTER_JTI_LEN          (MINTER_JTI_TIME_CHARS + 16 + 1)

typedef struct mint_info {
    char jti[MINTER_JTI_LEN]; /* the token's jti, for audit and logs */
    int64_t iat;              /* = nbf */
    int64_t exp;
} mint_info;

typedef struct minter minter;

/* minter_new makes a minter that signs with kr's signing key; the minter
 * keeps its own copy of the key, so kr is only read during the call. Free
 * with minter_free. RK_ENOTFOUND when kr has no key, RK_ENOMEM. */
int minter_new(const keyring *kr, minter **out);

/* minter_free releases m (NULL is fine); buffers are wiped first. */
void minter_free(minter *m);

/* minter_mint signs claims c for ttl_s seconds (1..MINTER_MAX_TTL) from now
 * (Unix seconds). On RK_OK *tok points at the NUL-terminated token inside m
 * (borrowed: valid until the next minter_mint or minter_free on m), *tok_len
 * is its length, and *info has jti and times. Claims are checked first with
 * lk_claims_check; on RK_EINVAL/RK_ETOOBIG `why` says which rule failed. */
int minter_mint(minter *m, const lk_claims *c, int64_t now, int64_t ttl_s, const char **tok,
                size_t *tok_len, mint_info *info, char *why, size_t why_cap);

#endif
