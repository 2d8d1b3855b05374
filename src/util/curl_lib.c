/* curl_lib.c - libcurl's functions, loaded on first use. */
#include "curl_lib.h"
#include "dynlib.h"
#include "err.h"

#include <pthread.h>

curl_lib libcurl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc = RK_EIO;
static char load_why[256];

static void load(void)
{
    void *h;
    if (dynlib_open(CURL_LIB_SONAME, CURL_LIB_PACKAGE, &h, load_why, sizeof load_why) != RK_OK)
        return;
#define CURL_LIB_SYM(f)                                                                            \
    if (!(libcurl.f = (__typeof__(libcurl.f))dynlib_sym(h, CURL_LIB_SONAME, "curl_" #f, load_why,  \
                                                        sizeof load_why)))                         \
        return;
    CURL_LIB_FUNCS(CURL_LIB_SYM)
#undef CURL_LIB_SYM
    if (libcurl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rk_fail(RK_EIO, load_why, sizeof load_why, "libcurl's initialisation failed");
        return;
    }
    load_rc = RK_OK;
}

int curl_lib_load(char *why, size_t cap)
{
    pthread_once(&once, load);
    return load_rc ? rk_fail(load_rc, why, cap, "%s", load_why) : RK_OK;
}
