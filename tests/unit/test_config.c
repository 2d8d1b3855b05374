/* test_config.c - the config loader: defaults, the example and dev files,
 * every env override, every validation rule, secrets and key matching.
 * YAML files are written into a mkdtemp directory; runs with cwd = repo root. */
#include "check.h"
#include "api/families.h"
#include "api/token_source.h"
#include "api/voice_agent.h"
#include "auth/apikey.h"
#include "config/config.h"
#include "store/store.h"
#include "token/grants.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const family *const ALL_FAMILIES[] = {
    &family_livekit, &family_voice_agent, &family_token_source, &family_supabase, &family_meetings};

#define HS_SECRET "0123456789abcdef0123456789abcdef-hs"
#define LK_SECRET "0123456789abcdef0123456789abcdef-lk"

static char dir[64];
static char why[512];
static char files[32][128];
static size_t n_files;

static const char *const ENV_VARS[] = {
    "ROOMKEY_CONFIG",
    "ROOMKEY_LISTEN",
    "ROOMKEY_DATABASE",
    "ROOMKEY_SESSION_SECRET",
    "ROOMKEY_SESSION_ISSUER",
    "ROOMKEY_SESSION_AUDIENCE",
    "ROOMKEY_SESSION_SUBJECT_PREFIX",
    "ROOMKEY_ADMIN_KEY",
    "ROOMKEY_DEV_MODE",
    "LIVEKIT_API_KEY",
    "LIVEKIT_API_SECRET",
    "LIVEKIT_KEYS",
    "LIVEKIT_URL",
    "LIVEKIT_SERVER_URL",
    "LIVEKIT_HOST",
    "LIVEKIT_DEFAULT_TOKEN_TTL",
    "ROOMKEY_AUDIT_RETAIN_DAYS",
    "ROOMKEY_DATABASE_TIMEOUT",
    "ROOMKEY_FAMILIES",
    "RK_TEST_SECRET",
    "RK_TEST_KEY",
};

/* clear_env unsets every variable the loader reads. */
static void clear_env(void)
{
    for (size_t i = 0; i < sizeof ENV_VARS / sizeof ENV_VARS[0]; i++)
        unsetenv(ENV_VARS[i]);
}

/* write_file writes text to dir/name and returns the path (static storage,
 * removed at the end). */
static const char *write_file(const char *name, const char *text)
{
    char *path = NULL;
    for (size_t i = 0; i < n_files; i++) {
        if (strcmp(strrchr(files[i], '/') + 1, name) == 0)
            path = files[i];
    }
    if (!path) {
        if (n_files == 32)
            abort();
        path = files[n_files++];
        snprintf(path, sizeof files[0], "%s/%s", dir, name);
    }
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
    return path;
}

/* load loads yaml (written to a file) into *cfg; returns the loader's rc. */
static int load(const char *yaml, config **cfg)
{
    *cfg = NULL;
    why[0] = '\0';
    return config_load(write_file("c.yaml", yaml), cfg, why, sizeof why);
}

/* refused checks yaml is refused with a message containing want, and that
 * *out is left untouched. */
