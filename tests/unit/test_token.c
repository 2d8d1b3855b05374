/* test_token.c - keyring, claim rules, minting and verifying. */
#include "check.h"
#include "token/grants.h"
#include "token/keyring.h"
#include "token/minter.h"
#include "token/verifier.h"
#include "util/b64url.h"
#include "util/err.h"
#include "util/jsonw.h"

#include <jansson.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET "0123456789abcdef0123456789abcdef-secret"
#define NOW    1800000000LL

static char why[256];

static keyring *make_ring(void)
{
    keyring *kr;
    if (keyring_new(&kr))
        abort();
    if (keyring_add(kr, "APIkey1", SECRET, strlen(SECRET), false, why, sizeof why))
        abort();
    return kr;
}

static void test_keyring(void)
{
    keyring *kr;
    CHECK(keyring_new(&kr) == RK_OK);
    CHECK(keyring_add(kr, "k", "short", 5, false, why, sizeof why) == RK_EINVAL);
    CHECK(strstr(why, "32") != NULL);
    CHECK(keyring_add(kr, "k", "short", 5, true, why, sizeof why) == RK_OK); /* dev mode */
    CHECK(keyring_add(kr, "k", SECRET, strlen(SECRET), false, why, sizeof why) == RK_ECONFLICT);
    CHECK(keyring_add(kr, "", SECRET, strlen(SECRET), false, why, sizeof why) == RK_EINVAL);
    CHECK(keyring_add(kr, "a b", SECRET, strlen(SECRET), false, why, sizeof why) == RK_EINVAL);
    CHECK(keyring_add(kr, "a:b", SECRET, strlen(SECRET), false, why, sizeof why) == RK_EINVAL);
    CHECK(keyring_add(kr, "k2", "", 0, true, why, sizeof why) == RK_EINVAL);
    CHECK(keyring_count(kr) == 1);
    CHECK(keyring_parse(kr, "# comment\nk2: " SECRET "\n\n k3 : " SECRET "x \n", false, why,
                        sizeof why) == RK_OK);
    CHECK(keyring_count(kr) == 3);
    CHECK(keyring_find(kr, "k3", 2) != NULL);
    CHECK(keyring_parse(kr, "k4: " SECRET ", k5: " SECRET, false, why, sizeof why) == RK_OK);
    CHECK(keyring_count(kr) == 5);
    CHECK(keyring_parse(kr, "nocolon", false, why, sizeof why) == RK_EINVAL);
    CHECK_STR(keyring_signer(kr)->id, "k");
    CHECK(keyring_set_signer(kr, "k4") == RK_OK);
    CHECK_STR(keyring_signer(kr)->id, "k4");
    CHECK(keyring_set_signer(kr, "nope") == RK_ENOTFOUND);
    keyring_free(kr);
}

/* hmac_ref is HMAC-SHA256(secret, msg) by OpenSSL's one-shot call. */
static void hmac_ref(const char *secret, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, strlen(msg), out,
         &n);
}

/* keyring_hmac keeps per-thread copies of keyed contexts: it must give the
 * right MAC for each of more keys than it caches, again and again, and a
 * keyring built after another is freed (a config reload that changes a
 * key's secret under the same id, possibly at the same address) must never
 * be answered from the old key's copy. */
static void test_keyring_hmac(void)
{
    static const char *secrets[6] = {
        SECRET "0", SECRET "1", SECRET "2", SECRET "3", SECRET "4", SECRET "5",
    };
    unsigned char got[32], want[32];
    for (int round = 0; round < 3; round++) {
        keyring *kr;
        CHECK(keyring_new(&kr) == RK_OK);
        char id[8];
        for (int i = 0; i < 6; i++) {
            snprintf(id, sizeof id, "k%d", i);
            /* the same ids each round, a different secret */
            CHECK(keyring_add(kr, id, secrets[(i + round) % 6], strlen(SECRET) + 1, false, why,
                              sizeof why) == RK_OK);
        }
        for (int pass = 0; pass < 3; pass++)
            for (int i = 0; i < 6; i++) {
                snprintf(id, sizeof id, "k%d", i);
                const keyring_entry *e = keyring_find(kr, id, strlen(id));
                CHECK(e != NULL);
                if (!e)
                    continue;
                CHECK(keyring_hmac(e, "message", 7, got) == RK_OK);
                hmac_ref(secrets[(i + round) % 6], "message", want);
                CHECK(memcmp(got, want, 32) == 0);
            }
        keyring_free(kr);
    }
}

static lk_claims join_claims(void)
{
    lk_claims c = {0};
    c.identity = "alice";
    c.video.room_join = TRI_TRUE;
    c.video.room = "demo";
    return c;
}

