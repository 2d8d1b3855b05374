/* envsecret.h - secrets given in the environment, taken out of it.
 *
 * `roomkey serve` calls envsecret_take once at start, before any thread: the
 * value of every variable in ENVSECRET_NAMES moves into private memory, the
 * bytes it had in the environment are overwritten with zeros (so
 * /proc/PID/environ no longer shows them) and the variable is unset. The
 * config loader reads these names through envsecret_get first, so a reload
 * (SIGHUP) sees the same values as the start: a process's environment can't
 * change from outside after it started, so nothing is lost. Not
 * thread-safe: take once, then only read. */
#ifndef RK_ENVSECRET_H
#define RK_ENVSECRET_H

/* The variables taken: the secrets RoomKey reads from the environment. */
#define ENVSECRET_NAMES                                                                            \
    {                                                                                              \
        "ROOMKEY_SESSION_SECRET", "ROOMKEY_ADMIN_KEY", "LIVEKIT_API_SECRET", "LIVEKIT_KEYS",       \
            "ROOMKEY_DATABASE"                                                                     \
    }

/* envsecret_take takes the variables above out of the environment.
 * RK_ENOMEM when a copy can't be made (that variable is left in place). */
int envsecret_take(void);

/* envsecret_get returns the value taken for name (borrowed, for the life of
 * the process) or NULL when name was not taken. */
const char *envsecret_get(const char *name);

#endif
