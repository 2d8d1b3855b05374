/* curl_lib.h - libcurl's functions, loaded when an outbound HTTP request
 * is first made (util/dynlib.h): a server that never fetches JWKS or calls
 * the LiveKit API never loads libcurl and the libraries it brings.
 *
 * Call them through the table, without the curl_ prefix (curl.h makes
 * some of the prefixed names macros): libcurl.easy_perform(c).
 * curl_lib_load must have returned RK_OK first. */
#ifndef RK_CURL_LIB_H
#define RK_CURL_LIB_H

#include <curl/curl.h>
#include <stddef.h>

#define CURL_LIB_SONAME  "libcurl.so.4"
#define CURL_LIB_PACKAGE "libcurl4"

/* Every libcurl function RoomKey calls, without the curl_ prefix. */
/* clang-format off */
#define CURL_LIB_FUNCS(X) \
    X(global_init) X(easy_init) X(easy_setopt) X(easy_perform) X(easy_getinfo) \
    X(easy_strerror) X(easy_cleanup) X(slist_append) X(slist_free_all)
/* clang-format on */

#define CURL_LIB_FIELD(f) __typeof__(curl_##f) *f;
typedef struct curl_lib {
    CURL_LIB_FUNCS(CURL_LIB_FIELD)
} curl_lib;
#undef CURL_LIB_FIELD

/* The table; filled by curl_lib_load. */
extern curl_lib libcurl;

/* curl_lib_load loads libcurl and runs its global initialisation once per
 * process (thread-safe; later calls return the first one's result).
 * RK_EIO with a reason in why when the library, one of its functions or
 * its initialisation fails. */
int curl_lib_load(char *why, size_t cap);

#endif
