/* family.h - a route family: one app's token contract, described as data.
 *
 * A family is the shape of one application's API contract (its paths, its
 * request and response bodies, its error bodies); everything else is the
 * same for every family and lives in the pipeline (pipeline.h): who the
 * caller is, the per-subject limit, "is LiveKit configured?", the policy
 * decision, the mint, the audit record and the held response. A family
 * says:
 *  - its name, its config section (its own settings) and its routes
 *    (FAMILY_ROUTE, one a line; a token route's handler
 *    is a one-line call of pipeline_run with the family);
 *  - how its callers authenticate (family_auth);
 *  - how a request becomes the one token request (read: a policy_ask);
 *  - how a minted token renders (render), and how errors render (error);
 *  - a table from each policy verdict and pipeline outcome to its status
 *    and message (answers; see there for what applies without an entry);
 *  - optional hooks: setup at registration, the room rules it defines
 *    (rules: e.g. supabase's room types), which policy then applies to
 *    every route that reaches those rooms, and what it needs configured
 *    before it is served (missing).
 * The table of families is families.c. */
#ifndef RK_API_FAMILY_H
#define RK_API_FAMILY_H

#include "../http/server.h"
#include "../policy/policy.h"
#include "../token/minter.h"
#include "../util/clock.h"
#include "issuance.h"

#include <jansson.h>
#include <stdbool.h>

/* How a family's callers authenticate. */
typedef enum family_auth {
    FAMILY_AUTH_CALLER,       /* a session JWT or an API key (Authorization or X-API-Key) */
    FAMILY_AUTH_ANON_ROOMS,   /* the same, or no credentials at all while anonymous_ok says
                                 so (the reader then admits only the family's anonymous rooms) */
    FAMILY_AUTH_USER_SESSION, /* a signed-in user session in Authorization; no API keys */
} family_auth;

/* How a token route's body is read. */
typedef enum family_body {
    FAMILY_BODY_NONE,         /* no body (GET) */
    FAMILY_BODY_OBJECT,       /* a JSON object */
    FAMILY_BODY_OBJECT_EMPTY, /* a JSON object; an empty body is {} */
} family_body;

/* What else, beside policy's verdicts, a family answers; indexes of
 * family.answers after the verdicts. */
enum family_outcome {
    OUTCOME_NO_CREDENTIALS = VERDICT_COUNT, /* none given */
    OUTCOME_BAD_CREDENTIALS,                /* given, not accepted */
    OUTCOME_BAD_JSON,                       /* the body is not JSON */
    OUTCOME_NOT_OBJECT,                     /* the body is not a JSON object */
    OUTCOME_NOT_CONFIGURED,                 /* no LiveKit key (or URL, with needs_url) */
    OUTCOME_INTERNAL,                       /* a store, mint, audit or render failure */
    OUTCOME_COUNT
};

/* One answer. message is a template: {room} (the room as the request named
 * it), {why} (policy_verdict_text), {max_ttl}, {seat}, {seats} and
 * {seat_role} are replaced by the verdict's detail. */
typedef struct family_answer {
    int status;          /* 0 = no entry (the family's `refused` answer applies) */
    const char *message; /* template, see above */
    const char *field;   /* the request field it is about, for validation shapes; NULL = none */
    const char *code;    /* a family-specific error code; NULL = the family's code for status */
} family_answer;

/* One route. A token route's handler calls pipeline_run. */
typedef struct family_route {
    const char *method;
    const char *path;  /* see http_route */
    const char *label; /* "family.route" for logs and audit */
    http_handler handler;
    bool json_body; /* require Content-Type: application/json */
} family_route;

#define FAMILY_MAX_ROUTES 6

/* FAMILY_ROUTE writes one route of a family's table on one line;
 * FAMILY_ROUTE_JSON one whose body must be application/json. */
#define FAMILY_ROUTE(m, p, l, h)                                                                   \
    {                                                                                              \
        .method = (m), .path = (p), .label = (l), .handler = (h)                                   \
    }
#define FAMILY_ROUTE_JSON(m, p, l, h)                                                              \
    {                                                                                              \
        .method = (m), .path = (p), .label = (l), .handler = (h), .json_body = true                \
    }

/* FAMILY_READ_RENDER sets the hooks every family has: its request reader
 * (read), its token renderer (render) and its error renderers (error, NULL
 * when plain_error renders every answer; plain_error). */
#define FAMILY_READ_RENDER(rd, rn, er, pe)                                                         \
    .read = (rd), .render = (rn), .error = (er), .plain_error = (pe)

