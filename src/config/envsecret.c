/* envsecret.c - secrets taken out of the environment (see envsecret.h). */
#include "envsecret.h"
#include "../util/err.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static const char *const names[] = ENVSECRET_NAMES;
#define N_NAMES (sizeof names / sizeof names[0])

static char *taken[N_NAMES]; /* owned copies; NULL = not taken */

/* take_one moves names[i] out of the environment when it is set. */
static int take_one(size_t i)
{
    size_t n = strlen(names[i]);
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, names[i], n) != 0 || (*e)[n] != '=')
            continue;
        char *value = *e + n + 1;
        char *copy = strdup(value);
        if (!copy)
            return RK_ENOMEM;
        OPENSSL_cleanse(value, strlen(value));
        free(taken[i]);
        taken[i] = copy;
        unsetenv(names[i]);
        return RK_OK;
    }
    return RK_OK;
}

int envsecret_take(void)
{
    int rc = RK_OK;
    for (size_t i = 0; i < N_NAMES; i++)
        if (take_one(i) != RK_OK)
            rc = RK_ENOMEM;
    return rc;
}

const char *envsecret_get(const char *name)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (taken[i] && strcmp(names[i], name) == 0)
            return taken[i];
    return NULL;
}
