/* roomservice.h - LiveKit's server API (Twirp JSON RoomService), one call at
 * a time.
 *
 * `POST {host}/twirp/livekit.RoomService/{Method}` with a protojson body and
 * `Authorization: Bearer <service token>`. Each call mints its own service
 * token from the keyring's signing key, valid for ROOMSERVICE_TOKEN_TTL
 * seconds, with exactly the grants livekit-server requires for that method:
 * roomList for ListRooms; roomAdmin plus the room for the participant
 * methods. Never a join grant. A roomservice belongs to one thread (it owns
 * a minter); retries and queueing live in worker.h. */
#ifndef RK_LK_ROOMSERVICE_H
#define RK_LK_ROOMSERVICE_H

#include "../token/keyring.h"
#include "../token/minter.h"
#include "models.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROOMSERVICE_TOKEN_TTL  60
#define ROOMSERVICE_MAX_ANSWER (8u * 1024 * 1024)
#define ROOMSERVICE_MAX_LIST   10000 /* rooms or participants in one answer */
#define ROOMSERVICE_MAX_HOST   1024

typedef enum lk_method {
    LK_LIST_ROOMS = 0,
    LK_LIST_PARTICIPANTS,
    LK_REMOVE_PARTICIPANT,
    LK_UPDATE_PARTICIPANT,
    LK_METHOD_COUNT
} lk_method;

/* The outcome of one call, for retries and metrics. */
typedef enum lk_outcome {
    LK_OK = 0,
    LK_NOT_FOUND,   /* 404: the room or participant is not there */
    LK_DENIED,      /* 401/403: the key or grant was refused */
    LK_REFUSED,     /* another 4xx: the request itself is wrong */
    LK_UNAVAILABLE, /* no answer, a timeout or a 5xx: worth retrying */
    LK_OUTCOME_COUNT
} lk_outcome;

/* ParticipantPermission as UpdateParticipant sets it: the whole message is
 * replaced, so every field is written. */
typedef struct lk_permission {
    bool can_subscribe;
    bool can_publish;
    bool can_publish_data;
    bool can_update_metadata;
    unsigned sources; /* enum lk_source bits; 0 = any source */
} lk_permission;

typedef struct roomservice roomservice;

/* lk_method_name returns the Twirp method name ("RemoveParticipant", ...). */
const char *lk_method_name(lk_method m);

/* lk_outcome_name returns "ok", "not_found", "denied", "refused" or
 * "unavailable". */
const char *lk_outcome_name(lk_outcome o);

/* roomservice_new makes a client for host (http(s):// or ws(s)://, which is
 * read as http(s)://) that signs with kr's signing key (a copy: kr is only
 * read during the call). timeout_ms bounds each call. Free with
 * roomservice_free. */
int roomservice_new(const char *host, const keyring *kr, long timeout_ms, roomservice **out,
                    char *why, size_t why_cap);

/* roomservice_set_minter makes rs sign its next calls with m (from
 * minter_new), which rs takes: it frees m, and the minter it had now. Not
 * thread-safe: call it on the thread that makes rs's calls. */
void roomservice_set_minter(roomservice *rs, minter *m);

/* roomservice_free releases rs (NULL is fine). */
void roomservice_free(roomservice *rs);

/* roomservice_list_rooms lists the server's rooms. On LK_OK *rooms is a
 * malloc'd array of *n (the caller frees it with free). */
lk_outcome roomservice_list_rooms(roomservice *rs, int64_t now, lk_room_info **rooms, size_t *n,
                                  char *why, size_t why_cap);

/* roomservice_list_participants lists room's participants. On LK_OK *ps is a
 * malloc'd array of *n (the caller frees it with free). */
lk_outcome roomservice_list_participants(roomservice *rs, int64_t now, const char *room,
                                         lk_participant_info **ps, size_t *n, char *why,
                                         size_t why_cap);

/* roomservice_read_rooms reads a ListRooms answer (the parsed JSON object,
 * borrowed) as roomservice_list_rooms does: its "rooms" (absent = none, at
 * most ROOMSERVICE_MAX_LIST), each with lk_room_read. On LK_OK *rooms is a
 * malloc'd array of *n (the caller frees it with free); a malformed answer
 * is LK_UNAVAILABLE with why naming the first bad entry. */
lk_outcome roomservice_read_rooms(const json_t *answer, lk_room_info **rooms, size_t *n, char *why,
                                  size_t why_cap);

/* roomservice_read_participants reads a ListParticipants answer the same
 * way: its "participants", each with lk_participant_read. */
lk_outcome roomservice_read_participants(const json_t *answer, lk_participant_info **ps, size_t *n,
                                         char *why, size_t why_cap);

/* roomservice_remove_participant removes identity from room; revoke_ts > 0
 * is sent as revoke_token_ts (tokens issued before it stop working where the
 * server honours it). */
lk_outcome roomservice_remove_participant(roomservice *rs, int64_t now, const char *room,
                                          const char *identity, int64_t revoke_ts, char *why,
                                          size_t why_cap);

/* roomservice_update_participant replaces identity's permissions in room. */
lk_outcome roomservice_update_participant(roomservice *rs, int64_t now, const char *room,
                                          const char *identity, const lk_permission *perm,
                                          char *why, size_t why_cap);

#endif
