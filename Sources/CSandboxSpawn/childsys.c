/*
 * The primitives every child of the multithreaded launcher uses (childsys.h):
 * reporting a failure, writing, forking and changing ids without glibc's
 * wrappers, closing inherited fds. Raw system calls only.
 */
#include "childsys.h"
#include "CSandboxSpawn.h"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

pid_t sbx_clone_child(uint64_t flags, int *pidfd, void (*child)(const void *arg), const void *arg) {
    int fd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&fd;
    args.exit_signal = SIGCHLD;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        child(arg);
        _exit(127);   /* child() never returns; this only keeps a mistake from running on */
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    if (pid > 0 && pidfd) *pidfd = fd;
    return pid;
}

pid_t sbx_raw_fork(void) {
    return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

/* Closes every fd but stdio and `keep` (the launcher's other fds must not live on in the container:
 * an inherited pipe end would keep a reader waiting for EOF forever). */
void sbx_close_other_fds(int *keep, int count) {
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
