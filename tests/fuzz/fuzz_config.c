/* fuzz_config.c - libFuzzer target: the YAML config loader
 * (src/config/config.c) on a whole file, kept in memory (memfd) and read
 * through its /proc/self/fd path. */
#include "../../src/config/config.h"
#include "../../src/util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static char path[64];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fd = memfd_create("rk-fuzz-config", 0);
    if (fd < 0)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    config *cfg = NULL;
    char why[512];
    if (config_load(path, &cfg, why, sizeof why) == RK_OK)
        config_free(cfg);
    return 0;
}
