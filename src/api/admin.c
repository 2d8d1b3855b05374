/* admin.c - the admin API: rooms, memberships, meetings, audit (see
 * admin.h). */
#include "admin.h"
#include "../auth/apikey.h"
#include "families.h"
#include "live.h"
#include "meetings.h"
#include "probes.h"
#include "request.h"
#include "../token/minter.h"
#include "../util/clock.h"
#include "../util/duration.h"
#include "../util/err.h"
#include "../util/jsonw.h"
#include "../util/log.h"
#include "../util/utf8.h"
#include "../util/version.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OUT_START (64u * 1024)        /* first response buffer */
#define OUT_MAX   (64u * 1024 * 1024) /* largest response (10000 audit rows) */
#define MAX_QUERY 8                   /* query parameters read */

/* ---- errors ------------------------------------------------------------ */

/* The admin API's error codes by status. */
static const request_status_text error_codes[] = {
    {400, "invalid_request"},
    {401, "unauthorized"},
    {403, "forbidden"},
    {404, "not_found"},
    {405, "method_not_allowed"},
    {409, "conflict"},
    {413, "payload_too_large"},
    {415, "unsupported_media_type"},
    {429, "rate_limited"},
    {503, "unavailable"},
    {0, "internal"},
};

void api_admin_error(http_resp *resp, int status, const char *message)
{
    static const request_error_shape shape = {
        .outer = "error",
        .code_key = "code",
        .codes = error_codes,
        .message_key = "message",
        .cap = 1024,
        .fallback = "{\"error\":{\"code\":\"internal\",\"message\":\"\"}}"};
    request_error(resp, &shape, status, message);
}

/* verrorf renders an admin error with a formatted message. */
static void verrorf(http_resp *resp, int status, const char *fmt, va_list ap)
{
    char msg[768];
    vsnprintf(msg, sizeof msg, fmt, ap);
    api_admin_error(resp, status, msg);
}

