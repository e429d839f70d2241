/*
 * The container's PID 1. It reaps every process, starts sessions that
 * launchers request over the control socket (so every session is its child,
 * whoever asked for it), forwards SIGINT/SIGHUP to the sessions, and stops the
 * container when the last client is gone: SIGTERM to everything, stop_timeout
 * seconds of grace, then exit (the kernel SIGKILLs the rest of the pid
 * namespace). It is still a clone of the multithreaded launcher: static
 * buffers only, no malloc, no stdio.
 */
#include "CSandboxSpawn.h"
#include "childsys.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_ARGS 4096

struct client {
    int fd;          /* -1 = free slot */
    pid_t session;   /* 0 = no running session */
};

static struct client clients[MAX_CLIENTS];
static char message[SBX_CTL_MAX_MESSAGE];   /* one request at a time */
static char *argv_ptrs[MAX_ARGS + 1];
static char *envp_ptrs[MAX_ARGS + 1];
static const struct sbx_spawn_request *config;
static int first_status = -1;               /* wait status of the first session */
static int stopping;
static struct timespec stop_deadline;

static void reply(int fd, uint32_t type, int32_t a, int32_t b, int32_t c) {
    struct sbx_ctl_message m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.a = a;
    m.b = b;
    m.c = c;
    /* MSG_NOSIGNAL: a client that went away must not kill the init with SIGPIPE. */
    (void)send(fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int client_count(void) {
    int n = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) if (clients[i].fd >= 0) n++;
    return n;
}

static int session_count(void) {
    int n = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) if (clients[i].session > 0) n++;
    return n;
}

static int add_client(int fd) {
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd < 0) {
            clients[i].fd = fd;
            clients[i].session = 0;
            return i;
        }
    }
    close(fd);
    return -1;
}

static void drop_client(int i) {
    /* The launcher is gone (exited or was killed): its session loses its terminal. */
    if (clients[i].session > 0) {
        kill(-clients[i].session, SIGHUP);
        kill(clients[i].session, SIGHUP);
        kill(clients[i].session, SIGCONT);
    }
    close(clients[i].fd);
    clients[i].fd = -1;
    /* The session keeps running as an orphan until it exits or the container stops. */
    clients[i].session = -clients[i].session;
}

static void begin_stop(int timeout) {
    if (stopping) return;
    stopping = 1;
    if (timeout < 0) timeout = config->stop_timeout;
    clock_gettime(CLOCK_MONOTONIC, &stop_deadline);
    stop_deadline.tv_sec += timeout;
    kill(-1, SIGTERM);   /* every process of the pid namespace but us */
    kill(-1, SIGCONT);
}

static int remaining_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (stop_deadline.tv_sec - now.tv_sec) * 1000 + (stop_deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

/* ---- the session child: from fork to execve ---- */

static void drop_capabilities(int efd) {
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            sbx_fail(efd, SBX_STAGE_SESSION_CAPS, errno, cap);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        sbx_fail(efd, SBX_STAGE_SESSION_CAPS, errno, 64);
}

/* Container root keeps its user namespace's capabilities except CAP_SYS_ADMIN:
 * the container's own read-only binds (the user's files, ~/.config/sandbox) were
 * made inside this namespace, so they are not locked, and CAP_SYS_ADMIN here could
 * remount them writable (with seccomp.allow_userns the filter lets mount(2) through).
 * apt, dpkg, chown, adduser and su need none of it. */
static void drop_sys_admin(int efd) {
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0) sbx_fail(efd, SBX_STAGE_SESSION_CAPS, errno, CAP_SYS_ADMIN);
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) < 0) sbx_fail(efd, SBX_STAGE_SESSION_CAPS, errno, 66);
    uint32_t bit = 1u << (CAP_SYS_ADMIN % 32);
    int word = CAP_SYS_ADMIN / 32;
    data[word].effective &= ~bit;
    data[word].permitted &= ~bit;
    data[word].inheritable &= ~bit;
    if (syscall(SYS_capset, &header, data) < 0) sbx_fail(efd, SBX_STAGE_SESSION_CAPS, errno, 67);
}

static void clear_capability_sets(int efd) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) < 0) sbx_fail(efd, SBX_STAGE_SESSION_CAPS, errno, 65);
}