static void refused_at(const char *yaml, const char *want, int line)
{
    config *sentinel = (config *)&why, *cfg = sentinel;
    int rc = config_load(write_file("c.yaml", yaml), &cfg, why, sizeof why);
    if (rc == RK_OK) {
        fprintf(stderr, "line %d: accepted, wanted \"%s\"\n", line, want);
        config_free(cfg);
    } else if (!strstr(why, want)) {
        fprintf(stderr, "line %d: message \"%s\" lacks \"%s\"\n", line, why, want);
    }
    if (getenv("RK_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", why);
    CHECK(rc != RK_OK && strstr(why, want) != NULL && cfg == sentinel);
}
#define REFUSED(yaml, want) refused_at(yaml, want, __LINE__)

/* env_refused checks that the current environment makes config_load(NULL)
 * fail with a message containing want. */
static void env_refused_at(const char *want, int line)
{
    config *cfg = NULL;
    int rc = config_load(NULL, &cfg, why, sizeof why);
    if (rc == RK_OK)
        config_free(cfg);
    if (rc == RK_OK || !strstr(why, want))
        fprintf(stderr, "line %d: rc %d, message \"%s\", wanted \"%s\"\n", line, rc, why, want);
    if (getenv("RK_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", why);
    CHECK(rc != RK_OK && strstr(why, want) != NULL);
}
#define ENV_REFUSED(want) env_refused_at(want, __LINE__)

/* No file, no env: the documented defaults and built-in roles. */
static void test_defaults(void)
{
    clear_env();
    config *c = NULL;
    CHECK(config_load(NULL, &c, why, sizeof why) == RK_OK);
    if (!c)
        return;
    CHECK_STR(c->listen_host, "127.0.0.1");
    CHECK(c->listen_port == 8080);
    CHECK_STR(c->database, "roomkey.db");
    CHECK(c->threads == 0);
    CHECK(c->max_body == 65536);
    CHECK(c->max_header == 8192);
    CHECK(c->max_connections == 1024);
    CHECK(c->conn_timeout_s == 10);
    CHECK(!c->dev_mode);
    /* every family but supabase, which is off until its room types are set */
    for (size_t f = 0; f < sizeof ALL_FAMILIES / sizeof ALL_FAMILIES[0]; f++)
        CHECK(families_on(c, ALL_FAMILIES[f]) == (ALL_FAMILIES[f] != &family_supabase));
    CHECK(c->keys != NULL && keyring_count(c->keys) == 0);
    CHECK_STR(c->livekit_url, "");
    CHECK(c->default_ttl == 3600);
    CHECK(c->max_ttl == 86400);
    CHECK(c->n_issuers == 0 && c->n_apikeys == 0 && !c->has_admin_key);
    CHECK(c->n_rooms == 0 && c->n_members == 0);
    CHECK(c->n_roles == 3);
    CHECK_STR(c->roles[0].name, "member");
    CHECK_STR(c->roles[1].name, "listener");
    CHECK_STR(c->roles[2].name, "moderator");
    const config_role *m = config_role_find(c, "member");
    const config_role *l = config_role_find(c, "listener");
    const config_role *mod = config_role_find(c, "moderator");
    CHECK(m && m->can_publish && m->can_subscribe && m->can_publish_data && !m->room_admin);
    CHECK(l && !l->can_publish && l->can_subscribe && !l->can_publish_data && !l->room_admin);
    CHECK(mod && mod->can_publish && mod->can_subscribe && mod->can_publish_data &&
          mod->room_admin);
    CHECK(config_role_find(c, "speaker") == NULL);
    CHECK(apikey_match(c, "x", 1) == NULL);
    CHECK(!apikey_is_admin(c, "", 0));
    config_free(c);
    config_free(NULL);

    /* an empty file and an empty mapping are the defaults too */
    CHECK(load("", &c) == RK_OK);
    CHECK(c && c->listen_port == 8080 && c->n_roles == 3);
    config_free(c);
    CHECK(load("# nothing\n{}\n", &c) == RK_OK);
    config_free(c);
    CHECK(load("server:\nroles:\nrooms:\n", &c) == RK_OK);
    config_free(c);
}

/* config/roomkey.example.yaml loads and means what its comments say. */
static void test_example(void)
{
    clear_env();
    config *c = NULL;
    int rc = config_load("config/roomkey.example.yaml", &c, why, sizeof why);
    if (rc)
        fprintf(stderr, "example: %s\n", why);
    CHECK(rc == RK_OK);
    if (!c)
        return;
    CHECK_STR(c->listen_host, "127.0.0.1");
    CHECK(c->listen_port == 8080);
    CHECK(c->conn_timeout_s == 10);
    CHECK_STR(c->livekit_url, "wss://livekit.example.com");
    CHECK_STR(c->livekit_host, "https://livekit.example.com");
    CHECK_STR(c->region, "us-east-1");
    CHECK(keyring_count(c->keys) == 2);
    CHECK_STR(keyring_signer(c->keys)->id, "APIexample1");
    CHECK(keyring_find(c->keys, "APIexample2", 11) != NULL);
    CHECK(c->default_ttl == 3600 && c->max_ttl == 86400);
    CHECK(c->n_issuers == 2);
    CHECK_STR(c->issuers[0].name, "app");
    CHECK(c->issuers[0].n_algs == 1);
    CHECK_STR(c->issuers[0].algs[0], "HS256");
    CHECK(c->issuers[0].hs_secret != NULL);
    CHECK_STR(c->issuers[0].iss, "https://app.example.com");
    CHECK_STR(c->issuers[0].aud, "roomkey");
    CHECK(c->issuers[0].leeway == 30);
    CHECK_STR(c->issuers[0].role_claim, "app_metadata.role");
    CHECK_STR(c->issuers[1].name, "supabase");
    CHECK(c->issuers[1].n_algs == 2 && c->issuers[1].hs_secret == NULL);
    CHECK_STR(c->issuers[1].algs[1], "RS256");
    CHECK_STR(c->issuers[1].jwks, "https://xyz.supabase.co/auth/v1/.well-known/jwks.json");
    CHECK_STR(c->issuers[1].subject_claim, "sub");
    CHECK(!c->issuers[0].subject_prefix_set && !c->issuers[0].subject_prefix[0]);
    CHECK_STR(c->issuers[1].subject_prefix, "supabase:");
    CHECK(c->n_apikeys == 2);
    const char *k = "rk_live_replace-me-with-a-long-random-key";
    const config_apikey *ak = apikey_match(c, k, strlen(k));
    CHECK(ak && strcmp(ak->id, "backend") == 0 && ak->perms == (PERM_MINT_ANY | PERM_ADMIN));
    ak = apikey_match(c, "foo", 3); /* key_sha256 is sha256("foo") */
    CHECK(ak && strcmp(ak->id, "reporting") == 0 && ak->perms == 0);
    CHECK(apikey_match(c, "fo", 2) == NULL);
    CHECK(apikey_match(c, k, strlen(k) - 1) == NULL);
    CHECK(apikey_is_admin(c, "replace-me-with-the-admin-api-key", 33));
    CHECK(!apikey_is_admin(c, "replace-me-with-the-admin-api-kez", 33));
    CHECK(c->n_roles == 4);
    const config_role *s = config_role_find(c, "speaker");
    CHECK(s && s->can_publish && s->sources_set && s->sources == LK_SRC_MICROPHONE &&
          s->max_ttl == 7200 && !s->room_admin);
    CHECK(c->n_rooms == 2);
    CHECK_STR(c->rooms[0].alias, "64f7b1234567890abcdef123");
    CHECK(c->rooms[0].mode == STORE_MODE_MEMBERS);
    CHECK(c->rooms[1].mode == STORE_MODE_AUTHENTICATED);
    CHECK_STR(c->rooms[1].default_role, "listener");
    CHECK(c->n_members == 2);
    CHECK_STR(c->members[1].role, "speaker");
    config_free(c);
}

/* config/dev.yaml (what `make run` uses) loads. */
static void test_dev(void)
{
    clear_env();
    config *c = NULL;
    int rc = config_load("config/dev.yaml", &c, why, sizeof why);
    if (rc)
        fprintf(stderr, "dev: %s\n", why);
    CHECK(rc == RK_OK);
    if (!c)
        return;
    CHECK(c->dev_mode);
    CHECK_STR(c->database, "run/roomkey-dev.db");
    CHECK_STR(c->livekit_url, "ws://localhost:7880");
    CHECK(keyring_count(c->keys) == 1 && strcmp(keyring_signer(c->keys)->id, "devkey") == 0);
    CHECK(c->n_issuers == 1 && strcmp(c->issuers[0].iss, "roomkey-dev") == 0);
    CHECK(c->n_rooms == 3 && c->n_members == 3);
    CHECK(c->rooms[2].max_ttl == 7200 && c->rooms[1].mode == STORE_MODE_AUTHENTICATED);
    CHECK_STR(c->members[0].role, "moderator");
    config_free(c);
}

/* Every environment variable overrides the YAML; bad values are refused. */
static void test_env(void)
{
    clear_env();
    config *c = NULL;
    const char *yaml = "livekit:\n  api_key: yamlkey\n  api_secret: " LK_SECRET "\n"
                       "  url: wss://yaml.example.com\n"
                       "issuers:\n  - name: env\n    algorithms: [HS256]\n"
                       "    secret: " HS_SECRET "\n    issuer: yaml-iss\n";
    /* ROOMKEY_CONFIG names the file when the path argument is NULL */
    setenv("ROOMKEY_CONFIG", write_file("env.yaml", yaml), 1);
    setenv("ROOMKEY_LISTEN", "0.0.0.0:9000", 1);
    setenv("ROOMKEY_DATABASE", "postgres://rk@db/roomkey", 1);
    setenv("ROOMKEY_SESSION_SECRET", HS_SECRET "-env", 1);
    setenv("ROOMKEY_SESSION_ISSUER", "https://env.example.com", 1);
    setenv("ROOMKEY_SESSION_AUDIENCE", "env-aud", 1);
    setenv("ROOMKEY_ADMIN_KEY", "admin-key-from-env", 1);
    setenv("ROOMKEY_DEV_MODE", "1", 1);
    setenv("LIVEKIT_API_KEY", "envkey", 1);
    setenv("LIVEKIT_API_SECRET", "short", 1); /* dev mode allows it */
    setenv("LIVEKIT_KEYS", "k2: " LK_SECRET ", k3: " LK_SECRET, 1);
    setenv("LIVEKIT_URL", "wss://env.example.com", 1);
    setenv("LIVEKIT_HOST", "https://api.example.com", 1);
    setenv("LIVEKIT_DEFAULT_TOKEN_TTL", "2h", 1);
    int rc = config_load(NULL, &c, why, sizeof why);
    if (rc)
        fprintf(stderr, "env: %s\n", why);
    CHECK(rc == RK_OK);
    if (c) {
        CHECK_STR(c->listen_host, "0.0.0.0");
        CHECK(c->listen_port == 9000);
        CHECK_STR(c->database, "postgres://rk@db/roomkey");
        CHECK(c->n_issuers == 1); /* "env" replaced, not added */
        CHECK_STR(c->issuers[0].name, "env");
        CHECK_STR(c->issuers[0].iss, "https://env.example.com");
        CHECK_STR(c->issuers[0].aud, "env-aud");
        CHECK(c->issuers[0].hs_secret_len == strlen(HS_SECRET "-env") &&
              memcmp(c->issuers[0].hs_secret, HS_SECRET "-env", c->issuers[0].hs_secret_len) == 0);
        CHECK(apikey_is_admin(c, "admin-key-from-env", 18));
        CHECK(c->dev_mode);
        CHECK(keyring_count(c->keys) == 3); /* envkey replaced yamlkey */
        CHECK_STR(keyring_signer(c->keys)->id, "envkey");
        CHECK(keyring_find(c->keys, "yamlkey", 7) == NULL);
        CHECK(keyring_find(c->keys, "k3", 2) != NULL);
        CHECK_STR(c->livekit_url, "wss://env.example.com");
        CHECK_STR(c->livekit_host, "https://api.example.com");
        CHECK(c->default_ttl == 7200);
        config_free(c);
    }

    /* ROOMKEY_SESSION_SECRET adds an issuer when none is called "env" */
    clear_env();
    setenv("ROOMKEY_SESSION_SECRET", HS_SECRET, 1);
    setenv("ROOMKEY_SESSION_SUBJECT_PREFIX", "env:", 1);
    CHECK(load("issuers:\n  - name: app\n    algorithms: [HS256]\n    secret: " HS_SECRET "\n",
               &c) == RK_OK);
    CHECK(c && c->n_issuers == 2 && strcmp(c->issuers[1].name, "env") == 0 &&
          c->issuers[1].iss[0] == '\0' && c->issuers[1].leeway == 30);
    config_free(c);

    /* alias LIVEKIT_SERVER_URL; IPv6 listen; TTL in bare seconds */
    clear_env();
    setenv("LIVEKIT_SERVER_URL", "ws://localhost:7880", 1);
    setenv("ROOMKEY_LISTEN", "[::1]:0", 1);
    setenv("LIVEKIT_DEFAULT_TOKEN_TTL", "600", 1);
    CHECK(config_load(NULL, &c, why, sizeof why) == RK_OK);
    CHECK(c && strcmp(c->livekit_url, "ws://localhost:7880") == 0 &&
          strcmp(c->listen_host, "::1") == 0 && c->listen_port == 0 && c->default_ttl == 600);
    config_free(c);
    setenv("LIVEKIT_URL", "ws://localhost:7880", 1); /* equal: fine */
    CHECK(config_load(NULL, &c, why, sizeof why) == RK_OK);
    config_free(c);
    setenv("LIVEKIT_URL", "wss://other.example.com", 1);
    ENV_REFUSED("LIVEKIT_SERVER_URL");

    /* A session secret that is a LiveKit secret: every LiveKit token would
     * pass as a session. Refused from the env and from the YAML, whichever
     * LiveKit key it matches; a different secret loads. */
    clear_env();
    setenv("LIVEKIT_API_KEY", "lk1", 1);
    setenv("LIVEKIT_API_SECRET", LK_SECRET, 1);
    setenv("ROOMKEY_SESSION_SECRET", LK_SECRET, 1);
    ENV_REFUSED("the session secret of issuer \"env\" is the secret of LiveKit API key lk1");
    setenv("ROOMKEY_SESSION_SECRET", LK_SECRET "x", 1);
    CHECK(config_load(NULL, &c, why, sizeof why) == RK_OK);
    config_free(c);
    clear_env();
    setenv("LIVEKIT_KEYS", "k2: " HS_SECRET "-k2, k3: " HS_SECRET, 1);
    CHECK(load("issuers:\n  - name: app\n    algorithms: [HS256]\n    secret: " HS_SECRET "\n",
               &c) == RK_EINVAL);
    CHECK(strstr(
        why, "config: the session secret of issuer \"app\" is the secret of LiveKit API key k3"));
    config_free(c);
    c = NULL;

    /* LiveKit key pair: both or neither */
    clear_env();
    setenv("LIVEKIT_API_KEY", "k", 1);
    ENV_REFUSED("env: LIVEKIT_API_KEY set without LIVEKIT_API_SECRET");
    clear_env();
    setenv("LIVEKIT_API_SECRET", LK_SECRET, 1);
    ENV_REFUSED("LIVEKIT_API_KEY");
    clear_env();
    setenv("LIVEKIT_API_KEY", "k", 1);
    setenv("LIVEKIT_API_SECRET", "short", 1);
    ENV_REFUSED("LIVEKIT_API_KEY"); /* short without dev mode */
    setenv("ROOMKEY_DEV_MODE", "1", 1);
    CHECK(config_load(NULL, &c, why, sizeof why) == RK_OK);
    config_free(c);
    clear_env();
    setenv("LIVEKIT_KEYS", "nocolon", 1);
    ENV_REFUSED("LIVEKIT_KEYS");

    /* malformed env values */
    const struct {
        const char *name, *value;
    } bad[] = {
        {"ROOMKEY_LISTEN", "nohost"},
        {"ROOMKEY_LISTEN", "1.2.3.4:65536"},
        {"ROOMKEY_LISTEN", ":8080"},
        {"ROOMKEY_LISTEN", "::1:8080"},
        {"ROOMKEY_LISTEN", "host:80x"},
        {"ROOMKEY_DEV_MODE", "yes please"},
        {"LIVEKIT_URL", "livekit.example.com"},
        {"LIVEKIT_HOST", "ftp://x"},
        {"LIVEKIT_DEFAULT_TOKEN_TTL", "forever"},
        {"LIVEKIT_DEFAULT_TOKEN_TTL", "0"},
        {"LIVEKIT_DEFAULT_TOKEN_TTL", "25h"}, /* above max_ttl 24h */
        {"ROOMKEY_SESSION_SECRET", "short-session-secret"},
        {"ROOMKEY_SESSION_ISSUER", "https://x"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env();
        setenv(bad[i].name, bad[i].value, 1);
        ENV_REFUSED(bad[i].name);
    }
    /* a short session secret is fine in dev mode */
    clear_env();
    setenv("ROOMKEY_SESSION_SECRET", "short-session-secret", 1);
    setenv("ROOMKEY_DEV_MODE", "1", 1);
    CHECK(config_load(NULL, &c, why, sizeof why) == RK_OK);
    CHECK(c && c->n_issuers == 1 && c->issuers[0].hs_secret_len == 20);
    config_free(c);
    /* env ROOMKEY_DEV_MODE=0 wins over the YAML */
    clear_env();
    setenv("ROOMKEY_DEV_MODE", "0", 1);
    CHECK(load("dev_mode: true\n", &c) == RK_OK && c && !c->dev_mode);
    config_free(c);
    clear_env();
    setenv("ROOMKEY_CONFIG", "/nonexistent/roomkey.yaml", 1);
    ENV_REFUSED("/nonexistent/roomkey.yaml");
    clear_env();
}

/* Every validation rule refuses with a message naming the key. */
static void test_validation(void)
{
    clear_env();
    /* unknown keys, at every level, with the full path */
    REFUSED("server:\n  listn: x\n", "config: unknown key \"server.listn\"");
    REFUSED("servr: {}\n", "unknown key \"servr\"");
    REFUSED("livekit: { urll: x }\n", "unknown key \"livekit.urll\"");
    REFUSED("issuers:\n  - name: a\n    algorithms: [HS256]\n    secret: " HS_SECRET
            "\n    isuer: x\n",
            "unknown key \"issuers[0].isuer\"");
    REFUSED("api_keys: [{ id: a, key: kkkk, perms: [admin] }]\n",
            "unknown key \"api_keys[0].perms\"");
    REFUSED("roles: { speaker: { can_pub: true } }\n", "unknown key \"roles.speaker.can_pub\"");
    REFUSED("rooms: [{ name: r, mod: members }]\n", "unknown key \"rooms[0].mod\"");
    REFUSED("members: [{ room: r, subject: s, rol: member }]\n", "unknown key \"members[0].rol\"");
    REFUSED("server: { threads: 1, threads: 2 }\n", "duplicate key \"server.threads\"");
    /* wrong types, naming the key */
    REFUSED("server: { threads: four }\n", "server.threads");
    REFUSED("server: { threads: \"4\" }\n", "server.threads");
    REFUSED("server: [1]\n", "server");
    REFUSED("dev_mode: yes-please\n", "dev_mode");
    REFUSED("families: { livekit: maybe }\n", "families.livekit");
    REFUSED("families: { zoom: false }\n", "unknown key \"families.zoom\"");
    config *c = NULL;
    CHECK(load("families: { livekit: false, meetings: false }\n"
               "supabase: { room_types: { a: { room: r } } }\n",
               &c) == RK_OK &&
          c && !families_on(c, &family_livekit) && !families_on(c, &family_meetings) &&
          families_on(c, &family_supabase) && families_on(c, &family_voice_agent) &&
          families_on(c, &family_token_source));
    config_free(c);
    CHECK_STR(family_token_source.name, "token_source");
    REFUSED("database: [a]\n", "database");
    REFUSED("database:\n", "database");
    REFUSED("livekit: { url: { a: b } }\n", "livekit.url");
    REFUSED("issuers: { name: a }\n", "issuers");
    REFUSED("roles: [a]\n", "roles");
    REFUSED("roles: { speaker: { hidden: 1 } }\n", "roles.speaker.hidden");
    REFUSED("rooms: [{ name: r, max_participants: many }]\n", "rooms[0].max_participants");
    REFUSED("- a\n- b\n", "expected a mapping");
    REFUSED("a: [\n", "YAML");
    REFUSED("a: &x 1\nb: *x\n", "alias");
    REFUSED("--- {}\n--- {}\n", "more than one YAML document");
    /* server limits */
    REFUSED("server: { listen: \"localhost\" }\n", "server.listen");
    REFUSED("server: { listen: \"localhost:99999\" }\n", "server.listen");
    REFUSED("server: { threads: 257 }\n", "server.threads");
    REFUSED("server: { threads: -1 }\n", "server.threads");
    REFUSED("server: { max_body: 0 }\n", "server.max_body");
    REFUSED("server: { max_body: 16777217 }\n", "server.max_body");
    REFUSED("server: { max_header: 1023 }\n", "server.max_header");
    REFUSED("server: { max_header: 65537 }\n", "server.max_header");
    REFUSED("server: { max_connections: 0 }\n", "server.max_connections");
    REFUSED("server: { max_connections: 100001 }\n", "server.max_connections");
    REFUSED("server: { connection_timeout: 0 }\n", "server.connection_timeout");
    REFUSED("server: { connection_timeout: 301s }\n", "server.connection_timeout");
    REFUSED("server: { connection_timeout: soon }\n", "server.connection_timeout");
    /* TTLs */
    REFUSED("livekit: { default_ttl: 0 }\n", "livekit.default_ttl");
    REFUSED("livekit: { default_ttl: 2h, max_ttl: 1h }\n", "livekit.default_ttl");
    REFUSED("livekit: { max_ttl: 31d }\n", "livekit.max_ttl");
    /* live_rooms: how long kicks are remembered; how often decisions are looked for */
    REFUSED("live_rooms: { kick_window: 31d }\n", "live_rooms.kick_window");
    REFUSED("live_rooms: { kick_window: soon }\n", "live_rooms.kick_window");
    REFUSED("live_rooms: { poll_interval: 49 }\n", "live_rooms.poll_interval");
    REFUSED("live_rooms: { poll_interval: 3600001 }\n", "live_rooms.poll_interval");
    config *lc = NULL;
    CHECK(load("live_rooms: { kick_window: 2h, poll_interval: 3600000 }\n", &lc) == RK_OK && lc &&
          lc->live.kick_window_s == 7200 && lc->live.poll_ms == 3600000);
    config_free(lc);
    CHECK(load("livekit: { max_ttl: 2h }\n", &lc) == RK_OK && lc && lc->live.kick_window_s == 0);
    config_free(lc);
    REFUSED("livekit: { max_ttl: 721h }\n", "livekit.max_ttl");
    REFUSED("livekit: { max_ttl: 500ms }\n", "livekit.max_ttl");
    REFUSED("livekit: { url: example.com }\n", "livekit.url");
    REFUSED("livekit: { host: \"https://\" }\n", "livekit.host");
    /* LiveKit keys */
    REFUSED("livekit: { api_key: k }\n", "livekit.api_key");
    REFUSED("livekit: { api_secret: " LK_SECRET " }\n", "livekit.api_secret");
    REFUSED("livekit: { api_key: k, api_secret: short }\n", "livekit.api_key");
    REFUSED("livekit: { api_key: \"bad key\", api_secret: " LK_SECRET " }\n", "livekit.api_key");
    REFUSED("livekit: { keys: { k2: short } }\n", "livekit.keys.k2");
    REFUSED("livekit: { api_key: k, api_secret: " LK_SECRET ", keys: { k: " LK_SECRET " } }\n",
            "livekit.keys.k");
    REFUSED("livekit: { api_key: k, api_secret: x, api_secret_file: /y }\n",
            "livekit.api_secret_file");
    /* issuers */
    REFUSED("issuers: [{ name: a, secret: " HS_SECRET " }]\n", "issuers[0].algorithms");
    REFUSED("issuers: [{ name: a, algorithms: [], secret: " HS_SECRET " }]\n",
            "issuers[0].algorithms");
    REFUSED("issuers: [{ name: a, algorithms: [none], secret: " HS_SECRET " }]\n",
            "issuers[0].algorithms[0]");
    REFUSED("issuers: [{ name: a, algorithms: [HS384], secret: " HS_SECRET " }]\n",
            "issuers[0].algorithms[0]");
    REFUSED("issuers: [{ name: a, algorithms: [HS256, RS256], secret: " HS_SECRET
            ", issuer: x }]\n",
            "issuers[0].algorithms");
    REFUSED("issuers: [{ name: a, algorithms: [HS256, RS256], secret: " HS_SECRET
            ", issuer: x }]\n",
            "RFC 8725");
    REFUSED("issuers: [{ name: a, algorithms: [ES256, ES256], jwks: /j, issuer: x }]\n",
            "issuers[0].algorithms");
    REFUSED("issuers: [{ name: a, algorithms: [HS256] }]\n", "issuers[0].secret");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: short-secret }]\n",
            "issuers[0].secret");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET ", jwks: /j }]\n",
            "issuers[0].jwks");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], issuer: x }]\n", "issuers[0].jwks");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: /j }]\n", "issuers[0].issuer");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: /j, issuer: \"\" }]\n",
            "issuers[0].issuer");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: /j, issuer: x, secret: " HS_SECRET
            " }]\n",
            "issuers[0].secret");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: \"http://example.com/j\", "
            "issuer: x }]\n",
            "issuers[0].jwks");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: \"ftp://example.com/j\", "
            "issuer: x }]\n",
            "issuers[0].jwks");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: \"http://127.0.0.1:1/j\", "
            "issuer: x }]\n",
            "issuers[0].jwks");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: "
            "\"http://127.0.0.1.evil.example/j\", issuer: x, allow_http_jwks: true }]\n",
            "issuers[0].jwks");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: \"http://example.com/j\", "
            "issuer: x, allow_http_jwks: true }]\n",
            "issuers[0].jwks");
    /* userinfo: the host is what follows the '@' */
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: "
            "\"http://localhost:x@idp.example.com/jwks\", issuer: x, allow_http_jwks: true }]\n",
            "issuers[0].jwks: http:// is refused");
    REFUSED("issuers: [{ name: a, algorithms: [RS256], jwks: "
            "\"http://[::1]:1@idp.example.com/jwks\", issuer: x, allow_http_jwks: true }]\n",
            "issuers[0].jwks: http:// is refused");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET ", leeway: 301s }]\n",
            "issuers[0].leeway");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET
            ", role_claim: \"a..b\" }]\n",
            "issuers[0].role_claim");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET
            ", secret_env: RK_TEST_SECRET }]\n",
            "issuers[0].secret");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret_env: RK_TEST_SECRET }]\n",
            "issuers[0].secret_env");
    REFUSED("issuers: [{ algorithms: [HS256], secret: " HS_SECRET " }]\n", "issuers[0].name");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET " },\n"
            "          { name: a, algorithms: [HS256], secret: " HS_SECRET " }]\n",
            "issuers[1].name");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET
            ", secret_file: /nonexistent/s }]\n",
            "issuers[0].secret");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret_file: /nonexistent/s }]\n",
            "issuers[0].secret_file");
    /* api keys and admin key */
    REFUSED("api_keys: [{ id: a }]\n", "api_keys[0].key");
    REFUSED("api_keys: [{ id: a, key: k1, key_sha256: "
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae }]\n",
            "api_keys[0].key");
    REFUSED("api_keys: [{ id: a, key_sha256: abc }]\n", "api_keys[0].key_sha256");
    REFUSED("api_keys: [{ id: a, key_sha256: "
            "zc26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae }]\n",
            "api_keys[0].key_sha256");
    REFUSED("api_keys: [{ id: a, key: k1, permissions: [root] }]\n", "api_keys[0].permissions[0]");
    REFUSED("api_keys: [{ id: a, key: k1 }, { id: a, key: k2 }]\n", "api_keys[1].id");
    REFUSED("api_keys: [{ id: a, key: k1 }, { id: b, key: k1 }]\n", "api_keys[1]");
    REFUSED("api_keys: [{ key: k1 }]\n", "api_keys[0].id");
    REFUSED("api_keys: [{ id: \"a b\", key: k1 }]\n", "api_keys[0].id");
    REFUSED("api_keys: [{ id: a, key_env: RK_TEST_KEY }]\n", "api_keys[0].key_env");
    REFUSED("api_keys: [{ id: a, key: \"\" }]\n", "api_keys[0].key");
    REFUSED("admin_key: a\nadmin_key_file: /b\n", "admin_key");
    REFUSED("admin_key: \"\"\n", "admin_key");
    /* roles */
    REFUSED("roles: { Speaker: {} }\n", "roles.Speaker");
    REFUSED("roles: { \"a b\": {} }\n", "roles.a b");
    REFUSED("roles: { speaker: { sources: [webcam] } }\n", "roles.speaker.sources[0]");
    REFUSED("roles: { speaker: { max_ttl: 25h } }\n", "roles.speaker.max_ttl");
    REFUSED("roles:\n  speaker: {}\n  speaker: {}\n", "roles.speaker");
    /* rooms and members */
    REFUSED("rooms: [{ mode: members }]\n", "rooms[0].name");
    REFUSED("rooms: [{ name: r, mode: open }]\n", "rooms[0].mode");
    REFUSED("rooms: [{ name: r, default_role: nobody }]\n", "rooms[0].default_role");
    REFUSED("rooms: [{ name: r, max_participants: -1 }]\n", "rooms[0].max_participants");
    REFUSED("rooms: [{ name: r, max_ttl: 25h }]\n", "rooms[0].max_ttl");
    REFUSED("rooms: [{ name: r }, { name: r }]\n", "rooms[1].name");
    REFUSED("rooms: [{ name: r, alias: x }, { name: s, alias: x }]\n", "rooms[1].alias");
    REFUSED("members: [{ room: r, subject: s, role: nobody }]\n", "members[0].role");
    REFUSED("members: [{ subject: s }]\n", "members[0].room");
    REFUSED("members: [{ room: r }]\n", "members[0].subject");
    REFUSED("members: [{ room: r, subject: s }, { room: r, subject: s }]\n", "members[1]");
}