/* errorf renders an error and returns RK_OK (a handler's `return`). */
static int errorf(http_resp *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int errorf(http_resp *resp, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verrorf(resp, status, fmt, ap);
    va_end(ap);
    return RK_OK;
}

/* refuse renders a 400 and returns false (a check's result). */
static bool refuse(http_resp *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool refuse(http_resp *resp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verrorf(resp, 400, fmt, ap);
    va_end(ap);
    return false;
}

/* store_error maps a store failure to 500/503. */
static int store_error(http_resp *resp, int rc)
{
    return errorf(resp, rc == RK_EIO ? 503 : 500, "store error: %s", rk_strerror(rc));
}

/* ---- authentication ---------------------------------------------------- */

/* authenticate accepts the admin key or an API key with the admin
 * permission; otherwise it renders 401/403 and returns false. */
static bool authenticate(const api_ctx *api, const http_req *req, http_resp *resp)
{
    const char *authz = http_req_header(req, "Authorization");
    const char *xkey = http_req_header(req, "X-API-Key");
    /* The admin key in Authorization is the admin whatever else is sent;
     * in X-API-Key only when it comes alone (one credential per request). */
    const char *cred = authz ? NULL : xkey;
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
        for (cred = authz + 7; *cred == ' '; cred++)
            ;
    if (cred && apikey_is_admin(api->cfg, cred, strnlen(cred, CONFIG_MAX_STR + 1))) {
        http_req_set_subject(req, "admin-key");
        return true;
    }
    caller who;
    auth_fail fail = AUTH_NONE;
    if (authn_caller(api->auth, authz, xkey, clock_now(), &who, &fail) != RK_OK) {
        http_req_set_auth_fail(req, auth_fail_name(fail));
        api_admin_error(resp, 401,
                        "the admin key or an API key with the admin permission is "
                        "required");
        http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"roomkey-admin\"");
        return false;
    }
    http_req_set_subject(req, who.subject);
    if (!who.is_api_key || !(who.perms & PERM_ADMIN)) {
        api_admin_error(resp, 403, "this credential does not have the admin permission");
        return false;
    }
    return true;
}

/* ---- JSON output ------------------------------------------------------- */

/* text writes s as a JSON string, or null when it is not UTF-8 (the store
 * may hold bytes written by other tools). */
static void text(jsonw *w, const char *s)
{
    if (utf8_valid(s, strlen(s)))
        jsonw_str(w, s);
    else
        jsonw_null(w);
}

/* text_or_null writes "" as null. */
static void text_or_null(jsonw *w, const char *s)
{
    if (*s)
        text(w, s);
    else
        jsonw_null(w);
}

static const char *mode_name(int mode)
{
    return mode == STORE_MODE_AUTHENTICATED ? "authenticated" : "members";
}

/* put_text and put_int write one "key": value member. */
static void put_text(jsonw *w, const char *key, const char *s)
{
    jsonw_key(w, key);
    text(w, s);
}

static void put_int(jsonw *w, const char *key, int64_t v)
{
    jsonw_key(w, key);
    jsonw_int(w, v);
}

/* write_grants writes an audit record's grants: our own compact JSON
 * object as it is, anything else as text. */
static void write_grants(jsonw *w, const char *grants)
{
    json_t *g = json_loads(grants, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (g && json_is_object(g))
        jsonw_raw(w, grants, strlen(grants));
    else
        text_or_null(w, grants);
    json_decref(g);
}

/* How a record's member is written: text (null when not UTF-8), text with
 * "" as null, an int64_t, a store_mode (an int, by name), grants. */
typedef enum field_kind { F_TEXT, F_TEXT_OR_NULL, F_INT, F_MODE, F_GRANTS } field_kind;

/* One member of a record's JSON object: its key, its kind and where the
 * record holds it. A record's object is its table of fields, in order. */
typedef struct field {
    const char *key;
    field_kind kind;
    size_t off;
} field;

/* FIELD writes member under its own name, FIELD_AS under key. */
#define FIELD_AS(type, member, key, kind)                                                          \
    {                                                                                              \
        key, kind, offsetof(type, member)                                                          \
    }
#define FIELD(type, member, kind) FIELD_AS(type, member, #member, kind)
#define N_FIELDS(t)               (sizeof(t) / sizeof(t)[0])

/* put_fields writes the members f[0..n) of the record at rec. */
static void put_fields(jsonw *w, const void *rec, const field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *at = (const char *)rec + f[i].off;
        jsonw_key(w, f[i].key);
        if (f[i].kind == F_TEXT)
            text(w, at);
        else if (f[i].kind == F_TEXT_OR_NULL)
            text_or_null(w, at);
        else if (f[i].kind == F_INT)
            jsonw_int(w, *(const int64_t *)(const void *)at);
        else if (f[i].kind == F_MODE)
            jsonw_str(w, mode_name(*(const int *)(const void *)at));
        else
            write_grants(w, at);
    }
}

static const field room_fields[] = {
    FIELD(store_room, name, F_TEXT),
    FIELD(store_room, alias, F_TEXT_OR_NULL),
    FIELD(store_room, mode, F_MODE),
    FIELD(store_room, default_role, F_TEXT_OR_NULL),
    FIELD(store_room, max_participants, F_INT),
    FIELD(store_room, max_ttl, F_INT),
    FIELD(store_room, created_at, F_INT),
};

static const field member_fields[] = {
    FIELD(store_member, room, F_TEXT),
    FIELD(store_member, subject, F_TEXT),
    FIELD(store_member, role, F_TEXT),
    FIELD(store_member, created_at, F_INT),
};

static const field audit_fields[] = {
    FIELD(store_audit, id, F_INT),        FIELD(store_audit, jti, F_TEXT),
    FIELD(store_audit, subject, F_TEXT),  FIELD(store_audit, identity, F_TEXT),
    FIELD(store_audit, room, F_TEXT),     FIELD(store_audit, role, F_TEXT),
    FIELD(store_audit, grants, F_GRANTS), FIELD(store_audit, issued_at, F_INT),
    FIELD(store_audit, exp, F_INT),       FIELD(store_audit, client_ip, F_TEXT),
    FIELD(store_audit, route, F_TEXT),
};

static const field meeting_fields[] = {
    FIELD_AS(store_meeting, id, "meeting_id", F_TEXT),
    FIELD(store_meeting, room, F_TEXT),
    FIELD(store_meeting, heading, F_TEXT),
    FIELD(store_meeting, description, F_TEXT),
    FIELD(store_meeting, status, F_TEXT),
    FIELD(store_meeting, creator, F_TEXT),
    FIELD(store_meeting, created_at, F_INT),
    FIELD(store_meeting, updated_at, F_INT),
};

static const field presence_fields[] = {
    FIELD(store_presence, sid, F_TEXT),      FIELD(store_presence, identity, F_TEXT),
    FIELD(store_presence, name, F_TEXT),     FIELD(store_presence, kind, F_TEXT),
    FIELD(store_presence, joined_at, F_INT),
};

/* write_record writes the record at rec as the object of its fields. */
static void write_record(jsonw *w, const void *rec, const field *f, size_t n)
{
    jsonw_obj_open(w);
    put_fields(w, rec, f, n);
    jsonw_obj_close(w);
}

/* write_room writes a room object; member_count < 0 leaves it out. */
static void write_room(jsonw *w, const store_room *r, long long member_count)
{
    jsonw_obj_open(w);
    put_fields(w, r, room_fields, N_FIELDS(room_fields));
    if (member_count >= 0)
        put_int(w, "member_count", member_count);
    jsonw_obj_close(w);
}

static void write_member(jsonw *w, const store_member *m)
{
    write_record(w, m, member_fields, N_FIELDS(member_fields));
}

/* A writer of one row of an array (a store_audit, store_meeting, ...). */
typedef void (*row_fn)(jsonw *w, const void *row);

/* write_audit writes an audit record (a store_audit). */
static void write_audit(jsonw *w, const void *row)
{
    write_record(w, row, audit_fields, N_FIELDS(audit_fields));
}

/* A writer of one response body from rows. */
typedef void (*body_fn)(jsonw *w, const void *arg);

/* respond renders fn's JSON into a buffer that grows (OUT_START doubling
 * to OUT_MAX) until it fits, and hands it to resp with status. */
static int respond(http_resp *resp, int status, body_fn fn, const void *arg)
{
    for (size_t cap = OUT_START; cap <= OUT_MAX; cap *= 2) {
        char *buf = malloc(cap);
        if (!buf)
            break;
        jsonw w;
        jsonw_init(&w, buf, cap);
        fn(&w, arg);
        if (!w.err) {
            request_reply_adopt(resp, status, buf, w.len);
            return RK_OK;
        }
        free(buf);
        if (w.err != RK_ETOOBIG)
            break;
    }
    api_admin_error(resp, 500, "internal error");
    return RK_OK;
}

/* Rows of a list response. */
typedef struct rows {
    const void *v;
    size_t n;
    size_t limit;           /* audit: the page size asked for */
    long long member_count; /* one room: its member count */
} rows;

static void body_room(jsonw *w, const void *arg)
{
    const rows *r = arg;
    write_room(w, r->v, r->member_count);
}

static void body_rooms(jsonw *w, const void *arg)
{
    const rows *r = arg;
    jsonw_obj_open(w);
    JSONW_KEY(w, "rooms");
    jsonw_arr_open(w);
    for (size_t i = 0; i < r->n; i++)
        write_room(w, (const store_room *)r->v + i, -1);
    jsonw_arr_close(w);
    jsonw_obj_close(w);
}

static void body_member(jsonw *w, const void *arg)
{
    write_member(w, ((const rows *)arg)->v);
}

/* write_members writes "key": [membership, ...] of r's rows. */
static void write_members(jsonw *w, const char *key, const rows *r)
{
    jsonw_key(w, key);
    jsonw_arr_open(w);
    for (size_t i = 0; i < r->n; i++)
        write_member(w, (const store_member *)r->v + i);
    jsonw_arr_close(w);
}

static void body_members(jsonw *w, const void *arg)
{
    jsonw_obj_open(w);
    write_members(w, "members", arg);
    jsonw_obj_close(w);
}

/* write_page writes a page of r's rows (each size bytes) as {key: [row,
 * ...], next_key: cursor(the last row) when the page is full (n == limit),
 * else null}. */
static void write_page(jsonw *w, const rows *r, size_t size, const char *key, row_fn row,
                       const char *next_key, row_fn cursor)
{
    const char *v = r->v;
    jsonw_obj_open(w);
    jsonw_key(w, key);
    jsonw_arr_open(w);
    for (size_t i = 0; i < r->n; i++)
        row(w, v + i * size);
    jsonw_arr_close(w);
    jsonw_key(w, next_key);
    if (r->n && r->n == r->limit)
        cursor(w, v + (r->n - 1) * size);
    else
        jsonw_null(w);
    jsonw_obj_close(w);
}

static void audit_cursor(jsonw *w, const void *row)
{
    jsonw_int(w, ((const store_audit *)row)->id);
}

static void body_audit(jsonw *w, const void *arg)
{
    write_page(w, arg, sizeof(store_audit), "records", write_audit, "next_before_id", audit_cursor);
}

/* ---- input ------------------------------------------------------------- */

/* utf8_error returns why s (len bytes) is not UTF-8 text without NUL, or
 * NULL. */
static const char *utf8_error(const char *s, size_t len)
{
    if (strlen(s) != len || !utf8_valid(s, len))
        return "must be UTF-8 text without NUL";
    return NULL;
}

/* name_error returns why s (a room name, alias, subject or meeting
 * heading) is unusable, or NULL. */
_Static_assert(STORE_MAX_HEADING == STORE_MAX_NAME, "meeting headings are checked as names");
static const char *name_error(const char *s, size_t len)
{
    if (len == 0)
        return "must not be empty";
    if (len > STORE_MAX_NAME)
        return "is longer than 256 bytes";
    return utf8_error(s, len);
}

/* role_error returns why role is not a configured role, or NULL. */
static const char *role_error(const config *cfg, const char *role)
{
    if (!config_role_find(cfg, role))
        return "is not a configured role";
    return NULL;
}

/* parse_body parses the request body as a JSON object whose keys are all
 * in allowed (NULL-terminated); renders 400 and returns NULL otherwise. */
static json_t *parse_body(const http_req *req, http_resp *resp, const char *const *allowed)
{
    json_error_t jerr;
    json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        refuse(resp, "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i]) {
            refuse(resp, "unknown field \"%.64s\"", key);
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* require renders 400 and returns false unless o has every field of
 * names (NULL-terminated) with a value other than null. */
static bool require(json_t *o, const char *const *names, http_resp *resp)
{
    for (size_t i = 0; names[i]; i++) {
        json_t *v = json_object_get(o, names[i]);
        if (!v || json_is_null(v))
            return refuse(resp, "%s is required", names[i]);
    }
    return true;
}

/* get_text reads optional string field name of o into dst (capacity cap);
 * null or absent leaves dst. Renders 400 and returns false when it is not
 * a string or check refuses it. */
static bool get_text(json_t *o, const char *name, char *dst, size_t cap,
                     const char *(*check)(const char *, size_t), http_resp *resp)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return refuse(resp, "%s must be a string", name);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    const char *bad = check ? check(s, len) : NULL;
    if (!bad && len >= cap)
        bad = "is too long";
    if (bad)
        return refuse(resp, "%s %s", name, bad);
    memcpy(dst, s, len + 1);
    return true;
}

/* role_syntax: 1-64 of a-z, 0-9, '_', '-'. */
static const char *role_syntax(const char *s, size_t len)
{
    if (len == 0 || len > STORE_MAX_ROLE ||
        strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
        return "must be 1-64 of a-z, 0-9, '_', '-'";
    return NULL;
}

/* get_role reads optional role field name of o into dst (capacity
 * STORE_MAX_ROLE + 1) like get_text; a non-empty result must be a
 * configured role. Renders 400 and returns false otherwise. */
static bool get_role(const api_ctx *api, json_t *o, const char *name, char *dst, http_resp *resp)
{
    if (!get_text(o, name, dst, STORE_MAX_ROLE + 1, role_syntax, resp))
        return false;
    if (dst[0] && role_error(api->cfg, dst))
        return refuse(resp, "%s \"%s\" is not a configured role", name, dst);
    return true;
}

/* get_seconds reads optional field name as whole seconds (a number, or a
 * duration string such as "2h"), 0..max. */
static bool get_seconds(json_t *o, const char *name, int64_t max, int64_t *dst, http_resp *resp)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return true;
    int64_t s = -1;
    if (json_is_integer(v)) {
        s = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *t = json_string_value(v);
        if (!strcmp(t, "0"))
            s = 0;
        else if (duration_parse_seconds(t, &s) != RK_OK)
            s = -1;
    }
    if (s < 0 || s > max)
        return refuse(resp, "%s must be seconds (or a duration such as \"2h\") from 0 to %lld",
                      name, (long long)max);
    *dst = s;
    return true;
}

/* path_param reads path parameter name into *value; when check refuses it
 * renders 404 ("what not found": nothing can have that name) and returns
 * false. */
static bool path_param(const http_req *req, http_resp *resp, const char *name, const char *what,
                       const char *(*check)(const char *, size_t), const char **value)
{
    const char *s = http_req_param(req, name);
    const char *bad = check(s, strlen(s));
    if (bad) {
        errorf(resp, 404, "%s not found (the %s %s)", what, name, bad);
        return false;
    }
    *value = s;
    return true;
}

/* found renders the failure rc of looking up or changing what "name":
 * 404 for RK_ENOTFOUND, else the store error. Returns rc == RK_OK. */
static bool found(http_resp *resp, int rc, const char *what, const char *name)
{
    if (rc == RK_ENOTFOUND)
        errorf(resp, 404, "%s \"%s\" not found", what, name);
    else if (rc)
        store_error(resp, rc);
    return rc == RK_OK;
}

/* What an admin route acts on: its path's {room} (by name or alias),
 * {meeting_id} and {subject}, resolved once the caller is authenticated and
 * before the route's action runs (resolve). */
typedef enum target_kind {
    ON_SERVICE,     /* nothing in the path: authentication only */
    ON_ROOM,        /* {room} */
    ON_MEMBER,      /* {room} and {subject} */
    ON_MEETING,     /* {meeting_id} */
    ON_PARTICIPANT, /* {meeting_id} and {subject} */
} target_kind;

/* The resolved target; subject is borrowed from the request. */
typedef struct target {
    store_room room;
    store_meeting meeting;
    const char *subject;
} target;

/* room_target authenticates and looks up the {room} parameter (name or
 * alias), or renders the error (401/403/404) and returns false. */
static bool room_target(const api_ctx *api, const http_req *req, http_resp *resp, store_room *r)
{
    const char *name;
    return authenticate(api, req, resp) &&
           path_param(req, resp, "room", "room", name_error, &name) &&
           found(resp, store_room_get(api->st, name, r), "room", name);
}

/* room_members lists r's members into *m (caller frees) and *n, or
 * renders the store error and returns false. */
static bool room_members(const api_ctx *api, const store_room *r, http_resp *resp, store_member **m,
                         size_t *n)
{
    int rc = store_member_list(api->st, r->name, m, n);
    if (rc)
        store_error(resp, rc);
    return rc == RK_OK;
}

/* ---- rooms ------------------------------------------------------------- */

static int rooms_list(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req, (void)t;
    store_room *list = NULL;
    size_t n = 0;
    int rc = store_room_list(api->st, &list, &n);
    if (rc)
        return store_error(resp, rc);
    rows r = {list, n, 0, -1};
    respond(resp, 200, body_rooms, &r);
    free(list);
    return RK_OK;
}

/* room_settings reads the optional room settings of body o (mode,
 * default_role, max_participants, max_ttl) over r's values; renders 400
 * and returns false on a bad one. */
static bool room_settings(const api_ctx *api, json_t *o, store_room *r, http_resp *resp)
{
    char mode[16] = "";
    json_t *has_mode = json_object_get(o, "mode");
    json_t *role = json_object_get(o, "default_role");
    json_t *maxp = json_object_get(o, "max_participants");
    if (!get_text(o, "mode", mode, sizeof mode, NULL, resp) ||
        !get_seconds(o, "max_ttl", MINTER_MAX_TTL, &r->max_ttl, resp))
        return false;
    if (has_mode && !json_is_null(has_mode)) {
        if (strcmp(mode, "members") && strcmp(mode, "authenticated"))
            return refuse(resp, "mode must be \"members\" or \"authenticated\"");
        r->mode = mode[0] == 'a' ? STORE_MODE_AUTHENTICATED : STORE_MODE_MEMBERS;
    }
    if (role && json_is_null(role))
        r->default_role[0] = '\0';
    else if (!get_role(api, o, "default_role", r->default_role, resp))
        return false;
    if (maxp && !json_is_null(maxp)) {
        json_int_t v = json_is_integer(maxp) ? json_integer_value(maxp) : -1;
        if (v < 0 || v > INT32_MAX)
            return refuse(resp, "max_participants must be a whole number >= 0");
        r->max_participants = v;
    }
    return true;
}

static int rooms_create(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)t;
    static const char *const fields[] = {
        "name", "alias", "mode", "default_role", "max_participants", "max_ttl", NULL};
    json_t *o = parse_body(req, resp, fields);
    if (!o)
        return RK_OK;
    store_room r = {.mode = STORE_MODE_MEMBERS};
    strcpy(r.default_role, "member");
    bool ok = require(o, (const char *const[]){"name", NULL}, resp) &&
              get_text(o, "name", r.name, sizeof r.name, name_error, resp) &&
              get_text(o, "alias", r.alias, sizeof r.alias, name_error, resp) &&
              room_settings(api, o, &r, resp);
    if (ok && !strcmp(r.alias, r.name))
        ok = refuse(resp, "alias must differ from the name");
    json_decref(o);
    if (!ok)
        return RK_OK;
    int rc = store_room_create(api->st, &r);
    if (rc == RK_ECONFLICT)
        return errorf(resp, 409, "a room with this name or alias exists");
    if (rc)
        return store_error(resp, rc);
    if (store_room_get(api->st, r.name, &r) != RK_OK)
        return store_error(resp, RK_EIO);
    rows out = {&r, 1, 0, -1};
    return respond(resp, 201, body_room, &out);
}

/* room_read answers GET of room r (with its member count) or, with
 * members, of its member list. */
static int room_read(const api_ctx *api, const store_room *r, http_resp *resp, bool members)
{
    store_member *m = NULL;
    size_t n = 0;
    if (!room_members(api, r, resp, &m, &n))
        return RK_OK;
    rows out = members ? (rows){m, n, 0, 0} : (rows){r, 1, 0, (long long)n};
    respond(resp, 200, members ? body_members : body_room, &out);
    free(m);
    return RK_OK;
}

static int room_show(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    return room_read(api, &t->room, resp, false);
}

/* room_update answers PUT of a room: the body's settings (room_settings)
 * replace the room's, the others stay; name and alias do not change. The
 * answer is the room as GET gives it. */
static int room_update(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    store_room *r = &t->room;
    static const char *const fields[] = {"mode", "default_role", "max_participants", "max_ttl",
                                         NULL};
    json_t *o = parse_body(req, resp, fields);
    bool ok = o && room_settings(api, o, r, resp);
    json_decref(o);
    if (!ok || !found(resp, store_room_update(api->st, r), "room", r->name) ||
        !found(resp, store_room_get(api->st, r->name, r), "room", r->name))
        return RK_OK;
    return room_read(api, r, resp, false);
}

static int room_delete(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    const char *name = http_req_param(req, "room");
    if (strcmp(t->room.name, name) != 0)
        return errorf(resp, 404,
                      "room \"%s\" not found (it is the alias of room \"%s\"; delete "
                      "rooms by name)",
                      name, t->room.name);
    if (!found(resp, store_room_delete(api->st, t->room.name), "room", name))
        return RK_OK;
    live_recorded(api->live, live_room_deleted(api->st, t->room.name, clock_now()), t->room.name,
                  NULL);
    resp->status = 204;
    return RK_OK;
}

/* ---- members ----------------------------------------------------------- */

static int members_list(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    return room_read(api, &t->room, resp, true);
}

/* member_gone carries a removed membership into the live room: the
 * subject's participants there are kicked (live.h). */
static void member_gone(const api_ctx *api, const char *room, const char *subject)
{
    live_recorded(api->live, live_member_removed(api->st, room, subject, clock_now()), room,
                  subject);
}

/* member_put sets subject's role in room r from the body's "role" (the
 * room's default role when absent): 201 when new, 200 when changed. */
static int member_put(const api_ctx *api, const store_room *r, const char *subject, json_t *o,
                      http_resp *resp)
{
    store_member m = {0}, old;
    snprintf(m.room, sizeof m.room, "%s", r->name);
    snprintf(m.subject, sizeof m.subject, "%s", subject);
    snprintf(m.role, sizeof m.role, "%s", r->default_role);
    if (!get_role(api, o, "role", m.role, resp))
        return RK_OK;
    if (!m.role[0])
        return errorf(resp, 400, "role is required (room \"%s\" has no default role)", r->name);
    /* The role it changes from decides whether the live participants get
     * an UpdateParticipant: read it from the store, not from a lookup the
     * cache may hold from before a change made by another process. */
    store_notify_changed(api->st);
    bool existed = store_member_get(api->st, m.room, m.subject, &old) == RK_OK;
    int rc = store_member_set(api->st, &m);
    if (rc == RK_ENOTFOUND)
        return errorf(resp, 404, "room \"%s\" not found", r->name);
    if (rc)
        return store_error(resp, rc);
    if (store_member_get(api->st, m.room, m.subject, &m) != RK_OK)
        return store_error(resp, RK_EIO);
    if (existed && strcmp(old.role, m.role) != 0)
        live_recorded(
            api->live,
            live_member_role_changed(api->st, m.room, m.subject, old.role, m.role, clock_now()),
            m.room, m.subject);
    rows out = {&m, 1, 0, 0};
    return respond(resp, existed ? 200 : 201, body_member, &out);
}

static int members_add(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    static const char *const fields[] = {"subject", "role", NULL};
    json_t *o = parse_body(req, resp, fields);
    if (!o)
        return RK_OK;
    char subject[STORE_MAX_NAME + 1] = "";
    if (require(o, (const char *const[]){"subject", NULL}, resp) &&
        get_text(o, "subject", subject, sizeof subject, name_error, resp))
        member_put(api, &t->room, subject, o, resp);
    json_decref(o);
    return RK_OK;
}

/* member_target authenticates and resolves the {room} and {subject}
 * parameters, or renders the error and returns false. */
static bool member_target(const api_ctx *api, const http_req *req, http_resp *resp, store_room *r,
                          const char **subject)
{
    return room_target(api, req, resp, r) &&
           path_param(req, resp, "subject", "member", name_error, subject);
}

/* member_failed renders a failed membership lookup or removal (rc). */
static int member_failed(http_resp *resp, int rc, const char *subject, const store_room *r)
{
    if (rc == RK_ENOTFOUND)
        return errorf(resp, 404, "\"%s\" is not a member of room \"%s\"", subject, r->name);
    return store_error(resp, rc);
}

/* member_put_body answers a PUT of subject's membership in room r: the
 * body is {"role"?} (see member_put). */
static int member_put_body(const api_ctx *api, const store_room *r, const char *subject,
                           const http_req *req, http_resp *resp)
{
    static const char *const fields[] = {"role", NULL};
    json_t *o = parse_body(req, resp, fields);
    if (o)
        member_put(api, r, subject, o, resp);
    json_decref(o);
    return RK_OK;
}

static int member_set(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    return member_put_body(api, &t->room, t->subject, req, resp);
}

static int member_show(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    store_member m;
    int rc = store_member_get(api->st, t->room.name, t->subject, &m);
    if (rc)
        return member_failed(resp, rc, t->subject, &t->room);
    rows out = {&m, 1, 0, 0};
    return respond(resp, 200, body_member, &out);
}

static int member_delete(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    int rc = store_member_remove(api->st, t->room.name, t->subject);
    if (rc)
        return member_failed(resp, rc, t->subject, &t->room);
    member_gone(api, t->room.name, t->subject);
    resp->status = 204;
    return RK_OK;
}

/* ---- audit ------------------------------------------------------------- */

/* query_int reads query parameter name as an integer in min..max. */
static bool query_int(const http_req *req, const char *name, int64_t min, int64_t max, int64_t *out,
                      http_resp *resp)
{
    const char *v = http_req_query(req, name);
    if (!v)
        return true;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < min || x > max)
        return refuse(resp, "%s must be a whole number from %lld to %lld", name, (long long)min,
                      (long long)max);
    *out = x;
    return true;
}

