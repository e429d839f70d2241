/*
 * A host program run with its own root directory that holds one extra file: the
 * session bus proxy (xdg-dbus-proxy) with /.flatpak-info.
 *
 * xdg-desktop-portal (1.16, src/xdp-utils.c parse_app_info_from_flatpak_info)
 * identifies a caller by the pid of its bus connection and reads
 * /proc/PID/root/.flatpak-info; with a proxy in between, that peer is the
 * proxy. Flatpak therefore runs its proxy under bwrap with the file at its root
 * (common/flatpak-run.c, start_dbus_proxy). We do the same without bwrap:
 *
 *   clone3(CLONE_NEWUSER|CLONE_NEWNS) — no new pid namespace: the bus must see
 *   the proxy's real pid. The child maps only the user's own uid and gid
 *   (writing its own maps needs no helper) and so stays the user towards the
 *   bus (SO_PEERCRED, EXTERNAL auth) and towards the portal, which may then
 *   read its /proc/PID/root (same uid, dumpable: no id change, no setuid exec).
 *   It mounts a staging tmpfs on /tmp and pivots into it (the host tree stays
 *   under /oldroot, its /tmp included), builds the new root as a tmpfs holding
 *   a recursive bind of every top-level host directory and a copy of every
 *   top-level symlink, writes the identity file, makes that tmpfs read-only,
 *   pivots into it and execs. The proxy sees the host tree as before (the bus
 *   socket, its own socket directory) plus /.flatpak-info, which nothing can
 *   change.
 *
 * Same rules as spawn.c: after clone3 only async-signal-safe calls, no
 * allocation; failures are {stage, errno, index} on error_fd; EOF = exec'd.
 */
#include "CSandboxSpawn.h"
#include "childsys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IR_BASE "/tmp"
#define IR_OLD "/oldroot"
#define IR_NEW "/newroot"

struct ir_dirent {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = sbx_write_all(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* "N N 1\n" into buf. */
static void id_line(char *buf, unsigned int id) {
    char digits[16];
    int d = 0, n = 0;
    do { digits[d++] = (char)('0' + id % 10); id /= 10; } while (id > 0 && d < 15);
    for (int k = 0; k < 2; k++) {
        for (int i = d - 1; i >= 0; i--) buf[n++] = digits[i];
        buf[n++] = ' ';
    }
    buf[n++] = '1';
    buf[n++] = '\n';
    buf[n] = '\0';
}

/* /newroot/NAME for every top-level entry of /oldroot: directories bound (recursively), symlinks copied. */
static void mirror_top_level(int efd) {
    static char buf[8192];
    static char from[512], to[512], link[4096];
    int dir = open(IR_OLD, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) sbx_fail(efd, SBX_IR_STAGE_MIRROR, errno, 0);
    for (;;) {
        long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
        if (n < 0) sbx_fail(efd, SBX_IR_STAGE_MIRROR, errno, 1);
        if (n == 0) break;
        for (long off = 0; off < n;) {
            struct ir_dirent *e = (struct ir_dirent *)(buf + off);
            off += e->d_reclen;
            const char *name = e->d_name;
            if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
            unsigned char type = e->d_type;
            if (type == DT_UNKNOWN) {
                struct stat st;
                if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
                type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
            }
            size_t len = strlen(name);
            if (len + sizeof IR_NEW + 2 > sizeof to) continue;
            memcpy(from, IR_OLD "/", sizeof IR_OLD);
            memcpy(from + sizeof IR_OLD, name, len + 1);
            memcpy(to, IR_NEW "/", sizeof IR_NEW);
            memcpy(to + sizeof IR_NEW, name, len + 1);
            if (type == DT_DIR) {
                if (mkdir(to, 0755) < 0) sbx_fail(efd, SBX_IR_STAGE_MIRROR, errno, 2);
                /* A directory we may not enter (EACCES) or that vanished stays an empty
                 * mount point; said on stdout, which the supervisor relays. */
                if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) < 0) {
                    int err = errno;
                    if (err != EACCES && err != ENOENT) sbx_fail(efd, SBX_IR_STAGE_MIRROR, err, 3);
                    static const char msg[] = "the proxy's root lacks /";
                    (void)sbx_write_all(1, msg, sizeof msg - 1);
                    (void)sbx_write_all(1, name, len);
                    (void)sbx_write_all(1, err == EACCES ? ": permission denied\n" : ": vanished\n", err == EACCES ? 20 : 11);
                }
            } else if (type == DT_LNK) {
                ssize_t l = readlinkat(dir, name, link, sizeof link - 1);
                if (l < 0) continue;
                link[l] = '\0';
                if (symlink(link, to) < 0) sbx_fail(efd, SBX_IR_STAGE_MIRROR, errno, 4);
            }
        }
    }
    close(dir);
}

