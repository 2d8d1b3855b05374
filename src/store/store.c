/* store.c - the store front end: picks a backend from the URL, checks every
 * argument against the limits in store.h, then calls the backend through
 * st->ops. Backends may therefore assume well-formed input. */
#include "store.h"
#include "../util/duration.h"
#include "../util/err.h"
#include "audit_queue.h"
#include "lookup_cache.h"
#include "store_pg.h"
#include "store_sqlite.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How long a cached room or membership lookup may be used. A change made
 * by another process (the CLI, another instance without a change feed) is
 * seen within this time; DESIGN.md allows one second. */
#define LOOKUP_TTL_MS     500
#define PRUNE_REST_MAX_NS 100000000L /* 100 ms: the longest rest between two prune steps */

struct store_front {
    lookup_cache *cache;
    audit_queue *audit;
};

/* check_name accepts a non-empty C string of at most max bytes. */
static int check_name(const char *s, size_t max)
{
    if (!s || !*s)
        return RK_EINVAL;
    return strnlen(s, max + 1) > max ? RK_ETOOBIG : RK_OK;
}

/* check_pair accepts a room name and a subject or identity (check_name). */
static int check_pair(const char *room, const char *who)
{
    int rc = check_name(room, STORE_MAX_NAME);
    return rc ? rc : check_name(who, STORE_MAX_NAME);
}

/* check_field accepts a string held in a char array of cap bytes: it must be
 * NUL-terminated inside the array, and non-empty when required. */
static int check_field(const char *s, size_t cap, bool required)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return RK_ETOOBIG;
    return required && n == 0 ? RK_EINVAL : RK_OK;
}

/* is_pg_url: url names a PostgreSQL server (libpq's URL schemes). */
static bool is_pg_url(const char *url)
{
    return strncasecmp(url, "postgres://", 11) == 0 || strncasecmp(url, "postgresql://", 13) == 0;
}

/* is_password_key: the n bytes at k, percent-decoded as libpq does, are
 * the parameter name "password". */
static bool is_password_key(const char *k, size_t n)
{
    static const char want[] = "password";
    size_t j = 0;
    for (size_t i = 0; i < n; i++, j++) {
        int ch = (unsigned char)k[i];
        if (ch == '%' && i + 2 < n && isxdigit((unsigned char)k[i + 1]) &&
            isxdigit((unsigned char)k[i + 2])) {
            char hex[3] = {k[i + 1], k[i + 2], '\0'};
            ch = (int)strtol(hex, NULL, 16);
            i += 2;
        }
        if (j >= sizeof want - 1 || ch != want[j])
            return false;
    }
    return j == sizeof want - 1;
}

/* next_secret returns the first password in PostgreSQL URL url that
 * starts at or after from (a pointer into url), its length in *n; NULL
 * when there is none. Passwords are the user:password@ part (libpq ends
 * the user part at the first '@' or '/') and the values of password=
 * parameters after the '?'. */
static const char *next_secret(const char *url, const char *from, size_t *n)
{
    const char *host = strstr(url, "://") + 3;
    size_t u = strcspn(host, "@/");
    if (host[u] == '@') {
        const char *colon = memchr(host, ':', u);
        if (colon && colon + 1 >= from) {
            *n = (size_t)(host + u - (colon + 1));
            return colon + 1;
        }
        host += u + 1;
    }
    const char *p = strchr(host, '?');
    while (p && *p) {
        p++; /* past '?' or '&' */
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        if (eq && eq + 1 >= from && is_password_key(p, (size_t)(eq - p))) {
            *n = (size_t)(p + len - (eq + 1));
            return eq + 1;
        }
        p += len;
    }
    return NULL;
}

/* put appends n bytes of s to out (capacity cap > 0) at *len, cutting to
 * fit; out stays NUL-terminated. */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
}

