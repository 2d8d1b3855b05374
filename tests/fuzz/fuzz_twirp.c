/* fuzz_twirp.c - libFuzzer target: the Twirp RoomService answer readers
 * (src/livekit/roomservice.c over the protojson readers of
 * src/livekit/models.c). The input is an answer body, parsed as the client
 * parses one (json_loadb, no flags) and read both as a ListRooms answer
 * ("rooms": Room) and as a ListParticipants answer ("participants":
 * ParticipantInfo). */
#include "../../src/livekit/roomservice.h"
#include "../../src/util/err.h"

#include <stdlib.h>

/* check_rooms aborts unless the rooms read have what models.h promises. */
static void check_rooms(const lk_room_info *r, size_t n)
{
    if (n > ROOMSERVICE_MAX_LIST)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!r[i].name[0])
            abort();
}

static void check_participants(const lk_participant_info *p, size_t n)
{
    if (n > ROOMSERVICE_MAX_LIST)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!p[i].sid[0] || !p[i].identity[0] || !p[i].kind[0])
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *answer = json_loadb((const char *)data, size, 0, &jerr);
    if (!json_is_object(answer)) {
        json_decref(answer);
        return 0;
    }
    char why[256];
    lk_room_info *rooms = NULL;
    size_t n = 0;
    if (roomservice_read_rooms(answer, &rooms, &n, why, sizeof why) == LK_OK) {
        check_rooms(rooms, n);
        free(rooms);
    }
    lk_participant_info *ps = NULL;
    if (roomservice_read_participants(answer, &ps, &n, why, sizeof why) == LK_OK) {
        check_participants(ps, n);
        free(ps);
    }
    json_decref(answer);
    return 0;
}