static void test_claim_rules(void)
{
    size_t bound;
    lk_claims c = join_claims();
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_OK);
    c.identity = NULL;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
    CHECK(strstr(why, "identity") != NULL);
    c = join_claims();
    c.video.room = NULL;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
    c = join_claims();
    c.video.room_join = TRI_UNSET;
    c.video.room_admin = TRI_TRUE;
    c.video.room = NULL;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);

    char big[GRANTS_MAX_METADATA + 2];
    memset(big, 'x', sizeof big);
    c = join_claims();
    big[256] = '\0';
    c.identity = big;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_OK);
    big[256] = 'x';
    big[257] = '\0';
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_ETOOBIG);
    c = join_claims();
    c.name = big;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_ETOOBIG);
    c = join_claims();
    c.video.room = big;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_ETOOBIG);
    big[257] = 'x';
    c = join_claims();
    big[GRANTS_MAX_METADATA] = '\0';
    c.metadata = big;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_OK);
    big[GRANTS_MAX_METADATA] = 'x';
    big[GRANTS_MAX_METADATA + 1] = '\0';
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_ETOOBIG);
    CHECK(strstr(why, "metadata") != NULL);

    c = join_claims();
    c.name = "bad \xc3\x28 utf8";
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);

    /* attributes: 64 KiB in total, unique keys */
    static char v1[40000], v2[30000];
    memset(v1, 'a', sizeof v1 - 1);
    memset(v2, 'b', sizeof v2 - 1);
    lk_attr attrs[2] = {{"k1", v1}, {"k2", v2}};
    c = join_claims();
    c.attrs = attrs;
    c.n_attrs = 2;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_ETOOBIG);
    v2[20000] = '\0';
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_OK);
    lk_attr dup[2] = {{"k", "1"}, {"k", "2"}};
    c.attrs = dup;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
}

/* payload_of mints c and returns the decoded payload object (new ref). */
static json_t *mint_payload(minter *m, const lk_claims *c, int64_t ttl, mint_info *info,
                            char **tok_out)
{
    const char *tok;
    size_t len;
    if (minter_mint(m, c, NOW, ttl, &tok, &len, info, why, sizeof why) != RK_OK)
        return NULL;
    const char *d1 = strchr(tok, '.');
    const char *d2 = strchr(d1 + 1, '.');
    size_t plen = (size_t)(d2 - d1 - 1), n;
    uint8_t *buf = malloc(plen);
    json_t *v = NULL;
    if (b64url_decode(d1 + 1, plen, buf, plen, &n) == RK_OK)
        v = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (tok_out)
        *tok_out = strdup(tok);
    return v;
}

/* jti_micros decodes a jti's time prefix (MINTER_JTI_TIME_CHARS characters
 * of base64url's alphabet in byte order, 6 bits each): the wall clock in
 * microseconds. */
static uint64_t jti_micros(const char *jti)
{
    static const char sorted[] = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    for (size_t i = 1; i < sizeof sorted - 1; i++)
        CHECK(sorted[i - 1] < sorted[i]);
    uint64_t us = 0;
    for (int i = 0; i < MINTER_JTI_TIME_CHARS; i++) {
        const char *at = strchr(sorted, jti[i]);
        CHECK(at != NULL);
        us = us * 64 + (uint64_t)(at ? at - sorted : 0);
    }
    return us;
}

