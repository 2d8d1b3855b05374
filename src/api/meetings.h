/* meetings.h - the route family of the meetings contract (project meetings; an Express
 * backend whose frontend service calls):
 *   GET /api/v1/meeting/token/{meeting_id}   mint, for the creator or a participant
 *   GET /api/v1/meeting/get/{meeting_id}     details (getMeetingDetails, validateMeetingAccess)
 *   PUT /api/v1/meeting/status/{meeting_id}  {"status"}: creator only
 * Every answer is {"success": true, ...} or {"success": false, "message"}.
 *
 * A meeting is a store meeting (store.h) whose room is "meeting-{id}" and
 * whose participants are that room's members (the creator among them);
 * meetings and participants are managed with `roomkey meeting` and the
 * admin API, never by this family's callers. */
#ifndef RK_API_MEETINGS_H
#define RK_API_MEETINGS_H

#include "../http/server.h"
#include "issuance.h"

#include <stdbool.h>
#include <stddef.h>

#define MEETING_ROOM_PREFIX "meeting-"

/* The statuses a meeting can have, NULL-terminated: PENDING, SCHEDULED,
 * PROCESSING, COMPLETED, CANCELED. */
extern const char *const meeting_statuses[];

/* meeting_id_valid: 1..STORE_MAX_MEETING_ID (64) of A-Z a-z 0-9 '_' '-'. */
__attribute__((warn_unused_result)) bool meeting_id_valid(const char *id);

/* meeting_status_valid: one of meeting_statuses, exactly. */
__attribute__((warn_unused_result)) bool meeting_status_valid(const char *status);

/* meeting_status_list writes the statuses as "PENDING, SCHEDULED, ..."
 * into out (capacity cap, at least 64; cut short when smaller). */
void meeting_status_list(char *out, size_t cap);

/* meeting_room_name writes "meeting-{id}" into out (capacity cap);
 * RK_EINVAL for an invalid id. */
int meeting_room_name(const char *id, char *out, size_t cap);

/* api_meetings_error renders {"success": false, "message": message}. */
void api_meetings_error(http_resp *resp, int status, const char *message);

#endif
