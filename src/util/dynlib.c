/* dynlib.c - a shared library loaded at run time. */
#include "dynlib.h"
#include "err.h"

#include <dlfcn.h>

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