/* Built-ins can be replaced; config roles, rooms and members load. */
static void test_roles_and_members(void)
{
    clear_env();
    config *c = NULL;
    /* a config role with a built-in name replaces it; others are added */
    CHECK(load("roles:\n  member: { can_subscribe: true }\n  stage-1: { can_publish: true, "
               "sources: [camera, screen_share], may_dispatch_agents: true, max_ttl: 0 }\n"
               "rooms: [{ name: r, default_role: stage-1, max_participants: 10, max_ttl: 1h }]\n"
               "members: [{ room: elsewhere, subject: s }]\n",
               &c) == RK_OK);
    if (!c)
        return;
    CHECK(c->n_roles == 4);
    const config_role *m = config_role_find(c, "member");
    CHECK(m == &c->roles[0] && !m->can_publish && m->can_subscribe);
    const config_role *s = config_role_find(c, "stage-1");
    CHECK(s && s->can_publish && s->sources == (LK_SRC_CAMERA | LK_SRC_SCREEN_SHARE) &&
          s->may_dispatch_agents && s->max_ttl == 0);
    CHECK(config_role_find(c, "moderator")->room_admin);
    CHECK(c->rooms[0].max_participants == 10 && c->rooms[0].max_ttl == 3600);
    CHECK_STR(c->members[0].role, "member"); /* default role; room may live in the store */
    config_free(c);
    /* empty sources: set, nothing allowed */
    CHECK(load("roles: { mute: { sources: [] } }\n", &c) == RK_OK);
    CHECK(c && c->roles[3].sources_set && c->roles[3].sources == 0);
    config_free(c);
}

