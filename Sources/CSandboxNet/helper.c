/*
 * sandbox-net: the setuid-root part of sandbox's bridge networking, in the
 * spirit of lxc-user-nic but smaller. main() reads top to bottom in the order
 * things happen:
 *
 *   harden the process (environment, fds, dumpable, umask, signals)
 *   → who is calling (real uid/gid/groups, never the effective ones)
 *   → what they may do (/etc/sandbox/usernet, root-owned, nothing else)
 *   → prove fd 3 is a network namespace the caller owns
 *   → under the lease lock: reclaim dead leases, check the quota, reserve
 *     name+address, create the veth pair with the peer born in the target
 *     namespace, commit, bring the host side up
 *   → print one machine-readable line.
 *
 * The helper never enters the caller's namespaces, never opens a path the
 * caller chose, never executes anything, and reads no environment variable.
 * See Docs/man/sandbox-net.8 for the interface and the CVEs behind each rule.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#define POLICY_DIR "/etc/sandbox"
#define POLICY_NAME "usernet"
#define LEASE_DIR "/run/sandbox-net"
#define NETNS_FD 3
#define LOCK_TIMEOUT_S 10
#define ARG_MAX_LEN 64
#define MAX_SLOTS 1296 /* two base-36 digits */
/* init_net's fixed inode number on kernels that have one (PROC_NET_INIT_INO). */
#define INIT_NET_INO 0xEFFFFFF9U

/* ---- failing ---- */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dprintf(2, "sandbox-net: %s\n", msg);
    exit(1);
}

static void usage(void) __attribute__((noreturn));
static void usage(void) {
    dprintf(2, "usage: sandbox-net create --bridge BRIDGE [--name IFNAME]   (fd 3: the target network namespace)\n"
               "       sandbox-net release --bridge BRIDGE HOST-IFNAME\n"
               "       sandbox-net list\n"
               "       sandbox-net check\n");
    exit(2);
}

/* ---- the process itself ---- */

static void on_alarm(int sig) { (void)sig; }

/* Whether the caller handed us fd 3 (decided before we open anything). */
static int netns_fd_given;

/*
 * A setuid program inherits everything its caller arranged: environment,
 * open fds, umask, signal dispositions, resource limits. Reset what matters
 * before anything else runs.
 */
