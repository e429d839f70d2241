#pragma once
/*
 * The setuid network helper's logic (see Docs/man/sandbox-net.8), kept in a
 * library so Swift tests and the libFuzzer targets reach the same code the
 * installed helper runs. Every symbol is prefixed sbxnet_.
 *
 *   policy.c   /etc/sandbox/usernet parser (lxc-usernet format)
 *   lease.c    lease database parser/formatter, names, IPv4 text
 *   netlink.c  rtnetlink: links, veth pairs, addresses, routes (no malloc)
 *   helper.c   the privileged command line: create, release, list, check
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SBXNET_IFNAMSIZ 16            /* IFNAMSIZ: 15 characters and the NUL */
#define SBXNET_NAME_MAX 64            /* user and group names in usernet */
#define SBXNET_LINE_MAX 512           /* longest accepted line in usernet / leases */
#define SBXNET_POLICY_MAX (64 * 1024) /* largest accepted usernet file */
#define SBXNET_LEASES_MAX_BYTES (256 * 1024)
#define SBXNET_MAX_GRANTS 64          /* distinct bridges one caller may be granted */
#define SBXNET_MAX_LEASES 2048        /* entries in one lease file */
#define SBXNET_MAX_COUNT 1000         /* largest COUNT on one line, and largest total */

/* A parse or policy failure: line 0 means "the whole file". */
struct sbxnet_error {
    int line;
    char message[200];
};

/* ---- names and addresses (lease.c) ---- */

/* 1 when s is an acceptable interface name: 1..15 of [A-Za-z0-9_.-], not "." or "..". */
int sbxnet_valid_ifname(const char *s);
/* Strict dotted quad of exactly len bytes (no leading zeros, no spaces). 0 on success. */
int sbxnet_parse_ipv4(const char *s, size_t len, uint32_t *addr_be);
/* Writes "a.b.c.d" and a NUL into out (at least 16 bytes). */
void sbxnet_format_ipv4(uint32_t addr_be, char *out);
/* The host-side name for lease slot `slot` of uid: "sbx<uid>a<slot base36>". 0 on success, -1 if too long. */
int sbxnet_host_ifname(uint32_t uid, unsigned slot, char out[SBXNET_IFNAMSIZ]);

/* ---- policy (policy.c) ---- */

/* Who is asking: the real uid's name and the names of the real gid and supplementary groups. */
struct sbxnet_identity {
    const char *user;
    const char *const *groups;
    size_t ngroups;
};

/* Interfaces a caller may hold on one bridge (counts of all matching lines, summed). */
struct sbxnet_grant {
    char bridge[SBXNET_IFNAMSIZ];
    unsigned count;
};

/*
 * Parses a whole usernet file (`USER|@GROUP veth BRIDGE COUNT`, '#' comments)
 * and collects the grants that match `who`. Any malformed line refuses the whole
 * file (0 grants, -1 and err set): an administrator's typo must be seen, not
 * silently widen or narrow access.
 */
int sbxnet_usernet_parse(const char *buf, size_t len, const struct sbxnet_identity *who,
                         struct sbxnet_grant *grants, size_t max_grants, size_t *ngrants,
                         struct sbxnet_error *err);
/* The caller's total on `bridge` (0 if none). */
unsigned sbxnet_grant_for(const struct sbxnet_grant *grants, size_t n, const char *bridge);

/* ---- lease database (lease.c) ---- */

/*
 * One line per lease, fields separated by one space, every field exact:
 *   UID BRIDGE HOSTIF IFINDEX ADDRESS NETNS-INODE
 * IFINDEX 0 means "reserved, not yet created" (a helper killed mid-create).
 */
struct sbxnet_lease {
    uint32_t uid;
    char bridge[SBXNET_IFNAMSIZ];
    char host[SBXNET_IFNAMSIZ];
    int32_t ifindex;
    uint32_t address_be;
    uint64_t netns_ino;
};

int sbxnet_leases_parse(const char *buf, size_t len, struct sbxnet_lease *out, size_t max,
                        size_t *n, struct sbxnet_error *err);
/* Formats one lease line with its newline; returns its length, 0 if it does not fit. */
size_t sbxnet_lease_format(const struct sbxnet_lease *l, char *out, size_t cap);

/* ---- rtnetlink (netlink.c): every function returns 0 or -errno ---- */

struct sbxnet_link {
    int index;
    char name[SBXNET_IFNAMSIZ];
    char kind[SBXNET_IFNAMSIZ]; /* IFLA_INFO_KIND, "" if none */
    unsigned mtu;
    int master;
    unsigned flags;
};

int sbxnet_nl_open(void);
/* Looks a link up by index (index > 0) or by name. */
int sbxnet_nl_get_link(int nl, int index, const char *name, struct sbxnet_link *out);
/* The first IPv4 address on ifindex (address and prefix length). */
int sbxnet_nl_get_ipv4(int nl, int ifindex, uint32_t *addr_be, int *prefix);
/* A veth pair: `host` here, attached to `master`, `peer` created directly in the
 * network namespace open at peer_netns_fd with MAC peer_mac (NULL: random); both with `mtu`. */
int sbxnet_nl_create_veth(int nl, const char *host, int master, const char *peer,
                          int peer_netns_fd, unsigned mtu, const unsigned char peer_mac[6]);
int sbxnet_nl_set_up(int nl, int ifindex);
/* Marks a bridge port isolated: isolated ports cannot reach one another. */
int sbxnet_nl_isolate_port(int nl, int ifindex);
/* A permanent ARP entry addr -> mac on ifindex (the bridge), and its removal. */
int sbxnet_nl_pin_neighbor(int nl, int ifindex, uint32_t addr_be, const unsigned char mac[6]);
int sbxnet_nl_unpin_neighbor(int nl, int ifindex, uint32_t addr_be);
int sbxnet_nl_delete_link(int nl, int ifindex);

/*
 * The container side, for a forked child holding CAP_NET_ADMIN in the
 * container's user namespace and running in its network namespace:
 * lo up, address/prefix and MTU on ifname, ifname up, default route via gw
 * (skipped when gw_be is 0). Async-signal-safe: only system calls and stack
 * buffers (under 20 KiB of stack). Returns 0 or -errno.
 */
int sbxnet_configure_iface(const char *ifname, uint32_t addr_be, int prefix, uint32_t gw_be, int mtu);

/*
 * The same from outside: forks, the child joins the user namespace at
 * userns_fd and the network namespace at netns_fd (the container owner holds
 * every capability there) and runs sbxnet_configure_iface. Safe to call from
 * a multi-threaded (Swift) process: the child runs only this C code.
 * Returns 0 or -errno (of the first failing step).
 */
int sbxnet_configure_in_namespaces(int userns_fd, int netns_fd, const char *ifname,
                                   uint32_t addr_be, int prefix, uint32_t gw_be, int mtu);

/* ---- the privileged command line (helper.c) ---- */
int sbxnet_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