static void test_mint(void)
{
    keyring *kr = make_ring();
    minter *m;
    CHECK(minter_new(kr, &m) == RK_OK);
    lk_claims c = join_claims();
    c.name = "Alice";
    c.video.can_publish = TRI_FALSE;
    lk_attr attrs[] = {{"team", "red"}, {"q\"k", "v\n"}};
    c.attrs = attrs;
    c.n_attrs = 2;
    mint_info info;
    char *tok = NULL;
    json_t *p = mint_payload(m, &c, 3600, &info, &tok);
    CHECK(p != NULL);
    CHECK(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);
    CHECK_STR(json_string_value(json_object_get(p, "iss")), "APIkey1");
    CHECK_STR(json_string_value(json_object_get(p, "sub")), "alice");
    CHECK(json_integer_value(json_object_get(p, "nbf")) == NOW);
    CHECK(json_integer_value(json_object_get(p, "iat")) == NOW);
    CHECK(json_integer_value(json_object_get(p, "exp")) == NOW + 3600);
    CHECK(info.exp == NOW + 3600);
    CHECK_STR(json_string_value(json_object_get(p, "jti")), info.jti);
    CHECK(strlen(info.jti) == MINTER_JTI_LEN - 1 && MINTER_JTI_LEN - 1 == 25);
    json_t *video = json_object_get(p, "video");
    CHECK(json_is_true(json_object_get(video, "roomJoin")));
    CHECK(json_is_false(json_object_get(video, "canPublish")));
    CHECK(json_object_get(video, "canSubscribe") == NULL); /* unset stays out */
    CHECK(json_object_get(video, "roomAdmin") == NULL);
    CHECK(json_object_size(video) == 3);
    CHECK_STR(json_string_value(json_object_get(json_object_get(p, "attributes"), "q\"k")), "v\n");
    CHECK(json_object_get(p, "sha256") == NULL);
    CHECK(json_object_get(p, "sip") == NULL);

    /* The token verifies, and the verifier returns the same claims. */
    json_t *claims = NULL;
    const char *reason = "";
    CHECK(lktoken_verify(kr, tok, strlen(tok), NOW + 10, 0, &claims, &reason) == RK_OK);
    CHECK(json_equal(claims, p));
    json_decref(claims);

    /* jti differs token to token */
    mint_info info2;
    json_t *p2 = mint_payload(m, &c, 60, &info2, NULL);
    CHECK(p2 && strcmp(info.jti, info2.jti) != 0);
    json_decref(p2);
    /* jtis sort in issue order (time prefix, byte-wise), and the prefix is
     * the wall clock in microseconds: decode it and compare with time(). */
    CHECK(memcmp(info.jti, info2.jti, MINTER_JTI_TIME_CHARS) <= 0);
    {
        uint64_t us = jti_micros(info2.jti);
        /* time() reads the coarse clock, which may lag CLOCK_REALTIME (the
         * jti's) by a tick: across a second boundary the jti is a second on. */
        int64_t secs = (int64_t)(us / 1000000u), wall = (int64_t)time(NULL);
        CHECK(secs >= wall - 5 && secs <= wall + 1);
        int later = 0;
        for (int i = 0; i < 100000 && !later; i++) {
            mint_info info3;
            json_t *p3 = mint_payload(m, &c, 60, &info3, NULL);
            CHECK(p3 && memcmp(info2.jti, info3.jti, MINTER_JTI_TIME_CHARS) <= 0);
            later = p3 && memcmp(info2.jti, info3.jti, MINTER_JTI_TIME_CHARS) < 0;
            json_decref(p3);
        }
        CHECK(later); /* the clock moved on: a later prefix sorts after */
        /* a jti's time is never before its token's iat: with iat the
         * second after the clock's (as when the precise clock has just
         * ticked over and the coarse one not yet), the time is the start of
         * iat's second */
        struct timespec cts;
        clock_gettime(CLOCK_REALTIME_COARSE, &cts);
        int64_t ahead = (int64_t)cts.tv_sec + 1;
        const char *t4;
        size_t l4;
        mint_info info4;
        CHECK(minter_mint(m, &c, ahead, 60, &t4, &l4, &info4, why, sizeof why) == RK_OK);
        CHECK(info4.iat == ahead);
        us = jti_micros(info4.jti);
        CHECK(us >= (uint64_t)ahead * 1000000u && us < (uint64_t)(ahead + 1) * 1000000u);
    }

    /* ttl bounds */
    const char *t2;
    size_t l2;
    CHECK(minter_mint(m, &c, NOW, 0, &t2, &l2, &info2, why, sizeof why) == RK_EINVAL);
    CHECK(minter_mint(m, &c, NOW, MINTER_MAX_TTL + 1, &t2, &l2, &info2, why, sizeof why) ==
          RK_EINVAL);

    /* a 512 KiB metadata with worst-case escaping still mints and verifies */
    char *md = malloc(GRANTS_MAX_METADATA + 1);
    memset(md, '\x01', GRANTS_MAX_METADATA);
    md[GRANTS_MAX_METADATA] = '\0';
    c.metadata = md;
    char *bigtok = NULL;
    json_t *p3 = mint_payload(m, &c, 60, &info2, &bigtok);
    CHECK(p3 && json_string_length(json_object_get(p3, "metadata")) == GRANTS_MAX_METADATA);
    CHECK(bigtok && lktoken_verify(kr, bigtok, strlen(bigtok), NOW, 0, &claims, &reason) == RK_OK);
    if (bigtok)
        json_decref(claims);
    json_decref(p3);
    free(bigtok);
    free(md);

    /* hostile name stays a name */
    c = join_claims();
    c.name = "\",\"video\":{\"roomAdmin\":true},\"x\":\"";
    json_t *p4 = mint_payload(m, &c, 60, &info2, NULL);
    CHECK(p4 && json_object_get(json_object_get(p4, "video"), "roomAdmin") == NULL);
    CHECK(p4 && strcmp(json_string_value(json_object_get(p4, "name")), c.name) == 0);
    json_decref(p4);

    /* every field of the full claim set lands under its LiveKit name */
    lk_claims f = {0};
    f.identity = "agent-1";
    f.kind = "agent";
    f.room_preset = "preset";
    f.metadata = "{\"a\":1}";
    f.video = (lk_video_grant){
        TRI_TRUE, TRI_TRUE, TRI_TRUE, TRI_TRUE, TRI_TRUE, TRI_TRUE,
        TRI_TRUE, TRI_TRUE, TRI_TRUE, TRI_TRUE, TRI_TRUE, TRI_TRUE,
        TRI_TRUE, TRI_TRUE, TRI_TRUE, "r",      "dest",   LK_SRC_CAMERA | LK_SRC_SCREEN_SHARE_AUDIO,
        true};
    f.sip_admin = TRI_TRUE;
    f.sip_call = TRI_FALSE;
    lk_agent_dispatch ag[] = {{.agent_name = "bot", .metadata = "job"}, {.agent_name = "bot2"}};
    lk_room_config rc = {.name = "r",
                         .empty_timeout = 30,
                         .departure_timeout = 20,
                         .max_participants = 10,
                         .metadata = "room-md",
                         .agents = ag,
                         .n_agents = 2};
    f.room_config = &rc;
    json_t *p5 = mint_payload(m, &f, 60, &info2, NULL);
    CHECK(p5 != NULL);
    const char *vnames[] = {"roomCreate",
                            "roomList",
                            "roomRecord",
                            "roomAdmin",
                            "roomJoin",
                            "ingressAdmin",
                            "canPublish",
                            "canSubscribe",
                            "canPublishData",
                            "canUpdateOwnMetadata",
                            "hidden",
                            "recorder",
                            "agent",
                            "canSubscribeMetrics",
                            "canManageAgentSession"};
    json_t *v5 = json_object_get(p5, "video");
    for (size_t i = 0; i < sizeof vnames / sizeof vnames[0]; i++)
        CHECK(json_is_true(json_object_get(v5, vnames[i])));
    CHECK_STR(json_string_value(json_object_get(v5, "destinationRoom")), "dest");
    json_t *src = json_object_get(v5, "canPublishSources");
    CHECK(json_array_size(src) == 2);
    CHECK_STR(json_string_value(json_array_get(src, 0)), "camera");
    CHECK_STR(json_string_value(json_array_get(src, 1)), "screen_share_audio");
    CHECK(json_is_true(json_object_get(json_object_get(p5, "sip"), "admin")));
    CHECK(json_is_false(json_object_get(json_object_get(p5, "sip"), "call")));
    CHECK_STR(json_string_value(json_object_get(p5, "kind")), "agent");
    CHECK_STR(json_string_value(json_object_get(p5, "roomPreset")), "preset");
    json_t *rcj = json_object_get(p5, "roomConfig");
    CHECK(json_integer_value(json_object_get(rcj, "emptyTimeout")) == 30);
    CHECK(json_integer_value(json_object_get(rcj, "departureTimeout")) == 20);
    CHECK(json_integer_value(json_object_get(rcj, "maxParticipants")) == 10);
    CHECK_STR(json_string_value(json_object_get(rcj, "metadata")), "room-md");
    json_t *a1 = json_array_get(json_object_get(rcj, "agents"), 1);
    CHECK_STR(json_string_value(json_object_get(a1, "agentName")), "bot2");
    CHECK(json_object_get(a1, "metadata") == NULL);
    json_decref(p5);

    json_decref(p);
    free(tok);
    minter_free(m);
    keyring_free(kr);
}

