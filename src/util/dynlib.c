/* dynlib.c - a shared library loaded at run time. */
#include "dynlib.h"
#include "err.h"

#include <dlfcn.h>
#include <string.h>

int dynlib_open(const char *soname, const char *package, void **h, char *why, size_t cap)
{
    *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (*h)
        return RK_OK;
    const char *e = dlerror();
    return rk_fail(RK_EIO, why, cap, "%s could not be loaded (Debian package %s): %s", soname,
                   package, e ? e : "unknown error");
}

void *dynlib_sym(void *h, const char *soname, const char *name, char *why, size_t cap)
{
    dlerror();
    void *p = dlsym(h, name);
    if (!p)
        rk_fail(RK_EIO, why, cap, "%s has no %s: too old a version", soname, name);
    return p;
}

/* fill opens lib and stores each symbol's address in its table; the
 * result and reason go into lib. */
static void fill(dynlib_lib *lib)
{
    void *h;
    lib->rc = dynlib_open(lib->soname, lib->package, &h, lib->why, sizeof lib->why);
    for (size_t i = 0; lib->rc == RK_OK && i < lib->n_syms; i++) {
        void *p = dynlib_sym(h, lib->soname, lib->syms[i].name, lib->why, sizeof lib->why);
        if (!p)
            lib->rc = RK_EIO;
        else /* POSIX: a function's address from dlsym fits its pointer */
            memcpy((char *)lib->table + lib->syms[i].off, &p, sizeof p);
    }
    if (lib->rc == RK_OK && lib->init)
        lib->rc = lib->init(lib->why, sizeof lib->why);
}

int dynlib_load(dynlib_lib *lib, char *why, size_t cap)
{
    pthread_mutex_lock(&lib->mu);
    if (!lib->done) {
        fill(lib);
        lib->done = true;
    }
    pthread_mutex_unlock(&lib->mu);
    return lib->rc ? rk_fail(lib->rc, why, cap, "%s", lib->why) : RK_OK;
}
