/*
 * sandbox-monitor: what a container's supervisor becomes once the container
 * runs and there is nothing to mediate (no sound, X11 or bus proxy).
 *
 * Why C: the supervisor (Swift, static-pie) stays ~6.5 MB resident while it
 * waits, most of it the Swift runtime's own text, and no link order got it
 * under 4.6 MB (Docs/benchmarks.md). What is left to do while the app runs is
 * small: hold the init's lifeline (its closing stops the container), admit
 * launchers to the control socket (sbx_gate_admit, the rule the Swift
 * ControlGate applies too) and notice the init's exit. The supervisor
 * execve()s this program, so the pid stays the init's parent and the one in
 * the state file. When the init exits, this executes the supervisor again, from
 * the descriptor of the very binary it came from, as
 * `sandbox-supervisor --finish NAME` with the teardown record on fd 3: the
 * teardown (network, state directory) stays in one place, in Swift.
 *
 * Started only by sandbox-supervisor (Sources/SandboxSupervision/Monitor.swift)
 * as `sandbox-monitor NAME` (what ps shows), with SANDBOX_MONITOR_FDS naming
 * six inherited descriptors: the init's pidfd, the listening control socket
 * (non-blocking), our end of the handoff pair to the init, the lifeline's write
 * end (held, never written), the supervisor executable (O_RDONLY) and the
 * teardown record (a memfd). stderr is the log file (-o, info and above) or
 * /dev/null.
 */
#include "CSandboxSpawn.h"
#include "logline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { PIDFD, LISTEN, HANDOFF, LIFELINE, SUPERVISOR, RECORD, NFDS };

/* SANDBOX_MONITOR_FDS: NFDS open descriptors above stderr, separated by spaces. */
static int parse_fds(const char *s, int fds[NFDS]) {
    for (int i = 0; i < NFDS; i++) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno != 0 || end == s || (*end != ' ' && *end != '\0') || v < 3 || v > INT_MAX) return -1;
        if (fcntl((int)v, F_GETFD) < 0) return -1;
        fds[i] = (int)v;
        s = end;
    }
    return *s == '\0' ? 0 : -1;
}

int main(int argc, char **argv) {
    int fds[NFDS];
    const char *passed = getenv("SANDBOX_MONITOR_FDS");
    if (argc != 2 || passed == NULL || parse_fds(passed, fds) < 0) {
        fputs("sandbox-monitor: error: started by sandbox-supervisor; it is not run by hand\n", stderr);
        return 2;
    }
    const char *name = argv[1];
    unsetenv("SANDBOX_MONITOR_FDS");   /* not the supervisor's business at --finish */
    /* Ignored already (the supervisor ignores it and exec keeps that); a
     * launcher that hangs up must never kill the container's lifeline holder. */
    signal(SIGPIPE, SIG_IGN);
    uid_t uid = getuid();

    struct pollfd watch[2] = {{fds[PIDFD], POLLIN, 0}, {fds[LISTEN], POLLIN, 0}};
    for (;;) {
        if (poll(watch, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;   /* nothing sensible left to wait for: tear down */
        }
        if (watch[0].revents != 0) break;   /* the init exited */
        if (watch[1].revents & (POLLERR | POLLNVAL)) watch[1].fd = -1;
        else if (watch[1].revents != 0) {
            char why[256], line[600];
            int verdict;
            while ((verdict = sbx_gate_admit(fds[LISTEN], fds[HANDOFF], uid, why, sizeof why)) != SBX_GATE_EMPTY) {
                if (verdict == SBX_GATE_REFUSED) {
                    snprintf(line, sizeof line, "%s: control: refused a connection: %s", name, why);
                    sbx_log_line(2, "info", line);
                }
            }
        }
    }

    /* The teardown record becomes fd 3 (the supervisor's --finish reads it
     * there); everything else but stdio and the executable goes. */
    int record = fds[RECORD], supervisor = fds[SUPERVISOR];
    if (record != 3) {
        if (supervisor == 3) {
            supervisor = fcntl(supervisor, F_DUPFD_CLOEXEC, 4);
            close(3);
        }
        if (dup2(record, 3) < 0) {
            char line[300];
            snprintf(line, sizeof line, "%s: cannot pass on the teardown record; the next start removes the state", name);
            sbx_log_line(2, "error", line);
            return 1;
        }
    } else {
        fcntl(3, F_SETFD, 0);
    }
    for (int i = 0; i < NFDS; i++)
        if (fds[i] != 3 && fds[i] != supervisor) close(fds[i]);
    fcntl(supervisor, F_SETFD, FD_CLOEXEC);
    char *args[] = {(char *)"sandbox-supervisor", (char *)"--finish", (char *)name, NULL};
    fexecve(supervisor, args, environ);
    char line[400];
    snprintf(line, sizeof line, "%s: cannot execute the supervisor for the teardown: %s; the next start removes the state",
             name, strerror(errno));
    sbx_log_line(2, "error", line);
    return 1;
}
