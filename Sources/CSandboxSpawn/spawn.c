/*
 * Container start: clone3 into new namespaces, wait for the id maps, build the
 * root filesystem from the planned mount list, pivot_root, become PID 1.
 *
 * Everything after clone3 runs in the child of a multithreaded Swift process:
 * only async-signal-safe calls, no allocation (no malloc, no stdio), failures
 * reported as {stage, errno, index} on a close-on-exec pipe and _exit.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <net/if.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BASE "/tmp"             /* a tmpfs is mounted here, then pivoted to: the staging root */
#define NEWROOT "/newroot"      /* the container's root while it is being built */
#define OLDROOT "/oldroot"      /* the host's root, where bind sources are found */
#define SCRATCH "/scratch"      /* generated files live here, bound over their targets */

void sbx_fail(int fd, int stage, int err, int index) {
    struct sbx_spawn_error e = {stage, err, index};
    if (fd >= 0) (void)sbx_write_all(fd, &e, sizeof e);
    _exit(127);
}

int sbx_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sbx_setresuid(uid_t r, uid_t e, uid_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
int sbx_setresgid(gid_t r, gid_t e, gid_t s) { return (int)syscall(SYS_setresgid, r, e, s); }
int sbx_setgroups(size_t n, const gid_t *groups) { return (int)syscall(SYS_setgroups, n, groups); }

pid_t sbx_raw_fork(void) {
    return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

/* dst = a + b, bounded; returns -1 (ENAMETOOLONG) instead of truncating. */
static int join_path(char *dst, size_t size, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 1 > size) { errno = ENAMETOOLONG; return -1; }
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb + 1);
    return 0;
}

/* mkdir -p; existing directories are fine. */
static int mkdir_p(const char *path, mode_t mode) {
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) < 0) return -1;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
    return 0;
}

static int mkdir_parent(const char *path) {
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, len + 1);
    char *slash = strrchr(buf, '/');
    if (slash == NULL || slash == buf) return 0;
    *slash = '\0';
    return mkdir_p(buf, 0755);
}

/* An empty file to bind a file or device over; an existing one is fine. */
static int ensure_file(const char *path) {
    if (mkdir_parent(path) < 0) return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        struct stat st;
        if ((errno == EROFS || errno == EACCES || errno == EISDIR) && stat(path, &st) == 0) return 0;
        return -1;
    }
    close(fd);
    return 0;
}

/* Sets mount attributes (read-only, nosuid, nodev); never clears the locked ones. */
static int set_mount_attr(const char *path, uint64_t attrs, int recursive) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attrs;
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr);
}