/* query_known renders 400 and returns false when the query has more than
 * MAX_QUERY parameters or one not in known (NULL-terminated). */
static bool query_known(const http_req *req, const char *const *known, http_resp *resp)
{
    const char *names[MAX_QUERY];
    size_t n = http_req_query_names(req, names, MAX_QUERY);
    if (n > MAX_QUERY)
        return refuse(resp, "too many query parameters");
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (known[k] && strcmp(names[i], known[k]) != 0)
            k++;
        if (known[k])
            continue;
        char list[128] = "";
        for (size_t j = 0, len = 0; known[j] && len < sizeof list; j++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", known[j]);
        return refuse(resp, "unknown query parameter \"%.64s\" (known: %s)", names[i], list);
    }
    return true;
}

/* audit_filter reads the audit query (room, subject, since, limit,
 * before_id; nothing else) into f, or renders 400. */
static bool audit_filter(const http_req *req, store_audit_filter *f, http_resp *resp)
{
    static const char *const known[] = {"room", "subject", "since", "limit", "before_id", NULL};
    if (!query_known(req, known, resp))
        return false;
    f->room = http_req_query(req, "room");
    f->subject = http_req_query(req, "subject");
    if ((f->room && name_error(f->room, strlen(f->room))) ||
        (f->subject && name_error(f->subject, strlen(f->subject))))
        return refuse(resp, "room and subject must be 1-256 bytes of UTF-8");
    const char *since = http_req_query(req, "since");
    int64_t ago = 0, limit = 100;
    if (since) {
        if (duration_parse_seconds(since, &ago) != RK_OK)
            return refuse(resp, "since must be a duration such as 30m, 1h or 24h");
        f->since = clock_now() - ago < 1 ? 1 : clock_now() - ago;
    }
    if (!query_int(req, "limit", 1, STORE_MAX_LIST, &limit, resp) ||
        !query_int(req, "before_id", 1, INT64_MAX, &f->before_id, resp))
        return false;
    f->limit = (size_t)limit;
    return true;
}

