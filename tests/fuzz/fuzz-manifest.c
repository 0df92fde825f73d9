/* SPDX-License-Identifier: MIT */
/* libFuzzer: arbitrary bytes through the YAML tree, the manifest and the config schema. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct diag_list d = {};
        struct manifest *m = NULL;
        struct config *c = NULL;

        if (manifest_load_buffer("fuzz.yaml", (const char *) data, size, &m, &d) >= 0)
                manifest_free(m);
        if (config_load_buffer("fuzz.yaml", (const char *) data, size, &c, &d) >= 0)
                config_free(c);
        diag_list_clear(&d);
        return 0;
}
