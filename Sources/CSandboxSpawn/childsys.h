#pragma once
/*
 * System-call primitives for code that runs in a child of the multithreaded
 * launcher or supervisor (the clone3 children of spawn.c and identityroot.c, the
 * container's init and its session children). Only async-signal-safe calls, no
 * allocation, no glibc wrapper that assumes the parent's threads still exist.
 * Not part of the Swift-visible interface; depends on nothing else in the target.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* clone3 with CLONE_PIDFD | flags, every signal blocked across it so that no
 * signal handler of the runtime runs in the child before it is ready (the mask
 * stays blocked there: the init uses a signalfd). The child runs child(arg),
 * which must not return. The parent gets the pid, or -1 with errno, and the
 * child's pidfd in *pidfd (when pidfd is not NULL). */
pid_t sbx_clone_child(uint64_t flags, int *pidfd, void (*child)(const void *arg), const void *arg);

/* Reports a failure on fd (a CLOEXEC pipe) as a struct sbx_spawn_error and exits;
 * only async-signal-safe calls. */
__attribute__((noreturn)) void sbx_fail(int fd, int stage, int err, int index);

/* Writes all of buf, retrying on EINTR; returns 0 or -1. */
int sbx_write_all(int fd, const void *buf, size_t len);

/* fork(2) without glibc's atfork handlers: the init is a clone of a
 * multithreaded process, so malloc's locks may be held by threads that no
 * longer exist here. */
pid_t sbx_raw_fork(void);

/* setresuid/setresgid/setgroups as raw system calls. glibc's wrappers broadcast the
 * change to every thread it knows (nptl setxid) and wait for each to answer; in a
 * clone of a multithreaded process those threads do not exist, so the wrapper can
 * wait forever (observed: a container start hanging in futex_wait). */
int sbx_setresuid(uid_t r, uid_t e, uid_t s);
int sbx_setresgid(gid_t r, gid_t e, gid_t s);
int sbx_setgroups(size_t n, const gid_t *groups);

/* Closes every fd but stdio and `keep` (sorted in place; -1 entries ignored). */
void sbx_close_other_fds(int *keep, int count);