void store_url_redact(const char *url, char *out, size_t cap)
{
    if (!out || !cap)
        return;
    out[0] = '\0';
    if (!url)
        return;
    size_t len = 0, n = 0;
    const char *p = url, *from = url, *sec;
    while (is_pg_url(url) && (sec = next_secret(url, from, &n))) {
        put(out, cap, &len, p, (size_t)(sec - p));
        put(out, cap, &len, "***", 3);
        p = sec + n;
        if (!*p)
            break;
        from = p + 1; /* past the '@' or '&' that ends it */
    }
    put(out, cap, &len, p, strlen(p));
}

/* scrub replaces, in why (capacity cap), every copy of a password of
 * PostgreSQL URL url with "***": a libpq message may quote part of the URL
 * (e.g. a bad percent-encoding). */
static void scrub(const char *url, char *why, size_t cap)
{
    size_t n;
    if (!why || !cap)
        return;
    char *tmp = malloc(cap);
    if (!tmp) {
        why[0] = '\0'; /* no message rather than one that may hold the password */
        return;
    }
    const char *from = url, *sec;
    while ((sec = next_secret(url, from, &n))) {
        size_t len = 0;
        const char *p = why, *hit;
        while (n && (hit = memmem(p, strlen(p), sec, n))) {
            put(tmp, cap, &len, p, (size_t)(hit - p));
            put(tmp, cap, &len, "***", 3);
            p = hit + n;
        }
        put(tmp, cap, &len, p, strlen(p));
        memcpy(why, tmp, len + 1);
        if (!sec[n])
            break;
        from = sec + n + 1; /* past the '@' or '&' that ends it */
    }
    free(tmp);
}

int store_timeout_parse(const char *text, int64_t *seconds)
{
    int64_t s = 0;
    if (!text || duration_parse_whole_seconds(text, &s) || s < STORE_MIN_TIMEOUT_S ||
        s > STORE_MAX_TIMEOUT_S)
        return RK_EINVAL;
    *seconds = s;
    return RK_OK;
}

int store_open(const char *url, store **out, char *why, size_t why_cap)
{
    return store_open_with(url, NULL, out, why, why_cap);
}

int store_open_with(const char *url, const store_options *o, store **out, char *why, size_t why_cap)
{
    store_options opt = o ? *o : (store_options){0};
    if (opt.timeout_ms <= 0)
        opt.timeout_ms = STORE_DEFAULT_TIMEOUT_MS;
    if (opt.timeout_ms > STORE_MAX_TIMEOUT_MS)
        opt.timeout_ms = STORE_MAX_TIMEOUT_MS;
    if (why && why_cap)
        why[0] = '\0';
    if (!out)
        return rk_fail(RK_EINVAL, why, why_cap, "no place for the store");
    *out = NULL;
    if (!url || !*url)
        return rk_fail(RK_EINVAL, why, why_cap, "empty database URL");
    bool pg = is_pg_url(url);
    store *st = NULL;
    int rc = (pg ? &store_pg_ops : &store_sqlite_ops)->open(url, &opt, &st, why, why_cap);
    if (rc != RK_OK) {
        if (pg)
            scrub(url, why, why_cap);
        return rc;
    }
    store_front *f = calloc(1, sizeof *f);
    if (!f || lookup_cache_new(LOOKUP_TTL_MS, &f->cache) != RK_OK ||
        audit_queue_new(st, &f->audit) != RK_OK) {
        if (f)
            lookup_cache_free(f->cache);
        free(f);
        st->ops->close(st);
        return rk_fail(RK_ENOMEM, why, why_cap, "out of memory");
    }
    st->front = f;
    if (st->ops->start && (rc = st->ops->start(st)) != RK_OK) {
        rk_fail(rc, why, why_cap, "cannot start the %s change feed", st->ops->name);
        store_close(st);
    } else {
        *out = st;
    }
    return rc;
}

void store_close(store *st)
{
    if (!st)
        return;
    store_front *f = st->front;
    if (f)
        audit_queue_free(f->audit); /* commits what is queued */
    st->ops->close(st);             /* stops a change feed before the cache goes */
    if (f) {
        lookup_cache_free(f->cache);
        free(f);
    }
}

