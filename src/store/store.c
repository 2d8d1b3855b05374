/* store.c - the store front end: picks a backend from the URL, checks every
 * argument against the limits in store.h, then calls the backend through
 * st->ops. Backends may therefore assume well-formed input. */
#include "store.h"
#include "../util/err.h"
#include "audit_queue.h"
#include "lookup_cache.h"
#include "store_sqlite.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How long a cached room or membership lookup may be used. A change made
 * by another process (the CLI, another instance without a change feed) is
 * seen within this time; DESIGN.md allows one second. */
#define LOOKUP_TTL_MS 500

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

/* check_field accepts a string held in a char array of cap bytes: it must be
 * NUL-terminated inside the array, and non-empty when required. */
static int check_field(const char *s, size_t cap, bool required)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return RK_ETOOBIG;
    return required && n == 0 ? RK_EINVAL : RK_OK;
}

int store_open(const char *url, store **out, char *why, size_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    if (!out)
        return rk_fail(RK_EINVAL, why, why_cap, "no place for the store");
    *out = NULL;
    if (!url || !*url)
        return rk_fail(RK_EINVAL, why, why_cap, "empty database URL");
    if (strncasecmp(url, "postgres://", 11) == 0 || strncasecmp(url, "postgresql://", 13) == 0)
        return rk_fail(RK_EINVAL, why, why_cap, "PostgreSQL store not built yet");
    store *st = NULL;
    int rc = store_sqlite_ops.open(url, &st, why, why_cap);
    if (rc != RK_OK)
        return rc;
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
    *out = st;
    return RK_OK;
}

void store_close(store *st)
{
    if (!st)
        return;
    if (st->front) {
        audit_queue_free(st->front->audit); /* commits what is queued */
        lookup_cache_free(st->front->cache);
        free(st->front);
        st->front = NULL;
    }
    st->ops->close(st);
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

int store_room_create(store *st, const store_room *r)
{
    if (!st || !r)
        return RK_EINVAL;
    int rc;
    if ((rc = check_field(r->name, sizeof r->name, true)) ||
        (rc = check_field(r->alias, sizeof r->alias, false)) ||
        (rc = check_field(r->default_role, sizeof r->default_role, false)))
        return rc;
    if (r->mode != STORE_MODE_MEMBERS && r->mode != STORE_MODE_AUTHENTICATED)
        return RK_EINVAL;
    if (r->max_participants < 0 || r->max_ttl < 0)
        return RK_EINVAL;
    return changed(st, st->ops->room_create(st, r));
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
    int rc;
    if ((rc = check_name(room, STORE_MAX_NAME)) || (rc = check_name(subject, STORE_MAX_NAME)))
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
    int rc;
    if ((rc = check_name(room, STORE_MAX_NAME)) || (rc = check_name(subject, STORE_MAX_NAME)))
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
    return st->ops->meeting_set_status(st, id, status);
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