static int audit_list(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)t;
    store_audit_filter f = {0};
    if (!audit_filter(req, &f, resp))
        return RK_OK;
    store_audit *list = NULL;
    size_t n = 0;
    int rc = store_audit_list(api->st, &f, &list, &n);
    if (rc)
        return store_error(resp, rc);
    rows out = {list, n, f.limit, 0};
    respond(resp, 200, body_audit, &out);
    free(list);
    return RK_OK;
}

/* ---- meetings ---------------------------------------------------------- */

/* One meeting's answer: the meeting and its participants. */
typedef struct meeting_rows {
    const store_meeting *m;
    rows participants; /* store_member rows of its room */
} meeting_rows;

/* write_meeting writes a meeting object; participants NULL leaves them
 * out. */
static void write_meeting(jsonw *w, const store_meeting *m, const rows *participants)
{
    jsonw_obj_open(w);
    put_fields(w, m, meeting_fields, N_FIELDS(meeting_fields));
    if (participants)
        write_members(w, "participants", participants);
    jsonw_obj_close(w);
}

static void body_meeting(jsonw *w, const void *arg)
{
    const meeting_rows *r = arg;
    write_meeting(w, r->m, &r->participants);
}

/* meeting_row and meeting_cursor: a row of a meetings page, and its id. */
static void meeting_row(jsonw *w, const void *row)
{
    write_meeting(w, row, NULL);
}