static int verify_str(const keyring *kr, const char *tok, int64_t now, int64_t leeway)
{
    json_t *claims = NULL;
    const char *reason = "";
    int rc = lktoken_verify(kr, tok, strlen(tok), now, leeway, &claims, &reason);
    json_decref(claims);
    return rc;
}

static void test_verify(void)
{
    keyring *kr = make_ring();
    minter *m;
    CHECK(minter_new(kr, &m) == RK_OK);
    lk_claims c = join_claims();
    const char *t;
    size_t len;
    mint_info info;
    CHECK(minter_mint(m, &c, NOW, 600, &t, &len, &info, why, sizeof why) == RK_OK);
    char *tok = strdup(t);

    CHECK(verify_str(kr, tok, NOW, 0) == RK_OK);
    CHECK(verify_str(kr, tok, NOW + 600, 0) == RK_OK);
    CHECK(verify_str(kr, tok, NOW + 601, 0) == RK_EEXPIRED);
    CHECK(verify_str(kr, tok, NOW + 605, 10) == RK_OK);
    CHECK(verify_str(kr, tok, NOW - 1, 0) == RK_ENOTYET);
    CHECK(verify_str(kr, tok, NOW - 5, 10) == RK_OK);
    CHECK(verify_str(kr, tok, NOW, 301) == RK_EINVAL);

    /* other keyring with a different secret for the same key id */
    keyring *other;
    keyring_new(&other);
    keyring_add(other, "APIkey1", SECRET "!", strlen(SECRET) + 1, false, why, sizeof why);
    CHECK(verify_str(other, tok, NOW, 0) == RK_EVERIFY);
    keyring_free(other);
    /* unknown key id */
    keyring_new(&other);
    keyring_add(other, "APIkey2", SECRET, strlen(SECRET), false, why, sizeof why);
    CHECK(verify_str(other, tok, NOW, 0) == RK_EVERIFY);
    keyring_free(other);

    /* tampering anywhere fails */
    size_t n = strlen(tok);
    for (size_t i = 0; i < n; i += 7) {
        if (tok[i] == '.')
            continue;
        char saved = tok[i];
        tok[i] = saved == 'A' ? 'B' : 'A';
        CHECK(verify_str(kr, tok, NOW, 0) != RK_OK);
        tok[i] = saved;
    }
    /* truncated / extended / structural */
    char *cut = strndup(tok, n - 1);
    CHECK(verify_str(kr, cut, NOW, 0) != RK_OK);
    free(cut);
    char ext[2048];
    snprintf(ext, sizeof ext, "%s=", tok);
    CHECK(verify_str(kr, ext, NOW, 0) == RK_EINVAL);
    snprintf(ext, sizeof ext, "%s.x", tok);
    CHECK(verify_str(kr, ext, NOW, 0) == RK_EINVAL);
    CHECK(verify_str(kr, "", NOW, 0) == RK_EINVAL);
    CHECK(verify_str(kr, "a.b", NOW, 0) == RK_EINVAL);
    CHECK(verify_str(kr, "..", NOW, 0) == RK_EINVAL);
    /* alg none: {"alg":"none"} . payload . (empty) */
    const char *d2 = strrchr(tok, '.');
    const char *d1 = strchr(tok, '.');
    snprintf(ext, sizeof ext, "eyJhbGciOiJub25lIn0.%.*s.", (int)(d2 - d1 - 1), d1 + 1);
    CHECK(verify_str(kr, ext, NOW, 0) != RK_OK);
    /* header swapped to HS512 keeping the signature */
    snprintf(ext, sizeof ext, "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9%s", d1);
    CHECK(verify_str(kr, ext, NOW, 0) == RK_EVERIFY);

    free(tok);
    minter_free(m);
    keyring_free(kr);
}

