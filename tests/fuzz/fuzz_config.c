/* fuzz_config.c - libFuzzer target: the YAML config loader
 * (src/config/config.c) on a whole file. */
#include "../../src/config/config.h"
#include "../../src/util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "/tmp/rk-fuzz-config-%d.yaml", (int)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    config *cfg = NULL;
    char why[512];
    if (config_load(path, &cfg, why, sizeof why) == RK_OK)
        config_free(cfg);
    return 0;
}
