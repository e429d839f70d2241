/* rtnetlink, by hand: no libmnl, no malloc, only system calls and stack
 * buffers, so the same code serves the setuid helper and a forked child
 * (sbxnet_configure_iface) in a multi-threaded launcher. Every function
 * returns 0 or -errno. */
#include "internal.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQ_SIZE 1024
#define RESP_SIZE 8192   /* one link message without stats fits easily */
#define DUMP_SIZE 32768  /* the kernel's largest dump skb */

struct request {
    struct nlmsghdr *h;
    size_t cap;
    int overflow;
};

static unsigned next_seq(void) {
    static unsigned seq;
    return ++seq;
}

static void req_init(struct request *r, void *buf, size_t cap, unsigned short type, unsigned short flags,
                     const void *header, size_t hlen) {
    memset(buf, 0, cap);
    r->h = buf;
    r->cap = cap;
    r->overflow = 0;
    r->h->nlmsg_len = NLMSG_LENGTH(hlen);
    r->h->nlmsg_type = type;
    r->h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
    r->h->nlmsg_seq = next_seq();
    memcpy(NLMSG_DATA(r->h), header, hlen);
}

static struct rtattr *put(struct request *r, unsigned short type, const void *data, size_t len) {
    size_t at = NLMSG_ALIGN(r->h->nlmsg_len);
    if (at + RTA_SPACE(len) > r->cap) {
        r->overflow = 1;
        return NULL;
    }
    struct rtattr *a = (struct rtattr *)((char *)r->h + at);
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, len);
    r->h->nlmsg_len = (unsigned)(at + RTA_SPACE(len));
    return a;
}

static void put_u32(struct request *r, unsigned short type, uint32_t v) { put(r, type, &v, sizeof v); }
static void put_str(struct request *r, unsigned short type, const char *s) { put(r, type, s, strlen(s) + 1); }

/* Raw bytes inside a nest (the veth peer's ifinfomsg). */
static void put_raw(struct request *r, const void *data, size_t len) {
    size_t at = NLMSG_ALIGN(r->h->nlmsg_len);
    if (at + NLMSG_ALIGN(len) > r->cap) {
        r->overflow = 1;
        return;
    }
    memcpy((char *)r->h + at, data, len);
    r->h->nlmsg_len = (unsigned)(at + NLMSG_ALIGN(len));
}

static void nest_end(struct request *r, struct rtattr *nest) {
    if (nest) nest->rta_len = (unsigned short)((char *)r->h + r->h->nlmsg_len - (char *)nest);
}

static int send_request(int nl, struct request *r) {
    if (r->overflow) return -ENOBUFS;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n;
    do n = sendto(nl, r->h, r->h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    return 0;
}

static ssize_t receive(int nl, void *buf, size_t cap) {
    struct sockaddr_nl from;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;
    do n = recvmsg(nl, &msg, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (msg.msg_flags & MSG_TRUNC) return -EMSGSIZE;
    if (from.nl_pid != 0) return -EPROTO; /* only the kernel may answer */
    return n;
}

/*
 * Sends r and reads until the kernel answers its sequence number: an
 * NLMSG_ERROR (0 = ACK) or, for a GET, the object, copied into answer.
 */
static int transact(int nl, struct request *r, void *answer, size_t answer_cap) {
    int rc = send_request(nl, r);
    if (rc) return rc;
    char buf[RESP_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    for (;;) {
        ssize_t n = receive(nl, buf, sizeof buf);
        if (n < 0) return (int)n;
        size_t left = (size_t)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != r->h->nlmsg_seq) continue;
            if (h->nlmsg_type == NLMSG_ERROR) {
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return -EPROTO;
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error; /* 0 or -errno */
            }
            if (answer) {
                if (h->nlmsg_len > answer_cap) return -EMSGSIZE;
                memcpy(answer, h, h->nlmsg_len);
                return 0;
            }
        }
    }
}

int sbxnet_nl_open(void) {
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl < 0) return -errno;
    return nl;
}

