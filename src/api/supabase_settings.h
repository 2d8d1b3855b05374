/* supabase_settings.h - the supabase family's settings (`supabase:` in the
 * YAML): a request names a roomType, which maps to a room, to the role each
 * session role gets there, and to the room's judge seats. They are the
 * rules of those rooms (supabase.c gives them to policy). */
#ifndef RK_API_SUPABASE_SETTINGS_H
#define RK_API_SUPABASE_SETTINGS_H

#include "../config/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUPABASE_MAX_ROOM_TYPES 8
#define SUPABASE_MAX_ROLE_MAP   16

/* What one session role is in one room type. */
typedef struct supabase_role_map {
    char session_role[65]; /* a value of the session's role claim, e.g. "audience" */
    char role[65];         /* the configured role it gets in this room type */
} supabase_role_map;

typedef struct supabase_room_type {
    char type[65];  /* the request's roomType, e.g. "audition" */
    char room[257]; /* the room's name, e.g. "audition-room" */
    supabase_role_map roles[SUPABASE_MAX_ROLE_MAP];
    size_t n_roles;     /* 0 = no mapping: the session role is used as it is */
    int64_t seats;      /* judge seats 1..seats; 0 = none */
    char seat_role[65]; /* the role that may take a seat; default "judge" */
} supabase_room_type;

typedef struct supabase_settings {
    supabase_room_type room_types[SUPABASE_MAX_ROOM_TYPES]; /* none by default */
    size_t n_room_types;
    bool allow_anonymous; /* accept Supabase anonymous sign-ins (is_anonymous); default false */
} supabase_settings;

struct config_section;

/* The `supabase:` section (config.c runs it through families.c);
 * config_ext(cfg, &supabase_section) gives the settings. */
extern const struct config_section supabase_section;

/* supabase_missing is the family's `missing` hook (family.h): without room
 * types it serves nothing, so it names supabase.room_types; NULL once
 * cfg has some. */
const char *supabase_missing(const config *cfg);

#endif