/* ---- The minter against a reference: the whole payload written at once */

/* ref_token writes into out (capacity cap) the token the minter's output
 * must equal byte for byte: every claim written by one jsonw in order
 * (the minter writes the payload's tail once per grants and encodes its
 * parts separately), base64url in one piece, HMAC by OpenSSL's one-shot
 * call. NULL when it does not fit. */
static const char *ref_token(const lk_claims *c, const mint_info *info, char *out, size_t cap)
{
    static char payload[8192];
    jsonw w;
    jsonw_init(&w, payload, sizeof payload);
    const char iss[] = "{\"iss\":\"APIkey1\"";
    jsonw_raw(&w, iss, sizeof iss - 1);
    w.comma = true;
    if (c->identity) {
        JSONW_KEY(&w, "sub");
        jsonw_str(&w, c->identity);
    }
    JSONW_KEY(&w, "iat");
    jsonw_int(&w, info->iat);
    JSONW_KEY(&w, "nbf");
    jsonw_int(&w, info->iat);
    JSONW_KEY(&w, "exp");
    jsonw_int(&w, info->exp);
    JSONW_KEY(&w, "jti");
    jsonw_str(&w, info->jti);
    lk_claims_write(&w, c);
    jsonw_obj_close(&w);
    const char head[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.";
    size_t n = sizeof head - 1, enc;
    if (w.err || cap < n)
        return NULL;
    memcpy(out, head, n);
    if (b64url_encode((const uint8_t *)payload, w.len, out + n, cap - n, &enc))
        return NULL;
    n += enc;
    unsigned char sig[32];
    hmac_ref(SECRET, out, sig);
    if (n + 1 >= cap)
        return NULL;
    out[n++] = '.';
    if (b64url_encode(sig, sizeof sig, out + n, cap - n, &enc))
        return NULL;
    return out;
}

/* rand_text writes a random valid UTF-8 string of up to max pieces into
 * out: letters, digits, quotes, backslashes, control characters, '/',
 * and 2-, 3- and 4-byte characters, which the JSON writer escapes or
 * copies. */
static const char *rand_text(char *out, int max)
{
    static const char *const PIECES[] = {
        "a",
        "Z",
        "0",
        "-",
        " ",
        "\"",
        "\\",
        "\x01",
        "\n",
        "\x1f",
        "\x7f",
        "/",
        "\xc3\xa9" /* e acute */,
        "\xe2\x82\xac" /* euro */,
        "\xf0\x9f\x98\x80" /* emoji */,
        "<",
    };
    size_t n = 0;
    int count = 1 + rand() % max;
    for (int i = 0; i < count; i++) {
        const char *p = PIECES[rand() % (int)(sizeof PIECES / sizeof PIECES[0])];
        memcpy(out + n, p, strlen(p));
        n += strlen(p);
    }
    out[n] = '\0';
    return out;
}

static tri rand_tri(void)
{
    return (tri)(rand() % 3);
}

/* mutate_grants changes one grant field of *c at random (maybe to the
 * value it has): each field of the grants, alone, must tell templates
 * apart. */
static void mutate_grants(lk_claims *c)
{
    static const char *const ROOMS[] = {"demo", "r\"o\\om/\xc3\xa9", "x"};
    static const char *const DETAILS[][2] = {{"simulation", "forwarded"},
                                             {"forwarded", "simulation"}};
    lk_video_grant *v = &c->video;
    switch (rand() % 14) {
    case 0:
        v->room = ROOMS[rand() % 3];
        break;
    case 1:
        v->destination_room = rand() % 2 ? NULL : ROOMS[rand() % 3];
        break;
    case 2:
        v->can_publish = rand_tri();
        break;
    case 3:
        v->can_manage_agent_session = rand_tri();
        break;
    case 4:
        v->room_create = rand_tri();
        break;
    case 5:
        v->sources_set = rand() % 2;
        break;
    case 6:
        v->sources = (unsigned)rand() % 16;
        break;
    case 7:
        c->sip_call = rand_tri();
        break;
    case 8:
        c->observability_write = rand_tri();
        break;
    case 9:
        c->kind = rand() % 2 ? "agent" : "agenT";
        break;
    case 10:
        c->room_preset = rand() % 2 ? NULL : "pre\"set";
        break;
    case 11:
        c->kind_details = DETAILS[rand() % 2];
        c->n_kind_details = (size_t)(rand() % 3);
        break;
    case 12:
        c->agent_simulation_admin = rand_tri();
        break;
    case 13:
        v->room_join = rand() % 2 ? TRI_TRUE : TRI_UNSET;
        break;
    }
}

/* rand_claims makes *c the next random valid claims: half the time the
 * grants of the claims before (the minter's template is reused), else
 * those with one field changed; per-token identity (or none) and name;
 * and now and then metadata, attributes or roomConfig (no template
 * then). */
static void rand_claims(lk_claims *c, char *id, char *name, lk_room_config *rc, lk_attr *attr)
{
    lk_claims g = *c; /* the grants before */
    g.identity = g.name = g.metadata = NULL;
    g.attrs = NULL;
    g.n_attrs = 0;
    g.room_config = NULL;
    if (!g.video.room) { /* the first */
        g.video.room = "demo";
        g.video.room_join = TRI_TRUE;
    }
    if (rand() % 2)
        mutate_grants(&g);
    *c = g;
    /* no identity now and then (a token that joins nothing) */
    c->identity = c->video.room_join != TRI_TRUE && rand() % 3 == 0 ? NULL : rand_text(id, 40);
    c->name = rand() % 3 ? rand_text(name, 40) : NULL;
    switch (rand() % 8) {
    case 0:
        c->metadata = "{\"m\":\"\\u0001\"}";
        break;
    case 1:
        *attr = (lk_attr){"seat", "3"};
        c->attrs = attr;
        c->n_attrs = 1;
        break;
    case 2:
        *rc = (lk_room_config){.max_participants = 5};
        c->room_config = rc;
        break;
    }
}

/* The minter's tokens equal the reference's byte for byte, for random
 * identities and names (every escape, every UTF-8 length), grants that come
 * back and grants that change, with and without per-token claims among
 * the grants; and a per-token claim the rules refuse does not disturb the
 * tokens after it. */
static void test_mint_reference(void)
{
    keyring *kr = make_ring();
    minter *m;
    CHECK(minter_new(kr, &m) == RK_OK);
    static char want[16384];
    char id[256], name[256];
    lk_room_config rc;
    lk_attr attr;
    int same = 0;
    srand(12345);
    lk_claims c = {0};
    for (int i = 0; i < 20000; i++) {
        rand_claims(&c, id, name, &rc, &attr);
        const char *tok;
        size_t len;
        mint_info info;
        int rc_ = minter_mint(m, &c, NOW + i % 3, 60 + i % 2, &tok, &len, &info, why, sizeof why);
        CHECK(rc_ == RK_OK);
        if (rc_)
            continue;
        const char *ref = ref_token(&c, &info, want, sizeof want);
        bool eq = ref && strlen(ref) == len && memcmp(ref, tok, len) == 0;
        same += eq;
        if (!eq)
            fprintf(stderr, "token %d differs:\n  %s\n  %s\n", i, tok, ref ? ref : "(none)");
        if (i % 7 == 0) { /* a refused identity or name, then the same grants again */
            char bad[GRANTS_MAX_IDENTITY + 2];
            memset(bad, 'i', sizeof bad - 1);
            bad[sizeof bad - 1] = '\0';
            lk_claims b = c;
            b.identity = bad;
            CHECK(minter_mint(m, &b, NOW, 60, &tok, &len, &info, why, sizeof why) == RK_ETOOBIG);
            b = c;
            b.name = "bad \xc3\x28";
            CHECK(minter_mint(m, &b, NOW, 60, &tok, &len, &info, why, sizeof why) == RK_EINVAL);
        }
    }
    CHECK(same == 20000);
    minter_free(m);
    keyring_free(kr);
}

/* RFC 7515 appendix A.1: an HS256 JWS made by someone else. */
/* The current claim set: the agent, inference and observability grant
 * objects, kindDetails, roomConfig.tags, agent dispatch deployment and
 * attributes; their rules and their JSON. */
static void test_claims_2026(void)
{
    keyring *kr = make_ring();
    minter *m;
    CHECK(minter_new(kr, &m) == RK_OK);
    lk_claims c = join_claims();
    CHECK(lk_claims_grant(&c, "agent", "simulationAdmin") == RK_OK);
    CHECK(lk_claims_grant(&c, "inference", "perform") == RK_OK);
    CHECK(lk_claims_grant(&c, "agent", "root") == RK_EINVAL);
    CHECK(lk_claims_grant(&c, "video", "roomJoin") == RK_EINVAL);
    c.observability_write = TRI_FALSE;
    const char *details[] = {"cloud_agent", "bridge_rtsp"};
    c.kind_details = details;
    c.n_kind_details = 2;
    lk_attr job_attrs[] = {{"tier", "gold"}};
    lk_attr tags[] = {{"team", "care"}, {"t2", "\"q\""}};
    lk_agent_dispatch agent = {
        .agent_name = "triage", .deployment = "prod", .attrs = job_attrs, .n_attrs = 1};
    lk_room_config rc = {.agents = &agent, .n_agents = 1, .tags = tags, .n_tags = 2};
    c.room_config = &rc;
    mint_info info;
    json_t *p = mint_payload(m, &c, 60, &info, NULL);
    CHECK(p != NULL);
    json_t *ag = json_object_get(p, "agent");
    CHECK(json_object_size(ag) == 1 && json_is_true(json_object_get(ag, "simulationAdmin")));
    CHECK(json_is_true(json_object_get(json_object_get(p, "inference"), "perform")));
    CHECK(json_is_false(json_object_get(json_object_get(p, "observability"), "write")));
    CHECK(json_object_get(p, "sip") == NULL);
    json_t *kd = json_object_get(p, "kindDetails");
    CHECK(json_array_size(kd) == 2);
    CHECK_STR(json_string_value(json_array_get(kd, 1)), "bridge_rtsp");
    json_t *cfg = json_object_get(p, "roomConfig");
    CHECK_STR(json_string_value(json_object_get(json_object_get(cfg, "tags"), "t2")), "\"q\"");
    json_t *a0 = json_array_get(json_object_get(cfg, "agents"), 0);
    CHECK_STR(json_string_value(json_object_get(a0, "deployment")), "prod");
    CHECK_STR(json_string_value(json_object_get(json_object_get(a0, "attributes"), "tier")),
              "gold");
    CHECK(json_object_get(a0, "metadata") == NULL);
    CHECK(lk_claims_shape_check(p, why, sizeof why) == RK_OK);
    json_decref(p);

    /* rules */
    size_t bound;
    const char *unknown[] = {"cloud_agent", "CLOUD_AGENT"};
    c.kind_details = unknown;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
    const char *twice[] = {"simulation", "simulation"};
    c.kind_details = twice;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
    CHECK(strstr(why, "twice") != NULL);
    c.n_kind_details = GRANTS_MAX_KIND_DETAILS + 1;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_ETOOBIG);
    c.n_kind_details = 0;
    lk_attr dup[] = {{"k", "1"}, {"k", "2"}};
    rc.tags = dup;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
    CHECK(strstr(why, "roomConfig.tags") != NULL);
    rc.tags = tags;
    agent.attrs = dup;
    agent.n_attrs = 2;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
    CHECK(strstr(why, "roomConfig.agents.attributes") != NULL);
    static char big[GRANTS_MAX_ATTRS + 1];
    memset(big, 'v', GRANTS_MAX_ATTRS);
    lk_attr huge[] = {{"k", big}};
    agent.attrs = huge;
    agent.n_attrs = 1;
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_ETOOBIG);
    agent.attrs = job_attrs;
    agent.deployment = "bad \xc3\x28";
    CHECK(lk_claims_check(&c, &bound, why, sizeof why) == RK_EINVAL);
    minter_free(m);
    keyring_free(kr);
}

