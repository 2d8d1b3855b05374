/* dynlib.h - a shared library loaded at run time (dlopen), for libraries
 * only some configurations or commands need (libpq for a PostgreSQL store,
 * libcurl for outbound HTTP, libmicrohttpd for `roomkey serve`): a process
 * that never needs them does not pay their loading at start (together they
 * bring 31 of the 39 shared objects the binary would otherwise load).
 *
 * The functions are only the loading and its errors; each library's table
 * of functions lives beside its user (src/store/pq_lib.h,
 * src/util/curl_lib.h, src/http/mhd_lib.h). A library, once loaded, stays
 * for the process's life. */
#ifndef RK_DYNLIB_H
#define RK_DYNLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* dynlib_open loads the library soname (e.g. "libpq.so.5") and sets *h.
 * RK_EIO when it is not there, with a reason in why naming the Debian
 * package that provides it (package). Nothing to free. */
int dynlib_open(const char *soname, const char *package, void **h, char *why, size_t cap);

/* dynlib_sym returns the address of name in h, or NULL with a reason in
 * why (a library too old to have it). */
void *dynlib_sym(void *h, const char *soname, const char *name, char *why, size_t cap);

/* One function of a library's table: its symbol and the offset of its
 * pointer in the table. */
typedef struct dynlib_sym_spec {
    const char *name;
    size_t off;
} dynlib_sym_spec;

/* A library whose functions go into a table, loaded once per process.
 * Define one statically with DYNLIB_LIB; the fields after init are
 * dynlib_load's. */
typedef struct dynlib_lib {
    const char *soname, *package;
    const dynlib_sym_spec *syms;
    size_t n_syms;
    void *table;                        /* a struct of function pointers */
    int (*init)(char *why, size_t cap); /* run once after loading; NULL: none */
    pthread_mutex_t mu;
    bool done;
    int rc;
    char why[256];
} dynlib_lib;

#define DYNLIB_LIB(soname_, package_, syms_, table_, init_)                                        \
    {                                                                                              \
        .soname = (soname_), .package = (package_), .syms = (syms_),                               \
        .n_syms = sizeof(syms_) / sizeof((syms_)[0]), .table = (table_), .init = (init_),          \
        .mu = PTHREAD_MUTEX_INITIALIZER                                                            \
    }

/* DYNLIB_LOADER defines int name(char *why, size_t cap), which loads the
 * library (DYNLIB_LIB's arguments) once per process with dynlib_load: each
 * library's xxx_lib_load. */
#define DYNLIB_LOADER(name, soname_, package_, syms_, table_, init_)                               \
    static dynlib_lib name##_lib_ = DYNLIB_LIB(soname_, package_, syms_, table_, init_);           \
    int name(char *why, size_t cap)                                                                \
    {                                                                                              \
        return dynlib_load(&name##_lib_, why, cap);                                                \
    }

/* dynlib_load loads lib and fills its table the first time it is called,
 * then runs lib->init; thread-safe, and later calls return the first
 * one's result. RK_EIO with a reason in why when the library, one of its
 * functions or init fails. Nothing to free: a library stays loaded. */
int dynlib_load(dynlib_lib *lib, char *why, size_t cap);

#endif