/* execvpe without malloc: PATH from the session's environment. */
static void exec_path(const char *file, char *const argv[], char *const envp[]) {
    if (strchr(file, '/')) { execve(file, argv, envp); return; }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (int i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0) { path = envp[i] + 5; break; }
    int saved = ENOENT;
    char buf[4096];
    size_t flen = strlen(file);
    for (const char *p = path;; ) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        if (dlen + flen + 2 <= sizeof buf) {
            size_t n = 0;
            if (dlen == 0) buf[n++] = '.';
            else { memcpy(buf, p, dlen); n = dlen; }
            buf[n++] = '/';
            memcpy(buf + n, file, flen + 1);
            execve(buf, argv, envp);
            if (errno != ENOENT && errno != ENOTDIR) saved = errno;
        }
        if (!end) break;
        p = end + 1;
    }
    errno = saved;
}

__attribute__((noreturn)) static void session_main(const struct sbx_ctl_message *m, const int fds[3],
                                                   const char *cwd, int efd) {
    /* Back to a clean signal state: the init blocks everything. */
    for (int s = 1; s < 65; s++) signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    for (int i = 0; i < 3; i++) {
        if (dup2(fds[i], i) < 0) sbx_fail(efd, SBX_STAGE_SESSION_STDIO, errno, i);
    }
    /* Nothing of the init's (control socket, clients) is inherited. */
    if (efd > 3) syscall(SYS_close_range, 3, (unsigned int)efd - 1, 0);
    syscall(SYS_close_range, (unsigned int)efd + 1, ~0U, 0);

    /* A new session: the app cannot reach the launcher's terminal with TIOCSTI (CVE-2017-5226). */
    if (setsid() < 0) sbx_fail(efd, SBX_STAGE_SESSION_SETSID, errno, 0);
    if (m->flags & SBX_RUN_CTTY) {
        if (ioctl(0, TIOCSCTTY, 0) < 0) sbx_fail(efd, SBX_STAGE_SESSION_CTTY, errno, 0);
    }

    /* Root of the container (`exec --root`, allowed only when uid 0 is mapped) keeps
     * the capabilities of the container's user namespace, so apt can drop to _apt,
     * dpkg can chown and maintainer scripts can add users: they reach nothing
     * outside that namespace. Every other session has none. Both get a new session,
     * no_new_privs and the seccomp filter. */
    int keep_root_caps = (m->flags & SBX_RUN_ROOT) && m->uid == 0 && m->gid == 0 && config->root_allowed;
    if (!keep_root_caps) drop_capabilities(efd);
    if (config->setgroups_allowed) {
        gid_t groups[64];
        size_t n = 0;
        if (m->uid != 0) {
            for (size_t i = 0; i < config->group_count && n < 64; i++) groups[n++] = config->groups[i];
        }
        if (sbx_setgroups(n, groups) < 0) sbx_fail(efd, SBX_STAGE_SESSION_GROUPS, errno, 0);
    }
    if (sbx_setresgid(m->gid, m->gid, m->gid) < 0) sbx_fail(efd, SBX_STAGE_SESSION_SETGID, errno, (int)m->gid);
    if (sbx_setresuid(m->uid, m->uid, m->uid) < 0) sbx_fail(efd, SBX_STAGE_SESSION_SETUID, errno, (int)m->uid);
    /* uid 0 keeps its sets across setresuid; an empty bounding set already stops
     * execve from regaining them. Container root keeps its full sets: with
     * no_new_privs, execve keeps (never widens) what it already has. */
    if (!keep_root_caps) clear_capability_sets(efd);
    else drop_sys_admin(efd);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) sbx_fail(efd, SBX_STAGE_SESSION_NO_NEW_PRIVS, errno, 0);
    if (chdir(cwd) < 0) sbx_fail(efd, SBX_STAGE_SESSION_CHDIR, errno, 0);

    if (config->seccomp_len > 0) {
        struct sock_fprog prog;
        prog.len = (unsigned short)(config->seccomp_len / sizeof(struct sock_filter));
        prog.filter = (struct sock_filter *)(uintptr_t)config->seccomp_filter;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
            sbx_fail(efd, SBX_STAGE_SESSION_SECCOMP, errno, 0);
    }
    exec_path(argv_ptrs[0], argv_ptrs, envp_ptrs);
    sbx_fail(efd, SBX_STAGE_SESSION_EXEC, errno, 0);
}

