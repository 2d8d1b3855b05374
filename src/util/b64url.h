/* b64url.h - unpadded base64url (RFC 4648 section 5), strict on decode.
 *
 * Decoding refuses padding, white space, characters outside the URL-safe
 * alphabet, a length of 1 mod 4, and non-canonical encodings (unused low bits
 * of the last character must be zero), as RFC 7515 requires for JWS. */
#ifndef RK_B64URL_H
#define RK_B64URL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes (no terminating NUL counted). */
#define B64URL_ENCODED_LEN(n) (((n) / 3) * 4 + (((n) % 3) ? ((n) % 3) + 1 : 0))
/* Upper bound of bytes a decode of n characters can produce. */
#define B64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)

/* b64url_encode writes the encoding of in[0..len) to out (capacity cap) and a
 * terminating NUL; *out_len gets the length without the NUL. Returns RK_OK or
 * RK_ETOOBIG when cap is too small (out is then left as an empty string).
 * The caller owns every buffer. */
int b64url_encode(const uint8_t *restrict in, size_t len, char *restrict out, size_t cap,
                  size_t *out_len);

/* b64url_decode decodes in[0..len) into out (capacity cap); *out_len gets the
 * byte count. Returns RK_OK, RK_EINVAL for any non-canonical or malformed
 * input, or RK_ETOOBIG when cap is too small. Nothing is promised about out's
 * contents on failure. The caller owns every buffer. */
int b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