/* *_file / *_env secrets, key matching, dev-mode short secrets. */
static void test_secrets(void)
{
    clear_env();
    config *c = NULL;
    char yaml[2048];
    const char *sf = write_file("hs.secret", HS_SECRET "\n");
    const char *kf = write_file("api.key", "backend-key-from-file\n");
    const char *af = write_file("admin.key", "admin-from-file\r\n");
    const char *lf = write_file("lk.secret", LK_SECRET "\n");
    const char *keys =
        write_file("keys.txt", "# LiveKit keys\nk2: " LK_SECRET "\nk3: " LK_SECRET "\n");
    const char *empty = write_file("empty", "\n");
    snprintf(
        yaml, sizeof yaml,
        "livekit: { api_key: k1, api_secret_file: %s, keys_file: %s }\n"
        "issuers:\n  - { name: f, algorithms: [HS256], secret_file: %s }\n"
        "  - { name: e, algorithms: [HS256], secret_env: RK_TEST_SECRET, subject_prefix: \"e:\" }\n"
        "api_keys:\n  - { id: a, key_file: %s, permissions: [mint_any] }\n"
        "  - { id: b, key_env: RK_TEST_KEY, permissions: [admin, admin] }\n"
        "admin_key_file: %s\n",
        lf, keys, sf, kf, af);
    setenv("RK_TEST_SECRET", HS_SECRET "-from-env", 1);
    setenv("RK_TEST_KEY", "key-from-env", 1);
    int rc = load(yaml, &c);
    if (rc)
        fprintf(stderr, "secrets: %s\n", why);
    CHECK(rc == RK_OK);
    if (c) {
        CHECK(keyring_count(c->keys) == 3 && strcmp(keyring_signer(c->keys)->id, "k1") == 0);
        CHECK(c->issuers[0].hs_secret_len == strlen(HS_SECRET)); /* newline stripped */
        CHECK(memcmp(c->issuers[0].hs_secret, HS_SECRET, strlen(HS_SECRET)) == 0);
        CHECK(c->issuers[1].hs_secret_len == strlen(HS_SECRET "-from-env"));
        const config_apikey *k = apikey_match(c, "backend-key-from-file", 21);
        CHECK(k && strcmp(k->id, "a") == 0 && k->perms == PERM_MINT_ANY);
        CHECK(apikey_match(c, "backend-key-from-file\n", 22) == NULL);
        k = apikey_match(c, "key-from-env", 12);
        CHECK(k && strcmp(k->id, "b") == 0 && k->perms == PERM_ADMIN);
        CHECK(apikey_match(c, NULL, 0) == NULL);
        CHECK(apikey_is_admin(c, "admin-from-file", 15));
        CHECK(!apikey_is_admin(c, "admin-from-file\r", 16));
        CHECK(!apikey_is_admin(c, NULL, 0));
        config_free(c);
    }
    snprintf(yaml, sizeof yaml, "admin_key_file: %s\n", empty);
    REFUSED(yaml, "admin_key_file");
    snprintf(yaml, sizeof yaml, "admin_key_file: %s\n", dir);
    REFUSED(yaml, "admin_key_file");
    /* a secret file over 64 KiB is refused */
    static char big[70 * 1024];
    memset(big, 'a', sizeof big - 1);
    const char *bf = write_file("big", big);
    snprintf(yaml, sizeof yaml, "issuers: [{ name: a, algorithms: [HS256], secret_file: %s }]\n",
             bf);
    REFUSED(yaml, "issuers[0].secret_file");

    /* short HS secrets: refused, accepted in dev mode */
    const char *shorty = "issuers: [{ name: a, algorithms: [HS256], secret: short }]\n";
    REFUSED(shorty, "issuers[0].secret");
    snprintf(yaml, sizeof yaml, "dev_mode: true\n%s", shorty);
    CHECK(load(yaml, &c) == RK_OK);
    CHECK(c && c->issuers[0].hs_secret_len == 5);
    config_free(c);
    setenv("ROOMKEY_DEV_MODE", "1", 1);
    CHECK(load(shorty, &c) == RK_OK);
    config_free(c);
    clear_env();
    /* short LiveKit secrets likewise */
    REFUSED("livekit: { api_key: k, api_secret: short }\n", "livekit.api_key");
    CHECK(load("dev_mode: true\nlivekit: { api_key: k, api_secret: short }\n", &c) == RK_OK);
    config_free(c);
    /* an http JWKS on loopback in dev mode only */
    CHECK(load("dev_mode: true\nissuers: [{ name: a, algorithms: [EdDSA], issuer: x, "
               "jwks: \"http://127.0.0.1:9/jwks\", allow_http_jwks: true }]\n",
               &c) == RK_OK);
    CHECK(c && c->issuers[0].allow_http_jwks);
    config_free(c);
    /* secret_env requires the variable */
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret_env: RK_TEST_SECRET }]\n",
            "RK_TEST_SECRET");
}

