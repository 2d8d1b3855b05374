/* config.h - RoomKey's configuration: one YAML file (optional) overlaid by
 * environment variables, validated as a whole. Bad config is refused with
 * a message that names the key; nothing falls back silently.
 *
 * Sources, in order (later wins): built-in defaults, the YAML file
 * (`--config FILE` or ROOMKEY_CONFIG), environment variables. Every secret
 * may come from the YAML, from an env var, or from a file (`*_file` keys).
 * A config is immutable once loaded; reload builds a new one. Each
 * top-level key is read by its own section (section.h); the YAML reader and
 * typed getters are in yaml.h; API keys are matched by src/auth/apikey.h. */
#ifndef RK_CONFIG_H
#define RK_CONFIG_H

#include "../http/cors.h"
#include "../token/keyring.h"
#include "../util/ipnet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_ISSUERS 16
#define CONFIG_MAX_ROLES   32
#define CONFIG_MAX_APIKEYS 64
#define CONFIG_MAX_ROOMS   256 /* rooms seeded from config into the store */
#define CONFIG_MAX_MEMBERS 1024
#define CONFIG_MAX_ALGS    4
#define CONFIG_MAX_TYPS    4    /* an issuer's accepted JWT "typ" values */
#define CONFIG_MAX_STR     1024 /* any single string value, bytes */

/* Grants a role gives in a joined room (booleans; room/identity come from
 * the request). */
typedef struct config_role {
    char name[65];
    bool can_publish;
    bool can_subscribe;
    bool can_publish_data;
    bool can_update_own_metadata;
    bool room_admin;
    bool hidden;
    bool recorder;
    unsigned sources; /* canPublishSources bits (lk_source); 0 with sources_set=false = unset */
    bool sources_set;
    int64_t max_ttl;          /* seconds; 0 = global max */
    bool may_dispatch_agents; /* may request roomConfig.agents (token-source) */
} config_role;

/* A trusted issuer of session JWTs. */
typedef struct config_issuer {
    char name[65];                 /* label for logs/metrics */
    char iss[CONFIG_MAX_STR];      /* required "iss" value; "" = not checked (HS only) */
    char aud[CONFIG_MAX_STR];      /* required "aud" value; "" = not checked */
    char algs[CONFIG_MAX_ALGS][8]; /* allow-list: HS256 | RS256 | PS256 | ES256 | EdDSA */
    size_t n_algs;
    unsigned char *hs_secret; /* HS256 secret (owned, wiped on free); NULL for JWKS issuers */
    size_t hs_secret_len;
    char jwks[CONFIG_MAX_STR]; /* JWKS file path or https URL; "" for HS issuers */
    int64_t leeway;            /* seconds, 0..300; default 30 */
    char subject_claim[65];    /* default "sub" */
    char name_claim[65];       /* display name claim; default "name" */
    char role_claim[129];      /* dotted path, e.g. "app_metadata.role"; "" = none */
    bool allow_http_jwks;      /* tests only: http:// JWKS on loopback */
    int64_t jwks_refresh;      /* seconds: a URL set older is refetched; default 3600 */
    int64_t jwks_cooldown;     /* seconds between unknown-kid refetches; default 30 */
    /* The caller's subject is subject_prefix + the subject claim, so that
     * memberships and seats name a subject within its issuer. Required
     * (subject_prefix_set) when several issuers are configured; issuers
     * with the same prefix share their subjects on purpose. */
    char subject_prefix[65];
    bool subject_prefix_set;
    /* Accepted values of the JWT header's "typ" (compared without case and
     * without an "application/" prefix; a token without typ counts as
     * "JWT"). Default ["JWT"]; e.g. ["at+jwt"] for RFC 9068 access tokens. */
    char typs[CONFIG_MAX_TYPS][33];
    size_t n_typs;
} config_issuer;

/* Permissions of a backend API key. */
enum config_perm {
    PERM_MINT_ANY = 1u << 0, /* mint for any identity, any room */
    PERM_ADMIN = 1u << 1,    /* admin API */
};

/* An API key acts as the subject CONFIG_APIKEY_PREFIX + its id, a namespace
 * no session subject may enter (see docs/security.md). */
#define CONFIG_APIKEY_PREFIX "api-key:"

typedef struct config_apikey {
    char id[65];            /* label; the key acts as subject "api-key:<id>" */
    unsigned char hash[32]; /* SHA-256 of the key (the key itself is never kept) */
    unsigned perms;         /* enum config_perm bits */
} config_apikey;

/* A room seeded into the store at start-up (created if absent). */
typedef struct config_room {
    char name[257];
    char alias[257];
    int mode; /* enum store_mode */
    char default_role[65];
    int64_t max_participants;
    int64_t max_ttl;
} config_room;

typedef struct config_member {
    char room[257];
    char subject[257];
    char role[65];
} config_member;

/* The route families' settings (`families:`, `voice_agent:`, `supabase:`,
 * ...) belong to the families (src/api): each keeps its own in the
 * config's extension area, read with config_ext. */
#define CONFIG_EXT_BYTES (64u * 1024)

#define CONFIG_MAX_PROXIES 32 /* trusted_proxies */

/* A token-bucket rule: `requests` per `per_s` seconds on average, bursts
 * of up to `burst` requests. */
typedef struct config_rate {
    int64_t requests; /* 1..1000000 */
    int64_t per_s;    /* 1..86400 seconds */
    int64_t burst;    /* 1..1000000; default = requests */
} config_rate;

