/* fuzz_family.c - libFuzzer target: each route family's request reader
 * (its `read` hook, src/api/<family>.c), as the pipeline calls it. The
 * input's first byte picks the family (its low 7 bits modulo the table of
 * families.h; with bit 7 set, a family that admits callers without
 * credentials reads for an anonymous one); the rest is the token route's
 * body, parsed as the pipeline does (request_json_object), and the value
 * of its path parameter when the route has one (the meetings family reads
 * no body, only the meeting id). The config (every family on, anonymous
 * rooms, supabase room types with seats) is loaded once from a memfd; the
 * meetings reader reads a real SQLite store (a temporary directory, removed
 * at exit) holding a pending, a completed and a canceled meeting. */
#include "../../src/api/families.h"
#include "../../src/api/request.h"
#include "../../src/config/config.h"
#include "../../src/store/store.h"
#include "../../src/util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char CONFIG[] =
    "dev_mode: true\n"
    "families: {livekit: true, voice_agent: true, token_source: true, supabase: true,\n"
    "           meetings: true}\n"
    "issuers:\n"
    "  - {name: hs, algorithms: [HS256], issuer: \"https://hs.fuzz.test\",\n"
    "     secret: fuzz-session-secret-0123456789abcdef}\n"
    "roles:\n"
    "  judge: {can_publish: true, can_subscribe: true}\n"
    "  performer: {can_publish: true, can_subscribe: true}\n"
    "rooms:\n"
    "  - {name: lobby, mode: authenticated, default_role: listener}\n"
    "voice_agent: {anonymous_rooms: [lobby, open-room]}\n"
    "token_source: {max_metadata: 512, max_attributes: 512}\n"
    "supabase:\n"
    "  allow_anonymous: true\n"
    "  room_types:\n"
    "    audition: {room: audition-room, seats: 4, seat_role: judge,\n"
    "               roles: {judge: judge, contestant: performer}}\n"
    "    main_show: {room: main-show, roles: {judge: judge, audience: listener}}\n";

static char dir[] = "/tmp/rk-fuzz-family-XXXXXX";
static char db[sizeof dir + 16];
static config *cfg;
static store *st;

/* add_meeting creates meeting id (creator alice) with status. */
static void add_meeting(const char *id, const char *status)
{
    store_meeting m = {0};
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.room, sizeof m.room, "meeting-%s", id);
    snprintf(m.heading, sizeof m.heading, "Fuzz meeting");
    snprintf(m.status, sizeof m.status, "%s", status);
    snprintf(m.creator, sizeof m.creator, "alice");
    if (store_meeting_create(st, &m, "moderator", "member") != RK_OK)
        abort();
}

static void cleanup(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[sizeof db + 8];
    store_close(st);
    config_free(cfg);
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char path[64], why[512];
    int fd = memfd_create("rk-fuzz-family", 0);
    if (fd < 0 || write(fd, CONFIG, sizeof CONFIG - 1) != (ssize_t)(sizeof CONFIG - 1))
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (config_load(path, &cfg, why, sizeof why) != RK_OK || !mkdtemp(dir)) {
        fprintf(stderr, "fuzz_family: %s\n", why);
        abort();
    }
    close(fd);
    snprintf(db, sizeof db, "%s/fuzz.db", dir);
    if (store_open(db, &st, why, sizeof why) != RK_OK) {
        fprintf(stderr, "fuzz_family: %s\n", why);
        abort();
    }
    atexit(cleanup);
    for (size_t i = 0; i < families_count(); i++)
        if (!families_on(cfg, families_at(i)))
            abort(); /* the config must switch every family on */
    add_meeting("m1", "PENDING");
    add_meeting("done", "COMPLETED");
    add_meeting("gone", "CANCELED");
    return 0;
}

/* read_one runs f's reader on req as the pipeline does: the body parsed
 * first (a body that is no JSON object never reaches the reader), then
 * read with the family's zeroed state, and checks what the reader promises
 * (family.h): a request read names its room and is left unanswered, one
 * refused is answered with a 4xx. */
static void read_one(const family *f, bool anonymous, const http_req *req)
{
    const api_ctx api = {.cfg = cfg, .st = st};
    http_resp resp = {0};
    family_call c = {.f = f, .api = &api, .req = req, .resp = &resp, .anonymous = anonymous};
    if (!anonymous)
        snprintf(c.who.subject, sizeof c.who.subject, "alice");
    snprintf(c.who.issuer, sizeof c.who.issuer, "%s", anonymous ? "anonymous" : "hs");
    json_t *body = NULL;
    const char *why = NULL;
    if (f->body == FAMILY_BODY_NONE ||
        request_json_object(req, f->body == FAMILY_BODY_OBJECT_EMPTY, &body, &why) == RK_OK) {
        c.state = f->state_size ? calloc(1, f->state_size) : NULL;
        policy_ask ask = {0};
        if (!f->state_size || c.state) {
            bool ok = f->read(&c, body, &ask);
            if (ok ? !ask.room || !c.room_shown || resp.body
                   : !resp.body || resp.status < 400 || resp.status > 499)
                abort();
        }
        free(c.state);
    }
    json_decref(body);
    free(resp.body);
    for (size_t i = 0; i < resp.n_hdr; i++)
        free(resp.hdr_value[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const family *f = families_at((data[0] & 0x7f) % families_count());
    bool anonymous = (data[0] & 0x80) && f->auth == FAMILY_AUTH_ANON_ROOMS;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    const family_route *r = &f->routes[0]; /* the token route */
    http_req req = {.method = r->method,
                    .path = r->path,
                    .body = text,
                    .body_len = size - 1,
                    .client_ip = "127.0.0.1",
                    .route = r->label};
    const char *param = strchr(r->path, '{');
    if (param) {
        req.n_params = 1;
        req.param_name[0] = param + 1;
        req.param_value[0] = text;
    }
    read_one(f, anonymous, &req);
    free(text);
    return 0;
}
