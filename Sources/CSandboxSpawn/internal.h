#pragma once
/* Shared between spawn.c and init.c; not part of the Swift-visible interface. */
#include "CSandboxSpawn.h"

/* Reports a failure on fd (a CLOEXEC pipe) and exits; only async-signal-safe calls. */
__attribute__((noreturn)) void sbx_fail(int fd, int stage, int err, int index);

/* Writes all of buf, retrying on EINTR; returns 0 or -1. */
int sbx_write_all(int fd, const void *buf, size_t len);

/* The container's PID 1; never returns. */
__attribute__((noreturn)) void sbx_init_main(const struct sbx_spawn_request *req);

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
