/* version.h - which build this is: the release version (the file VERSION
 * at the top of the tree, the one place it is written) and the git commit
 * the binary was built from ("unknown" when built outside a git checkout).
 * Both are baked in at build time by the Makefile; `roomkey version`, the
 * roomkey_build_info metric and the admin API's status report them. */
#ifndef RK_VERSION_H
#define RK_VERSION_H

/* rk_version returns the release version, e.g. "0.1.0" (static storage). */
const char *rk_version(void);

/* rk_commit returns the abbreviated commit id, or "unknown" (static
 * storage). */
const char *rk_commit(void);

#endif