static void meeting_cursor(jsonw *w, const void *row)
{
    jsonw_str(w, ((const store_meeting *)row)->id);
}

static void body_meetings(jsonw *w, const void *arg)
{
    write_page(w, arg, sizeof(store_meeting), "meetings", meeting_row, "next_after_id",
               meeting_cursor);
}

/* meeting_id_error returns why s (len bytes) is not a meeting id, or NULL. */
static const char *meeting_id_error(const char *s, size_t len)
{
    if (strlen(s) != len || !meeting_id_valid(s))
        return "must be 1-64 of A-Z, a-z, 0-9, '_', '-'";
    return NULL;
}

static const char *description_error(const char *s, size_t len)
{
    if (len > STORE_MAX_DESCRIPTION)
        return "is longer than 2048 bytes";
    return utf8_error(s, len);
}

/* get_status reads optional field "status" of o into dst (capacity
 * STORE_MAX_STATUS + 1): one of meeting_statuses, else 400 and false. */
static bool get_status(json_t *o, char *dst, http_resp *resp)
{
    json_t *v = json_object_get(o, "status");
    if (!v || json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    if (s && strlen(s) == json_string_length(v) && meeting_status_valid(s)) {
        snprintf(dst, STORE_MAX_STATUS + 1, "%s", s);
        return true;
    }
    char list[96];
    meeting_status_list(list, sizeof list);
    return refuse(resp, "status must be one of %s", list);
}

/* meeting_target authenticates and reads the {meeting_id} meeting into *m,
 * or renders the error (401/403/404) and returns false. */
static bool meeting_target(const api_ctx *api, const http_req *req, http_resp *resp,
                           store_meeting *m)
{
    const char *id;
    return authenticate(api, req, resp) &&
           path_param(req, resp, "meeting_id", "meeting", meeting_id_error, &id) &&
           found(resp, store_meeting_get(api->st, id, m), "meeting", id);
}

/* meeting_answer renders m with its participants, or the store error. */
static int meeting_answer(const api_ctx *api, const store_meeting *m, int status, http_resp *resp)
{
    store_member *p = NULL;
    size_t n = 0;
    int rc = store_member_list(api->st, m->room, &p, &n);
    if (rc)
        return store_error(resp, rc);
    meeting_rows out = {m, {p, n, 0, 0}};
    respond(resp, status, body_meeting, &out);
    free(p);
    return RK_OK;
}

static int meetings_list(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)t;
    static const char *const known[] = {"after_id", "limit", NULL};
    int64_t limit = 100;
    if (!query_known(req, known, resp) ||
        !query_int(req, "limit", 1, STORE_MAX_MEETING_LIST, &limit, resp))
        return RK_OK;
    const char *after = http_req_query(req, "after_id");
    const char *bad = after ? meeting_id_error(after, strlen(after)) : NULL;
    if (bad)
        return errorf(resp, 400, "after_id %s", bad);
    store_meeting *list = NULL;
    size_t n = 0;
    int rc = store_meeting_list(api->st, after, (size_t)limit, &list, &n);
    if (rc)
        return store_error(resp, rc);
    rows out = {list, n, (size_t)limit, 0};
    respond(resp, 200, body_meetings, &out);
    free(list);
    return RK_OK;
}

