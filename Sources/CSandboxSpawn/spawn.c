/*
 * Container start: clone3 into new namespaces, wait for the id maps, build the
 * root filesystem from the planned mount list, pivot_root, become PID 1.
 *
 * Everything after clone3 runs in the child of a multithreaded Swift process:
 * only async-signal-safe calls, no allocation (no malloc, no stdio), failures
 * reported as {stage, errno, index} on a close-on-exec pipe and _exit.
 */
#include "CSandboxSpawn.h"
#include "childsys.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BASE "/tmp"             /* a tmpfs is mounted here, then pivoted to: the staging root */
#define NEWROOT "/newroot"      /* the container's root while it is being built */
#define OLDROOT "/oldroot"      /* the host's root, where bind sources are found */
#define SCRATCH "/scratch"      /* generated files live here, bound over their targets */

/* dst = a + b, bounded; returns -1 (ENAMETOOLONG) instead of truncating. */
static int join_path(char *dst, size_t size, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 1 > size) { errno = ENAMETOOLONG; return -1; }
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb + 1);
    return 0;
}

/*
 * Mount targets are resolved inside the new root, never as host paths.
 *
 * An image rootfs (and rootfs.path) is a tree that root inside the container
 * writes: any package's maintainer script, `sandbox exec --root`. Here, before
 * pivot_root, we hold every capability of the container's user namespace, and the
 * user's own uid is mapped 1:1, so CAP_FOWNER/CAP_DAC_OVERRIDE cover the user's own
 * files. A `/newroot/usr/local/share/fonts/...` resolved as a plain path followed a
 * symlink planted in the image to `/oldroot/home/USER/private` (or `../../..` up to
 * it, or through the container's fresh /proc/self/root): mkdir -p + chmod made that
 * private host directory 0755, and the bind landed on it (bubblewrap's and flatpak's
 * CVE-2024-42472 class; runc's securejoin and libpathrs solve the same problem).
 *
 * So every target is opened with openat2(RESOLVE_IN_ROOT) relative to an fd of the
 * new root: absolute symlinks and ".." stop at it, as if it were "/", so Debian's
 * `/lib -> usr/lib` keeps working; magic links (/proc/self/root, /proc/self/fd/N)
 * lead out of any root and are refused (ELOOP). Missing components are made one at
 * a time with mkdirat/openat(O_EXCL) in a parent opened that way; modes are changed
 * with fchmod on an fd; mounts go onto an O_PATH fd of the target with move_mount,
 * never onto a path. No fallback that follows symlinks: without openat2 (Linux < 5.6,
 * ENOSYS) the start fails at the mount step.
 */
#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define STAGE "/stage"          /* tmpfs, proc and devpts are mounted here first, then moved onto their targets */
#define MAX_HOPS 40             /* dangling symlinks followed while creating a path, as the kernel's MAXSYMLINKS */

enum make_kind { MAKE_NOTHING, MAKE_DIR, MAKE_FILE };

static int open2(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags | O_CLOEXEC;
    how.resolve = resolve;
    long fd;
    int tries = 0;
    /* EAGAIN: a rename or mount anywhere on the machine raced a ".." (scoped lookups refuse to guess). */
    do { fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how); }
    while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 64);
    return (int)fd;
}