static void parse_link(const struct nlmsghdr *h, struct sbxnet_link *out) {
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    memset(out, 0, sizeof *out);
    out->index = ifi->ifi_index;
    out->flags = ifi->ifi_flags;
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifi);
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        size_t pl = RTA_PAYLOAD(a);
        switch (a->rta_type) {
        case IFLA_IFNAME:
            if (pl > 0 && pl <= SBXNET_IFNAMSIZ) {
                memcpy(out->name, RTA_DATA(a), pl);
                out->name[SBXNET_IFNAMSIZ - 1] = 0;
            }
            break;
        case IFLA_MTU:
            if (pl >= 4) memcpy(&out->mtu, RTA_DATA(a), 4);
            break;
        case IFLA_MASTER:
            if (pl >= 4) memcpy(&out->master, RTA_DATA(a), 4);
            break;
        case IFLA_LINKINFO: {
            int il = (int)pl;
            for (const struct rtattr *i = RTA_DATA(a); RTA_OK(i, il); i = RTA_NEXT(i, il)) {
                size_t kl = RTA_PAYLOAD(i);
                if (i->rta_type == IFLA_INFO_KIND && kl > 0 && kl <= SBXNET_IFNAMSIZ) {
                    memcpy(out->kind, RTA_DATA(i), kl);
                    out->kind[SBXNET_IFNAMSIZ - 1] = 0;
                }
            }
            break;
        }
        }
    }
}

int sbxnet_nl_get_link(int nl, int index, const char *name, struct sbxnet_link *out) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index > 0 ? index : 0};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_GETLINK, 0, &ifi, sizeof ifi);
    if (index <= 0) {
        if (!name || strlen(name) >= SBXNET_IFNAMSIZ) return -EINVAL;
        put_str(&r, IFLA_IFNAME, name);
    }
    put_u32(&r, IFLA_EXT_MASK, 0);
    char answer[RESP_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    int rc = transact(nl, &r, answer, sizeof answer);
    if (rc) return rc;
    const struct nlmsghdr *h = (const struct nlmsghdr *)answer;
    if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) return -EPROTO;
    parse_link(h, out);
    return 0;
}

int sbxnet_nl_get_ipv4(int nl, int ifindex, uint32_t *addr_be, int *prefix) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ifaddrmsg ifa = {.ifa_family = AF_INET};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
    int rc = send_request(nl, &r);
    if (rc) return rc;
    int found = 0;
    char dump[DUMP_SIZE] __attribute__((aligned(NLMSG_ALIGNTO))); /* helper only, never in the child */
    for (;;) {
        ssize_t n = receive(nl, dump, sizeof dump);
        if (n < 0) return (int)n;
        size_t left = (size_t)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)dump; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != r.h->nlmsg_seq) continue;
            if (h->nlmsg_type == NLMSG_DONE) return found ? 0 : -EADDRNOTAVAIL;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error ? e->error : -EPROTO;
            }
            if (h->nlmsg_type != RTM_NEWADDR || found) continue;
            const struct ifaddrmsg *m = NLMSG_DATA(h);
            if (m->ifa_family != AF_INET || (int)m->ifa_index != ifindex) continue;
            int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *m);
            for (const struct rtattr *a = IFA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) == 4) {
                    memcpy(addr_be, RTA_DATA(a), 4);
                    *prefix = m->ifa_prefixlen;
                    found = 1;
                }
            }
        }
    }
}

int sbxnet_nl_create_veth(int nl, const char *host, int master, const char *peer, int peer_netns_fd,
                          unsigned mtu, const unsigned char peer_mac[6]) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
    put_str(&r, IFLA_IFNAME, host);
    if (mtu) put_u32(&r, IFLA_MTU, mtu);
    put_u32(&r, IFLA_MASTER, (uint32_t)master);
    struct rtattr *info = put(&r, IFLA_LINKINFO, NULL, 0);
    put_str(&r, IFLA_INFO_KIND, "veth");
    struct rtattr *data = put(&r, IFLA_INFO_DATA, NULL, 0);
    struct rtattr *p = put(&r, VETH_INFO_PEER, NULL, 0);
    struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
    put_raw(&r, &peer_ifi, sizeof peer_ifi);
    put_str(&r, IFLA_IFNAME, peer);
    if (peer_mac) put(&r, IFLA_ADDRESS, peer_mac, 6);
    if (mtu) put_u32(&r, IFLA_MTU, mtu);
    /* The peer is born in the caller's namespace: nothing of ours ever runs there. */
    put_u32(&r, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    nest_end(&r, p);
    nest_end(&r, data);
    nest_end(&r, info);
    return transact(nl, &r, NULL, 0);
}

static int set_link(int nl, int ifindex, unsigned flags, unsigned change, unsigned mtu) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = flags, .ifi_change = change};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof ifi);
    if (mtu) put_u32(&r, IFLA_MTU, mtu);
    return transact(nl, &r, NULL, 0);
}

int sbxnet_nl_set_up(int nl, int ifindex) { return set_link(nl, ifindex, IFF_UP, IFF_UP, 0); }