void store_notify_changed(store *st)
{
    if (st && st->front)
        lookup_cache_invalidate(st->front->cache);
}

/* changed drops cached lookups after a write through this process and
 * passes the write's result on. */
static int changed(store *st, int rc)
{
    store_notify_changed(st);
    return rc;
}

bool store_unreachable(store *st)
{
    return st && st->ops->unreachable && st->ops->unreachable(st);
}

void store_pass_conn(store *st)
{
    if (st && st->ops->pass_conn)
        st->ops->pass_conn(st);
}

int store_ping(store *st)
{
    if (!st)
        return RK_EINVAL;
    return st->ops->ping(st);
}

int store_room_get(store *st, const char *name_or_alias, store_room *out)
{
    if (!st || !out)
        return RK_EINVAL;
    int rc = check_name(name_or_alias, STORE_MAX_NAME);
    if (rc)
        return rc;
    uint64_t gen;
    if (lookup_cache_room(st->front->cache, name_or_alias, out, &rc, &gen))
        return rc;
    rc = st->ops->room_get(st, name_or_alias, out);
    lookup_cache_room_put(st->front->cache, gen, name_or_alias, rc, out);
    return rc;
}

/* room_fields_valid checks what room_create and room_update store. */
static int room_fields_valid(const store_room *r)
{
    int rc;
    if ((rc = check_field(r->name, sizeof r->name, true)) ||
        (rc = check_field(r->alias, sizeof r->alias, false)) ||
        (rc = check_field(r->default_role, sizeof r->default_role, false)))
        return rc;
    if (r->mode != STORE_MODE_MEMBERS && r->mode != STORE_MODE_AUTHENTICATED)
        return RK_EINVAL;
    if (r->max_participants < 0 || r->max_ttl < 0)
        return RK_EINVAL;
    return RK_OK;
}

int store_room_create(store *st, const store_room *r)
{
    if (!st || !r)
        return RK_EINVAL;
    int rc = room_fields_valid(r);
    return rc ? rc : changed(st, st->ops->room_create(st, r));
}

int store_room_update(store *st, const store_room *r)
{
    if (!st || !r)
        return RK_EINVAL;
    int rc = room_fields_valid(r);
    return rc ? rc : changed(st, st->ops->room_update(st, r));
}

int store_room_delete(store *st, const char *name)
{
    if (!st)
        return RK_EINVAL;
    int rc = check_name(name, STORE_MAX_NAME);
    if (rc)
        return rc;
    return changed(st, st->ops->room_delete(st, name));
}

int store_room_list(store *st, store_room **out, size_t *n)
{
    if (!st || !out || !n)
        return RK_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->room_list(st, out, n);
}

int store_member_get(store *st, const char *room, const char *subject, store_member *out)
{
    if (!st || !out)
        return RK_EINVAL;
    int rc = check_pair(room, subject);
    if (rc)
        return rc;
    uint64_t gen;
    if (lookup_cache_member(st->front->cache, room, subject, out, &rc, &gen))
        return rc;
    rc = st->ops->member_get(st, room, subject, out);
    lookup_cache_member_put(st->front->cache, gen, room, subject, rc, out);
    return rc;
}

int store_member_set(store *st, const store_member *m)
{
    if (!st || !m)
        return RK_EINVAL;
    int rc;
    if ((rc = check_field(m->room, sizeof m->room, true)) ||
        (rc = check_field(m->subject, sizeof m->subject, true)) ||
        (rc = check_field(m->role, sizeof m->role, true)))
        return rc;
    return changed(st, st->ops->member_set(st, m));
}

int store_member_remove(store *st, const char *room, const char *subject)
{
    if (!st)
        return RK_EINVAL;
    int rc = check_pair(room, subject);
    if (rc)
        return rc;
    return changed(st, st->ops->member_remove(st, room, subject));
}

