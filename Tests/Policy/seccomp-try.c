/* seccomp-try: loads a BPF filter the way the engine's child does (no_new_privs,
 * then seccomp(SECCOMP_SET_MODE_FILTER)), then tries ONE system call and prints
 * what the kernel answered. Built by the unit tests with cc; test-only.
 *
 *   seccomp-try FILTER.bpf|- ATTACK
 *   seccomp-try FILTER.bpf|- drop-caps-status LAST_CAP
 *
 * FILTER is a file of raw `struct sock_filter` (what SeccompPolicy.compile()
 * returns); "-" loads nothing (the baseline, or inside a container whose engine
 * already loaded the filter). Prints exactly one line on stdout:
 *   ok VALUE      the call succeeded (VALUE = its return value)
 *   errno N NAME  the call failed with errno N
 *   unsupported   the kernel has no such ABI (int 0x80 without IA32 emulation)
 * and exits 0. drop-caps-status drops capabilities 0…LAST_CAP the way the
 * engine's child does, loads the filter, and prints /proc/self/status whole, for
 * the Swift verifier (ProcessSecurityStatus) to judge. Exit 2 means the test set-up itself failed (message on stderr).
 * Arguments are chosen so that, unfiltered, a call either succeeds harmlessly
 * or fails with an errno other than the filter's (EBADF, EINVAL, ENOENT…). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

static int die(const char *what) {
    fprintf(stderr, "seccomp-try: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void load_filter(const char *path) {
    if (strcmp(path, "-") == 0) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    struct stat st;
    if (fstat(fd, &st) < 0) die("fstat");
    if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0) {
        fprintf(stderr, "seccomp-try: %s: %lld bytes is not a sock_filter array\n", path, (long long)st.st_size);
        exit(2);
    }
    struct sock_filter *insns = malloc(st.st_size);
    if (!insns || read(fd, insns, st.st_size) != st.st_size) die("read filter");
    close(fd);
    struct sock_fprog prog = { .len = (unsigned short)(st.st_size / sizeof(struct sock_filter)), .filter = insns };
    /* Without no_new_privs an unprivileged process may not load a filter. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("PR_SET_NO_NEW_PRIVS");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) die("seccomp(SET_MODE_FILTER)");
}

/* A pty whose slave is our controlling terminal: TIOCSTI is allowed on the
 * caller's own controlling tty, so unfiltered the injection really works. */
static int controlling_pty(void) {
    if (setsid() < 0) die("setsid");
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) die("posix_openpt");
    const char *name = ptsname(master);
    if (!name) die("ptsname");
    int slave = open(name, O_RDWR | O_CLOEXEC); /* no O_NOCTTY: becomes the ctty */
    if (slave < 0) die("open pty slave");
    if (ioctl(slave, TIOCSCTTY, 0) < 0 && errno != EPERM) die("TIOCSCTTY");
    return slave;
}

static int needs_tty(const char *a) {
    return strcmp(a, "tiocsti") == 0 || strcmp(a, "tiocsti-high") == 0 || strcmp(a, "tioclinux") == 0 ||
           strcmp(a, "tcgets") == 0 || strcmp(a, "tiocgwinsz") == 0;
}

/* Runs fn in a child made by a raw clone-like call; the child exits at once. */
static long reap(long pid) {
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid;
}

#if defined(__x86_64__)
/* Without IA32 emulation (ia32_emulation=0) int 0x80 raises SIGSEGV before any
 * system call, filter or not: there is no ABI to bypass through. */
static sigjmp_buf no_ia32;
static void on_segv(int sig) { (void)sig; siglongjmp(no_ia32, 1); }

/* The i386 ABI from a 64-bit process: int 0x80 with i386 numbers and
 * arguments in ebx, ecx, edx. Returns like the libc syscall(): -1 and errno. */
static long int80(long nr, long a, long b, long c) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    if (sigaction(SIGSEGV, &sa, NULL) < 0) die("sigaction");
    if (sigsetjmp(no_ia32, 1)) {
        printf("unsupported\n");
        exit(0);
    }
    long ret = nr;
    __asm__ volatile("int $0x80" : "+a"(ret) : "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
    if (ret < 0 && ret > -4096) { errno = (int)-ret; return -1; }
    return ret;
}
#endif

struct clone_args_v0 { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; };