int sbxnet_nl_isolate_port(int nl, int ifindex) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof ifi);
    struct rtattr *info = put(&r, IFLA_LINKINFO, NULL, 0);
    put_str(&r, IFLA_INFO_SLAVE_KIND, "bridge");
    struct rtattr *data = put(&r, IFLA_INFO_SLAVE_DATA, NULL, 0);
    unsigned char on = 1;
    put(&r, IFLA_BRPORT_ISOLATED, &on, 1);
    nest_end(&r, data);
    nest_end(&r, info);
    return transact(nl, &r, NULL, 0);
}

static int neighbor(int nl, unsigned short type, unsigned short flags, int ifindex, uint32_t addr_be,
                    const unsigned char *mac) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ndmsg nd = {.ndm_family = AF_INET, .ndm_ifindex = ifindex, .ndm_state = NUD_PERMANENT};
    struct request r;
    req_init(&r, buf, sizeof buf, type, (unsigned short)(NLM_F_ACK | flags), &nd, sizeof nd);
    put(&r, NDA_DST, &addr_be, 4);
    if (mac) put(&r, NDA_LLADDR, mac, 6);
    return transact(nl, &r, NULL, 0);
}

int sbxnet_nl_pin_neighbor(int nl, int ifindex, uint32_t addr_be, const unsigned char mac[6]) {
    return neighbor(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, addr_be, mac);
}

int sbxnet_nl_unpin_neighbor(int nl, int ifindex, uint32_t addr_be) {
    return neighbor(nl, RTM_DELNEIGH, 0, ifindex, addr_be, NULL);
}

int sbxnet_nl_delete_link(int nl, int ifindex) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_DELLINK, NLM_F_ACK, &ifi, sizeof ifi);
    return transact(nl, &r, NULL, 0);
}

static int add_address(int nl, int ifindex, uint32_t addr_be, int prefix) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
                            .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)ifindex};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof ifa);
    put(&r, IFA_LOCAL, &addr_be, 4);
    put(&r, IFA_ADDRESS, &addr_be, 4);
    if (prefix < 31) {
        uint32_t host_mask = prefix == 0 ? 0xffffffffu : (0xffffffffu >> prefix);
        uint32_t brd = addr_be | __builtin_bswap32(host_mask);
        put(&r, IFA_BROADCAST, &brd, 4);
    }
    return transact(nl, &r, NULL, 0);
}

static int add_default_route(int nl, int ifindex, uint32_t gw_be) {
    char buf[REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct rtmsg rtm = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_STATIC,
                        .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
    struct request r;
    req_init(&r, buf, sizeof buf, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, &rtm, sizeof rtm);
    put(&r, RTA_GATEWAY, &gw_be, 4);
    put_u32(&r, RTA_OIF, (uint32_t)ifindex);
    return transact(nl, &r, NULL, 0);
}

int sbxnet_configure_iface(const char *ifname, uint32_t addr_be, int prefix, uint32_t gw_be, int mtu) {
    if (!ifname || prefix < 0 || prefix > 32 || mtu < 0) return -EINVAL;
    int nl = sbxnet_nl_open();
    if (nl < 0) return nl;
    struct sbxnet_link lo, link;
    int rc = sbxnet_nl_get_link(nl, 0, "lo", &lo);
    if (!rc) rc = sbxnet_nl_set_up(nl, lo.index);
    if (!rc) rc = sbxnet_nl_get_link(nl, 0, ifname, &link);
    if (!rc && mtu > 0) rc = set_link(nl, link.index, 0, 0, (unsigned)mtu);
    if (!rc) rc = add_address(nl, link.index, addr_be, prefix);
    if (!rc) rc = sbxnet_nl_set_up(nl, link.index);
    if (!rc && gw_be != 0) rc = add_default_route(nl, link.index, gw_be);
    close(nl);
    return rc;
}

int sbxnet_configure_in_namespaces(int userns_fd, int netns_fd, const char *ifname, uint32_t addr_be,
                                   int prefix, uint32_t gw_be, int mtu) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        /* Joining the user namespace first gives us its full capability set
         * (we own it); only then may we join its network namespace. */
        if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER) != 0) _exit(errno & 0xff);
        if (setns(netns_fd, CLONE_NEWNET) != 0) _exit(errno & 0xff);
        int rc = sbxnet_configure_iface(ifname, addr_be, prefix, gw_be, mtu);
        _exit(rc < 0 ? (-rc) & 0xff : 0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    if (WIFEXITED(status)) return -WEXITSTATUS(status);
    return -ECHILD;
}