/* `rate_limit:` (and ROOMKEY_RATE_LIMIT). */
typedef struct config_rate_limit {
    bool enabled;        /* default true; ROOMKEY_RATE_LIMIT=off switches it off */
    config_rate ip;      /* every request per client IP; default 50/1s, burst 100 */
    config_rate subject; /* token requests per subject; default 30/1m, burst 10 */
    int64_t max_entries; /* buckets per table (IP, subject); default 16384 */
    bool limit_probes;   /* apply the IP limit to /healthz, /readyz, /metrics; default false */
} config_rate_limit;

/* `cors:` (and ROOMKEY_CORS_ORIGINS). */
typedef struct config_cors {
    char origins[CORS_MAX_ORIGINS][CORS_MAX_ORIGIN + 1]; /* exact origins, or "*" */
    size_t n_origins;                                    /* 0 = CORS off */
    bool allow_credentials;                              /* default false; never with "*" */
    char allow_headers[512]; /* Access-Control-Allow-Headers; default see docs/config.md */
    int64_t max_age;         /* preflight cache, seconds; default 600 */
} config_cors;

/* `console:` - the admin console in the browser (docs/console.md). */
typedef struct config_console {
    bool enabled; /* serve /console/; default false */
} config_console;

/* live_rooms: what RoomKey does with LiveKit's webhooks and server API
 * (docs/live-rooms.md). */
typedef struct config_live {
    char webhook_path[256];   /* POST route of LiveKit's webhooks; default /livekit/webhook */
    int64_t reconcile_s;      /* presence vs ListParticipants, seconds; default 60; 0 = at start */
    int64_t poll_ms;          /* decisions made elsewhere (CLI, other instances); default 250 */
    int64_t kick_window_s;    /* how long a kick is remembered, seconds; 0 (default) = max_ttl */
    char status_started[33];  /* meeting status on room_started; default PROCESSING; "" = keep */
    char status_finished[33]; /* meeting status on room_finished; default COMPLETED; "" = keep */
} config_live;

typedef struct config {
    /* service */
    char listen_host[256];         /* ROOMKEY_LISTEN host part; default 127.0.0.1 */
    uint16_t listen_port;          /* default 8080; 0 = ephemeral (printed at start) */
    char database[CONFIG_MAX_STR]; /* ROOMKEY_DATABASE: SQLite path or postgres:// URL; default
                                      roomkey.db */
    int64_t database_timeout_s;    /* ROOMKEY_DATABASE_TIMEOUT: longest wait for the database
                                      server, to connect and per statement; default 5 */
    unsigned threads;              /* worker threads; 0 = number of CPUs */
    size_t max_body;               /* bytes; default 65536 */
    size_t max_header;             /* bytes; default 8192 */
    unsigned max_connections;      /* default 1024 */
    unsigned conn_timeout_s;       /* idle/slow connection cut-off; default 10 */
    unsigned max_conns_per_ip;     /* open connections per client address; default 64; 0 = off */
    unsigned head_timeout_s;       /* whole request head deadline; default 10 */
    unsigned body_timeout_s;       /* whole request body deadline; default 30 */
    bool dev_mode;                 /* allow short LiveKit secrets (never in production) */

    /* LiveKit */
    keyring *keys; /* LIVEKIT_API_KEY/SECRET, LIVEKIT_KEYS, keys: (owned); may be empty */
    char
        livekit_url[CONFIG_MAX_STR]; /* LIVEKIT_URL / LIVEKIT_SERVER_URL: what clients connect to */
    char livekit_host[CONFIG_MAX_STR]; /* LIVEKIT_HOST: server API URL */
    char region[65];                   /* connection-info "region"; default "" */
    int64_t default_ttl;               /* LIVEKIT_DEFAULT_TOKEN_TTL; default 3600 */
    int64_t max_ttl;                   /* global cap; default 86400 */

    /* callers */
    config_issuer issuers[CONFIG_MAX_ISSUERS]; /* ROOMKEY_SESSION_SECRET adds an HS256 one */
    size_t n_issuers;
    config_apikey apikeys[CONFIG_MAX_APIKEYS];
    size_t n_apikeys;
    unsigned char admin_key_hash[32]; /* ROOMKEY_ADMIN_KEY, hashed; */
    bool has_admin_key;

    /* policy */
    config_role roles[CONFIG_MAX_ROLES]; /* built-ins (member, listener, moderator) first */
    size_t n_roles;
    config_room rooms[CONFIG_MAX_ROOMS];
    size_t n_rooms;
    config_member members[CONFIG_MAX_MEMBERS];
    size_t n_members;

    /* operations */
    config_rate_limit rate_limit;
    config_cors cors;
    config_console console;
    ipnet trusted_proxies[CONFIG_MAX_PROXIES]; /* ROOMKEY_TRUSTED_PROXIES; default none */
    size_t n_trusted_proxies;
    int64_t shutdown_timeout; /* seconds to let in-flight requests finish; default 10 */
    int64_t
        audit_retain_days; /* audit.retain_days: records older are pruned; 0 (default) keeps all */
    config_live live;      /* live_rooms: */
    /* the route families' settings, one block per family section */
    _Alignas(16) unsigned char ext[CONFIG_EXT_BYTES];
} config;

struct config_section;

/* config_ext returns the settings of route family section s (see
 * section.h) in cfg, or NULL when s is not one. Borrowed from cfg. */
const void *config_ext(const config *cfg, const struct config_section *s);

/* config_load builds a config from the YAML file at path (NULL: none, or
 * ROOMKEY_CONFIG when set) overlaid with the environment. On failure why
 * names the offending key and nothing is allocated. Free with config_free. */
int config_load(const char *path, config **out, char *why, size_t why_cap);

/* config_free wipes secrets and frees cfg (NULL is fine). */
void config_free(config *cfg);

/* config_role_find returns the role called name, or NULL. */
const config_role *config_role_find(const config *cfg, const char *name);

#endif
