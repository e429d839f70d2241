#pragma once
/*
 * The C boundary of the container engine. Swift builds plain structs; C does
 * everything that must happen in a child process before execve, because Swift
 * (its runtime allocates and takes locks) must never run in a forked child.
 *
 *   sbx_spawn_container   clone3 the container: user/mount/pid/... namespaces,
 *                         wait for the id maps, run the mount list, pivot_root,
 *                         then become the container's PID 1 (sbx init).
 *   sbx init              reaps, starts sessions on request (control socket),
 *                         forwards signals, stops the container when the last
 *                         client is gone.
 *   sbx_ctl_*             the launcher side of the control socket protocol.
 *
 * Every symbol is prefixed sbx_; constants Swift cannot see (_GNU_SOURCE) are
 * exported as functions or enums.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One filesystem step, executed in order in the new mount namespace. */
enum sbx_mount_kind {
    SBX_MOUNT_BIND = 1,        /* source (host) -> target; readonly, recursive, optional */
    SBX_MOUNT_DEVICE = 2,      /* a device node bind (dev access allowed) */
    SBX_MOUNT_TMPFS = 3,       /* data = mount options */
    SBX_MOUNT_PROC = 4,
    SBX_MOUNT_DEVPTS = 5,
    SBX_MOUNT_MKDIR = 6,       /* mode */
    SBX_MOUNT_SYMLINK = 7,     /* data = link contents, target = link path */
    SBX_MOUNT_FILE = 8,        /* data/data_len = contents, mode; bound read-only over target */
    SBX_MOUNT_REMOUNT_RO = 9,
};

struct sbx_mount_op {
    int kind;
    const char *source;        /* host path (bind, device) or NULL */
    const char *target;        /* absolute path inside the container */
    const char *data;          /* tmpfs options, symlink contents, file contents */
    size_t data_len;
    unsigned int mode;
    int readonly;
    int recursive;
    int optional;
    int as_user;               /* bind: the source is opened before the child becomes root inside,
                                  with the user's credentials (a FUSE mount without allow_other) */
};

/* Where a start or session failed; reported as {stage, errno, index}. */
enum sbx_stage {
    SBX_STAGE_NONE = 0,
    SBX_STAGE_WAIT_IDMAP = 1,      /* the launcher went away before writing the id maps */
    SBX_STAGE_SETID = 2,
    SBX_STAGE_MOUNT_PRIVATE = 3,
    SBX_STAGE_BASE_TMPFS = 4,
    SBX_STAGE_PIVOT_BASE = 5,
    SBX_STAGE_MOUNT_MKDIR = 6,     /* creating the mount point (index = op) */
    SBX_STAGE_MOUNT_SOURCE = 7,    /* the source is missing or unusable (index = op) */
    SBX_STAGE_MOUNT = 8,           /* mount(2) itself (index = op) */
    SBX_STAGE_MOUNT_READONLY = 9,  /* making it read-only (index = op) */
    SBX_STAGE_MOUNT_WRITE = 10,    /* writing a generated file (index = op) */
    SBX_STAGE_PIVOT_ROOT = 11,
    SBX_STAGE_HOSTNAME = 12,
    SBX_STAGE_INIT = 13,
    SBX_STAGE_LOOPBACK = 14,       /* bringing up lo in the container's own network namespace */
    SBX_STAGE_LIMITS = 15,         /* setting the container's process limit (RLIMIT_NPROC) */
    /* session stages (after fork from the init) */
    SBX_STAGE_SESSION_STDIO = 20,
    SBX_STAGE_SESSION_SETSID = 21,
    SBX_STAGE_SESSION_CTTY = 22,
    SBX_STAGE_SESSION_CAPS = 23,
    SBX_STAGE_SESSION_GROUPS = 24,
    SBX_STAGE_SESSION_SETGID = 25,
    SBX_STAGE_SESSION_SETUID = 26,
    SBX_STAGE_SESSION_NO_NEW_PRIVS = 27,
    SBX_STAGE_SESSION_CHDIR = 28,
    SBX_STAGE_SESSION_SECCOMP = 29,
    SBX_STAGE_SESSION_EXEC = 30,
    SBX_STAGE_SESSION_FORK = 31,
    SBX_STAGE_SESSION_REQUEST = 32, /* malformed request or too many sessions */
    SBX_STAGE_STOPPING = 33,        /* the container is stopping; start a new one */
};