/* voice_agent: and token_source: (route family options). */
static void test_family_options(void)
{
    clear_env();
    config *c = NULL;
    CHECK(load("", &c) == RK_OK);
    const voice_agent_settings *va = c ? config_ext(c, &voice_agent_section) : NULL;
    const token_source_settings *ts = c ? config_ext(c, &token_source_section) : NULL;
    CHECK(c && va->n_anonymous_rooms == 0);
    CHECK(c && ts->max_metadata == 4096 && ts->max_attributes == 4096);
    config_free(c);
    CHECK(load("voice_agent: { anonymous_rooms: [demo-lobby, Kiosk_2] }\n"
               "token_source: { max_metadata: 0, max_attributes: 65536 }\n",
               &c) == RK_OK);
    va = c ? config_ext(c, &voice_agent_section) : NULL;
    ts = c ? config_ext(c, &token_source_section) : NULL;
    CHECK(c && va->n_anonymous_rooms == 2);
    if (c) {
        CHECK_STR(va->anonymous_rooms[0], "demo-lobby");
        CHECK_STR(va->anonymous_rooms[1], "Kiosk_2");
        CHECK(ts->max_metadata == 0 && ts->max_attributes == 65536);
    }
    config_free(c);
    CHECK(load("voice_agent:\ntoken_source:\n", &c) == RK_OK);
    config_free(c);
    REFUSED("voice_agent: { anonymous_rooms: [a.b] }\n", "voice_agent.anonymous_rooms[0]: a room");
    REFUSED("voice_agent: { anonymous_rooms: [ok, \"a b\"] }\n", "anonymous_rooms[1]");
    REFUSED("voice_agent: { anonymous_rooms: lobby }\n", "expected a list");
    REFUSED("voice_agent: { anonymous_rooms: [\"\"] }\n", "must not be empty");
    REFUSED("voice_agent: { rooms: [x] }\n", "unknown key \"voice_agent.rooms\"");
    REFUSED("token_source: { max_metadata: 65537 }\n",
            "token_source.max_metadata: must be between");
    REFUSED("token_source: { max_attributes: -1 }\n", "token_source.max_attributes");
    REFUSED("token_source: { max_meta: 1 }\n", "unknown key \"token_source.max_meta\"");
    char yaml[64 * 8 + 64] = "voice_agent: { anonymous_rooms: [";
    for (int i = 0; i < VOICE_AGENT_MAX_ANON_ROOMS + 1; i++)
        snprintf(yaml + strlen(yaml), sizeof yaml - strlen(yaml), "%sr%d", i ? "," : "", i);
    snprintf(yaml + strlen(yaml), sizeof yaml - strlen(yaml), "] }\n");
    REFUSED(yaml, "more than 64 entries");
}