/* meetings_create adds a meeting with its room "meeting-{id}" and the
 * creator's membership, with the CLI's defaults (status PROCESSING, roles
 * member). */
static int meetings_create(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)t;
    static const char *const fields[] = {"meeting_id", "heading",      "description",      "status",
                                         "creator",    "creator_role", "participant_role", NULL};
    static const char *const required[] = {"meeting_id", "heading", "creator", NULL};
    json_t *o = parse_body(req, resp, fields);
    if (!o)
        return RK_OK;
    store_meeting m = {.status = "PROCESSING"};
    char creator_role[STORE_MAX_ROLE + 1] = "member";
    char participant_role[STORE_MAX_ROLE + 1] = "member";
    bool ok =
        require(o, required, resp) &&
        get_text(o, "meeting_id", m.id, sizeof m.id, meeting_id_error, resp) &&
        get_text(o, "heading", m.heading, sizeof m.heading, name_error, resp) &&
        get_text(o, "description", m.description, sizeof m.description, description_error, resp) &&
        get_status(o, m.status, resp) &&
        get_text(o, "creator", m.creator, sizeof m.creator, name_error, resp) &&
        get_role(api, o, "creator_role", creator_role, resp) &&
        get_role(api, o, "participant_role", participant_role, resp);
    json_decref(o);
    if (!ok)
        return RK_OK;
    meeting_room_name(m.id, m.room, sizeof m.room);
    int rc = store_meeting_create(api->st, &m, creator_role, participant_role);
    if (rc == RK_ECONFLICT) {
        store_meeting old;
        if (store_meeting_get(api->st, m.id, &old) == RK_OK)
            return errorf(resp, 409, "meeting \"%s\" exists", m.id);
        return errorf(resp, 409, "room \"%s\" exists (a meeting's room is meeting-{id})", m.room);
    }
    if (!rc)
        rc = store_meeting_get(api->st, m.id, &m);
    return rc ? store_error(resp, rc) : meeting_answer(api, &m, 201, resp);
}