static long attack(const char *a, int tty) {
    char c = 'x';
    if (!strcmp(a, "getpid")) return syscall(SYS_getpid);
    if (!strcmp(a, "tcgets")) { struct termios t; return ioctl(tty, TCGETS, &t); }
    if (!strcmp(a, "tiocgwinsz")) { struct winsize w; return ioctl(tty, TIOCGWINSZ, &w); }
    if (!strcmp(a, "tiocsti")) return syscall(SYS_ioctl, tty, (unsigned long)TIOCSTI, &c);
    /* CVE-2019-10063: the kernel truncates cmd to 32 bits; a 64-bit compare misses it. */
    if (!strcmp(a, "tiocsti-high")) return syscall(SYS_ioctl, tty, 0x100000000UL | TIOCSTI, &c);
    if (!strcmp(a, "tioclinux")) { char sub = 7 /* TIOCL_GETSHIFTSTATE */; return syscall(SYS_ioctl, tty, (unsigned long)TIOCLINUX, &sub); }
    if (!strcmp(a, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -2 /* process keyring */, 1);
    if (!strcmp(a, "add_key")) return syscall(SYS_add_key, "user", "seccomp-try", "x", 1, -2 /* process keyring */);
    if (!strcmp(a, "request_key")) return syscall(SYS_request_key, "user", "seccomp-try-absent", NULL, 0);
    if (!strcmp(a, "bpf")) return syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0);
    if (!strcmp(a, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    if (!strcmp(a, "userfaultfd")) return syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
    if (!strcmp(a, "io_uring_setup")) return syscall(SYS_io_uring_setup, 1, NULL);
    if (!strcmp(a, "fsopen")) return syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
    if (!strcmp(a, "open_tree")) return syscall(SYS_open_tree, AT_FDCWD, "/", O_CLOEXEC);
    if (!strcmp(a, "mount")) return mount("none", "/nonexistent/seccomp-try", "tmpfs", 0, NULL);
    if (!strcmp(a, "chroot")) return chroot("/nonexistent/seccomp-try");
    if (!strcmp(a, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
    if (!strcmp(a, "finit_module")) return syscall(SYS_finit_module, -1, "", 0);
    /* Arch bits that match no architecture: EINVAL before anything is loaded. */
    if (!strcmp(a, "kexec_load")) return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xffff0000UL);
    if (!strcmp(a, "syslog")) return syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
    if (!strcmp(a, "ptrace")) return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    if (!strcmp(a, "personality-read-implies-exec")) return syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC);
    if (!strcmp(a, "personality-linux")) return syscall(SYS_personality, (unsigned long)PER_LINUX);
    if (!strcmp(a, "clone-newuser")) return reap(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0));
    if (!strcmp(a, "clone3-newuser") || !strcmp(a, "clone3")) {
        struct clone_args_v0 args = { .flags = strcmp(a, "clone3") ? CLONE_NEWUSER : 0, .exit_signal = SIGCHLD };
        return reap(syscall(SYS_clone3, &args, sizeof args));
    }
    if (!strcmp(a, "unshare-newuser")) return unshare(CLONE_NEWUSER);
    if (!strcmp(a, "fork")) return reap(fork()) > 0 ? 0 : -1;
    if (!strcmp(a, "posix_spawn")) {
        /* glibc tries clone3 first and must fall back to clone on ENOSYS. */
        pid_t pid;
        char *argv[] = { "true", NULL };
        int rc = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
        if (rc != 0) { errno = rc; return -1; }
        int status;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (!strcmp(a, "socket-unix")) return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!strcmp(a, "socket-inet")) return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (!strcmp(a, "socket-netlink")) return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */);
    if (!strcmp(a, "socket-packet")) return socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (!strcmp(a, "socket-alg")) return socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (!strcmp(a, "socket-vsock")) return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* AF_VSOCK with high bits set: the kernel reads an int, a 64-bit EQ test misses it. */
    if (!strcmp(a, "socket-vsock-high")) return syscall(SYS_socket, 0x100000000UL | AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
#if defined(__x86_64__)
    if (!strcmp(a, "int80-getpid")) return int80(20, 0, 0, 0);
    /* i386 keyctl(KEYCTL_GET_KEYRING_ID, process keyring, create): the i386 filter must deny it too. */
    if (!strcmp(a, "int80-keyctl")) return int80(288, 0, -2, 1);
    /* x32 ABI: getpid (39) with __X32_SYSCALL_BIT. */
    if (!strcmp(a, "x32-getpid")) return syscall(0x40000000 | 39);
#endif
    fprintf(stderr, "seccomp-try: unknown attack '%s'\n", a);
    exit(2);
}

/* The engine child's sequence: bounding set, ambient set, then all three
 * process sets to empty (capset). */
static void drop_capabilities(int last) {
    for (int cap = 0; cap <= last; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) die("PR_CAPBSET_DROP");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) die("PR_CAP_AMBIENT_CLEAR_ALL");
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) < 0) die("capset");
}

static int print_status(void) {
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) die("/proc/self/status");
    char line[512];
    while (fgets(line, sizeof line, f)) fputs(line, stdout);
    fclose(f);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[2], "drop-caps-status") == 0) {
        drop_capabilities(atoi(argv[3]));
        load_filter(argv[1]);
        return print_status();
    }
    if (argc != 3) {
        fprintf(stderr, "usage: seccomp-try FILTER.bpf|- ATTACK | seccomp-try FILTER.bpf|- drop-caps-status LAST_CAP\n");
        return 2;
    }
    int tty = -1;
    if (needs_tty(argv[2])) {
        /* setsid needs a non-leader: fork once and report from the child. */
        if (getpgrp() == getpid()) {
            pid_t pid = fork();
            if (pid < 0) die("fork");
            if (pid > 0) {
                int status;
                if (waitpid(pid, &status, 0) < 0) die("waitpid");
                if (WIFSIGNALED(status)) raise(WTERMSIG(status));
                return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
            }
        }
        tty = controlling_pty();
    }
    load_filter(argv[1]);
    errno = 0;
    long r = attack(argv[2], tty);
    if (r == -1 && errno != 0) {
        int e = errno;
        printf("errno %d %s\n", e, strerrorname_np(e) ? strerrorname_np(e) : "?");
    } else {
        printf("ok %ld\n", r);
    }
    fflush(stdout);
    return 0;
}