int store_member_list(store *st, const char *room, store_member **out, size_t *n)
{
    if (!st || !out || !n)
        return RK_EINVAL;
    *out = NULL;
    *n = 0;
    int rc = check_name(room, STORE_MAX_NAME);
    if (rc)
        return rc;
    return st->ops->member_list(st, room, out, n);
}

/* check_audit checks every field of a against its limit. */
static int check_audit(const store_audit *a)
{
    int rc;
    if ((rc = check_field(a->jti, sizeof a->jti, true)) ||
        (rc = check_field(a->subject, sizeof a->subject, false)) ||
        (rc = check_field(a->identity, sizeof a->identity, false)) ||
        (rc = check_field(a->room, sizeof a->room, false)) ||
        (rc = check_field(a->role, sizeof a->role, false)) ||
        (rc = check_field(a->grants, sizeof a->grants, false)) ||
        (rc = check_field(a->client_ip, sizeof a->client_ip, false)) ||
        (rc = check_field(a->route, sizeof a->route, false)))
        return rc;
    return RK_OK;
}

int store_audit_submit(store *st, const store_audit *a, void (*done)(void *arg, int rc), void *arg)
{
    if (!st || !a || !done)
        return RK_EINVAL;
    int rc = check_audit(a);
    return rc ? rc : audit_queue_submit(st->front->audit, a, done, arg);
}

int store_audit_start(store *st)
{
    return st ? audit_queue_start(st->front->audit) : RK_EINVAL;
}

int store_audit_add(store *st, const store_audit *a)
{
    if (!st || !a)
        return RK_EINVAL;
    int rc = check_audit(a);
    return rc ? rc : audit_queue_add(st->front->audit, a);
}

int store_audit_list(store *st, const store_audit_filter *f, store_audit **out, size_t *n)
{
    if (!st || !out || !n)
        return RK_EINVAL;
    *out = NULL;
    *n = 0;
    store_audit_filter g = {0};
    if (f)
        g = *f;
    int rc;
    if (g.room && (rc = check_name(g.room, STORE_MAX_NAME)))
        return rc;
    if (g.subject && (rc = check_name(g.subject, STORE_MAX_NAME)))
        return rc;
    if (g.since < 0 || g.before_id < 0 || g.limit > STORE_MAX_LIST)
        return RK_EINVAL;
    if (g.limit == 0)
        g.limit = 100;
    return st->ops->audit_list(st, &g, out, n);
}

