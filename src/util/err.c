/* err.c - names for RoomKey's error codes. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

const char *rk_strerror(int err)
{
    switch (err) {
    case RK_OK:
        return "ok";
    case RK_EINVAL:
        return "invalid input";
    case RK_ETOOBIG:
        return "limit exceeded";
    case RK_ENOMEM:
        return "out of memory";
    case RK_ECRYPTO:
        return "crypto failure";
    case RK_EVERIFY:
        return "verification failed";
    case RK_ENOTFOUND:
        return "not found";
    case RK_EEXPIRED:
        return "expired";
    case RK_ENOTYET:
        return "not yet valid";
    case RK_EIO:
        return "i/o error";
    case RK_ECONFLICT:
        return "conflict";
    case RK_EDENIED:
        return "denied";
    case RK_ELIMITED:
        return "rate limited";
    case RK_EFULL:
        return "room is full";
    default:
        return "unknown error";
    }
}

int rk_fail(int rc, char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}