static void harden(void) {
    /* The loader already dropped LD_* under AT_SECURE; drop the rest too
     * (bwrap/firejail lessons: nothing from the caller's environment). */
    clearenv();
    /* Keep the privileged process out of reach of ptrace and core dumps. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    umask(022);
    /* fds 0-2 must exist, or our first open() would land on them and a later
     * message would be written into the lease file. */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int null = open("/dev/null", O_RDWR);
            if (null < 0) _exit(1);
            if (null != fd) _exit(1); /* cannot happen: lowest free fd */
        }
    }
    /* Only fd 3 (the namespace) is meant for us. Without one, park /dev/null
     * there so none of our own files can be mistaken for it. */
    if (close_range(NETNS_FD + 1, ~0U, 0) != 0)
        for (int fd = NETNS_FD + 1; fd < 65536; fd++) close(fd);
    netns_fd_given = fcntl(NETNS_FD, F_GETFD) >= 0;
    if (!netns_fd_given) {
        int null = open("/dev/null", O_RDONLY);
        if (null != NETNS_FD) _exit(1);
    }
    /* Limits the caller chose must not make us fail half-way. */
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &unlimited);
    setrlimit(RLIMIT_CPU, &unlimited);
    struct rlimit files = {256, 256};
    setrlimit(RLIMIT_NOFILE, &files);
    /* A small RLIMIT_FSIZE must make a write fail (and be reported), not kill
     * us half-way; a closed stdout must not kill us after a commit. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: interrupts the lock wait */
    sigaction(SIGALRM, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---- who is calling ---- */

struct caller {
    uid_t uid;
    char user[SBXNET_NAME_MAX + 1];
    const char *groups[1024];
    size_t ngroups;
};

static void add_group_name(struct caller *c, gid_t gid) {
    if (c->ngroups == sizeof c->groups / sizeof c->groups[0]) return;
    struct group *gr = getgrgid(gid);
    if (!gr || !gr->gr_name) return;
    for (size_t i = 0; i < c->ngroups; i++)
        if (strcmp(c->groups[i], gr->gr_name) == 0) return;
    char *copy = strdup(gr->gr_name);
    if (copy) c->groups[c->ngroups++] = copy;
}

/* Real ids only: the effective ones are ours (root). */
static void identify(struct caller *c) {
    memset(c, 0, sizeof *c);
    c->uid = getuid();
    struct passwd *pw = getpwuid(c->uid);
    if (!pw || !pw->pw_name || strlen(pw->pw_name) > SBXNET_NAME_MAX)
        die("uid %u has no user name in the passwd database", (unsigned)c->uid);
    strcpy(c->user, pw->pw_name);
    add_group_name(c, getgid());
    int n = getgroups(0, NULL);
    if (n > 0) {
        gid_t *gids = calloc((size_t)n, sizeof *gids);
        if (!gids) die("out of memory");
        n = getgroups(n, gids);
        for (int i = 0; i < n; i++) add_group_name(c, gids[i]);
        free(gids);
    }
    /*
     * From here on we are root through and through: files we create carry
     * group root, and the caller (whose uid was our real uid, which is what
     * kill(2) checks) can no longer stop or kill us while we hold the lease
     * lock, so one user cannot stall everyone else's helper.
     */
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) die("cannot become root: %s", strerror(errno));
    /* Terminal signals bypass kill(2)'s permission check. */
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
}

/* ---- root-owned files ---- */

static void require_root_owned(const struct stat *st, const char *path, int want_dir) {
    if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
        die("%s is not a %s; refusing", path, want_dir ? "directory" : "regular file");
    if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)))
        die("%s must be owned by root and not writable by group or others (chown root: %s; chmod go-w %s)",
            path, path, path);
}

/* Reads all of an open, checked regular file (at most max bytes). */
static char *read_all(int fd, size_t max, size_t *len, const char *path) {
    struct stat st;
    if (fstat(fd, &st) != 0) die("%s: %s", path, strerror(errno));
    if ((size_t)st.st_size > max) die("%s is larger than %zu bytes; refusing", path, max);
    char *buf = malloc(max + 1);
    if (!buf) die("out of memory");
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, max + 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("%s: %s", path, strerror(errno));
        if (n == 0) break;
        got += (size_t)n;
        if (got > max) die("%s is larger than %zu bytes; refusing", path, max);
    }
    *len = got;
    return buf;
}

/* ---- policy ---- */

static size_t load_policy(const struct caller *c, struct sbxnet_grant *grants, size_t max) {
    int dir = open(POLICY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0)
        die("%s/%s is missing: an administrator must grant bridges there (see sandbox-net(8))", POLICY_DIR,
            POLICY_NAME);
    struct stat st;
    if (fstat(dir, &st) != 0) die("%s: %s", POLICY_DIR, strerror(errno));
    require_root_owned(&st, POLICY_DIR, 1);
    int fd = openat(dir, POLICY_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) die("%s/%s is a symbolic link; refusing", POLICY_DIR, POLICY_NAME);
        die("%s/%s is missing: an administrator must grant bridges there (see sandbox-net(8))", POLICY_DIR,
            POLICY_NAME);
    }
    if (fstat(fd, &st) != 0) die("%s/%s: %s", POLICY_DIR, POLICY_NAME, strerror(errno));
    require_root_owned(&st, POLICY_DIR "/" POLICY_NAME, 0);
    size_t len;
    char *buf = read_all(fd, SBXNET_POLICY_MAX, &len, POLICY_DIR "/" POLICY_NAME);
    close(fd);
    close(dir);
    struct sbxnet_identity who = {.user = c->user, .groups = c->groups, .ngroups = c->ngroups};
    struct sbxnet_error err = {0};
    size_t n;
    if (sbxnet_usernet_parse(buf, len, &who, grants, max, &n, &err) != 0) {
        if (err.line) die("%s/%s:%d: %s", POLICY_DIR, POLICY_NAME, err.line, err.message);
        die("%s/%s: %s", POLICY_DIR, POLICY_NAME, err.message);
    }
    free(buf);
    return n;
}