static void run_mount_op(const struct sbx_spawn_request *req, int index) {
    const struct sbx_mount_op *op = &req->mounts[index];
    int efd = req->error_fd;
    char target[4096], source[4096];
    if (join_path(target, sizeof target, NEWROOT, op->target) < 0)
        sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
    struct stat st;

    switch (op->kind) {
    case SBX_MOUNT_BIND:
    case SBX_MOUNT_DEVICE: {
        if (join_path(source, sizeof source, OLDROOT, op->source) < 0)
            sbx_fail(efd, SBX_STAGE_MOUNT_SOURCE, errno, index);
        if (stat(source, &st) < 0) {
            if (op->optional && errno == ENOENT) return;   /* appeared missing only now: skip, as planned */
            sbx_fail(efd, SBX_STAGE_MOUNT_SOURCE, errno, index);
        }
        int made = S_ISDIR(st.st_mode) ? mkdir_p(target, 0755) : ensure_file(target);
        if (made < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        unsigned long flags = MS_BIND | (op->recursive ? MS_REC : 0);
        if (mount(source, target, NULL, flags, NULL) < 0) sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
        uint64_t attrs = MOUNT_ATTR_NOSUID;
        if (op->kind == SBX_MOUNT_DEVICE) attrs |= MOUNT_ATTR_NOEXEC;
        else attrs |= MOUNT_ATTR_NODEV;
        if (op->readonly) attrs |= MOUNT_ATTR_RDONLY;
        if (set_mount_attr(target, attrs, op->recursive) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_READONLY, errno, index);
        return;
    }
    case SBX_MOUNT_TMPFS:
        if (mkdir_p(target, 0755) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, op->data) < 0)
            sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
        return;
    case SBX_MOUNT_PROC:
        if (mkdir_p(target, 0555) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
        return;
    case SBX_MOUNT_DEVPTS:
        if (mkdir_p(target, 0755) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        /* no gid= option: the host's tty group is not mapped in every container */
        if (mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
            sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
        return;
    case SBX_MOUNT_MKDIR:
        if (mkdir_p(target, op->mode) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        (void)chmod(target, op->mode);
        return;
    case SBX_MOUNT_SYMLINK:
        if (mkdir_parent(target) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        if (symlink(op->data, target) < 0) sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
        return;
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
        if (ensure_file(target) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_MKDIR, errno, index);
        if (mount(scratch, target, NULL, MS_BIND, NULL) < 0) sbx_fail(efd, SBX_STAGE_MOUNT, errno, index);
        if (set_mount_attr(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) < 0)
            sbx_fail(efd, SBX_STAGE_MOUNT_READONLY, errno, index);
        return;
    }
    case SBX_MOUNT_REMOUNT_RO:
        if (set_mount_attr(target, MOUNT_ATTR_RDONLY, 0) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_READONLY, errno, index);
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

/* Closes every fd but stdio and `keep` (the launcher's other fds must not live on in the container:
 * an inherited pipe end would keep a reader waiting for EOF forever). */
static void close_other_fds(int *keep, int count) {
    for (int i = 1; i < count; i++)          /* insertion sort: a handful of fds */
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) { int t = keep[j]; keep[j] = keep[j - 1]; keep[j - 1] = t; }
    unsigned int next = 3;
    for (int i = 0; i < count; i++) {
        if (keep[i] < 3 || (unsigned int)keep[i] < next) continue;
        if ((unsigned int)keep[i] > next) syscall(SYS_close_range, next, (unsigned int)keep[i] - 1, 0);
        next = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, next, ~0U, 0);
}

/* The clone3 child: never returns. */
__attribute__((noreturn)) static void container_main(const struct sbx_spawn_request *req) {
    int efd = req->error_fd;
    int keep[5] = {req->sync_fd, req->error_fd, req->lifeline_fd, req->listen_fd, req->first_client_fd};
    close_other_fds(keep, 5);

    /* The supervisor writes our id maps; until then we have no valid ids. EOF = it gave up. */
    char go;
    ssize_t n;
    do { n = read(req->sync_fd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) sbx_fail(efd, SBX_STAGE_WAIT_IDMAP, n < 0 ? errno : EPIPE, 0);
    close(req->sync_fd);

    if (req->become_root) {
        if (sbx_setresgid(0, 0, 0) < 0 || sbx_setresuid(0, 0, 0) < 0) sbx_fail(efd, SBX_STAGE_SETID, errno, 0);
    }

    if ((req->namespaces & SBX_NS_NET) && bring_up_loopback() < 0) sbx_fail(efd, SBX_STAGE_LOOPBACK, errno, 0);

    /* Host mount events must not leak in, ours must not leak out; slave also makes pivot_root legal. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) sbx_fail(efd, SBX_STAGE_MOUNT_PRIVATE, errno, 0);

    /* Stage in a tmpfs over /tmp and pivot into it, so the host tree (including
     * the real /tmp with the X11 sockets) stays reachable under /oldroot. */
    if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        sbx_fail(efd, SBX_STAGE_BASE_TMPFS, errno, 0);
    if (mkdir(BASE NEWROOT, 0755) < 0 || mkdir(BASE OLDROOT, 0755) < 0 || mkdir(BASE SCRATCH, 0755) < 0)
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

pid_t sbx_spawn_container(const struct sbx_spawn_request *req, int *pidfd) {
    uint64_t flags = CLONE_PIDFD;
    if (req->namespaces & SBX_NS_USER) flags |= CLONE_NEWUSER;
    if (req->namespaces & SBX_NS_MOUNT) flags |= CLONE_NEWNS;
    if (req->namespaces & SBX_NS_PID) flags |= CLONE_NEWPID;
    if (req->namespaces & SBX_NS_IPC) flags |= CLONE_NEWIPC;
    if (req->namespaces & SBX_NS_UTS) flags |= CLONE_NEWUTS;
    if (req->namespaces & SBX_NS_NET) flags |= CLONE_NEWNET;
    if (req->namespaces & SBX_NS_CGROUP) flags |= CLONE_NEWCGROUP;

    int fd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags;
    args.pidfd = (uint64_t)(uintptr_t)&fd;
    args.exit_signal = SIGCHLD;

    /* No signal handler of the runtime may run in the child before it is ready. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        /* Dispositions stay blocked in the init (it uses a signalfd). */
        container_main(req);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    if (pid > 0 && pidfd) *pidfd = fd;
    return pid;
}
