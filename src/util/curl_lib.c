/* curl_lib.c - libcurl's functions, loaded on first use. */
#include "curl_lib.h"
#include "dynlib.h"
#include "err.h"

curl_lib libcurl;

#define CURL_LIB_SPEC(f) {"curl_" #f, offsetof(curl_lib, f)},
static const dynlib_sym_spec syms[] = {CURL_LIB_FUNCS(CURL_LIB_SPEC)};
#undef CURL_LIB_SPEC

/* global_init runs libcurl's process-wide initialisation (once). */
static int global_init(char *why, size_t cap)
{
    return libcurl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK
               ? RK_OK
               : rk_fail(RK_EIO, why, cap, "libcurl's initialisation failed");
}

DYNLIB_LOADER(curl_lib_load, CURL_LIB_SONAME, CURL_LIB_PACKAGE, syms, &libcurl, global_init)