/* ---- the caller's namespace ---- */

static int ns_inode(const char *path, uint64_t *ino) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    *ino = st.st_ino;
    return 0;
}

/*
 * fd 3 must be a network namespace whose user namespace the caller created
 * (CVE-2017-5985: lxc-user-nic took a path and trusted it), and neither the
 * namespace the helper runs in (the host side) nor the host's initial one.
 */
static uint64_t verify_target_netns(uid_t caller) {
    if (!netns_fd_given)
        die("fd 3 is not open: pass the container's network namespace (/proc/PID/ns/net) as fd 3");
    struct statfs sfs;
    if (fstatfs(NETNS_FD, &sfs) != 0 || sfs.f_type != NSFS_MAGIC)
        die("fd 3 is not a namespace: pass the container's network namespace (/proc/PID/ns/net) as fd 3");
    int type = ioctl(NETNS_FD, NS_GET_NSTYPE);
    if (type != CLONE_NEWNET) die("fd 3 is a namespace but not a network namespace");
    struct stat st;
    if (fstat(NETNS_FD, &st) != 0) die("fd 3: %s", strerror(errno));
    uint64_t self, init;
    if (ns_inode("/proc/self/ns/net", &self) != 0) die("cannot read /proc/self/ns/net: %s", strerror(errno));
    if (st.st_ino == self || st.st_ino == INIT_NET_INO ||
        (ns_inode("/proc/1/ns/net", &init) == 0 && st.st_ino == init))
        die("fd 3 is the host's network namespace; refusing");
    int userns = ioctl(NETNS_FD, NS_GET_USERNS);
    if (userns < 0) die("fd 3: cannot find the namespace's owner: %s", strerror(errno));
    uid_t owner;
    if (ioctl(userns, NS_GET_OWNER_UID, &owner) != 0) die("fd 3: cannot find the namespace's owner: %s", strerror(errno));
    close(userns);
    if (owner != caller) die("fd 3 is a network namespace you do not own; refusing");
    return st.st_ino;
}

/* ---- the lease database ---- */

struct leases {
    int dir;
    int lock;
    char name[40]; /* leases.<host netns inode> */
    struct sbxnet_lease entries[SBXNET_MAX_LEASES];
    size_t n;
};

static struct leases db; /* ~130 KiB: static rather than on the stack */

static void lock_db(void) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    alarm(LOCK_TIMEOUT_S);
    int rc = fcntl(db.lock, F_SETLKW, &fl);
    int e = errno;
    alarm(0);
    if (rc != 0) {
        if (e == EINTR) die("the lease database %s is busy (locked for %d s); try again", LEASE_DIR, LOCK_TIMEOUT_S);
        die("cannot lock %s/lock: %s", LEASE_DIR, strerror(e));
    }
}

/*
 * Opens /run/sandbox-net (creating it 0755) and the lease file of the
 * network namespace the helper runs in, under an exclusive lock held until
 * exit. Every file is opened relative to the checked directory, without
 * following symbolic links, and must be a regular root-owned file.
 */