/* The new root as it is now (whatever is mounted on /newroot at this step). */
static int open_newroot(void) {
    return open(NEWROOT, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Makes `name` (one component) in `parent`: a directory, or an empty file when make is MAKE_FILE.
 * Returns an O_PATH fd of what was made; -1 with EEXIST when the name is taken. */
static int make_entry(int parent, const char *name, int make, mode_t mode) {
    if (make == MAKE_FILE) {
        int fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
        close(fd);
    } else if (mkdirat(parent, name, mode) < 0) {
        return -1;
    }
    return open2(parent, name, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
}

/* dst = prefix[0..plen) + a + b, bounded. */
static int splice_path(char *dst, size_t size, const char *prefix, size_t plen, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (plen + la + lb + 1 > size) { errno = ENAMETOOLONG; return -1; }
    memmove(dst, prefix, plen);
    memcpy(dst + plen, a, la);
    memcpy(dst + plen + la, b, lb + 1);
    return 0;
}

/*
 * Opens `path` inside the root `root` (O_PATH), creating what is missing when make is
 * MAKE_DIR (directories, mode) or MAKE_FILE (directories 0755, then an empty file).
 * A dangling symlink on the way is created at its target, inside the root: in an
 * image, fonts -> /home/USER/private makes /home/USER/private in the image.
 */
static int open_in_root(int root, const char *path, int make, mode_t mode) {
    static char walk[4096], link[4096], next[4096];
    if (join_path(walk, sizeof walk, "", path) < 0) return -1;
    for (int hops = 0; hops <= MAX_HOPS; hops++) {
        int fd = open2(root, walk, O_PATH, IN_ROOT);
        if (fd >= 0 || errno != ENOENT || make == MAKE_NOTHING) return fd;
        /* Walk from the root, making each missing component in its resolved parent. */
        int parent = open2(root, "/", O_PATH | O_DIRECTORY, IN_ROOT);
        size_t i = 0;
        for (;;) {
            if (parent < 0) return -1;
            while (walk[i] == '/') i++;
            if (walk[i] == '\0') return parent;
            size_t start = i;
            while (walk[i] != '\0' && walk[i] != '/') i++;
            char saved = walk[i];
            walk[i] = '\0';
            int child = open2(root, walk, O_PATH, IN_ROOT);
            if (child < 0 && errno == ENOENT) {
                size_t rest = i;
                if (saved != '\0') while (walk[rest + 1] == '/') rest++;
                int last = saved == '\0' || walk[rest + 1] == '\0';
                child = make_entry(parent, walk + start, last ? make : MAKE_DIR, mode);
                if (child < 0 && errno == EEXIST) {
                    /* Present but not found: a symlink to something missing. Go on at its target. */
                    ssize_t n = readlinkat(parent, walk + start, link, sizeof link - 1);
                    if (n < 0) { if (errno == EINVAL) errno = ENOENT; close(parent); return -1; }
                    link[n] = '\0';
                    walk[i] = saved;
                    if (splice_path(next, sizeof next, walk, link[0] == '/' ? 0 : start, link, walk + i) < 0 ||
                        join_path(walk, sizeof walk, "", next) < 0) { close(parent); return -1; }
                    close(parent);
                    break;
                }
            }
            walk[i] = saved;
            close(parent);
            parent = child;
        }
    }
    errno = ELOOP;
    return -1;
}

/* An O_PATH fd of the mount point `target` inside the new root, made if missing. */
static int open_target(const char *target, int make, mode_t mode) {
    int root = open_newroot();
    if (root < 0) return -1;
    int fd = open_in_root(root, target, make, mode);
    int saved = errno;
    close(root);
    errno = saved;
    if (fd >= 0 && make == MAKE_DIR) {
        struct stat st;
        int err = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
        if (err) { close(fd); errno = err; return -1; }
    }
    return fd;
}

/* Sets mount attributes (read-only, nosuid, nodev) on the mount `fd` is; never clears the locked ones. */
static int set_mount_attr(int fd, uint64_t attrs, int recursive) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attrs;
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

/* A detached copy of `source` (the host path under /oldroot, or a scratch file), attributes set before it is attached. */
static int clone_tree(const char *source, int recursive, uint64_t attrs, int efd, int index) {
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
    if (tree < 0) sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
    if (set_mount_attr(tree, attrs, recursive) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_READONLY, errno, index);
    return tree;
}

/* Attaches a detached tree, or the mount on STAGE when tree < 0, onto the target fd. */
static void attach(int tree, int target, int efd, int index) {
    long rc = tree >= 0
        ? syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
        : syscall(SYS_move_mount, AT_FDCWD, STAGE, target, "", MOVE_MOUNT_T_EMPTY_PATH);
    if (rc < 0) sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
    if (tree >= 0) close(tree);
    close(target);
}

/* A new filesystem (tmpfs, proc, devpts) on the target: mounted on STAGE in the staging root, then moved. */
static void mount_new(const char *type, unsigned long flags, const char *data, int target, int efd, int index) {
    if (mount(type, STAGE, type, flags, data) < 0) sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
    attach(-1, target, efd, index);
}

/* Sources reached as the user (SBX_MOUNT_BIND with as_user): detached copies made
 * before the child becomes root inside, attached in their turn. A FUSE mount
 * without allow_other (xdg-document-portal's $XDG_RUNTIME_DIR/doc) answers only
 * its owner's uid: container root gets EACCES on every lookup. */
#define MAX_USER_BINDS 8
static struct { int index; int tree; int err; } user_trees[MAX_USER_BINDS];
static int user_tree_count;

static void clone_user_sources(const struct sbx_spawn_request *req) {
    for (size_t i = 0; i < req->mount_count && user_tree_count < MAX_USER_BINDS; i++) {
        const struct sbx_mount_op *op = &req->mounts[i];
        if (op->kind != SBX_MOUNT_BIND || !op->as_user) continue;
        int tree = (int)syscall(SYS_open_tree, AT_FDCWD, op->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        user_trees[user_tree_count].index = (int)i;
        user_trees[user_tree_count].tree = tree;
        user_trees[user_tree_count].err = tree < 0 ? errno : 0;
        user_tree_count++;
    }
}

static void attach_user_tree(const struct sbx_spawn_request *req, int index) {
    const struct sbx_mount_op *op = &req->mounts[index];
    int efd = req->error_fd;
    for (int k = 0; k < user_tree_count; k++) {
        if (user_trees[k].index != index) continue;
        if (user_trees[k].tree < 0) {
            if (op->optional && (user_trees[k].err == ENOENT || user_trees[k].err == ENOTCONN)) return;
            sbx_fail(efd, SBX_STAGE_MOUNT_SOURCE, user_trees[k].err, index);
        }
        int target = open_target(op->target, MAKE_DIR, 0700);
        if (target < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        if (set_mount_attr(user_trees[k].tree, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (op->readonly ? MOUNT_ATTR_RDONLY : 0), 0) < 0)
            sbx_fail(efd, SBX_STAGE_MOUNT_READONLY, errno, index);
        attach(user_trees[k].tree, target, efd, index);
        user_trees[k].tree = -1;
        return;
    }
    sbx_fail(efd, SBX_STAGE_MOUNT_SOURCE, E2BIG, index);   /* more than MAX_USER_BINDS */
}

static void run_mount_op(const struct sbx_spawn_request *req, int index) {
    const struct sbx_mount_op *op = &req->mounts[index];
    int efd = req->error_fd;
    char source[4096];
    struct stat st;
    int target;

    switch (op->kind) {
    case SBX_MOUNT_BIND:
        if (op->as_user) { attach_user_tree(req, index); return; }
        __attribute__((fallthrough));
    case SBX_MOUNT_DEVICE: {
        if (join_path(source, sizeof source, OLDROOT, op->source) < 0)
            sbx_fail(efd, SBX_STAGE_MOUNT_SOURCE, errno, index);
        if (stat(source, &st) < 0) {
            if (op->optional && errno == ENOENT) return;   /* appeared missing only now: skip, as planned */
            sbx_fail(efd, SBX_STAGE_MOUNT_SOURCE, errno, index);
        }
        target = open_target(op->target, S_ISDIR(st.st_mode) ? MAKE_DIR : MAKE_FILE, 0755);
        if (target < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        uint64_t attrs = MOUNT_ATTR_NOSUID;
        if (op->kind == SBX_MOUNT_DEVICE) attrs |= MOUNT_ATTR_NOEXEC;
        else attrs |= MOUNT_ATTR_NODEV;
        if (op->readonly) attrs |= MOUNT_ATTR_RDONLY;
        attach(clone_tree(source, op->recursive, attrs, efd, index), target, efd, index);
        return;
    }
    case SBX_MOUNT_TMPFS:
        if ((target = open_target(op->target, MAKE_DIR, 0755)) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        mount_new("tmpfs", MS_NOSUID | MS_NODEV, op->data, target, efd, index);
        return;
    case SBX_MOUNT_PROC:
        if ((target = open_target(op->target, MAKE_DIR, 0555)) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        mount_new("proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, target, efd, index);
        return;
    case SBX_MOUNT_DEVPTS:
        if ((target = open_target(op->target, MAKE_DIR, 0755)) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        /* no gid= option: the host's tty group is not mapped in every container */
        mount_new("devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", target, efd, index);
        return;
    case SBX_MOUNT_MKDIR: {
        if ((target = open_target(op->target, MAKE_DIR, op->mode)) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        /* fchmod needs a real fd; "." reopens exactly the directory resolved above. */
        int dir = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) { (void)fchmod(dir, op->mode); close(dir); }
        close(target);
        return;
    }
    case SBX_MOUNT_SYMLINK: {
        /* The parent, resolved and made inside the root; the link itself is never followed. */
        static char parent[4096];
        if (join_path(parent, sizeof parent, "", op->target) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        char *slash = strrchr(parent, '/');
        if (slash == NULL || slash[1] == '\0') sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, EINVAL, index);
        slash[0] = '\0';
        if ((target = open_target(parent[0] ? parent : "/", MAKE_DIR, 0755)) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        if (symlinkat(op->data, target, slash + 1) < 0) sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
        close(target);
        return;
    }
    case SBX_MOUNT_FILE: {
        /* Written to the staging tmpfs and bound read-only over the target, so
         * it works under a read-only /etc and never changes a host or image file. */
        char scratch[64] = SCRATCH "/f";
        size_t n = strlen(scratch);
        int v = index;
        char digits[16];
        int d = 0;
        do { digits[d++] = (char)('0' + v % 10); v /= 10; } while (v > 0 && d < 15);
        while (d > 0) scratch[n++] = digits[--d];
        scratch[n] = '\0';
        int fd = open(scratch, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, op->mode);
        if (fd < 0) sbx_fail(efd, SBX_STAGE_MOUNT_WRITE, errno, index);
        if (sbx_write_all(fd, op->data, op->data_len) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_WRITE, errno, index);
        (void)fchmod(fd, op->mode);
        close(fd);
        if ((target = open_target(op->target, MAKE_FILE, 0755)) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        attach(clone_tree(scratch, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, efd, index), target, efd, index);
        return;
    }
    case SBX_MOUNT_REMOUNT_RO:
        if ((target = open_target(op->target, MAKE_NOTHING, 0)) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_READONLY, errno, index);
        if (set_mount_attr(target, MOUNT_ATTR_RDONLY, 0) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_READONLY, errno, index);
        close(target);
        return;
    default:
        sbx_fail(efd, SBX_STAGE_MOUNT, EINVAL, index);
    }
}

/*
 * A new network namespace starts with only `lo`, and it is down: without this,
 * connect(127.0.0.1) inside fails with ENETUNREACH, so an app that talks to
 * itself over loopback (a local server, an IPC port, a language server) breaks
 * with network.mode = "none", and root inside cannot fix it later (sessions
 * have no capabilities). We still hold every capability of the new user
 * namespace, which owns this network namespace. veth and pasta configure the
 * namespace before we are released; setting IFF_UP again is harmless. Only
 * socket/ioctl/close: async-signal-safe, no allocation.
 */
static int bring_up_loopback(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(s);
    errno = saved;
    return rc;
}

/* The clone3 child: never returns. */
__attribute__((noreturn)) static void container_main(const struct sbx_spawn_request *req) {
    int efd = req->error_fd;
    int keep[5] = {req->sync_fd, req->error_fd, req->lifeline_fd, req->listen_fd, req->first_client_fd};
    sbx_close_other_fds(keep, 5);

    /* The supervisor writes our id maps; until then we have no valid ids. EOF = it gave up. */
    char go;
    ssize_t n;
    do { n = read(req->sync_fd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) sbx_fail(efd, SBX_STAGE_WAIT_IDMAP, n < 0 ? errno : EPIPE, 0);
    close(req->sync_fd);

    clone_user_sources(req);
    if (req->become_root) {
        if (sbx_setresgid(0, 0, 0) < 0 || sbx_setresuid(0, 0, 0) < 0) sbx_fail(efd, SBX_STAGE_SETID, errno, 0);
    }

    if ((req->namespaces & SBX_NS_NET) && bring_up_loopback() < 0) sbx_fail(efd, SBX_STAGE_LOOPBACK, errno, 0);
    /* A fork bomb inside must not starve the user's session: the app runs as the
     * user's own uid, so it would otherwise count against the user's whole limit.
     * Since Linux 5.14 RLIMIT_NPROC is checked against the task count of the uid in
     * the caller's user namespace (ucounts), i.e. this container's alone; tasks are
     * still charged to the parents, so the host keeps (limit - N) for itself. Lowering
     * needs no privilege; a limit above the hard one is clamped to it. */
    if (req->process_limit > 0) {
        struct rlimit lim;
        if (getrlimit(RLIMIT_NPROC, &lim) < 0) sbx_fail(efd, SBX_STAGE_LIMITS, errno, 0);
        rlim_t want = (rlim_t)req->process_limit;
        if (lim.rlim_max != RLIM_INFINITY && want > lim.rlim_max) want = lim.rlim_max;
        lim.rlim_cur = lim.rlim_max = want;
        if (setrlimit(RLIMIT_NPROC, &lim) < 0) sbx_fail(efd, SBX_STAGE_LIMITS, errno, 0);
    }

    /* Host mount events must not leak in, ours must not leak out; slave also makes pivot_root legal. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_PRIVATE, errno, 0);

    /* Stage in a tmpfs over /tmp and pivot into it, so the host tree (including
     * the real /tmp with the X11 sockets) stays reachable under /oldroot. */
    if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        sbx_fail(efd, SBX_STAGE_BASE_TMPFS, errno, 0);
    if (mkdir(BASE NEWROOT, 0755) < 0 || mkdir(BASE OLDROOT, 0755) < 0 || mkdir(BASE SCRATCH, 0755) < 0 ||
        mkdir(BASE STAGE, 0755) < 0)
        sbx_fail(efd, SBX_STAGE_BASE_TMPFS, errno, 0);
    if (syscall(SYS_pivot_root, BASE, BASE OLDROOT) < 0) sbx_fail(efd, SBX_STAGE_PIVOT_BASE, errno, 0);
    if (chdir("/") < 0) sbx_fail(efd, SBX_STAGE_PIVOT_BASE, errno, 0);

    for (size_t i = 0; i < req->mount_count; i++) run_mount_op(req, (int)i);

    /* The new root replaces the staging root; the host tree is detached from this namespace. */
    if (chdir(NEWROOT) < 0) sbx_fail(efd, SBX_STAGE_PIVOT_ROOT, errno, 0);
    if (syscall(SYS_pivot_root, ".", ".") < 0) sbx_fail(efd, SBX_STAGE_PIVOT_ROOT, errno, 1);
    if (umount2(".", MNT_DETACH) < 0) sbx_fail(efd, SBX_STAGE_PIVOT_ROOT, errno, 2);
    if (chdir("/") < 0) sbx_fail(efd, SBX_STAGE_PIVOT_ROOT, errno, 3);

    if ((req->namespaces & SBX_NS_UTS) && req->hostname && req->hostname[0]) {
        if (sethostname(req->hostname, strlen(req->hostname)) < 0) sbx_fail(efd, SBX_STAGE_HOSTNAME, errno, 0);
    }
    sbx_init_main(req);
}

static void container_child(const void *req) { container_main(req); }

pid_t sbx_spawn_container(const struct sbx_spawn_request *req, int *pidfd) {
    uint64_t flags = 0;
    if (req->namespaces & SBX_NS_USER) flags |= CLONE_NEWUSER;
    if (req->namespaces & SBX_NS_MOUNT) flags |= CLONE_NEWNS;
    if (req->namespaces & SBX_NS_PID) flags |= CLONE_NEWPID;
    if (req->namespaces & SBX_NS_IPC) flags |= CLONE_NEWIPC;
    if (req->namespaces & SBX_NS_UTS) flags |= CLONE_NEWUTS;
    if (req->namespaces & SBX_NS_NET) flags |= CLONE_NEWNET;
    if (req->namespaces & SBX_NS_CGROUP) flags |= CLONE_NEWCGROUP;
    return sbx_clone_child(flags, pidfd, container_child, req);
}
