/* fuzz_webhook.c - libFuzzer target: LiveKit's webhooks
 * (src/livekit/webhook.c) as the webhook route takes them. The input is a
 * webhook body; the harness signs it as livekit-server does (an HS256 JWT
 * by the API key, iss = the key, nbf/exp around a fixed time, sha256 =
 * standard padded base64 of SHA-256 over the body), so every input goes
 * the valid-signature path: lk_webhook_verify must accept it, then
 * lk_webhook_parse reads the event. Forged tokens are fuzz_lktoken's. */
#include "../../src/livekit/webhook.h"
#include "../../src/util/b64url.h"
#include "../../src/util/err.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NOW 1700000100
#define KEY      "APIfuzzWebhook"

static keyring *kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static const char secret[] = "fuzz-webhook-secret-0123456789abcdef";
    char why[128];
    if (keyring_new(&kr) != RK_OK ||
        keyring_add(kr, KEY, secret, strlen(secret), false, why, sizeof why) != RK_OK)
        abort();
    return 0;
}

/* sign writes livekit-server's Authorization value for body into auth
 * (capacity cap). */
static int sign(const uint8_t *body, size_t len, char *auth, size_t cap)
{
    static const char header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; /* HS256, JWT */
    unsigned char md[SHA256_DIGEST_LENGTH], mac[32];
    char hash[64], claims[256], part[512];
    size_t n = 0, used;
    if (!SHA256(body, len, md) || EVP_EncodeBlock((unsigned char *)hash, md, sizeof md) <= 0)
        return RK_EINVAL;
    int cl = snprintf(claims, sizeof claims,
                      "{\"iss\":\"" KEY "\",\"nbf\":%d,\"exp\":%d,\"sha256\":\"%s\"}", FUZZ_NOW - 5,
                      FUZZ_NOW + 295, hash);
    used = (size_t)snprintf(auth, cap, "%s.", header);
    if (cl <= 0 || b64url_encode((const uint8_t *)claims, (size_t)cl, part, sizeof part, &n))
        return RK_EINVAL;
    used += (size_t)snprintf(auth + used, cap - used, "%s", part);
    if (keyring_hmac(keyring_signer(kr), auth, used, mac) ||
        b64url_encode(mac, sizeof mac, part, sizeof part, &n))
        return RK_EINVAL;
    snprintf(auth + used, cap - used, ".%s", part);
    return RK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char auth[1024];
    const char *reason = NULL;
    if (sign(data, size, auth, sizeof auth) != RK_OK)
        abort();
    int rc = lk_webhook_verify(kr, auth, (const char *)data, size, FUZZ_NOW, &reason);
    if (rc != (size > WEBHOOK_MAX_BODY ? RK_ETOOBIG : RK_OK)) {
        fprintf(stderr, "fuzz_webhook: a signed body was refused: %s\n", reason);
        abort();
    }
    lk_webhook_event ev;
    if (lk_webhook_parse((const char *)data, size, &ev, &reason) == RK_OK &&
        (!ev.event[0] || !ev.id[0] || (ev.has_room && !ev.room.name[0]) ||
         (ev.has_participant && (!ev.participant.sid[0] || !ev.participant.identity[0]))))
        abort(); /* an event read has what webhook.h promises */
    return 0;
}
