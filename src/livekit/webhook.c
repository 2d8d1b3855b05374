/* webhook.c - verifying and reading LiveKit webhooks. */
#include "webhook.h"
#include "../token/verifier.h"
#include "../util/err.h"
#include "../util/jws.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

bool lk_webhook_content_type_ok(const char *ct)
{
    static const char want[] = "application/webhook+json";
    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    const char *rest = ct + sizeof want - 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* issued_at reads the token's nbf, else its iat; RK_EINVAL when neither is a
 * NumericDate. */
static int issued_at(const json_t *claims, int64_t *out)
{
    int rc = lktoken_numeric_date(claims, "nbf", out);
    return rc == RK_ENOTFOUND ? lktoken_numeric_date(claims, "iat", out) : rc;
}

/* body_hash_matches compares the sha256 claim with base64(SHA-256(body)) in
 * constant time. */
static bool body_hash_matches(const json_t *claim, const char *body, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
    if (!json_is_string(claim) || !SHA256((const unsigned char *)body, len, md))
        return false;
    int n = EVP_EncodeBlock(b64, md, sizeof md);
    bool ok = n > 0 && json_string_length(claim) == (size_t)n &&
              CRYPTO_memcmp(b64, json_string_value(claim), (size_t)n) == 0;
    OPENSSL_cleanse(md, sizeof md);
    return ok;
}

int lk_webhook_verify(const keyring *kr, const char *auth, const char *body, size_t body_len,
                      int64_t now, const char **reason)
{
    if (!auth || !auth[0]) {
        *reason = "Authorization header missing";
        return RK_EVERIFY;
    }
    size_t alen = strnlen(auth, WEBHOOK_MAX_AUTH + 1);
    if (alen > WEBHOOK_MAX_AUTH) {
        *reason = "Authorization header too long";
        return RK_ETOOBIG;
    }
    if (strncasecmp(auth, "Bearer ", 7) == 0) {
        *reason = "Authorization must be the bare JWT (no Bearer)";
        return RK_EVERIFY;
    }
    if (body_len > WEBHOOK_MAX_BODY) {
        *reason = "body too large";
        return RK_ETOOBIG;
    }
    json_t *claims = NULL;
    int rc = lktoken_verify(kr, auth, alen, now, WEBHOOK_LEEWAY, &claims, reason);
    if (rc)
        return rc == RK_EINVAL ? RK_EVERIFY : rc;
    int64_t iat = 0;
    if (issued_at(claims, &iat)) {
        *reason = "token has no nbf or iat";
        rc = RK_EVERIFY;
    } else if (now - iat > WEBHOOK_MAX_AGE + WEBHOOK_LEEWAY) {
        *reason = "webhook token older than 5 minutes";
        rc = RK_EEXPIRED;
    } else if (iat > now + WEBHOOK_LEEWAY) { /* an iat (without nbf) yet to come */
        *reason = "webhook token issued in the future";
        rc = RK_EVERIFY;
    } else if (!json_object_get(claims, "sha256")) {
        *reason = "sha256 claim missing";
        rc = RK_EVERIFY;
    } else if (!body_hash_matches(json_object_get(claims, "sha256"), body, body_len)) {
        *reason = "sha256 of the body does not match";
        rc = RK_EVERIFY;
    }
    json_decref(claims);
    return rc;
}

/* read_required copies a required, non-empty string of printable ASCII
 * without spaces (event names and ids) into dst (capacity cap). */
static int read_required(const json_t *obj, const char *name, char *dst, size_t cap)
{
    if (lk_json_string(json_object_get(obj, name), dst, cap) || !dst[0])
        return RK_EINVAL;
    for (const char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return RK_EINVAL;
    return RK_OK;
}

int lk_webhook_parse(const char *body, size_t len, lk_webhook_event *ev, const char **reason)
{
    memset(ev, 0, sizeof *ev);
    if (len > WEBHOOK_MAX_BODY) {
        *reason = "body too large";
        return RK_ETOOBIG;
    }
    json_t *root = NULL;
    if (jws_parse_json_object(body, len, &root)) {
        *reason = "body is not a JSON object";
        return RK_EINVAL;
    }
    int rc = RK_EINVAL;
    *reason = "event missing or malformed";
    if (read_required(root, "event", ev->event, sizeof ev->event))
        goto out;
    *reason = "id missing or malformed";
    if (read_required(root, "id", ev->id, sizeof ev->id))
        goto out;
    *reason = "createdAt malformed";
    if (lk_json_int64(lk_json_field(root, "createdAt", "created_at"), &ev->created_at))
        goto out;
    json_t *room = json_object_get(root, "room");
    if (room && (rc = lk_room_read(room, &ev->room, reason)))
        goto out;
    ev->has_room = room != NULL;
    json_t *p = json_object_get(root, "participant");
    if (p && (rc = lk_participant_read(p, &ev->participant, reason)))
        goto out;
    ev->has_participant = p != NULL;
    *reason = NULL;
    rc = RK_OK;
out:
    json_decref(root);
    return rc;
}
