/* libFuzzer target: the /etc/sandbox/usernet parser must never crash, read
 * out of bounds or grant more than SBXNET_MAX_COUNT, whatever the bytes. */
#include "CSandboxNet.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const groups[] = {"sbtest", "video", "netusers"};
    struct sbxnet_identity who = {.user = "sbtest", .groups = groups, .ngroups = 3};
    struct sbxnet_grant grants[SBXNET_MAX_GRANTS];
    struct sbxnet_error err;
    size_t n = 99;
    /* An exact-size copy so ASan catches any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (size) memcpy(buf, data, size);
    int rc = sbxnet_usernet_parse(buf, size, &who, grants, SBXNET_MAX_GRANTS, &n, &err);
    if (rc != 0 && n != 0) abort();          /* a refused file grants nothing */
    for (size_t i = 0; i < n; i++) {
        if (grants[i].count > SBXNET_MAX_COUNT) abort();
        if (!sbxnet_valid_ifname(grants[i].bridge)) abort();
    }
    free(buf);
    return 0;
}
