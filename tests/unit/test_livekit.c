/* test_livekit.c - src/livekit/: webhook verification and reading with
 * vectors made by livekit-server-sdk (AccessToken with sha256 over a body
 * from @livekit/protocol's WebhookEvent.toJsonString, as livekit-server's
 * notifier builds them), and the protojson model readers. */
#include "check.h"
#include "livekit/models.h"
#include "livekit/roomservice.h"
#include "livekit/webhook.h"
#include "livekit/worker.h"
#include "util/b64url.h"
#include "util/err.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY    "APIunitWebhook"
#define SECRET "unit-webhook-secret-0123456789-abcdefghijklmnop"

/* Made by the SDK (see the file comment); nbf = NBF, exp = NBF + 300. */
static const char BODY[] =
    "{\"event\":\"participant_joined\",\"room\":{\"sid\":\"RM_abc\",\"name\":\"blue\","
    "\"maxParticipants\":5,\"creationTime\":\"1766999990\",\"numParticipants\":1},"
    "\"participant\":{\"sid\":\"PA_xyz\",\"identity\":\"alice\",\"joinedAt\":\"1767000000\","
    "\"name\":\"Alice A\",\"kind\":\"AGENT\",\"joinedAtMs\":\"1767000000123\"},"
    "\"id\":\"EV_unit1\",\"createdAt\":\"1767000000\"}";
static const char TOK[] =
    "eyJhbGciOiJIUzI1NiJ9.eyJzaGEyNTYiOiJKMFNSWXlIaXBvV004K2VaS0UyYi9kNkpEckNVUU9pVXpZS0liV1lzSU"
    "pjPSIsImlzcyI6IkFQSXVuaXRXZWJob29rIiwiZXhwIjoxNzk2NDg5MTA1LCJuYmYiOjE3OTY0ODg4MDV9.U-fDKyZR"
    "YStt1T7n6SkJBvYjOSYz2ujry50S502efgk";
static const char TOK_NO_SHA[] =
    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJBUEl1bml0V2ViaG9vayIsImV4cCI6MTc5NjQ4OTEwNSwibmJmIjoxNzk2ND"
    "g4ODA1fQ.9DIdDho_Z408rCbaQYQPGPH1-j5ffBKbGBBcDENZMgs";
#define NBF 1796488805LL

static keyring *ring(const char *key, const char *secret)
{
    keyring *kr = NULL;
    char why[128];
    if (keyring_new(&kr) || keyring_add(kr, key, secret, strlen(secret), false, why, sizeof why))
        abort();
    return kr;
}

/* SHA256_BODY is base64(SHA-256(BODY)), the sha256 claim TOK carries. */
#define SHA256_BODY "J0SRYyHipoWM8+eZKE2b/d6JDrCUQOiUzYKIbWYsIJc="

/* sign_hs256 writes into out (capacity cap) a JWS of header {"alg":"HS256"}
 * and payload, signed with SECRET; aborts when it does not fit. */
static void sign_hs256(const char *payload, char *out, size_t cap)
{
    static const char head[] = "eyJhbGciOiJIUzI1NiJ9.";
    size_t n = strlen(head), m = 0;
    if (cap < n + 1)
        abort();
    memcpy(out, head, n);
    if (b64url_encode((const uint8_t *)payload, strlen(payload), out + n, cap - n, &m))
        abort();
    n += m;
    unsigned char mac[32];
    unsigned int mlen = 0;
    if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)out, n, mac,
              &mlen) ||
        n + 2 > cap)
        abort();
    out[n++] = '.';
    if (b64url_encode(mac, mlen, out + n, cap - n, &m))
        abort();
}