static int meeting_show(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    return meeting_answer(api, &t->meeting, 200, resp);
}

/* meeting_set answers PUT of a meeting: the body is {"status"}, the one
 * thing about a meeting that changes (as with the meetings family's own
 * status route). */
static int meeting_set(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    store_meeting *m = &t->meeting;
    static const char *const fields[] = {"status", NULL};
    json_t *o = parse_body(req, resp, fields);
    bool ok = o && require(o, fields, resp) && get_status(o, m->status, resp);
    json_decref(o);
    if (!ok)
        return RK_OK;
    int rc = store_meeting_set_status(api->st, m->id, m->status);
    if (!rc)
        rc = store_meeting_get(api->st, m->id, m);
    if (!rc)
        live_recorded(api->live, live_meeting_changed(api->st, m->room, clock_now()), m->room,
                      NULL);
    return found(resp, rc, "meeting", m->id) ? meeting_answer(api, m, 200, resp) : RK_OK;
}

static int meeting_delete(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    if (!found(resp, store_meeting_delete(api->st, t->meeting.id), "meeting", t->meeting.id))
        return RK_OK;
    live_recorded(api->live, live_room_deleted(api->st, t->meeting.room, clock_now()),
                  t->meeting.room, NULL);
    resp->status = 204;
    return RK_OK;
}

/* participant_target authenticates and resolves the {meeting_id} and
 * {subject} parameters, or renders the error and returns false. */
static bool participant_target(const api_ctx *api, const http_req *req, http_resp *resp,
                               store_meeting *m, const char **subject)
{
    return meeting_target(api, req, resp, m) &&
           path_param(req, resp, "subject", "participant", name_error, subject);
}

/* participant_set adds or changes a participant: a membership of the
 * meeting's room, with its default (participant) role unless the body's
 * "role" says otherwise, as `roomkey meeting participant add` does. */
static int participant_set(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    if (!found(resp, store_room_get(api->st, t->meeting.room, &t->room), "meeting", t->meeting.id))
        return RK_OK;
    return member_put_body(api, &t->room, t->subject, req, resp);
}

/* participant_delete removes a participant; the creator stays (409), as
 * with `roomkey meeting participant remove`. */
static int participant_delete(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    const store_meeting *m = &t->meeting;
    const char *subject = t->subject;
    if (strcmp(subject, m->creator) == 0)
        return errorf(resp, 409,
                      "\"%s\" created meeting \"%s\" and can't be removed from it (delete the "
                      "meeting instead)",
                      subject, m->id);
    int rc = store_member_remove(api->st, m->room, subject);
    if (rc == RK_ENOTFOUND)
        return errorf(resp, 404, "\"%s\" is not a participant of meeting \"%s\"", subject, m->id);
    if (rc)
        return store_error(resp, rc);
    member_gone(api, m->room, subject);
    resp->status = 204;
    return RK_OK;
}

/* ---- status ------------------------------------------------------------ */

/* body_status writes the service's status: version, readiness, LiveKit
 * URL and key ids, route families, roles, console. Never a secret: key ids are
 * the tokens' public "iss", the URL is what clients are told already. */
static void body_status(jsonw *w, const void *arg)
{
    const api_ctx *api = arg;
    const config *cfg = api->cfg;
    bool ready;
    jsonw_obj_open(w);
    JSONW_KEY(w, "version");
    jsonw_str(w, rk_version());
    JSONW_KEY(w, "commit");
    jsonw_str(w, rk_commit());
    probes_checks(api, w, &ready);
    JSONW_KEY(w, "livekit");
    jsonw_obj_open(w);
    JSONW_KEY(w, "url");
    text_or_null(w, cfg->livekit_url);
    JSONW_KEY(w, "key_ids");
    jsonw_arr_open(w);
    for (size_t i = 0; cfg->keys && i < keyring_count(cfg->keys); i++)
        jsonw_str(w, keyring_at(cfg->keys, i)->id);
    jsonw_arr_close(w);
    JSONW_KEY(w, "signing_key_id");
    const keyring_entry *signer = cfg->keys ? keyring_signer(cfg->keys) : NULL;
    text_or_null(w, signer ? signer->id : "");
    jsonw_obj_close(w);
    JSONW_KEY(w, "families");
    jsonw_obj_open(w);
    for (size_t f = 0; f < families_count(); f++) {
        jsonw_key(w, families_at(f)->name);
        jsonw_bool(w, families_on(cfg, families_at(f)));
    }
    jsonw_obj_close(w);
    JSONW_KEY(w, "roles");
    jsonw_arr_open(w);
    for (size_t i = 0; i < cfg->n_roles; i++)
        jsonw_str(w, cfg->roles[i].name);
    jsonw_arr_close(w);
    JSONW_KEY(w, "console");
    jsonw_bool(w, cfg->console.enabled);
    put_int(w, "time", clock_now());
    jsonw_obj_close(w);
}

static int status_show(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req, (void)t;
    return respond(resp, 200, body_status, api);
}

/* ---- live participants ------------------------------------------------ */

static void body_presence(jsonw *w, const void *arg)
{
    const rows *r = arg;
    const store_presence *p = r->v;
    jsonw_obj_open(w);
    jsonw_key(w, "participants");
    jsonw_arr_open(w);
    for (size_t i = 0; i < r->n; i++)
        write_record(w, &p[i], presence_fields, N_FIELDS(presence_fields));
    jsonw_arr_close(w);
    jsonw_obj_close(w);
}