/* FAMILY_CORE_ANSWERS writes, in a family's answers, the three that every
 * family gives, with their statuses: bad credentials (401), LiveKit not
 * configured (500) and an internal failure (500); the arguments are their
 * messages. */
#define FAMILY_CORE_ANSWERS(bad_credentials, not_configured, internal)                             \
    [OUTCOME_BAD_CREDENTIALS] = {.status = 401, .message = (bad_credentials)},                     \
    [OUTCOME_NOT_CONFIGURED] = {.status = 500, .message = (not_configured)},                       \
    [OUTCOME_INTERNAL] = {.status = 500, .message = (internal)}

struct family;

/* What a family renders: the token just minted and when it expires. */
typedef struct family_token {
    const char *tok; /* borrowed until the request ends */
    size_t len;
    char expires_at[CLOCK_ISO_LEN]; /* its exp, "YYYY-MM-DDTHH:MM:SS.000Z" */
} family_token;

/* One request on its way through the pipeline; hooks get it. */
typedef struct family_call {
    const struct family *f;
    const api_ctx *api; /* the request's snapshot */
    const http_req *req;
    http_resp *resp;
    caller who;             /* the caller (zeroed for an anonymous one) */
    bool anonymous;         /* no credentials (FAMILY_AUTH_ANON_ROOMS) */
    const char *room_shown; /* the room as the request named it, for {room}; set by read */
    void *state;            /* the family's own, state_size bytes, zeroed; NULL when 0 */
} family_call;

typedef struct family {
    const char *name; /* its name under `families:` in the config */
    /* section reads its settings (its key in the YAML; config_ext gives
     * them back); NULL = none. */
    const struct config_section *section;
    family_route routes[FAMILY_MAX_ROUTES]; /* ends at the first without a method */
    family_auth auth;
    family_body body;
    bool needs_url; /* its token response carries LIVEKIT_URL: unset = not configured */
    /* asks_room_only: its request names only the room (identity, name and
     * TTL come from the caller and the room), so one of them out of bounds
     * is the server's failure: the OUTCOME_INTERNAL answer, not a 400. */
    bool asks_room_only;
    size_t state_size; /* bytes of family_call.state */
    /* anonymous_ok: whether callers without credentials are admitted now
     * (FAMILY_AUTH_ANON_ROOMS only); reads only api->cfg (check-config
     * asks it with nothing else set). */
    bool (*anonymous_ok)(const api_ctx *api);
    /* read turns the parsed body (NULL for FAMILY_BODY_NONE; borrowed until
     * the request ends, as is everything *ask points to) into *ask and sets
     * c->room_shown. On false it has answered (c->resp) and nothing is
     * minted. */
    bool (*read)(family_call *c, json_t *body, policy_ask *ask);
    /* render writes the token response for decision d and the token t
     * (borrowed); returns RK_OK, or an error (then OUTCOME_INTERNAL). */
    int (*render)(family_call *c, const decision *d, const family_token *t);
    /* error renders answer a with its expanded message (for a field or a
     * code of the answer); NULL = plain_error(status, message). */
    void (*error)(http_resp *resp, const family_answer *a, const char *message);
    /* plain_error renders status + message (the server's 404/405/413/429...). */
    http_error_renderer plain_error;
    /* answers, by verdict or outcome. Without an entry: a body that is not
     * JSON / not an object gets 400 with request.h's messages, an identity
     * or name too long or a TTL above the cap 400 with the policy's reason
     * ("{why}"; see asks_room_only), "no credentials" the "bad credentials" answer, a store
     * failure (VERDICT_FAILED) the OUTCOME_INTERNAL answer, any other
     * refusal `refused`. */
    family_answer answers[OUTCOME_COUNT];
    family_answer refused;
    /* setup runs when the family is registered (NULL = nothing to do). */
    int (*setup)(api_ctx *api);
    /* rules adds the room rules the family's configuration defines to out
     * (strings borrowed from cfg); NULL = none. why explains a failure. */
    int (*rules)(const config *cfg, policy_rules *out, char *why, size_t cap);
    /* missing says what the family still needs in cfg before it can serve
     * its contract (static text naming the settings, e.g.
     * "supabase.room_types"), or NULL when cfg configures it. A family
     * that is not configured is off unless switched on, and switching it on
     * is refused (families.c). NULL hook = the core config is enough. */
    const char *(*missing)(const config *cfg);
} family;

/* family_fail renders status + message in c's family shape (for read). */
void family_fail(family_call *c, int status, const char *message);

#endif