/* A webhook token's issue time: nbf, else iat, never one yet to come. */
static void test_verify_iat(void)
{
    keyring *kr = ring(KEY, SECRET);
    const char *reason = NULL;
    size_t len = sizeof BODY - 1;
    char payload[256], tok[512];
    snprintf(payload, sizeof payload,
             "{\"sha256\":\"" SHA256_BODY "\",\"iss\":\"" KEY "\",\"iat\":%lld,\"exp\":%lld}", NBF,
             NBF + 300);
    sign_hs256(payload, tok, sizeof tok);
    CHECK(lk_webhook_verify(kr, tok, BODY, len, NBF + 5, &reason) == RK_OK);
    CHECK(lk_webhook_verify(kr, tok, BODY, len, NBF + 320, &reason) == RK_EEXPIRED);
    /* issued a day ahead, valid for two: refused, not taken as fresh */
    snprintf(payload, sizeof payload,
             "{\"sha256\":\"" SHA256_BODY "\",\"iss\":\"" KEY "\",\"iat\":%lld,\"exp\":%lld}",
             NBF + 86400, NBF + 172800);
    sign_hs256(payload, tok, sizeof tok);
    CHECK(lk_webhook_verify(kr, tok, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    CHECK_STR(reason, "webhook token issued in the future");
    CHECK(lk_webhook_verify(kr, tok, BODY, len, NBF + 86400 + 5, &reason) == RK_OK);
    /* an iat no int64_t holds is no issue time */
    snprintf(payload, sizeof payload,
             "{\"sha256\":\"" SHA256_BODY "\",\"iss\":\"" KEY "\",\"iat\":1e300,\"exp\":%lld}",
             NBF + 300);
    sign_hs256(payload, tok, sizeof tok);
    CHECK(lk_webhook_verify(kr, tok, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    CHECK_STR(reason, "token has no nbf or iat");
    keyring_free(kr);
}

static void test_verify(void)
{
    keyring *kr = ring(KEY, SECRET);
    const char *reason = NULL;
    size_t len = sizeof BODY - 1;
    CHECK(lk_webhook_verify(kr, TOK, BODY, len, NBF + 5, &reason) == RK_OK);
    CHECK(lk_webhook_verify(kr, TOK, BODY, len, NBF + 299, &reason) == RK_OK);
    /* stale: past exp (and past the 5-minute age) */
    CHECK(lk_webhook_verify(kr, TOK, BODY, len, NBF + 400, &reason) == RK_EEXPIRED);
    CHECK(lk_webhook_verify(kr, TOK, BODY, len, NBF - 100, &reason) == RK_ENOTYET);
    /* tampered body: one byte changed */
    char *t = strdup(BODY);
    t[strlen(t) - 3] = '1';
    CHECK(lk_webhook_verify(kr, TOK, t, len, NBF + 5, &reason) == RK_EVERIFY);
    CHECK_STR(reason, "sha256 of the body does not match");
    free(t);
    CHECK(lk_webhook_verify(kr, TOK, BODY, len - 1, NBF + 5, &reason) == RK_EVERIFY);
    /* a token without sha256, a Bearer prefix, none, a bad signature */
    CHECK(lk_webhook_verify(kr, TOK_NO_SHA, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    CHECK_STR(reason, "sha256 claim missing");
    char bearer[sizeof TOK + 8] = "Bearer ";
    strcat(bearer, TOK);
    CHECK(lk_webhook_verify(kr, bearer, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    CHECK(lk_webhook_verify(kr, "", BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    CHECK(lk_webhook_verify(kr, NULL, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    char *badsig = strdup(TOK);
    badsig[strlen(badsig) - 2] = badsig[strlen(badsig) - 2] == 'A' ? 'B' : 'A';
    CHECK(lk_webhook_verify(kr, badsig, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    free(badsig);
    CHECK(lk_webhook_verify(kr, "not-a-jwt", BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    keyring_free(kr);
    /* the right key id with another secret; another key id */
    kr = ring(KEY, "another-secret-0123456789-abcdefghijklmnopqrstuv");
    CHECK(lk_webhook_verify(kr, TOK, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    keyring_free(kr);
    kr = ring("APIother", SECRET);
    CHECK(lk_webhook_verify(kr, TOK, BODY, len, NBF + 5, &reason) == RK_EVERIFY);
    CHECK_STR(reason, "unknown API key");
    /* limits */
    CHECK(lk_webhook_verify(kr, TOK, BODY, WEBHOOK_MAX_BODY + 1, NBF + 5, &reason) == RK_ETOOBIG);
    char *huge = malloc(WEBHOOK_MAX_AUTH + 10);
    memset(huge, 'a', WEBHOOK_MAX_AUTH + 9);
    huge[WEBHOOK_MAX_AUTH + 9] = '\0';
    CHECK(lk_webhook_verify(kr, huge, BODY, len, NBF + 5, &reason) == RK_ETOOBIG);
    free(huge);
    keyring_free(kr);
}

static void test_parse(void)
{
    lk_webhook_event ev;
    const char *reason = NULL;
    CHECK(lk_webhook_parse(BODY, sizeof BODY - 1, &ev, &reason) == RK_OK);
    CHECK_STR(ev.event, "participant_joined");
    CHECK_STR(ev.id, "EV_unit1");
    CHECK(ev.created_at == 1767000000);
    CHECK(ev.has_room && ev.has_participant);
    CHECK_STR(ev.room.name, "blue");
    CHECK_STR(ev.room.sid, "RM_abc");
    CHECK(ev.room.max_participants == 5 && ev.room.num_participants == 1);
    CHECK(ev.room.creation_time == 1766999990);
    CHECK_STR(ev.participant.sid, "PA_xyz");
    CHECK_STR(ev.participant.identity, "alice");
    CHECK_STR(ev.participant.name, "Alice A");
    CHECK_STR(ev.participant.kind, "agent");
    CHECK(ev.participant.joined_at == 1767000000);
    CHECK(ev.participant.joined_at_ms == 1767000000123LL);

    /* room_started: no participant; proto names and numbers are read too */
    static const char started[] = "{\"event\":\"room_started\",\"id\":\"EV_2\",\"created_at\":17,"
                                  "\"room\":{\"name\":\"r\",\"creation_time\":\"5\"}}";
    CHECK(lk_webhook_parse(started, sizeof started - 1, &ev, &reason) == RK_OK);
    CHECK(!ev.has_participant && ev.has_room && ev.created_at == 17 && ev.room.creation_time == 5);

    static const char *const bad[] = {
        "",
        "[]",
        "{\"event\":\"x\"}",                                                /* no id */
        "{\"id\":\"EV\"}",                                                  /* no event */
        "{\"event\":\"x\",\"id\":\"EV\",\"event\":\"y\"}",                  /* duplicate key */
        "{\"event\":1,\"id\":\"EV\"}",                                      /* mistyped */
        "{\"event\":\"a b\",\"id\":\"EV\"}",                                /* a space */
        "{\"event\":\"x\",\"id\":\"EV\",\"createdAt\":\"12a\"}",            /* not an int64 */
        "{\"event\":\"x\",\"id\":\"EV\",\"room\":{\"sid\":\"RM\"}}",        /* room without name */
        "{\"event\":\"x\",\"id\":\"EV\",\"participant\":{\"sid\":\"PA\"}}", /* no identity */
        "{\"event\":\"x\",\"id\":\"EV\",\"participant\":{\"sid\":\"P\",\"identity\":\"a\","
        "\"kind\":99}}",
        "{\"event\":\"x\",\"id\":\"EV\"", /* truncated */
        /* a join time past year 9999 (INT64_MAX once overflowed the rejoin check), or negative */
        "{\"event\":\"x\",\"id\":\"EV\",\"participant\":{\"sid\":\"P\",\"identity\":\"a\","
        "\"joinedAt\":\"9223372036854775807\"}}",
        "{\"event\":\"x\",\"id\":\"EV\",\"participant\":{\"sid\":\"P\",\"identity\":\"a\","
        "\"joinedAt\":\"253402300800\"}}",
        "{\"event\":\"x\",\"id\":\"EV\",\"participant\":{\"sid\":\"P\",\"identity\":\"a\","
        "\"joinedAt\":\"-1\"}}",
        "{\"event\":\"x\",\"id\":\"EV\",\"participant\":{\"sid\":\"P\",\"identity\":\"a\","
        "\"joinedAtMs\":\"9223372036854775807\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(lk_webhook_parse(bad[i], strlen(bad[i]), &ev, &reason) == RK_EINVAL);
    /* over-long identity */
    char big[600];
    int n =
        snprintf(big, sizeof big,
                 "{\"event\":\"x\",\"id\":\"EV\",\"participant\":{\"sid\":\"P\",\"identity\":\"");
    memset(big + n, 'a', 300);
    strcpy(big + n + 300, "\"}}");
    CHECK(lk_webhook_parse(big, strlen(big), &ev, &reason) == RK_EINVAL);
    CHECK(lk_webhook_parse(BODY, WEBHOOK_MAX_BODY + 1, &ev, &reason) == RK_ETOOBIG);
}

static void test_content_type(void)
{
    CHECK(lk_webhook_content_type_ok("application/webhook+json"));
    CHECK(lk_webhook_content_type_ok("Application/Webhook+JSON; charset=utf-8"));
    CHECK(!lk_webhook_content_type_ok("application/json"));
    CHECK(!lk_webhook_content_type_ok("application/webhook+jsonx"));
    CHECK(!lk_webhook_content_type_ok(NULL));
}

static void test_names(void)
{
    CHECK_STR(lk_method_name(LK_REMOVE_PARTICIPANT), "RemoveParticipant");
    CHECK_STR(lk_method_name(LK_LIST_ROOMS), "ListRooms");
    CHECK_STR(lk_outcome_name(LK_UNAVAILABLE), "unavailable");
    int64_t v;
    json_t *s = json_string("-42");
    CHECK(lk_json_int64(s, &v) == RK_OK && v == -42);
    json_decref(s);
    s = json_string("99999999999999999999");
    CHECK(lk_json_int64(s, &v) == RK_EINVAL);
    json_decref(s);
}

/* The Twirp answer readers, on answers shaped as livekit-server's (camelCase
 * and proto names, int64 as strings, enums as names or numbers). */
static void test_answers(void)
{
    char why[128];
    json_error_t e;
    json_t *a =
        json_loads("{\"rooms\":[{\"name\":\"blue\",\"sid\":\"RM_1\",\"numParticipants\":2,"
                   "\"creationTime\":\"1767000000\"},{\"name\":\"red\",\"max_participants\":5}],"
                   "\"participants\":[{\"sid\":\"PA_1\",\"identity\":\"alice\",\"kind\":4}]}",
                   0, &e);
    lk_room_info *rooms = NULL;
    size_t n = 0;
    CHECK(roomservice_read_rooms(a, &rooms, &n, why, sizeof why) == LK_OK && n == 2);
    CHECK_STR(rooms[0].name, "blue");
    CHECK(rooms[0].num_participants == 2 && rooms[0].creation_time == 1767000000);
    CHECK(rooms[1].max_participants == 5);
    free(rooms);
    lk_participant_info *ps = NULL;
    CHECK(roomservice_read_participants(a, &ps, &n, why, sizeof why) == LK_OK && n == 1);
    CHECK_STR(ps[0].identity, "alice");
    CHECK_STR(ps[0].kind, "agent");
    free(ps);
    json_decref(a);
    a = json_loads("{}", 0, &e); /* an empty list is left out */
    CHECK(roomservice_read_rooms(a, &rooms, &n, why, sizeof why) == LK_OK && n == 0);
    free(rooms);
    json_decref(a);
    a = json_loads("{\"rooms\":[{\"name\":\"ok\"},{\"sid\":\"RM_2\"}],\"participants\":{}}", 0, &e);
    CHECK(roomservice_read_rooms(a, &rooms, &n, why, sizeof why) == LK_UNAVAILABLE);
    CHECK_STR(why, "rooms[1]: room.name");
    CHECK(roomservice_read_participants(a, &ps, &n, why, sizeof why) == LK_UNAVAILABLE);
    CHECK_STR(why, "participants is not an array");
    json_decref(a);
}

/* A worker against a port nobody listens on: each job is tried
 * max_attempts times, then reported unavailable; submit never waits. */
typedef struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, attempts;
    lk_outcome o;
    char reason[LK_REASON_MAX + 1];
} seen;

static void on_done(void *ud, const lk_job *job, lk_outcome o, int attempts, const char *why)
{
    (void)why;
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->done++;
    s->attempts = attempts;
    s->o = o;
    strcpy(s->reason, job->reason);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void test_worker_retries(void)
{
    seen s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    keyring *kr = ring(KEY, SECRET);
    lk_worker_cfg cfg = {.host = "http://127.0.0.1:1",
                         .timeout_ms = 2000,
                         .max_attempts = 3,
                         .backoff_ms = 1,
                         .backoff_max_ms = 4,
                         .reconcile_s = 0};
    lk_worker_hooks hooks = {.ud = &s, .done = on_done};
    lk_worker *w = NULL;
    char why[128];
    CHECK(lk_worker_start(&cfg, kr, &hooks, &w, why, sizeof why) == RK_OK);
    keyring_free(kr); /* the worker keeps its own copy of the key */
    keyring *none = NULL, *next = ring("APInext", SECRET);
    CHECK(keyring_new(&none) == RK_OK);
    CHECK(lk_worker_set_keys(w, none) == RK_ENOTFOUND);
    CHECK(lk_worker_set_keys(w, next) == RK_OK);
    CHECK(lk_worker_set_keys(w, next) == RK_OK); /* replaces one not yet taken */
    keyring_free(next);
    keyring_free(none);
    lk_job job = {.method = LK_REMOVE_PARTICIPANT,
                  .room = "blue",
                  .identity = "alice",
                  .reason = "admin_kick"};
    CHECK(lk_worker_submit(w, &job) == RK_OK);
    pthread_mutex_lock(&s.mu);
    while (s.done == 0)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    CHECK(s.o == LK_UNAVAILABLE && s.attempts == 3);
    CHECK_STR(s.reason, "admin_kick");
    uint64_t calls[LK_METHOD_COUNT][LK_OUTCOME_COUNT];
    lk_worker_calls(w, calls);
    CHECK(calls[LK_REMOVE_PARTICIPANT][LK_UNAVAILABLE] == 3);
    CHECK(calls[LK_LIST_ROOMS][LK_UNAVAILABLE] == 1); /* the pass at start */
    CHECK(lk_worker_queued(w) == 0);
    lk_worker_stop(w);
    /* bad settings are refused */
    cfg.max_attempts = 0;
    kr = ring(KEY, SECRET);
    CHECK(lk_worker_start(&cfg, kr, &hooks, &w, why, sizeof why) == RK_EINVAL);
    keyring_free(kr);
}

int main(void)
{
    test_worker_retries();
    test_verify();
    test_verify_iat();
    test_parse();
    test_content_type();
    test_names();
    test_answers();
    return check_summary();
}