/* Which families are served: the configured ones unless `families:`
 * says otherwise; ROOMKEY_FAMILIES names exactly those served; switching
 * on a family that is not configured is refused with what it lacks. */
static void test_family_switches(void)
{
    clear_env();
    config *c = NULL;
    const char *types = "supabase: { room_types: { audition: { room: audition-room } } }\n";
    CHECK(load(types, &c) == RK_OK && c && families_on(c, &family_supabase));
    char on[FAMILIES_NAMES_CAP], off[FAMILIES_NAMES_CAP];
    CHECK(c && families_names(c, true, on, sizeof on) == 5 &&
          families_names(c, false, off, 8) == 0);
    CHECK_STR(on, "livekit, voice_agent, token_source, supabase, meetings");
    config_free(c);
    CHECK(load("supabase: { allow_anonymous: true }\n", &c) == RK_OK && c &&
          !families_on(c, &family_supabase));
    CHECK(c && families_names(c, false, off, sizeof off) == 1);
    CHECK_STR(off, "supabase (not configured: set supabase.room_types)");
    CHECK(c && families_names(c, false, off, 12) == 0); /* cut short: nothing half-written */
    CHECK_STR(off, "");
    config_free(c);
    REFUSED("families: { supabase: true }\n",
            "config: families.supabase is true, but the supabase family is not configured: set "
            "supabase.room_types");
    CHECK(load("families: { supabase: false }\n", &c) == RK_OK && c &&
          !families_on(c, &family_supabase) && families_on(c, &family_livekit));
    config_free(c);
    /* ROOMKEY_FAMILIES replaces `families:` and the defaults */
    setenv("ROOMKEY_FAMILIES", "livekit, voice_agent", 1);
    CHECK(load("families: { token_source: true, livekit: false }\n", &c) == RK_OK && c);
    for (size_t f = 0; c && f < sizeof ALL_FAMILIES / sizeof ALL_FAMILIES[0]; f++)
        CHECK(families_on(c, ALL_FAMILIES[f]) ==
              (ALL_FAMILIES[f] == &family_livekit || ALL_FAMILIES[f] == &family_voice_agent));
    config_free(c);
    CHECK(load(types, &c) == RK_OK && c && !families_on(c, &family_supabase));
    config_free(c);
    setenv("ROOMKEY_FAMILIES", "meetings,supabase", 1);
    CHECK(load(types, &c) == RK_OK && c && families_on(c, &family_supabase) &&
          families_on(c, &family_meetings) && !families_on(c, &family_livekit));
    config_free(c);
    ENV_REFUSED("env: ROOMKEY_FAMILIES names supabase, but the supabase family is not "
                "configured: set supabase.room_types");
    setenv("ROOMKEY_FAMILIES", "livekit,zoom", 1);
    ENV_REFUSED("env: ROOMKEY_FAMILIES: no route family named \"zoom\" (known: livekit, "
                "voice_agent, token_source, supabase, meetings)");
    clear_env();
}

