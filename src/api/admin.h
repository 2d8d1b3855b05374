/* admin.h - the admin API (docs/admin-api.md): rooms, memberships,
 * meetings (the meetings contract) and the audit log over HTTP, for the operator's tools.
 *
 *   GET    /admin/v1/rooms                           list rooms
 *   POST   /admin/v1/rooms                           create a room
 *   GET    /admin/v1/rooms/{room}                    one room (name or alias)
 *   PUT    /admin/v1/rooms/{room}                    change {mode, default_role, max_*}
 *   DELETE /admin/v1/rooms/{room}                    delete (by name) with its members
 *   GET    /admin/v1/rooms/{room}/members            list members
 *   POST   /admin/v1/rooms/{room}/members            add or change {subject, role}
 *   GET    /admin/v1/rooms/{room}/members/{subject}  one membership
 *   PUT    /admin/v1/rooms/{room}/members/{subject}  add or change {role}
 *   DELETE /admin/v1/rooms/{room}/members/{subject}  remove
 *   GET    /admin/v1/meetings?after_id=&limit=       list meetings by id
 *   POST   /admin/v1/meetings                        create (with room and creator)
 *   GET    /admin/v1/meetings/{meeting_id}           one meeting with its participants
 *   PUT    /admin/v1/meetings/{meeting_id}           change {status}
 *   DELETE /admin/v1/meetings/{meeting_id}           delete with its room
 *   PUT    /admin/v1/meetings/{meeting_id}/participants/{subject}  add or change {role}
 *   DELETE /admin/v1/meetings/{meeting_id}/participants/{subject}  remove (not the creator)
 *   GET    /admin/v1/audit?room=&subject=&since=&limit=&before_id=
 *   GET    /admin/v1/status                          version, readiness, key ids (no secret)
 *
 * Callers present the admin key (ROOMKEY_ADMIN_KEY / admin_key) or an API
 * key with the admin permission, as "Authorization: Bearer KEY" or
 * "X-API-Key: KEY"; session JWTs never reach the admin API. Errors:
 * {"error": {"code": "not_found", "message": "..."}} with the codes
 * invalid_request, unauthorized, forbidden, not_found, method_not_allowed,
 * conflict, payload_too_large, unsupported_media_type, rate_limited,
 * internal, unavailable. */
#ifndef RK_API_ADMIN_H
#define RK_API_ADMIN_H

#include "../http/server.h"
#include "issuance.h"

/* api_admin_register adds the admin routes; api must outlive s. */
int api_admin_register(http_server *s, api_ctx *api);

/* api_admin_error renders {"error":{"code","message"}} (also the shape of
 * the ops routes' errors). */
void api_admin_error(http_resp *resp, int status, const char *message);

#endif