/* participants_list answers who is in the room (presence). */
static int participants_list(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    (void)req;
    store_presence *p = NULL;
    size_t n = 0;
    int rc = store_presence_list(api->st, t->room.name, &p, &n);
    if (rc)
        return store_error(resp, rc);
    rows out = {p, n, 0, 0};
    respond(resp, 200, body_presence, &out);
    free(p);
    return RK_OK;
}

/* participant_kick records a kick (and a ban for the body's "ban"
 * duration) and answers 202: the worker carries it out. */
static int participant_kick(const api_ctx *api, const http_req *req, http_resp *resp, target *t)
{
    const store_room *r = &t->room;
    const char *identity;
    if (!path_param(req, resp, "identity", "participant", name_error, &identity))
        return RK_OK;
    int64_t ban = 0, now = clock_now();
    if (req->body_len) {
        static const char *const fields[] = {"ban", NULL};
        json_t *o = parse_body(req, resp, fields);
        if (!o)
            return RK_OK;
        const char *b = json_string_value(json_object_get(o, "ban"));
        bool ok = !json_object_get(o, "ban") ||
                  (b && duration_parse_seconds(b, &ban) == RK_OK && ban > 0 && ban <= 31536000);
        json_decref(o);
        if (!ok)
            return errorf(resp, 400, "ban must be a duration such as \"10m\" (at most a year)");
    }
    if (!api->live)
        return errorf(resp, 503, "live rooms are not running");
    int rc = live_kick(api->live, r->name, identity, "admin_kick", ban ? now + ban : 0, now);
    if (rc)
        return store_error(resp, rc);
    char body[STORE_MAX_NAME * 2 + 128];
    jsonw w;
    jsonw_init(&w, body, sizeof body);
    jsonw_obj_open(&w);
    put_text(&w, "room", r->name);
    put_text(&w, "identity", identity);
    put_int(&w, "ban_until", ban ? now + ban : 0);
    jsonw_obj_close(&w);
    return w.err ? store_error(resp, w.err) : http_resp_json(resp, 202, body, w.len);
}

/* ---- routes ------------------------------------------------------------ */

/* resolve authenticates the caller and fills t as on says, or renders the
 * error (401/403/404) and returns false. */
static bool resolve(const api_ctx *api, const http_req *req, http_resp *resp, target_kind on,
                    target *t)
{
    switch (on) {
    case ON_ROOM:
        return room_target(api, req, resp, &t->room);
    case ON_MEMBER:
        return member_target(api, req, resp, &t->room, &t->subject);
    case ON_MEETING:
        return meeting_target(api, req, resp, &t->meeting);
    case ON_PARTICIPANT:
        return participant_target(api, req, resp, &t->meeting, &t->subject);
    default:
        return authenticate(api, req, resp);
    }
}

/* An admin route: its action runs on the target resolve found. */
typedef struct admin_route {
    const char *method, *path, *label;
    bool json_body;
    target_kind on;
    int (*act)(const api_ctx *api, const http_req *req, http_resp *resp, target *t);
} admin_route;

#define ROOM    "/admin/v1/rooms/{room}"
#define MEETING "/admin/v1/meetings/{meeting_id}"

static const admin_route ROUTES[] = {
    {"GET", "/admin/v1/rooms", "admin.rooms.list", false, ON_SERVICE, rooms_list},
    {"POST", "/admin/v1/rooms", "admin.rooms.create", true, ON_SERVICE, rooms_create},
    {"GET", ROOM, "admin.rooms.show", false, ON_ROOM, room_show},
    {"PUT", ROOM, "admin.rooms.update", true, ON_ROOM, room_update},
    {"DELETE", ROOM, "admin.rooms.delete", false, ON_ROOM, room_delete},
    {"GET", ROOM "/members", "admin.members.list", false, ON_ROOM, members_list},
    {"POST", ROOM "/members", "admin.members.add", true, ON_ROOM, members_add},
    {"GET", ROOM "/members/{subject}", "admin.members.show", false, ON_MEMBER, member_show},
    {"PUT", ROOM "/members/{subject}", "admin.members.set", true, ON_MEMBER, member_set},
    {"DELETE", ROOM "/members/{subject}", "admin.members.delete", false, ON_MEMBER, member_delete},
    {"GET", "/admin/v1/meetings", "admin.meetings.list", false, ON_SERVICE, meetings_list},
    {"POST", "/admin/v1/meetings", "admin.meetings.create", true, ON_SERVICE, meetings_create},
    {"GET", MEETING, "admin.meetings.show", false, ON_MEETING, meeting_show},
    {"PUT", MEETING, "admin.meetings.set", true, ON_MEETING, meeting_set},
    {"DELETE", MEETING, "admin.meetings.delete", false, ON_MEETING, meeting_delete},
    {"PUT", MEETING "/participants/{subject}", "admin.participants.set", true, ON_PARTICIPANT,
     participant_set},
    {"DELETE", MEETING "/participants/{subject}", "admin.participants.delete", false,
     ON_PARTICIPANT, participant_delete},
    {"GET", "/admin/v1/audit", "admin.audit.list", false, ON_SERVICE, audit_list},
    {"GET", "/admin/v1/status", "admin.status", false, ON_SERVICE, status_show},
    {"GET", ROOM "/participants", "admin.live.list", false, ON_ROOM, participants_list},
    {"POST", ROOM "/participants/{identity}/kick", "admin.live.kick", false, ON_ROOM,
     participant_kick},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* admin_handler serves every admin route: it finds req's route by its
 * label, resolves the route's target, then runs its action. */
static int admin_handler(void *ctx, const http_req *req, http_resp *resp)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (strcmp(ROUTES[i].label, req->route) != 0)
            continue;
        target t;
        if (!resolve(ctx, req, resp, ROUTES[i].on, &t))
            return RK_OK;
        return ROUTES[i].act(ctx, req, resp, &t);
    }
    return RK_EINVAL; /* not an admin route: the server answers 500 */
}

int api_admin_register(http_server *s, api_ctx *api)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        const admin_route *r = &ROUTES[i];
        const http_route hr = {r->method, r->path,      r->label,       admin_handler,
                               api,       r->json_body, api_admin_error};
        int rc = http_server_add(s, &hr);
        if (rc)
            return rc;
    }
    return RK_OK;
}
