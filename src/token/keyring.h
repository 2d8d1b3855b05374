/* keyring.h - LiveKit API keys: key id -> HMAC-SHA256 secret.
 *
 * Several keys may be configured; the first added signs (unless another is
 * chosen with keyring_set_signer), all of them verify. Each secret is turned
 * into a keyed OpenSSL HMAC context at once and the secret bytes are wiped:
 * after keyring_add returns, RoomKey holds no copy of the secret of its own.
 * A keyring is immutable once built and may be shared between threads. */
#ifndef RK_KEYRING_H
#define RK_KEYRING_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYRING_MAX_KEYS   64
#define KEYRING_MAX_KEY_ID 256
#define KEYRING_MAX_SECRET 1024
#define KEYRING_MIN_SECRET 32 /* bytes; shorter only in dev mode */
#define KEYRING_MAX_TEXT   (64u * 1024)

typedef struct keyring_entry {
    char id[KEYRING_MAX_KEY_ID + 1]; /* API key (the token's iss) */
    size_t id_len;
    EVP_MAC_CTX *mac; /* HMAC-SHA256 keyed with the secret; owned */
    uint64_t serial;  /* unique per entry made by this process, never reused */
} keyring_entry;

typedef struct keyring keyring;

/* keyring_new creates an empty keyring; free with keyring_free. */
int keyring_new(keyring **out);

/* keyring_dup makes *out a keyring with the same keys and signer as kr
 * (each keyed context duplicated: no secret is ever copied in the clear),
 * for a component that must outlive kr (a config reload frees it). Free
 * with keyring_free. */
int keyring_dup(const keyring *kr, keyring **out);

/* keyring_free releases kr and every key context. NULL is fine. */
void keyring_free(keyring *kr);

/* keyring_add adds key id -> secret[0..secret_len). Refuses an empty or
 * malformed id (letters, digits, '-', '_', '.'), a duplicate id, and
 * a secret shorter than KEYRING_MIN_SECRET unless allow_short (dev mode).
 * The caller still owns and should wipe `secret`. why gets the reason. */
int keyring_add(keyring *kr, const char *id, const char *secret, size_t secret_len,
                bool allow_short, char *why, size_t why_cap);

/* keyring_parse adds every "key: secret" pair in text: one per line (the
 * format of LiveKit's key file) or separated by commas (LiveKit's
 * LIVEKIT_KEYS). Blank lines and lines starting with '#' are skipped. */
int keyring_parse(keyring *kr, const char *text, bool allow_short, char *why, size_t why_cap);

/* keyring_set_signer makes key id the signing key. RK_ENOTFOUND if absent. */
int keyring_set_signer(keyring *kr, const char *id);

/* keyring_signer returns the signing entry (borrowed) or NULL when empty. */
const keyring_entry *keyring_signer(const keyring *kr) __attribute__((warn_unused_result));

/* keyring_find looks up id[0..len) (borrowed result; NULL when absent). */
const keyring_entry *keyring_find(const keyring *kr, const char *id, size_t len)
    __attribute__((warn_unused_result));

/* keyring_serial returns a number unique to kr among the keyrings this
 * process made (never reused, unlike its address), so a cache built for
 * one keyring can tell it from a later one (config reload). */
uint64_t keyring_serial(const keyring *kr);

/* keyring_count returns the number of keys. */
size_t keyring_count(const keyring *kr);

/* keyring_at returns the i-th key (in the order added; borrowed) or NULL
 * when i >= keyring_count: for listing key ids, never secrets. */
const keyring_entry *keyring_at(const keyring *kr, size_t i);

/* keyring_hmac computes HMAC-SHA256(entry's secret, msg) into out[32].
 * Thread-safe: each thread re-uses its own copy of the keyed context (kept
 * in a small per-thread cache that keyring.c owns and frees at thread exit;
 * it is dropped whenever a keyring is freed). Allocates only on a miss. */
int keyring_hmac(const keyring_entry *e, const void *msg, size_t len, unsigned char out[32])
    __attribute__((warn_unused_result));

/* keyring_hmac_ctx computes HMAC-SHA256 with c, a caller's own copy of an
 * entry's keyed context (EVP_MAC_CTX_dup of its mac, used by one thread
 * at a time), re-initialised from its key state: what keyring_hmac does
 * without looking the copy up. */
int keyring_hmac_ctx(EVP_MAC_CTX *c, const void *msg, size_t len, unsigned char out[32])
    __attribute__((warn_unused_result));

#endif
