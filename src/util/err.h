/* err.h - the error codes every RoomKey function returns.
 *
 * Functions return RK_OK (0) on success and a negative code on failure;
 * results travel through out-parameters. */
#ifndef RK_ERR_H
#define RK_ERR_H

enum rk_err {
    RK_OK = 0,
    RK_EINVAL = -1,  /* malformed input */
    RK_ETOOBIG = -2, /* a hard limit was exceeded */
    RK_ENOMEM = -3,  /* allocation failed */
    RK_ECRYPTO = -4, /* OpenSSL reported a failure */
    RK_EVERIFY = -5, /* signature or claim check failed */
    RK_ENOTFOUND = -6,
    RK_EEXPIRED = -7,
    RK_ENOTYET = -8,
    RK_EIO = -9,
    RK_ECONFLICT = -10,
    RK_EDENIED = -11,
    RK_ELIMITED = -12, /* a rate limit refused the request */
    RK_EFULL = -13,    /* a room holds its max_participants */
};

/* rk_strerror returns a static, human-readable name for an error code. */
const char *rk_strerror(int err);

#include <stddef.h>

/* rk_fail formats a reason into why (capacity cap; nothing is written when
 * why is NULL or cap is 0) and returns rc, so a failing path reads
 * `return rk_fail(RK_EINVAL, why, cap, "...", ...);`. */
int rk_fail(int rc, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
