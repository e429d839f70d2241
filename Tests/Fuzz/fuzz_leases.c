/* libFuzzer target: the lease database parser. Whatever it accepts must
 * format back to exactly the bytes it came from (exact-match parsing), and
 * every accepted host interface must be named for its owner's uid. */
#include "CSandboxNet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sbxnet_lease leases[SBXNET_MAX_LEASES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct sbxnet_error err;
    size_t n = 0;
    char *buf = malloc(size ? size : 1);
    if (size) memcpy(buf, data, size);
    if (sbxnet_leases_parse(buf, size, leases, SBXNET_MAX_LEASES, &n, &err) == 0) {
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
            char line[128], prefix[24];
            size_t len = sbxnet_lease_format(&leases[i], line, sizeof line);
            if (len == 0 || at + len > size || memcmp(buf + at, line, len) != 0) abort();
            at += len;
            int pl = snprintf(prefix, sizeof prefix, "sbx%ua", leases[i].uid);
            if (strncmp(leases[i].host, prefix, (size_t)pl) != 0) abort();
        }
        if (at != size) abort();
    }
    free(buf);
    return 0;
}
