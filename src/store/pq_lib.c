/* pq_lib.c - libpq's functions, loaded on first use. */
#include "pq_lib.h"
#include "../util/dynlib.h"

pq_lib libpq;

#define PQ_LIB_SPEC(f) {#f, offsetof(pq_lib, f)},
static const dynlib_sym_spec syms[] = {PQ_LIB_FUNCS(PQ_LIB_SPEC)};
#undef PQ_LIB_SPEC

DYNLIB_LOADER(pq_lib_load, PQ_LIB_SONAME, PQ_LIB_PACKAGE, syms, &libpq, NULL)
