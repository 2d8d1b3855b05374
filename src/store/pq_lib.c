/* pq_lib.c - libpq's functions, loaded on first use. */
#include "pq_lib.h"
#include "../util/dynlib.h"
#include "../util/err.h"

#include <pthread.h>
#include <string.h>

pq_lib libpq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc = RK_EIO;
static char load_why[256];

static void load(void)
{
    void *h;
    if (dynlib_open(PQ_LIB_SONAME, PQ_LIB_PACKAGE, &h, load_why, sizeof load_why) != RK_OK)
        return;
#define PQ_LIB_SYM(f)                                                                              \
    if (!(libpq.f =                                                                                \
              (__typeof__(libpq.f))dynlib_sym(h, PQ_LIB_SONAME, #f, load_why, sizeof load_why)))   \
        return;
    PQ_LIB_FUNCS(PQ_LIB_SYM)
#undef PQ_LIB_SYM
    load_rc = RK_OK;
}

int pq_lib_load(char *why, size_t cap)
{
    pthread_once(&once, load);
    return load_rc ? rk_fail(load_rc, why, cap, "%s", load_why) : RK_OK;
}