/* Splits the RUN strings into the static argv/envp arrays; returns cwd or NULL. */
static const char *parse_run(const struct sbx_ctl_message *m, size_t length) {
    if (length < sizeof *m || m->strings_len != length - sizeof *m) return NULL;
    if (m->argc < 1 || m->argc > MAX_ARGS || m->envc > MAX_ARGS) return NULL;
    char *s = message + sizeof *m;
    char *end = s + m->strings_len;
    if (m->strings_len == 0 || end[-1] != '\0') return NULL;
    const char *cwd = s;
    uint32_t want = 1 + m->argc + m->envc, got = 0;
    for (char *p = s; p < end; p += strlen(p) + 1, got++) {
        if (got == 0) continue;
        if (got <= m->argc) argv_ptrs[got - 1] = p;
        else if (got - m->argc - 1 < MAX_ARGS) envp_ptrs[got - m->argc - 1] = p;
    }
    if (got != want) return NULL;
    argv_ptrs[m->argc] = NULL;
    envp_ptrs[m->envc] = NULL;
    return cwd;
}

static void start_session(int ci, size_t length, const int fds[3]) {
    const struct sbx_ctl_message *m = (const struct sbx_ctl_message *)message;
    int cfd = clients[ci].fd;
    if (stopping) { reply(cfd, SBX_CTL_FAILED, SBX_STAGE_STOPPING, ESRCH, 0); return; }
    if (clients[ci].session > 0) { reply(cfd, SBX_CTL_FAILED, SBX_STAGE_SESSION_REQUEST, EBUSY, 0); return; }
    const char *cwd = parse_run(m, length);
    if (!cwd) { reply(cfd, SBX_CTL_FAILED, SBX_STAGE_SESSION_REQUEST, EINVAL, 0); return; }
    /* Only the ids the plan allows: the user, or root of the container when mapped. */
    int as_user = m->uid == config->session_uid && m->gid == config->session_gid;
    int as_root = config->root_allowed && m->uid == 0 && m->gid == 0;
    if (!as_user && !as_root) { reply(cfd, SBX_CTL_FAILED, SBX_STAGE_SESSION_REQUEST, EPERM, 0); return; }

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) { reply(cfd, SBX_CTL_FAILED, SBX_STAGE_SESSION_FORK, errno, 0); return; }
    pid_t pid = sbx_raw_fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        reply(cfd, SBX_CTL_FAILED, SBX_STAGE_SESSION_FORK, e, 0);
        return;
    }
    if (pid == 0) {
        close(pipefd[0]);
        session_main(m, fds, cwd, pipefd[1]);
    }
    close(pipefd[1]);
    /* EOF = execve succeeded (the pipe is close-on-exec). */
    struct sbx_spawn_error e;
    ssize_t n;
    do { n = read(pipefd[0], &e, sizeof e); } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof e) {
        /* reaped by the SIGCHLD path; it is not a session */
        reply(cfd, SBX_CTL_FAILED, e.stage, e.err, e.index);
        return;
    }
    clients[ci].session = pid;
    reply(cfd, SBX_CTL_STARTED, pid, 0, 0);
}

/* One descriptor from the supervisor's control gate, or -1. */
static int receive_handoff(int gate) {
    char byte;
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(gate, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n <= 0) return -1;
    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
        }
    }
    if (fd >= 0) fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void handle_client(int ci) {
    int fds[3] = {-1, -1, -1};
    char control[CMSG_SPACE(sizeof(int) * 3)];
    struct iovec iov = {message, sizeof message};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(clients[ci].fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { drop_client(ci); return; }
    int nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (nfds < 3) fds[nfds++] = fd; else close(fd);
            }
        }
    }
    const struct sbx_ctl_message *m = (const struct sbx_ctl_message *)message;
    if ((size_t)n < sizeof *m || (msg.msg_flags & MSG_TRUNC)) {
        reply(clients[ci].fd, SBX_CTL_FAILED, SBX_STAGE_SESSION_REQUEST, EMSGSIZE, 0);
    } else if (m->type == SBX_CTL_RUN) {
        if (nfds == 3) start_session(ci, (size_t)n, fds);
        else reply(clients[ci].fd, SBX_CTL_FAILED, SBX_STAGE_SESSION_REQUEST, EBADF, 0);
    } else if (m->type == SBX_CTL_SIGNAL) {
        if (clients[ci].session > 0 && m->a > 0 && m->a < 65) kill(clients[ci].session, m->a);
    } else if (m->type == SBX_CTL_STOP) {
        begin_stop(m->a);
    } else if (m->type == SBX_CTL_STATUS) {
        reply(clients[ci].fd, SBX_CTL_STATE, session_count(), client_count(), stopping);
    }
    for (int i = 0; i < nfds; i++) close(fds[i]);
}