/* shape_of checks the payload JSON text with lk_claims_shape_check. */
static int shape_of(const char *text)
{
    json_t *p = json_loads(text, 0, NULL);
    CHECK(p != NULL);
    int rc = lk_claims_shape_check(p, why, sizeof why);
    json_decref(p);
    return rc;
}

static void test_claims_shape(void)
{
    /* unknown claims and fields pass; null is unset */
    CHECK(shape_of("{\"future\":{\"x\":[1]},\"video\":{\"newPerm\":3},\"agent\":{\"x\":1},"
                   "\"roomConfig\":{\"newField\":1,\"agents\":[{\"agentName\":\"a\",\"z\":[]}]},"
                   "\"kindDetails\":[\"future_detail\",null],\"attributes\":{\"a\":null}}") ==
          RK_OK);
    CHECK(shape_of("{\"roomConfig\":{\"empty_timeout\":\"30\",\"maxParticipants\":2.0,"
                   "\"agents\":[{\"restart_policy\":1},{\"restartPolicy\":\"JRP_NEVER\"}]}}") ==
          RK_OK);
    CHECK(shape_of("{\"agent\":null,\"roomConfig\":null,\"video\":{\"canPublish\":null}}") ==
          RK_OK);
    /* known claims of the wrong type */
    static const char *const bad[][2] = {
        {"{\"kindDetails\":\"cloud_agent\"}", "kindDetails"},
        {"{\"agent\":{\"admin\":1}}", "agent.admin"},
        {"{\"AGENT\":{\"DatabaseAdmin\":\"y\"}}", "AGENT.DatabaseAdmin"},
        {"{\"observability\":[]}", "observability"},
        {"{\"video\":{\"roomjoin\":\"true\"}}", "video.roomjoin"},
        {"{\"video\":{\"canPublishSources\":[1]}}", "video.canPublishSources"},
        {"{\"roomConfig\":{\"tags\":{\"a\":null}}}", "roomConfig.tags"},
        {"{\"roomConfig\":{\"agents\":[{\"attributes\":{\"a\":2}}]}}",
         "roomConfig.agents[].attributes"},
        {"{\"roomConfig\":{\"agents\":[7]}}", "roomConfig.agents[]."},
        {"{\"roomConfig\":{\"emptyTimeout\":-1}}", "roomConfig.emptyTimeout"},
        {"{\"roomConfig\":{\"max_participants\":\"1e3\"}}", "roomConfig.maxParticipants"},
        {"{\"roomConfig\":{\"syncStreams\":\"true\"}}", "roomConfig.syncStreams"},
        {"{\"iat\":\"now\"}", "iat"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(shape_of(bad[i][0]) == RK_EINVAL);
        CHECK(strstr(why, bad[i][1]) != NULL);
    }
    /* roomConfig's protobuf fields match exactly, not folding case */
    CHECK(shape_of("{\"roomConfig\":{\"EmptyTimeout\":-1}}") == RK_OK);
    CHECK(shape_of("[]") == RK_EINVAL);
}

static void test_rfc7515_vector(void)
{
    static const char k_b64[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Y"
                                "j0iPS4hcgUuTwjAzZr1Z9CAow";
    static const char jws[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
        "cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    uint8_t key[64];
    size_t klen;
    CHECK(b64url_decode(k_b64, strlen(k_b64), key, sizeof key, &klen) == RK_OK && klen == 64);
    keyring *kr;
    keyring_new(&kr);
    CHECK(keyring_add(kr, "joe", (const char *)key, klen, false, why, sizeof why) == RK_OK);
    json_t *claims = NULL;
    const char *reason = "";
    CHECK(lktoken_verify(kr, jws, strlen(jws), 1300819380 - 60, 0, &claims, &reason) == RK_OK);
    CHECK(json_is_true(json_object_get(claims, "http://example.com/is_root")));
    json_decref(claims);
    CHECK(lktoken_verify(kr, jws, strlen(jws), 1300819381, 0, &claims, &reason) == RK_EEXPIRED);
    keyring_free(kr);
}

int main(void)
{
    test_keyring();
    test_keyring_hmac();
    test_claim_rules();
    test_mint();
    test_mint_reference();
    test_verify();
    test_claims_2026();
    test_claims_shape();
    test_rfc7515_vector();
    return check_summary();
}