static void open_db(void) {
    if (mkdir(LEASE_DIR, 0755) != 0 && errno != EEXIST) die("cannot create %s: %s", LEASE_DIR, strerror(errno));
    db.dir = open(LEASE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (db.dir < 0) die("cannot open %s: %s (it must be a root-owned directory)", LEASE_DIR, strerror(errno));
    struct stat st;
    if (fstat(db.dir, &st) != 0) die("%s: %s", LEASE_DIR, strerror(errno));
    require_root_owned(&st, LEASE_DIR, 1);

    db.lock = openat(db.dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (db.lock < 0) die("cannot open %s/lock: %s", LEASE_DIR, strerror(errno));
    if (fstat(db.lock, &st) != 0) die("%s/lock: %s", LEASE_DIR, strerror(errno));
    require_root_owned(&st, LEASE_DIR "/lock", 0);
    lock_db();

    uint64_t host_ns;
    if (ns_inode("/proc/self/ns/net", &host_ns) != 0) die("cannot read /proc/self/ns/net: %s", strerror(errno));
    snprintf(db.name, sizeof db.name, "leases.%llu", (unsigned long long)host_ns);
    db.n = 0;
    int fd = openat(db.dir, db.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return;
        if (errno == ELOOP) die("%s/%s is a symbolic link; refusing (remove it)", LEASE_DIR, db.name);
        die("cannot open %s/%s: %s", LEASE_DIR, db.name, strerror(errno));
    }
    if (fstat(fd, &st) != 0) die("%s/%s: %s", LEASE_DIR, db.name, strerror(errno));
    char path[96];
    snprintf(path, sizeof path, "%s/%s", LEASE_DIR, db.name);
    require_root_owned(&st, path, 0);
    if (st.st_nlink != 1) die("%s has extra hard links; refusing", path);
    size_t len;
    char *buf = read_all(fd, SBXNET_LEASES_MAX_BYTES, &len, path);
    close(fd);
    struct sbxnet_error err = {0};
    if (sbxnet_leases_parse(buf, len, db.entries, SBXNET_MAX_LEASES, &db.n, &err) != 0)
        die("%s:%d: %s; refusing to guess (an administrator can delete the sbx* interfaces and the file)", path,
            err.line, err.message);
    free(buf);
}

/* Replaces the lease file atomically: temp file in the same directory, then rename. */
static int save_db(void) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".%s.tmp", db.name);
    /* A leftover from a killed helper (we hold the lock, so it is stale). */
    if (unlinkat(db.dir, tmp, 0) != 0 && errno != ENOENT) return -errno;
    int fd = openat(db.dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    int rc = 0;
    for (size_t i = 0; i < db.n && rc == 0; i++) {
        char line[128];
        size_t len = sbxnet_lease_format(&db.entries[i], line, sizeof line);
        if (len == 0) { rc = -EOVERFLOW; break; }
        if (write(fd, line, len) != (ssize_t)len) rc = errno ? -errno : -EIO;
    }
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && renameat(db.dir, tmp, db.dir, db.name) != 0) rc = -errno;
    if (rc != 0) unlinkat(db.dir, tmp, 0);
    return rc;
}

static void save_or_die(void) {
    int rc = save_db();
    if (rc) die("cannot write %s/%s: %s", LEASE_DIR, db.name, strerror(-rc));
}

static void remove_lease(size_t i) {
    db.entries[i] = db.entries[db.n - 1];
    db.n--;
}

/* Forgets the permanent ARP entry of a lease that ends (best effort: the
 * bridge may be gone; a stale entry only points at a MAC nobody has). */
static void unpin(int nl, const struct sbxnet_lease *l) {
    struct sbxnet_link bridge;
    if (sbxnet_nl_get_link(nl, 0, l->bridge, &bridge) == 0) sbxnet_nl_unpin_neighbor(nl, bridge.index, l->address_be);
}

/*
 * A lease lives as long as its host interface: the kernel deletes both ends
 * of a veth pair when the container's namespace dies. An entry with ifindex 0
 * is a reservation whose helper died before creating the pair (or after,
 * before recording the index): adopt the interface if it exists, else drop.
 */
