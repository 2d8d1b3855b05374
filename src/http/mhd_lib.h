/* mhd_lib.h - libmicrohttpd's functions, loaded when a server starts
 * (util/dynlib.h). Debian's libmicrohttpd brings GnuTLS and eight more
 * libraries (nettle, gmp, p11-kit, libtasn1, ...) whose loading,
 * relocation and constructors cost several milliseconds of CPU and about
 * 160 page faults (docs/benchmarks.md, cold start): the CLI's other
 * commands never serve HTTP and no longer pay for them.
 *
 * Call them through the table: libmhd.MHD_start_daemon(...). mhd_lib_load
 * must have returned RK_OK first. */
#ifndef RK_MHD_LIB_H
#define RK_MHD_LIB_H

#include <microhttpd.h>
#include <stddef.h>

#define MHD_LIB_SONAME  "libmicrohttpd.so.12"
#define MHD_LIB_PACKAGE "libmicrohttpd12"

/* Every libmicrohttpd function RoomKey calls. */
/* clang-format off */
#define MHD_LIB_FUNCS(X) \
    X(MHD_add_response_header) X(MHD_create_response_from_buffer) X(MHD_destroy_response) \
    X(MHD_get_connection_info) X(MHD_get_connection_values) X(MHD_get_connection_values_n) \
    X(MHD_get_reason_phrase_for) X(MHD_lookup_connection_value) X(MHD_queue_response) \
    X(MHD_quiesce_daemon) X(MHD_resume_connection) X(MHD_start_daemon) X(MHD_stop_daemon) \
    X(MHD_suspend_connection)
/* clang-format on */

#define MHD_LIB_FIELD(f) __typeof__(f) *f;
typedef struct mhd_lib {
    MHD_LIB_FUNCS(MHD_LIB_FIELD)
} mhd_lib;
#undef MHD_LIB_FIELD

/* The table; filled by mhd_lib_load. */
extern mhd_lib libmhd;

/* mhd_lib_load loads libmicrohttpd once per process (thread-safe; later
 * calls return the first one's result). RK_EIO with a reason in why when
 * the library or one of its functions is missing. */
int mhd_lib_load(char *why, size_t cap);

#endif