struct sbx_spawn_error {
    int32_t stage;
    int32_t err;
    int32_t index;
};

/* Namespaces, as the plan's NamespaceSet bits. */
enum sbx_namespace {
    SBX_NS_USER = 1 << 0, SBX_NS_MOUNT = 1 << 1, SBX_NS_PID = 1 << 2, SBX_NS_IPC = 1 << 3,
    SBX_NS_UTS = 1 << 4, SBX_NS_NET = 1 << 5, SBX_NS_CGROUP = 1 << 6,
};

struct sbx_spawn_request {
    uint32_t namespaces;               /* sbx_namespace bits */
    const char *hostname;
    const struct sbx_mount_op *mounts;
    size_t mount_count;
    /* Raw struct sock_filter array; empty = no filter. Loaded last before execve in every session. */
    const uint8_t *seccomp_filter;
    size_t seccomp_len;
    /* Supplementary groups for user sessions (container ids); setgroups_allowed = 0 when setgroups is denied. */
    const uint32_t *groups;
    size_t group_count;
    int setgroups_allowed;
    /* Become uid/gid 0 inside after the id maps (0 is mapped); otherwise keep the caller's ids. */
    int become_root;
    int sync_fd;        /* read end: one byte = id maps written, EOF = abort */
    int error_fd;       /* write end: a struct sbx_spawn_error, EOF = the init is ready */
    int lifeline_fd;    /* read end: EOF = the supervisor died, stop at once */
    int listen_fd;      /* the control gate: a SOCK_SEQPACKET socketpair end on which the
                           supervisor hands over each connection it accepted and checked */
    int first_client_fd;/* -1, or an already connected client (the launcher that started it) */
    int persistent;     /* stay when no client is connected (`sandbox start`) */
    int stop_timeout;   /* seconds of SIGTERM grace when the container stops */
    /* RLIMIT_NPROC for everything in the container (0 = inherit). Linux >= 5.14 counts
     * it per user namespace and uid, so it caps this container's tasks alone. */
    uint64_t process_limit;
    /* The ids a session may ask for: the plan's user, and 0/0 only when root is mapped
     * (`exec --root`). Any other RUN is refused: a client chooses nothing else. */
    uint32_t session_uid, session_gid;
    int root_allowed;
};

/*
 * Starts the container. Returns the init's pid (host view) and a pidfd, or -1
 * with errno set (clone3 failed). The child blocks on sync_fd; the caller writes
 * the id maps, then one byte to sync_fd, then reads error_fd.
 */
pid_t sbx_spawn_container(const struct sbx_spawn_request *request, int *pidfd);

/* ---- A host program with one extra file at its root (the bus proxy's /.flatpak-info) ---- */

enum sbx_identity_root_stage {
    SBX_IR_STAGE_STDIO = 40,
    SBX_IR_STAGE_IDMAP = 41,   /* writing our own single-id maps */
    SBX_IR_STAGE_ROOT = 42,    /* the staging tmpfs and the first pivot */
    SBX_IR_STAGE_MIRROR = 43,  /* binding the host's top-level directories */
    SBX_IR_STAGE_FILE = 44,    /* writing the file, making the root read-only */
    SBX_IR_STAGE_PIVOT = 45,
    SBX_IR_STAGE_EXEC = 46,
};

