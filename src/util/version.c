/* version.c - the build's version and commit, from the compiler's command
 * line (-DRK_VERSION, -DRK_COMMIT; see the Makefile). */
#include "version.h"

#ifndef RK_VERSION
#error "RK_VERSION must be defined by the build (the VERSION file)"
#endif
#ifndef RK_COMMIT
#define RK_COMMIT "unknown"
#endif

const char *rk_version(void)
{
    return RK_VERSION;
}

const char *rk_commit(void)
{
    return RK_COMMIT;
}