static void reclaim(int nl) {
    int changed = 0;
    for (size_t i = 0; i < db.n;) {
        struct sbxnet_lease *l = &db.entries[i];
        struct sbxnet_link link;
        int rc = l->ifindex > 0 ? sbxnet_nl_get_link(nl, l->ifindex, NULL, &link)
                                : sbxnet_nl_get_link(nl, 0, l->host, &link);
        if (rc == -ENODEV || (rc == 0 && (strcmp(link.name, l->host) != 0 || strcmp(link.kind, "veth") != 0))) {
            unpin(nl, l);
            remove_lease(i);
            changed = 1;
            continue;
        }
        if (rc != 0) die("cannot look up interface %s: %s", l->host, strerror(-rc));
        if (l->ifindex == 0) {
            l->ifindex = link.index;
            changed = 1;
        }
        i++;
    }
    if (changed) save_or_die();
}

static unsigned count_leases(uid_t uid, const char *bridge) {
    unsigned n = 0;
    for (size_t i = 0; i < db.n; i++)
        if (db.entries[i].uid == uid && strcmp(db.entries[i].bridge, bridge) == 0) n++;
    return n;
}

/* ---- commands ---- */

struct bridge_info {
    struct sbxnet_link link;
    uint32_t addr_be;
    int prefix;
};

/* 0 ok, or a reason in why. */
static int probe_bridge(int nl, const char *name, struct bridge_info *b, const char **why) {
    int rc = sbxnet_nl_get_link(nl, 0, name, &b->link);
    if (rc == -ENODEV) { *why = "missing"; return -1; }
    if (rc) die("cannot look up bridge %s: %s", name, strerror(-rc));
    if (strcmp(b->link.kind, "bridge") != 0) { *why = "not-a-bridge"; return -1; }
    rc = sbxnet_nl_get_ipv4(nl, b->link.index, &b->addr_be, &b->prefix);
    if (rc == -EADDRNOTAVAIL) { *why = "no-address"; return -1; }
    if (rc) die("cannot read the addresses of bridge %s: %s", name, strerror(-rc));
    if (b->prefix < 1 || b->prefix > 30) { *why = "subnet-too-small"; return -1; }
    return 0;
}

static uint32_t pick_address(const struct bridge_info *b) {
    uint32_t mask = 0xffffffffu << (32 - b->prefix);
    uint32_t gw = __builtin_bswap32(b->addr_be);
    uint32_t net = gw & mask;
    uint32_t size = ~mask + 1u;
    for (uint32_t host = 1; host < size - 1; host++) {
        uint32_t cand = net | host;
        if (cand == gw) continue;
        uint32_t be = __builtin_bswap32(cand);
        int used = 0;
        for (size_t i = 0; i < db.n && !used; i++) used = db.entries[i].address_be == be;
        if (!used) return be;
    }
    return 0;
}

static int pick_host_name(int nl, uid_t uid, char out[SBXNET_IFNAMSIZ]) {
    for (unsigned slot = 0; slot < MAX_SLOTS; slot++) {
        if (sbxnet_host_ifname(uid, slot, out) != 0) return -1;
        int taken = 0;
        for (size_t i = 0; i < db.n && !taken; i++) taken = strcmp(db.entries[i].host, out) == 0;
        if (taken) continue;
        struct sbxnet_link link;
        int rc = sbxnet_nl_get_link(nl, 0, out, &link);
        if (rc == -ENODEV) return 0;
        if (rc) die("cannot look up interface %s: %s", out, strerror(-rc));
    }
    return -1;
}

