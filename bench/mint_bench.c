/* mint_bench.c - microseconds per LiveKit token for RoomKey's minter on one
 * core, with the claims bench/sdk_mint.mjs gives the Node SDK. Prints one
 * line: "roomkey_mint_us <value>". */
#include "token/grants.h"
#include "token/keyring.h"
#include "token/minter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    const char *secret = "bench-secret-bench-secret-bench-secret-0123";
    char why[256];
    keyring *kr;
    minter *m;
    if (keyring_new(&kr) ||
        keyring_add(kr, "APIbench", secret, strlen(secret), false, why, sizeof why) ||
        minter_new(kr, &m)) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    lk_claims c = {0};
    c.identity = "user-123";
    c.name = "Test User";
    c.video.room_join = TRI_TRUE;
    c.video.room = "channel-123";
    c.video.can_publish = TRI_TRUE;
    c.video.can_subscribe = TRI_TRUE;
    c.video.can_publish_data = TRI_TRUE;
    const char *tok;
    size_t len;
    mint_info info;
    size_t sink = 0;
    /* warm-up */
    for (long i = 0; i < iters / 10; i++) {
        if (minter_mint(m, &c, 1800000000, 3600, &tok, &len, &info, why, sizeof why))
            return 1;
        sink += len;
    }
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        double t0 = now_s();
        for (long i = 0; i < iters / 5; i++) {
            minter_mint(m, &c, 1800000000, 3600, &tok, &len, &info, why, sizeof why);
            sink += (size_t)tok[len - 1];
        }
        double us = (now_s() - t0) * 1e6 / (double)(iters / 5);
        if (us < best)
            best = us;
    }
    printf("roomkey_mint_us %.3f\n", best);

    /* The floor: OpenSSL's HMAC-SHA256 alone over a signing input of the
     * same length, with the same keyed-context reuse the minter does. */
    const keyring_entry *e = keyring_signer(kr);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(e->mac);
    size_t signing_len = (size_t)(strrchr(tok, '.') - tok);
    unsigned char mac[32];
    size_t mlen;
    double hbest = 1e9;
    for (int round = 0; round < 5; round++) {
        double t0 = now_s();
        for (long i = 0; i < iters / 5; i++) {
            EVP_MAC_init(ctx, NULL, 0, NULL);
            EVP_MAC_update(ctx, (const unsigned char *)tok, signing_len);
            EVP_MAC_final(ctx, mac, &mlen, sizeof mac);
            sink += mac[0];
        }
        double us = (now_s() - t0) * 1e6 / (double)(iters / 5);
        if (us < hbest)
            hbest = us;
    }
    EVP_MAC_CTX_free(ctx);
    printf("hmac_floor_us %.3f\n", hbest);
    fprintf(stderr, "(token bytes %zu, sink %zu)\n", len, sink);
    minter_free(m);
    keyring_free(kr);
    return 0;
}
