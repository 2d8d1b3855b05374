/* pq_lib.c - libpq's functions, loaded on first use. */
#include "pq_lib.h"
#include "../util/dynlib.h"

pq_lib libpq;

#define PQ_LIB_SPEC(f) {#f, offsetof(pq_lib, f)},
static const dynlib_sym_spec syms[] = {PQ_LIB_FUNCS(PQ_LIB_SPEC)};
#undef PQ_LIB_SPEC

static dynlib_lib lib = DYNLIB_LIB(PQ_LIB_SONAME, PQ_LIB_PACKAGE, syms, &libpq, NULL);

int pq_lib_load(char *why, size_t cap)
{
    return dynlib_load(&lib, why, cap);
}