static int cmd_create(const struct caller *c, const struct sbxnet_grant *grants, size_t ngrants,
                      const char *bridge, const char *peer) {
    unsigned quota = sbxnet_grant_for(grants, ngrants, bridge);
    if (quota == 0) die("user %s may not use bridge %s (no line for it in %s/%s)", c->user, bridge, POLICY_DIR, POLICY_NAME);
    uint64_t target = verify_target_netns(c->uid);
    int nl = sbxnet_nl_open();
    if (nl < 0) die("cannot open rtnetlink: %s", strerror(-nl));
    open_db();
    reclaim(nl);
    struct bridge_info b;
    const char *why;
    if (probe_bridge(nl, bridge, &b, &why) != 0) die("bridge %s is not usable here (%s); see sandbox-net-setup", bridge, why);
    unsigned used = count_leases(c->uid, bridge);
    if (used >= quota)
        die("quota reached: %u of %u interfaces on %s in use (release one, or ask for a higher COUNT in %s/%s)", used,
            quota, bridge, POLICY_DIR, POLICY_NAME);
    if (db.n >= SBXNET_MAX_LEASES) die("the lease database is full (%d entries)", SBXNET_MAX_LEASES);

    struct sbxnet_lease l;
    memset(&l, 0, sizeof l);
    l.uid = c->uid;
    strcpy(l.bridge, bridge);
    if (pick_host_name(nl, c->uid, l.host) != 0) die("no free interface name for uid %u", (unsigned)c->uid);
    l.address_be = pick_address(&b);
    if (!l.address_be) die("no free address left in the subnet of bridge %s", bridge);
    l.netns_ino = target;
    l.ifindex = 0;

    /* Reserve first: if we are killed from here on, the next call finds the
     * reservation and adopts or drops the interface, so a caller cannot get
     * veths past the quota by killing us. */
    size_t at = db.n;
    db.entries[db.n++] = l;
    save_or_die();

    /* The container's MAC is ours to choose, so the host can pin its address to it. */
    unsigned char mac[6];
    if (getrandom(mac, sizeof mac, 0) != (ssize_t)sizeof mac) die("getrandom: %s", strerror(errno));
    mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */

    int rc = sbxnet_nl_create_veth(nl, l.host, b.link.index, peer, NETNS_FD, b.link.mtu, mac);
    if (rc) {
        db.n = at;
        save_db();
        if (rc == -EEXIST) die("an interface named %s already exists in the target namespace", peer);
        die("cannot create the veth pair %s/%s: %s", l.host, peer, strerror(-rc));
    }
    struct sbxnet_link host = {0};
    rc = sbxnet_nl_get_link(nl, 0, l.host, &host);
    if (rc == 0) {
        db.entries[at].ifindex = host.index;
        rc = save_db();
    }
    /* Containers on the bridge cannot reach (or ARP-poison) one another, and
     * the host answers the leased address only at the container's MAC. */
    if (rc == 0) rc = sbxnet_nl_isolate_port(nl, host.index);
    if (rc == 0) rc = sbxnet_nl_pin_neighbor(nl, b.link.index, l.address_be, mac);
    if (rc == 0) rc = sbxnet_nl_set_up(nl, host.index);
    if (rc) {
        if (host.index > 0) sbxnet_nl_delete_link(nl, host.index);
        db.n = at;
        save_db();
        die("cannot finish setting up %s: %s", l.host, strerror(-rc));
    }
    char addr[16], gw[16];
    sbxnet_format_ipv4(l.address_be, addr);
    sbxnet_format_ipv4(b.addr_be, gw);
    printf("host=%s container=%s address=%s/%d gateway=%s mtu=%u\n", l.host, peer, addr, b.prefix, gw, b.link.mtu);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_release(const struct caller *c, const char *bridge, const char *host) {
    int nl = sbxnet_nl_open();
    if (nl < 0) die("cannot open rtnetlink: %s", strerror(-nl));
    open_db();
    reclaim(nl);
    for (size_t i = 0; i < db.n; i++) {
        struct sbxnet_lease *l = &db.entries[i];
        if (l->uid != c->uid || strcmp(l->bridge, bridge) != 0 || strcmp(l->host, host) != 0) continue;
        /* reclaim() just proved the index still names this veth. */
        int rc = sbxnet_nl_delete_link(nl, l->ifindex);
        if (rc && rc != -ENODEV) die("cannot delete %s: %s", host, strerror(-rc));
        unpin(nl, l);
        remove_lease(i);
        save_or_die();
        printf("released host=%s bridge=%s\n", host, bridge);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    /* The same words whether the interface is someone else's or does not exist. */
    die("no interface %s on bridge %s is leased to you", host, bridge);
}

static int cmd_list(const struct caller *c) {
    int nl = sbxnet_nl_open();
    if (nl < 0) die("cannot open rtnetlink: %s", strerror(-nl));
    open_db();
    reclaim(nl);
    for (size_t i = 0; i < db.n; i++) {
        const struct sbxnet_lease *l = &db.entries[i];
        if (l->uid != c->uid) continue;
        char addr[16];
        sbxnet_format_ipv4(l->address_be, addr);
        printf("bridge=%s host=%s address=%s netns=%llu\n", l->bridge, l->host, addr, (unsigned long long)l->netns_ino);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_check(const struct caller *c, const struct sbxnet_grant *grants, size_t ngrants) {
    int nl = sbxnet_nl_open();
    if (nl < 0) die("cannot open rtnetlink: %s", strerror(-nl));
    open_db();
    reclaim(nl);
    printf("user=%s uid=%u bridges=%zu\n", c->user, (unsigned)c->uid, ngrants);
    for (size_t i = 0; i < ngrants; i++) {
        struct bridge_info b;
        const char *why = "ok";
        char subnet[24] = "-";
        if (probe_bridge(nl, grants[i].bridge, &b, &why) == 0) {
            char a[16];
            sbxnet_format_ipv4(b.addr_be, a);
            snprintf(subnet, sizeof subnet, "%s/%d", a, b.prefix);
        }
        printf("bridge=%s quota=%u used=%u state=%s gateway=%s\n", grants[i].bridge, grants[i].count,
               count_leases(c->uid, grants[i].bridge), why, subnet);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- main ---- */

static const char *arg(char **argv, int i) {
    /* Bounded: nothing we accept is longer than an interface name. */
    if (strnlen(argv[i], ARG_MAX_LEN + 1) > ARG_MAX_LEN) usage();
    return argv[i];
}

static const char *valid_ifname_or_die(const char *what, const char *s) {
    if (!sbxnet_valid_ifname(s)) die("bad %s name (use 1-15 of A-Z a-z 0-9 _ . -)", what);
    return s;
}

int sbxnet_main(int argc, char **argv) {
    harden();
    /* argv[0] is the caller's to choose: never look at it. */
    if (argc < 2 || argc > 8) usage();
    if (geteuid() != 0)
        die("not installed setuid root (an administrator runs `make install` as root; see sandbox-net(8))");

    const char *cmd = arg(argv, 1), *bridge = NULL, *name = NULL, *positional = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = arg(argv, i);
        if (strcmp(a, "--bridge") == 0 && i + 1 < argc && !bridge) bridge = arg(argv, ++i);
        else if (strcmp(a, "--name") == 0 && i + 1 < argc && !name) name = arg(argv, ++i);
        else if (a[0] != '-' && !positional) positional = a;
        else usage();
    }

    struct caller c;
    identify(&c);
    static struct sbxnet_grant grants[SBXNET_MAX_GRANTS];
    size_t ngrants = load_policy(&c, grants, SBXNET_MAX_GRANTS);

    if (strcmp(cmd, "create") == 0) {
        if (!bridge || positional) usage();
        return cmd_create(&c, grants, ngrants, valid_ifname_or_die("bridge", bridge),
                          valid_ifname_or_die("interface", name ? name : "eth0"));
    }
    if (strcmp(cmd, "release") == 0) {
        if (!bridge || !positional || name) usage();
        return cmd_release(&c, valid_ifname_or_die("bridge", bridge), valid_ifname_or_die("interface", positional));
    }
    if (strcmp(cmd, "list") == 0) {
        if (bridge || name || positional) usage();
        return cmd_list(&c);
    }
    if (strcmp(cmd, "check") == 0) {
        if (bridge || name || positional) usage();
        return cmd_check(&c, grants, ngrants);
    }
    usage();
}
