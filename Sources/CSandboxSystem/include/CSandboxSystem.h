#pragma once
/*
 * What SandboxSystem and SandboxPlan need from glibc that Swift's Glibc module
 * does not show (declared only under _GNU_SOURCE, which Swift's importer does not
 * define). Every symbol is prefixed sbx_system_.
 */
#include <spawn.h>

/* pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so no fork in
 * another thread can leak them between pipe and fcntl. */
int sbx_system_pipe_cloexec(int fds[2]);

/* posix_spawn pieces (HostCommand's primitive): close every fd >= from (glibc
 * 2.34+), and POSIX_SPAWN_SETSID. Functions, not inline: both exist only under
 * _GNU_SOURCE. */
int sbx_system_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);
short sbx_system_spawn_flag_setsid(void);

/* memfd_create(name, MFD_CLOEXEC): an anonymous file, for data one program
 * hands to the next across execve (the supervisor's teardown record). */
int sbx_system_memfd_cloexec(const char *name);