struct sbx_identity_root_request {
    const char *path;              /* the program (absolute host path) */
    char *const *argv;
    char *const *envp;
    const char *file_name;         /* one component, made at / of the new root */
    const char *file_data;
    size_t file_len;
    uint32_t uid, gid;             /* the caller's own ids (mapped 1:1, nothing else) */
    int keep_fd;                   /* inherited at its number (xdg-dbus-proxy --fd=N), or -1 */
    int output_fd;                 /* the program's stdout and stderr, or -1 for /dev/null */
    int error_fd;                  /* write end, CLOEXEC: a struct sbx_spawn_error; EOF = exec'd */
};

/*
 * Runs `path` in a new user+mount namespace (not a new pid namespace) whose root
 * mirrors the host's top level plus file_name (identityroot.c). Returns the pid
 * and a pidfd, or -1 with errno (clone3 failed). Read error_fd to EOF next.
 */
pid_t sbx_spawn_in_identity_root(const struct sbx_identity_root_request *request, int *pidfd);

/* ---- Control socket protocol (SOCK_SEQPACKET, launcher <-> init) ---- */

enum sbx_ctl_type {
    SBX_CTL_RUN = 1,      /* start a session; fds: stdin, stdout, stderr */
    SBX_CTL_SIGNAL = 2,   /* a = signal for this client's session */
    SBX_CTL_STOP = 3,     /* a = timeout seconds (-1 = the container's default) */
    SBX_CTL_STATUS = 4,   /* reply: a = sessions, b = clients, c = stopping */
    /* replies */
    SBX_CTL_STARTED = 10, /* a = pid inside the container */
    SBX_CTL_EXITED = 11,  /* a = wait status */
    SBX_CTL_FAILED = 12,  /* a = stage, b = errno, c = index */
    SBX_CTL_STATE = 13,   /* reply to STATUS */
};

/* Session flags. */
enum sbx_run_flags {
    SBX_RUN_CTTY = 1,     /* stdin is a terminal (a pty slave): make it the controlling terminal */
    SBX_RUN_ROOT = 2,     /* `exec --root`: uid 0 keeps the user namespace's capabilities (not CAP_SYS_ADMIN) */
};

/* Every message starts with this; RUN is followed by NUL-separated strings: cwd, argv..., env... */
struct sbx_ctl_message {
    uint32_t type;
    int32_t a, b, c;
    uint32_t uid, gid, flags, argc, envc, strings_len;
};

/* Largest RUN message (header + strings). */
#define SBX_CTL_MAX_MESSAGE (256 * 1024)
static inline size_t sbx_ctl_max_message(void) { return SBX_CTL_MAX_MESSAGE; }

/* sendmsg with up to 3 fds as SCM_RIGHTS (CMSG macros are not visible to Swift). */
ssize_t sbx_ctl_send(int sock, const void *buffer, size_t length, const int *fds, int fd_count);

/* ---- Joining and small syscalls Swift's Glibc module does not show ---- */

int sbx_pidfd_open(pid_t pid);
int sbx_pidfd_send_signal(int pidfd, int sig);
int sbx_socket_seqpacket_cloexec(void);
int sbx_socketpair_seqpacket_cloexec(int fds[2]);
/* grantpt/unlockpt/ptsname_r wrapped: opens a pty pair, both ends O_CLOEXEC. */
int sbx_openpty(int *master, int *slave);

/* ---- The control socket's admission (gate.c) ---- */

enum {
    SBX_GATE_EMPTY = -1,   /* nothing pending (or accept failed): wait for the next wake-up */
    SBX_GATE_REFUSED = 0,  /* another uid, or a process of another pid namespace: closed unread */
    SBX_GATE_ADMITTED = 1, /* handed to the init */
    SBX_GATE_UNTAKEN = 2,  /* admitted, but the init did not take it (it is stopping) */
};
/* Accepts one pending connection on listen_fd and admits it only when the peer
 * has `uid` and lives in our own pid namespace; admitted connections go to the
 * init over handoff_fd. `why` gets the reason for REFUSED and UNTAKEN. */
int sbx_gate_admit(int listen_fd, int handoff_fd, uid_t uid, char *why, size_t why_len);
