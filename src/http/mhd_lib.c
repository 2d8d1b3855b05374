/* mhd_lib.c - libmicrohttpd's functions, loaded on first use. */
#include "mhd_lib.h"
#include "../util/dynlib.h"

mhd_lib libmhd;

#define MHD_LIB_SPEC(f) {#f, offsetof(mhd_lib, f)},
static const dynlib_sym_spec syms[] = {MHD_LIB_FUNCS(MHD_LIB_SPEC)};
#undef MHD_LIB_SPEC

DYNLIB_LOADER(mhd_lib_load, MHD_LIB_SONAME, MHD_LIB_PACKAGE, syms, &libmhd, NULL)