__attribute__((noreturn)) static void identity_root_main(const struct sbx_identity_root_request *req) {
    int efd = req->error_fd;
    int keep[3] = {req->error_fd, req->keep_fd, req->output_fd};
    /* stdio: /dev/null in, output_fd (a pipe the supervisor reads) out and err. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0) sbx_fail(efd, SBX_IR_STAGE_STDIO, errno, 0);
    int out = req->output_fd >= 0 ? req->output_fd : null;
    if (dup2(out, 1) < 0 || dup2(out, 2) < 0) sbx_fail(efd, SBX_IR_STAGE_STDIO, errno, 1);
    sbx_close_other_fds(keep, 3);

    /* Our own single-id maps: the user's uid and gid, nothing else. */
    char line[48];
    if (write_file("/proc/self/setgroups", "deny") < 0) sbx_fail(efd, SBX_IR_STAGE_IDMAP, errno, 0);
    id_line(line, req->uid);
    if (write_file("/proc/self/uid_map", line) < 0) sbx_fail(efd, SBX_IR_STAGE_IDMAP, errno, 1);
    id_line(line, req->gid);
    if (write_file("/proc/self/gid_map", line) < 0) sbx_fail(efd, SBX_IR_STAGE_IDMAP, errno, 2);

    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) sbx_fail(efd, SBX_IR_STAGE_ROOT, errno, 0);
    if (mount("tmpfs", IR_BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) sbx_fail(efd, SBX_IR_STAGE_ROOT, errno, 1);
    if (mkdir(IR_BASE IR_OLD, 0755) < 0 || mkdir(IR_BASE IR_NEW, 0755) < 0) sbx_fail(efd, SBX_IR_STAGE_ROOT, errno, 2);
    if (syscall(SYS_pivot_root, IR_BASE, IR_BASE IR_OLD) < 0) sbx_fail(efd, SBX_IR_STAGE_ROOT, errno, 3);
    if (chdir("/") < 0) sbx_fail(efd, SBX_IR_STAGE_ROOT, errno, 4);
    if (mount("tmpfs", IR_NEW, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) sbx_fail(efd, SBX_IR_STAGE_ROOT, errno, 5);

    mirror_top_level(efd);

    static char path[300];
    size_t nlen = strlen(req->file_name);
    if (nlen == 0 || nlen > 255 || strchr(req->file_name, '/')) sbx_fail(efd, SBX_IR_STAGE_FILE, EINVAL, 0);
    memcpy(path, IR_NEW "/", sizeof IR_NEW);
    memcpy(path + sizeof IR_NEW, req->file_name, nlen + 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0 || sbx_write_all(fd, req->file_data, req->file_len) < 0) sbx_fail(efd, SBX_IR_STAGE_FILE, errno, 1);
    close(fd);
    /* Read-only from here: the binds below keep their own flags. */
    if (mount(NULL, IR_NEW, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        sbx_fail(efd, SBX_IR_STAGE_FILE, errno, 2);

    if (chdir(IR_NEW) < 0) sbx_fail(efd, SBX_IR_STAGE_PIVOT, errno, 0);
    if (syscall(SYS_pivot_root, ".", ".") < 0) sbx_fail(efd, SBX_IR_STAGE_PIVOT, errno, 1);
    if (umount2(".", MNT_DETACH) < 0) sbx_fail(efd, SBX_IR_STAGE_PIVOT, errno, 2);
    if (chdir("/") < 0) sbx_fail(efd, SBX_IR_STAGE_PIVOT, errno, 3);

    /* The ready descriptor is the one fd the program inherits (at its own number). */
    if (req->keep_fd >= 0) {
        int flags = fcntl(req->keep_fd, F_GETFD);
        if (flags < 0 || fcntl(req->keep_fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) sbx_fail(efd, SBX_IR_STAGE_EXEC, errno, 0);
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < 65; sig++) (void)sigaction(sig, &dfl, NULL);   /* ignored ones (SIGPIPE) too */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(req->path, req->argv, req->envp);
    sbx_fail(efd, SBX_IR_STAGE_EXEC, errno, 1);
}

static void identity_root_child(const void *req) { identity_root_main(req); }

pid_t sbx_spawn_in_identity_root(const struct sbx_identity_root_request *req, int *pidfd) {
    return sbx_clone_child(CLONE_NEWUSER | CLONE_NEWNS, pidfd, identity_root_child, req);
}
