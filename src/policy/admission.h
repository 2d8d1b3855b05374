/* admission.h - places in rooms with max_participants that tokens being
 * issued hold, within one RoomKey process.
 *
 * Policy counts a room's occupancy from the store: who is in the room, and
 * who was issued a token lately (committed audit records). A token being
 * issued is in neither until the group commit writes its record, so
 * deciders running at once would not see each other and a room would take
 * more than max_participants. The admission table closes that gap:
 *  - a room's turn (admission_begin .. admission_end): one decider per room
 *    at a time counts and takes a place; other rooms are not held up;
 *  - a place (admission_take): an identity admitted to a room whose audit
 *    record is not committed yet, counted by every later decider of the
 *    room; the same identity admitted twice holds one place (a count of
 *    references);
 *  - admission_release: the record was committed (the store counts the
 *    identity from now on) or failed (the place is free again).
 * A place counted here may already be committed (the release comes just
 * after the commit): a decider that would refuse only because of places in
 * flight waits for them (admission_settle) and counts again, so it neither
 * refuses a room with a place left nor admits one too many.
 *
 * Memory is bounded: ADMISSION_MAX_PLACES places and ADMISSION_MAX_TURNS
 * rooms being decided at once; past either, callers wait for room. All
 * functions are thread-safe. */
#ifndef RK_ADMISSION_H
#define RK_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

#define ADMISSION_MAX_PLACES 4096
#define ADMISSION_MAX_TURNS  1024

typedef struct admission admission;

/* admission_new makes an empty table into *out (free with admission_free).
 * RK_OK or RK_ENOMEM. */
int admission_new(admission **out);

/* admission_free frees a and every place it still holds. NULL is fine. */
void admission_free(admission *a);

/* admission_begin waits for room's turn and takes it. RK_OK, or RK_ENOMEM
 * (no turn taken). Every RK_OK is followed by one admission_end. */
int admission_begin(admission *a, const char *room);

/* admission_end gives room's turn up. */
void admission_end(admission *a, const char *room);

/* admission_count sets *n to the identities holding a place in room and
 * *holds to whether identity is one of them (room's turn held). */
void admission_count(admission *a, const char *room, const char *identity, size_t *n, bool *holds);

/* admission_settle waits until no place in room is held (room's turn held:
 * no new place can be taken meanwhile). */
void admission_settle(admission *a, const char *room);

/* admission_take gives identity a place in room, or one more reference to
 * the place it holds (room's turn held). RK_OK or RK_ENOMEM. Every RK_OK
 * is followed by one admission_release. */
int admission_take(admission *a, const char *room, const char *identity);

/* admission_release drops one reference to identity's place in room (the
 * last one frees the place). A NULL a is fine (nothing was taken). */
void admission_release(admission *a, const char *room, const char *identity);

#endif
