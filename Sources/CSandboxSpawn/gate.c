/*
 * The control socket's admission, in C because two programs apply it: the
 * Swift supervisor's ControlGate, and sandbox-monitor (helper/), the small
 * program the supervisor becomes when the container needs no mediator. One
 * rule, one implementation.
 *
 * The init serves sessions but lives in the container's pid namespace, where
 * every peer outside it shows as pid 0: the user's launcher and a process of
 * another container look alike (issue 9 #4). The supervisor, in the user's own
 * pid namespace, sees real pids, so it decides: the same uid, and a process
 * whose pid namespace is ours (not any container's). Admitted connections go
 * to the init over a private socketpair; the rest are closed unread.
 */
#include "CSandboxSpawn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int sbx_gate_admit(int listen_fd, int handoff_fd, uid_t uid, char *why, size_t why_len) {
    why[0] = '\0';
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return SBX_GATE_EMPTY;   /* EAGAIN: all taken; anything else: the next wake-up */

    int verdict = SBX_GATE_REFUSED;
    struct ucred cred;
    socklen_t len = sizeof cred;
    struct stat mine, theirs;   /* pid namespaces, compared as device + inode */
    char path[64];
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        snprintf(why, why_len, "no peer credentials: %s", strerror(errno));
    } else if (cred.uid != uid) {
        snprintf(why, why_len, "peer uid %u is not %u", (unsigned)cred.uid, (unsigned)uid);
    } else if (cred.pid <= 0 || (snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)cred.pid), stat(path, &theirs) < 0)
               || stat("/proc/self/ns/pid", &mine) < 0
               || mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino) {
        snprintf(why, why_len, "peer pid %d is not a process of the user's own pid namespace (a container's?)", (int)cred.pid);
    } else {
        /* One byte of payload, the connection as SCM_RIGHTS. */
        const char byte = 1;
        if (sbx_ctl_send(handoff_fd, &byte, 1, &c, 1) == 1) {
            verdict = SBX_GATE_ADMITTED;
        } else {
            snprintf(why, why_len, "the init did not take a connection: %s", strerror(errno));
            verdict = SBX_GATE_UNTAKEN;
        }
    }
    close(c);
    return verdict;
}
