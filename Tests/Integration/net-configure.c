/* Test driver for sbxnet_configure_in_namespaces, the container side of a
 * veth lease: run as the namespace's owner,
 *   net-configure PID IFNAME ADDRESS PREFIX GATEWAY MTU
 * joins PID's user and network namespaces (in a forked child, as the
 * launcher's supervisor will) and configures IFNAME. Built by net.test.sh
 * against the same Sources/CSandboxNet the helper is built from. */
#include "CSandboxNet.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: net-configure PID IFNAME ADDRESS PREFIX GATEWAY MTU\n");
        return 2;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/ns/user", argv[1]);
    int user = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%s/ns/net", argv[1]);
    int net = open(path, O_RDONLY | O_CLOEXEC);
    if (user < 0 || net < 0) { perror("open namespace"); return 1; }
    uint32_t addr, gw;
    if (sbxnet_parse_ipv4(argv[3], strlen(argv[3]), &addr) || sbxnet_parse_ipv4(argv[5], strlen(argv[5]), &gw)) {
        fprintf(stderr, "bad address\n");
        return 2;
    }
    int rc = sbxnet_configure_in_namespaces(user, net, argv[2], addr, atoi(argv[4]), gw, atoi(argv[6]));
    if (rc) { fprintf(stderr, "configure: %s\n", strerror(-rc)); return 1; }
    return 0;
}