static void reap(void) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].session == pid) {
                if (first_status < 0) first_status = status;
                reply(clients[i].fd, SBX_CTL_EXITED, status, 0, 0);
                clients[i].session = 0;
            } else if (clients[i].session == -pid) {
                if (first_status < 0) first_status = status;
                clients[i].session = 0;
            }
        }
    }
}

static int exit_code(void) {
    if (first_status < 0) return 0;
    if (WIFEXITED(first_status)) return WEXITSTATUS(first_status);
    return 128 + WTERMSIG(first_status);
}

void sbx_init_main(const struct sbx_spawn_request *req) {
    config = req;
    for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;

    /* Same uid as the app in a single-id map: keep it from ptrace or /proc/1/mem access. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_NAME, (unsigned long)"sandbox-init", 0, 0, 0);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); close(null); }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) sbx_fail(req->error_fd, SBX_STAGE_INIT, errno, 0);
    if (req->first_client_fd >= 0 && add_client(req->first_client_fd) < 0)
        sbx_fail(req->error_fd, SBX_STAGE_INIT, EMFILE, 0);

    /* Ready: EOF on the error pipe tells the supervisor the container is up. */
    close(req->error_fd);

    for (;;) {
        if (!req->persistent && !stopping && client_count() == 0) begin_stop(-1);
        if (stopping) {
            reap();
            if (remaining_ms() == 0) _exit(exit_code());
            /* Everything else gone: nothing left to wait for. */
            if (waitpid(-1, NULL, WNOHANG | __WNOTHREAD) < 0 && errno == ECHILD) _exit(exit_code());
        }
        struct pollfd pfds[3 + MAX_CLIENTS];
        int index[3 + MAX_CLIENTS];
        int n = 0;
        pfds[n] = (struct pollfd){sfd, POLLIN, 0}; index[n++] = -1;
        pfds[n] = (struct pollfd){req->lifeline_fd, POLLIN, 0}; index[n++] = -2;
        pfds[n] = (struct pollfd){req->listen_fd, POLLIN, 0}; index[n++] = -3;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].fd >= 0) { pfds[n] = (struct pollfd){clients[i].fd, POLLIN, 0}; index[n++] = i; }
        }
        int timeout = stopping ? (remaining_ms() < 100 ? remaining_ms() : 100) : -1;
        int r = poll(pfds, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) _exit(111);
        if (r <= 0) continue;
        for (int k = 0; k < n; k++) {
            if (!pfds[k].revents) continue;
            if (index[k] == -1) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                    if (si.ssi_signo == SIGCHLD) reap();
                    else if (si.ssi_signo == SIGTERM) begin_stop(-1);
                    else {
                        for (int i = 0; i < MAX_CLIENTS; i++)
                            if (clients[i].session > 0) kill(clients[i].session, (int)si.ssi_signo);
                    }
                }
            } else if (index[k] == -2) {
                /* The supervisor died (even by SIGKILL): take the whole container down now. */
                _exit(137);
            } else if (index[k] == -3) {
                /* The supervisor (outside, in the user's pid namespace) accepted and checked
                 * the connection; it arrives here as one SCM_RIGHTS descriptor. EOF: the
                 * supervisor is gone, which the lifeline handles. */
                int c = receive_handoff(req->listen_fd);
                if (c >= 0) {
                    /* Launchers run outside the container, so the kernel reports their pid as 0
                     * here; a peer with a pid in our namespace is a process inside that reached
                     * the socket (e.g. through a careless bind): refuse it. */
                    struct ucred cred;
                    socklen_t len = sizeof cred;
                    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != 0) close(c);
                    else add_client(c);
                }
            } else {
                handle_client(index[k]);
            }
        }
    }
}
