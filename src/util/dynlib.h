/* dynlib.h - a shared library loaded at run time (dlopen), for libraries
 * only some configurations need (libpq for a PostgreSQL store, libcurl for
 * outbound HTTP): a process that never needs them does not pay their
 * loading at start (they bring 21 of the binary's 39 shared objects).
 *
 * The functions are only the loading and its errors; each library's table
 * of functions lives beside its user (src/store/pq_lib.h,
 * src/util/curl_lib.h). A library, once loaded, stays for the process's
 * life. */
#ifndef RK_DYNLIB_H
#define RK_DYNLIB_H

#include <stddef.h>

/* dynlib_open loads the library soname (e.g. "libpq.so.5") and sets *h.
 * RK_EIO when it is not there, with a reason in why naming the Debian
 * package that provides it (package). Nothing to free. */
int dynlib_open(const char *soname, const char *package, void **h, char *why, size_t cap);

/* dynlib_sym returns the address of name in h, or NULL with a reason in
 * why (a library too old to have it). */
void *dynlib_sym(void *h, const char *soname, const char *name, char *why, size_t cap);

#endif