/* audit.retain_days: 0 (keep every record) by default, 0..36500 from the
 * YAML, ROOMKEY_AUDIT_RETAIN_DAYS over it; anything else refused by name. */
static void test_audit_retention(void)
{
    clear_env();
    config *c = NULL;
    CHECK(load("{}\n", &c) == RK_OK && c && c->audit_retain_days == 0);
    config_free(c);
    CHECK(load("audit: { retain_days: 90 }\n", &c) == RK_OK && c && c->audit_retain_days == 90);
    config_free(c);
    CHECK(load("audit: { retain_days: 36500 }\n", &c) == RK_OK && c &&
          c->audit_retain_days == 36500);
    config_free(c);
    REFUSED("audit: { retain_days: 36501 }\n", "audit.retain_days");
    REFUSED("audit: { retain_days: -1 }\n", "audit.retain_days");
    REFUSED("audit: { retain_days: 30d }\n", "audit.retain_days");
    REFUSED("audit: { retain: 30 }\n", "unknown key \"audit.retain\"");
    REFUSED("audit: 30\n", "audit");
    setenv("ROOMKEY_AUDIT_RETAIN_DAYS", "7", 1);
    CHECK(load("audit: { retain_days: 90 }\n", &c) == RK_OK && c && c->audit_retain_days == 7);
    config_free(c);
    static const char *const bad[] = {"-1", "36501", "7d", " 7", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("ROOMKEY_AUDIT_RETAIN_DAYS", bad[i], 1);
        ENV_REFUSED("ROOMKEY_AUDIT_RETAIN_DAYS");
    }
    clear_env();
}

/* database_timeout: 5 s by default, 1s..300s from the YAML,
 * ROOMKEY_DATABASE_TIMEOUT over it; anything else refused by name. */
static void test_database_timeout(void)
{
    clear_env();
    config *c = NULL;
    CHECK(load("{}\n", &c) == RK_OK && c && c->database_timeout_s == 5);
    config_free(c);
    CHECK(load("database_timeout: 2m\n", &c) == RK_OK && c && c->database_timeout_s == 120);
    config_free(c);
    REFUSED("database_timeout: 0s\n", "database_timeout");
    REFUSED("database_timeout: 301s\n", "database_timeout");
    REFUSED("database_timeout: soon\n", "database_timeout");
    setenv("ROOMKEY_DATABASE_TIMEOUT", "1s", 1);
    CHECK(load("database_timeout: 2m\n", &c) == RK_OK && c && c->database_timeout_s == 1);
    config_free(c);
    static const char *const bad[] = {"0", "301s", "500ms", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("ROOMKEY_DATABASE_TIMEOUT", bad[i], 1);
        ENV_REFUSED("ROOMKEY_DATABASE_TIMEOUT");
    }
    clear_env();
}

/* subject_prefix: optional with one issuer; with several, at most one
 * issuer leaves it unset (bare subjects; the YAML or
 * ROOMKEY_SESSION_SUBJECT_PREFIX sets it); never in the API keys'
 * namespace. */
