/* live_rooms.c - `live_rooms:`: LiveKit's webhooks, reconciliation, how
 * often decisions made elsewhere are looked for, how long a kick is
 * remembered, and the meeting status mapping (docs/live-rooms.md). */
#include "section.h"
#include "../token/minter.h"
#include "../util/err.h"

#include <string.h>

/* live_defaults: /livekit/webhook, reconcile every 60 s, look every 250 ms,
 * kicks remembered for livekit.max_ttl (kick_window_s 0), PROCESSING on
 * room_started and COMPLETED on room_finished. */
static void live_defaults(config *c)
{
    strcpy(c->live.webhook_path, "/livekit/webhook");
    c->live.reconcile_s = 60;
    c->live.poll_ms = 250;
    strcpy(c->live.status_started, "PROCESSING");
    strcpy(c->live.status_finished, "COMPLETED");
}

/* meeting_status_ok: "" (keep) or one of the meetings contract's statuses. */
static bool meeting_status_ok(const char *s)
{
    static const char *const ok[] = {"",           "PENDING",   "SCHEDULED",
                                     "PROCESSING", "COMPLETED", "CANCELED"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return true;
    return false;
}

/* read_status reads one meeting status key into dst. */
static int read_status(yaml_ctx *y, const ynode *n, const char *path, char *dst, size_t cap)
{
    int rc = yaml_get_str(y, n, path, dst, cap, 0);
    if (rc == RK_OK && !meeting_status_ok(dst))
        return yaml_fail(y, RK_EINVAL,
                         "config: %s: expected one of PENDING, SCHEDULED, PROCESSING, COMPLETED, "
                         "CANCELED (or \"\" to keep the status)",
                         path);
    return rc;
}

/* live_parse reads `live_rooms:`. */
static int live_parse(config_loader *ld, const ynode *n)
{
    enum { PATH, RECONCILE, POLL, KICK, STARTED, FINISHED, NF };
    static const char *const names[NF] = {"webhook_path",
                                          "reconcile_interval",
                                          "poll_interval",
                                          "kick_window",
                                          "meeting_status_on_room_started",
                                          "meeting_status_on_room_finished"};
    yaml_ctx *y = &ld->y;
    const ynode *v[NF];
    config_live *l = &ld->cfg->live;
    char p[YAML_PATH_CAP];
    int rc = yaml_map_fields(y, n, "live_rooms", names, NF, v);
    if (!rc && v[PATH]) {
        rc = yaml_get_str(y, v[PATH], yaml_sub(p, "live_rooms", "webhook_path"), l->webhook_path,
                          sizeof l->webhook_path, 0);
        if (!rc && l->webhook_path[0] &&
            (l->webhook_path[0] != '/' || strchr(l->webhook_path, '{')))
            rc = yaml_fail(y, RK_EINVAL,
                           "config: live_rooms.webhook_path: expected a path starting with '/' "
                           "(or \"\" for no webhook route)");
    }
    if (!rc && v[RECONCILE])
        rc = yaml_get_dur(y, v[RECONCILE], yaml_sub(p, "live_rooms", "reconcile_interval"), 0,
                          86400, &l->reconcile_s);
    if (!rc && v[POLL])
        rc = yaml_get_int(y, v[POLL], yaml_sub(p, "live_rooms", "poll_interval"), 50, 3600000,
                          &l->poll_ms);
    if (!rc && v[KICK])
        rc = yaml_get_dur(y, v[KICK], yaml_sub(p, "live_rooms", "kick_window"), 0, MINTER_MAX_TTL,
                          &l->kick_window_s);
    if (!rc && v[STARTED])
        rc = read_status(y, v[STARTED], yaml_sub(p, "live_rooms", names[STARTED]),
                         l->status_started, sizeof l->status_started);
    if (!rc && v[FINISHED])
        rc = read_status(y, v[FINISHED], yaml_sub(p, "live_rooms", names[FINISHED]),
                         l->status_finished, sizeof l->status_finished);
    return rc;
}

const config_section config_live_rooms_section = {
    .key = "live_rooms", .defaults = live_defaults, .parse = live_parse};