int store_audit_prune(store *st, int64_t before, size_t window, store_prune_step between, void *arg,
                      size_t *deleted)
{
    size_t total = 0;
    if (deleted)
        *deleted = 0;
    if (!st || window > STORE_PRUNE_MAX_WINDOW)
        return RK_EINVAL;
    if (window == 0)
        window = STORE_PRUNE_WINDOW;
    int64_t cursor = 0;
    int rc;
    for (;;) {
        size_t n = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = st->ops->audit_prune(st, before, window, &cursor, &n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        total += n;
        if (deleted)
            *deleted = total;
        if (rc || n == 0 || cursor == 0 || (between && !between(arg, total)))
            break;
        /* Rest as long as the step took (at most PRUNE_REST_MAX_NS): the
         * audit writer, in this process or another, gets the lock in
         * between, whoever the lock's wake-up order favours. */
        int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
        struct timespec rest = {0, ns < PRUNE_REST_MAX_NS ? (long)ns : PRUNE_REST_MAX_NS};
        nanosleep(&rest, NULL);
    }
    return rc;
}

int store_seat_claim(store *st, const store_seat *s, int64_t now)
{
    if (!st || !s)
        return RK_EINVAL;
    int rc;
    if ((rc = check_field(s->room, sizeof s->room, true)) ||
        (rc = check_field(s->subject, sizeof s->subject, true)))
        return rc;
    if (s->seat < 1 || s->seat > STORE_MAX_SEATS || s->exp <= now)
        return RK_EINVAL;
    return st->ops->seat_claim(st, s, now);
}

int store_seat_release(store *st, const char *room, int64_t seat, const char *subject, int64_t now)
{
    if (!st || seat < 0 || seat > STORE_MAX_SEATS || (seat == 0 && !subject))
        return RK_EINVAL;
    int rc;
    if ((rc = check_name(room, STORE_MAX_NAME)) ||
        (subject && (rc = check_name(subject, STORE_MAX_NAME))))
        return rc;
    return st->ops->seat_release(st, room, seat, subject, now);
}

int store_seat_list(store *st, const char *room, int64_t now, store_seat **out, size_t *n)
{
    if (!st || !out || !n)
        return RK_EINVAL;
    *out = NULL;
    *n = 0;
    int rc = check_name(room, STORE_MAX_NAME);
    if (rc)
        return rc;
    return st->ops->seat_list(st, room, now, out, n);
}

int store_meeting_create(store *st, const store_meeting *m, const char *creator_role,
                         const char *participant_role)
{
    if (!st || !m)
        return RK_EINVAL;
    int rc;
    if ((rc = check_field(m->id, sizeof m->id, true)) ||
        (rc = check_field(m->room, sizeof m->room, true)) ||
        (rc = check_field(m->heading, sizeof m->heading, true)) ||
        (rc = check_field(m->description, sizeof m->description, false)) ||
        (rc = check_field(m->status, sizeof m->status, true)) ||
        (rc = check_field(m->creator, sizeof m->creator, true)) ||
        (rc = check_name(creator_role, STORE_MAX_ROLE)) ||
        (rc = check_name(participant_role, STORE_MAX_ROLE)))
        return rc;
    return changed(st, st->ops->meeting_create(st, m, creator_role, participant_role));
}

int store_meeting_get(store *st, const char *id, store_meeting *out)
{
    if (!st || !out)
        return RK_EINVAL;
    int rc = check_name(id, STORE_MAX_MEETING_ID);
    if (rc)
        return rc;
    return st->ops->meeting_get(st, id, out);
}

int store_meeting_set_status(store *st, const char *id, const char *status)
{
    if (!st)
        return RK_EINVAL;
    int rc;
    if ((rc = check_name(id, STORE_MAX_MEETING_ID)) || (rc = check_name(status, STORE_MAX_STATUS)))
        return rc;
    return changed(st, st->ops->meeting_set_status(st, id, status)); /* may close its room */
}

int store_meeting_delete(store *st, const char *id)
{
    if (!st)
        return RK_EINVAL;
    int rc = check_name(id, STORE_MAX_MEETING_ID);
    if (rc)
        return rc;
    return changed(st, st->ops->meeting_delete(st, id));
}

int store_meeting_list(store *st, const char *after_id, size_t limit, store_meeting **out,
                       size_t *n)
{
    if (!st || !out || !n)
        return RK_EINVAL;
    *out = NULL;
    *n = 0;
    int rc;
    if (after_id && (rc = check_name(after_id, STORE_MAX_MEETING_ID)))
        return rc;
    if (limit > STORE_MAX_MEETING_LIST)
        return RK_EINVAL;
    return st->ops->meeting_list(st, after_id, limit ? limit : 100, out, n);
}

/* ---- live rooms ------------------------------------------------------ */

int store_presence_apply(store *st, const store_presence *p)
{
    if (!st || !p || p->left_at < STORE_PRESENT)
        return RK_EINVAL;
    int rc;
    if ((rc = check_field(p->sid, sizeof p->sid, true)) ||
        (rc = check_field(p->room, sizeof p->room, true)) ||
        (rc = check_field(p->identity, sizeof p->identity, true)) ||
        (rc = check_field(p->name, sizeof p->name, false)) ||
        (rc = check_field(p->kind, sizeof p->kind, false)))
        return rc;
    return st->ops->presence_apply(st, p);
}

int store_presence_list(store *st, const char *room, store_presence **out, size_t *n)
{
    if (!st || !out || !n)
        return RK_EINVAL;
    *out = NULL;
    *n = 0;
    int rc;
    if (room && (rc = check_name(room, STORE_MAX_NAME)))
        return rc;
    return st->ops->presence_list(st, room, out, n);
}

bool store_presence_has(store *st, const char *room, const char *identity)
{
    store_presence *ps = NULL;
    size_t n = 0;
    bool in = false;
    if (store_presence_list(st, room, &ps, &n) == RK_OK)
        for (size_t i = 0; i < n && !in; i++)
            in = strcmp(ps[i].identity, identity) == 0;
    free(ps);
    return in;
}

int store_occupancy(store *st, const char *room, int64_t since, int64_t *present, int64_t *pending)
{
    if (!st || !present || !pending)
        return RK_EINVAL;
    int rc = check_name(room, STORE_MAX_NAME);
    return rc ? rc : st->ops->occupancy(st, room, since, present, pending);
}

int store_event_record(store *st, const char *id, int64_t now)
{
    if (!st)
        return RK_EINVAL;
    int rc = check_name(id, STORE_MAX_EVENT);
    return rc ? rc : st->ops->event_record(st, id, now);
}

int store_event_seen(store *st, const char *id, bool *seen)
{
    if (!st || !seen)
        return RK_EINVAL;
    *seen = false;
    int64_t n = 0;
    int rc = check_name(id, STORE_MAX_EVENT);
    if (!rc && (rc = st->ops->event_seen(st, id, &n)) == RK_OK)
        *seen = n > 0;
    return rc;
}

int store_event_forget(store *st, const char *id)
{
    if (!st)
        return RK_EINVAL;
    int rc = check_name(id, STORE_MAX_EVENT);
    return rc ? rc : st->ops->event_forget(st, id);
}

int store_action_add(store *st, const store_action *a)
{
    if (!st || !a || a->until < 0 || a->ban_until < 0)
        return RK_EINVAL;
    if (strcmp(a->kind, "kick") != 0 && strcmp(a->kind, "update") != 0)
        return RK_EINVAL;
    int rc;
    if ((rc = check_field(a->room, sizeof a->room, true)) ||
        (rc = check_field(a->identity, sizeof a->identity, true)) ||
        (rc = check_field(a->role, sizeof a->role, false)) ||
        (rc = check_field(a->from_role, sizeof a->from_role, false)) ||
        (rc = check_field(a->reason, sizeof a->reason, true)))
        return rc;
    return st->ops->action_add(st, a);
}

int store_action_list(store *st, const store_action_filter *f, store_action **out, size_t *n)
{
    if (!st || !f || !out || !n)
        return RK_EINVAL;
    *out = NULL;
    *n = 0;
    int rc;
    if ((f->room && (rc = check_name(f->room, STORE_MAX_NAME))) ||
        (f->identity && (rc = check_name(f->identity, STORE_MAX_NAME))))
        return rc;
    return st->ops->action_list(st, f, out, n);
}

int store_action_claim(store *st, int64_t id, int64_t now)
{
    return st && id > 0 ? st->ops->action_claim(st, id, now) : RK_EINVAL;
}

int store_audit_issued_by(store *st, const char *room, const char *identity, int64_t at_most,
                          int64_t *at)
{
    if (!st || !at)
        return RK_EINVAL;
    int rc = check_pair(room, identity);
    return rc ? rc : st->ops->audit_last_issued(st, room, identity, at_most, at);
}

int store_audit_last_issued(store *st, const char *room, const char *identity, int64_t *at)
{
    return store_audit_issued_by(st, room, identity, INT64_MAX, at);
}

int store_ban_until(store *st, const char *room, const char *identity, int64_t *until)
{
    if (!st || !until)
        return RK_EINVAL;
    int rc = check_pair(room, identity);
    return rc ? rc : st->ops->ban_until(st, room, identity, until);
}

int store_live_prune(store *st, int64_t before, int64_t actions_before)
{
    return st ? st->ops->live_prune(st, before, actions_before) : RK_EINVAL;
}