static void test_subject_prefix(void)
{
#define HS_ISSUER(name) "{ name: " name ", algorithms: [HS256], secret: " HS_SECRET
    clear_env();
    config *c = NULL;
    CHECK(load("issuers: [" HS_ISSUER("a") " }]\n", &c) == RK_OK && c &&
          !c->issuers[0].subject_prefix_set && !c->issuers[0].subject_prefix[0]);
    config_free(c);
    CHECK(load("issuers: [" HS_ISSUER("a") " }, " HS_ISSUER("b") ", subject_prefix: \"b:\" }]\n",
               &c) == RK_OK &&
          c && !c->issuers[0].subject_prefix_set && !strcmp(c->issuers[1].subject_prefix, "b:"));
    config_free(c);
    REFUSED("issuers: [" HS_ISSUER("a") " }, " HS_ISSUER("b") " }]\n",
            "config: issuers[1].subject_prefix: required: issuers \"b\" and \"a\" would share "
            "subjects");
    REFUSED("issuers: [" HS_ISSUER("a") " }, " HS_ISSUER(
                "b") ", subject_prefix: \"b:\" }, " HS_ISSUER("c") " }]\n",
            "issuers[2].subject_prefix: required: issuers \"c\" and \"a\"");
    /* an issuer given "" shares the bare subjects of the one without a prefix */
    CHECK(load("issuers: [" HS_ISSUER("a") " }, " HS_ISSUER("b") ", subject_prefix: \"\" }]\n",
               &c) == RK_OK);
    config_free(c);
    REFUSED("issuers: [" HS_ISSUER("a") ", subject_prefix: \"api-key:a\" }]\n",
            "issuers[0].subject_prefix: must not start with \"api-key:\"");
    REFUSED("issuers: [" HS_ISSUER("a") ", subject_prefix: \"a b\" }]\n",
            "issuers[0].subject_prefix: must not contain spaces");
    CHECK(load("issuers: [" HS_ISSUER("a") ", subject_prefix: \"x:\" }, " HS_ISSUER(
                   "b") ", subject_prefix: \"x:\" }]\n",
               &c) == RK_OK);
    config_free(c);
    /* prefixes that start one another: a's "xavier" would be "p:xavier", in b's namespace */
    REFUSED("issuers: [" HS_ISSUER("a") ", subject_prefix: \"p:\" }, " HS_ISSUER(
                "b") ", subject_prefix: \"p:x\" }]\n",
            "issuers[1].subject_prefix: \"p:x\" starts with issuer \"a\"'s prefix \"p:\"");
    REFUSED("issuers: [" HS_ISSUER("a") ", subject_prefix: \"idp\" }, " HS_ISSUER(
                "b") ", subject_prefix: \"i\" }]\n",
            "issuers[0].subject_prefix: \"idp\" starts with issuer \"b\"'s prefix \"i\"");
    CHECK(load("issuers: [" HS_ISSUER("a") ", subject_prefix: \"p:\" }, " HS_ISSUER(
                   "b") ", subject_prefix: \"px:\" }]\n",
               &c) == RK_OK);
    config_free(c);
    /* the env issuer next to a YAML one that keeps bare subjects needs a prefix... */
    setenv("ROOMKEY_SESSION_SECRET", HS_SECRET, 1);
    REFUSED("issuers: [" HS_ISSUER("a") " }]\n",
            "env: ROOMKEY_SESSION_SUBJECT_PREFIX is required: the issuer \"env\" and \"a\"");
    CHECK(load("issuers: [" HS_ISSUER("a") ", subject_prefix: \"a:\" }]\n", &c) == RK_OK && c &&
          c->n_issuers == 2 && !c->issuers[1].subject_prefix_set);
    config_free(c);
    setenv("ROOMKEY_SESSION_SUBJECT_PREFIX", "app:", 1);
    CHECK(load("issuers: [" HS_ISSUER("a") " }]\n", &c) == RK_OK && c &&
          !strcmp(c->issuers[1].subject_prefix, "app:"));
    config_free(c);
    /* ...or keeps that of the YAML issuer "env" it replaces */
    unsetenv("ROOMKEY_SESSION_SUBJECT_PREFIX");
    CHECK(load("issuers: [" HS_ISSUER("a") ", subject_prefix: \"\" }, " HS_ISSUER(
                   "env") ", subject_prefix: \"\" }]\n",
               &c) == RK_OK &&
          c && c->n_issuers == 2 && c->issuers[1].subject_prefix_set);
    config_free(c);
    setenv("ROOMKEY_SESSION_SUBJECT_PREFIX", "api-key:", 1);
    ENV_REFUSED("ROOMKEY_SESSION_SUBJECT_PREFIX must not start with \"api-key:\"");
    clear_env();
    setenv("ROOMKEY_SESSION_SUBJECT_PREFIX", "app:", 1);
    ENV_REFUSED("without ROOMKEY_SESSION_SECRET");
    clear_env();
#undef HS_ISSUER
}

/* typ: ["JWT"] by default; a list replaces it, "application/" dropped. */
static void test_typ(void)
{
    clear_env();
    config *c = NULL;
    CHECK(load("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET " }]\n", &c) ==
              RK_OK &&
          c && c->issuers[0].n_typs == 1 && !strcmp(c->issuers[0].typs[0], "JWT"));
    config_free(c);
    CHECK(load("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET
               ", typ: [application/at+jwt, JWT] }]\n",
               &c) == RK_OK &&
          c && c->issuers[0].n_typs == 2 && !strcmp(c->issuers[0].typs[0], "at+jwt") &&
          !strcmp(c->issuers[0].typs[1], "JWT"));
    config_free(c);
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET ", typ: [] }]\n",
            "issuers[0].typ: must list at least one type");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET
            ", typ: [a, b, c, d, e] }]\n",
            "issuers[0].typ");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET ", typ: [jwt, JWT] }]\n",
            "issuers[0].typ[1]: JWT is listed twice");
    REFUSED("issuers: [{ name: a, algorithms: [HS256], secret: " HS_SECRET
            ", typ: [\"application/\"] }]\n",
            "issuers[0].typ[0]: expected a media type");
}

/* jwks_refresh (1h, 1s..12h) and jwks_cooldown (30s, 1s..1h). */
static void test_jwks_timing(void)
{
#define ES_ISSUER "issuers: [{ name: e, algorithms: [ES256], jwks: https://idp.test/j, issuer: i"
    clear_env();
    config *c = NULL;
    CHECK(load(ES_ISSUER " }]\n", &c) == RK_OK && c && c->issuers[0].jwks_refresh == 3600 &&
          c->issuers[0].jwks_cooldown == 30);
    config_free(c);
    CHECK(load(ES_ISSUER ", jwks_refresh: 10m, jwks_cooldown: 2s }]\n", &c) == RK_OK && c &&
          c->issuers[0].jwks_refresh == 600 && c->issuers[0].jwks_cooldown == 2);
    config_free(c);
    REFUSED(ES_ISSUER ", jwks_refresh: 13h }]\n", "issuers[0].jwks_refresh");
    REFUSED(ES_ISSUER ", jwks_cooldown: 0s }]\n", "issuers[0].jwks_cooldown");
    REFUSED(ES_ISSUER ", jwks_cooldown: 2h }]\n", "issuers[0].jwks_cooldown");
#undef ES_ISSUER
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/rk-config-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_defaults();
    test_example();
    test_dev();
    test_env();
    test_validation();
    test_roles_and_members();
    test_secrets();
    test_family_options();
    test_family_switches();
    test_audit_retention();
    test_database_timeout();
    test_subject_prefix();
    test_typ();
    test_jwks_timing();
    clear_env();
    for (size_t i = 0; i < n_files; i++)
        unlink(files[i]);
    rmdir(dir);
    return check_summary();
}
