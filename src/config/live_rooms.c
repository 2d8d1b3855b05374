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

/* read_status reads meeting status field i of f (when present) into dst;
 * returns f->rc. */
static int read_status(yaml_fields *f, size_t i, char *dst, size_t cap)
{
    if (yaml_field_has(f, i) && !yaml_field_str(f, i, dst, cap, 0) && !meeting_status_ok(dst))
        f->rc = yaml_fail(f->y, RK_EINVAL,
                          "config: %s: expected one of PENDING, SCHEDULED, PROCESSING, COMPLETED, "
                          "CANCELED (or \"\" to keep the status)",
                          f->p);
    return f->rc;
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
    config_live *l = &ld->cfg->live;
    yaml_fields f;
    yaml_fields_open(&f, &ld->y, n, "live_rooms", names, NF);
    if (yaml_field_has(&f, PATH) &&
        !yaml_field_str(&f, PATH, l->webhook_path, sizeof l->webhook_path, 0) &&
        l->webhook_path[0] && (l->webhook_path[0] != '/' || strchr(l->webhook_path, '{')))
        f.rc = yaml_fail(&ld->y, RK_EINVAL,
                         "config: live_rooms.webhook_path: expected a path starting with '/' "
                         "(or \"\" for no webhook route)");
    yaml_field_dur(&f, RECONCILE, 0, 86400, &l->reconcile_s);
    yaml_field_int(&f, POLL, 50, 3600000, &l->poll_ms);
    yaml_field_dur(&f, KICK, 0, MINTER_MAX_TTL, &l->kick_window_s);
    read_status(&f, STARTED, l->status_started, sizeof l->status_started);
    return read_status(&f, FINISHED, l->status_finished, sizeof l->status_finished);
}

const config_section config_live_rooms_section = {
    .key = "live_rooms", .defaults = live_defaults, .parse = live_parse};
