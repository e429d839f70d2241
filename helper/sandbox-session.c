/*
 * sandbox-session: what a launcher (`sandbox run`, `sandbox exec`) becomes
 * while its session runs without a terminal — a desktop launcher's click, a
 * script, a background job.
 *
 * Why C: such a launcher only waits. It forwards SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT to its session and exits with the session's status, for as long as
 * the app runs (hours, for a browser). As the Swift launcher it held ~10.8 MB
 * resident for that; this program holds a fraction of a megabyte
 * (Docs/benchmarks.md). The launcher execve()s it (same pid, same command line,
 * so `ps` and whoever waits for the launcher see no difference) once the
 * session has run for half a second, with the forwarded signals blocked so none
 * is lost across the execve; a signal already caught was forwarded before.
 *
 * Started only by the launcher (Sources/SandboxRuntime/SessionRunner.swift):
 *   SANDBOX_SESSION="SOCKET LOGFD STARTUS"  the session's control connection,
 *     the log file (-o, info level) or -1, and CLOCK_MONOTONIC at the request (µs)
 *   SANDBOX_SESSION_LABEL="NAME: session ARGV0"  for the log line
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* "SOCKET LOGFD STARTUS": an open socket, an open descriptor or -1, a number. */
static int parse(const char *s, int *sock, int *logfd, long long *started) {
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != ' ' || a < 3 || a > INT_MAX) return -1;
    long b = strtol(end + 1, &end, 10);
    if (errno != 0 || *end != ' ' || b < -1 || b > INT_MAX) return -1;
    long long c = strtoll(end + 1, &end, 10);
    if (errno != 0 || *end != '\0' || c < 0) return -1;
    if (fcntl((int)a, F_GETFD) < 0 || (b >= 0 && fcntl((int)b, F_GETFD) < 0)) return -1;
    *sock = (int)a;
    *logfd = (int)b;
    *started = c;
    return 0;
}

static long long monotonic_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(void) {
    int sock, logfd;
    long long started;
    const char *passed = getenv("SANDBOX_SESSION");
    if (passed == NULL || parse(passed, &sock, &logfd, &started) < 0) {
        fputs("sandbox-session: error: started by sandbox run and sandbox exec; it is not run by hand\n", stderr);
        return 2;
    }
    const char *label = getenv("SANDBOX_SESSION_LABEL");
    char name[256];
    snprintf(name, sizeof name, "%s", label ? label : "session");

    /* The launcher blocked these before execve; they stay blocked (and pending
     * ones pending) and arrive here as records instead of killing us. */
    sigset_t forwarded;
    sigemptyset(&forwarded);
    sigaddset(&forwarded, SIGINT);
    sigaddset(&forwarded, SIGTERM);
    sigaddset(&forwarded, SIGHUP);
    sigaddset(&forwarded, SIGQUIT);
    sigprocmask(SIG_BLOCK, &forwarded, NULL);
    int sfd = signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        fprintf(stderr, "sandbox: error: signalfd: %s\n", strerror(errno));
        return 1;
    }

    struct pollfd watch[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
    for (;;) {
        if (poll(watch, 2, -1) < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "sandbox: error: poll: %s\n", strerror(errno));
            return 1;
        }
        if (watch[1].revents != 0) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                struct sbx_ctl_message m;
                memset(&m, 0, sizeof m);
                m.type = SBX_CTL_SIGNAL;
                m.a = (int32_t)si.ssi_signo;
                (void)send(sock, &m, sizeof m, MSG_NOSIGNAL);
            }
        }
        if (watch[0].revents != 0) {
            struct sbx_ctl_message m;
            ssize_t n;
            do { n = recv(sock, &m, sizeof m, 0); } while (n < 0 && errno == EINTR);
            if (n != (ssize_t)sizeof m) {
                fputs("sandbox: error: the container stopped while the session was running\n", stderr);
                return 125;   /* sandbox's own failure, as the launcher's (SandboxError.Code) */
            }
            if (m.type != SBX_CTL_EXITED) continue;
            /* As a shell reports it: the exit code, or 128 + the signal. */
            int status = WIFEXITED(m.a) ? WEXITSTATUS(m.a) : WIFSIGNALED(m.a) ? 128 + WTERMSIG(m.a) : 1;
            if (logfd >= 0) {
                long long ms10 = (monotonic_us() - started + 50) / 100;   /* tenths of a ms, as Stopwatch.elapsed */
                char line[400];
                snprintf(line, sizeof line, "%s exited with status %d after %lld.%lld ms", name, status, ms10 / 10,
                         ms10 % 10);
                sbx_log_line(logfd, "info", line);
            }
            return status;
        }
    }
}
