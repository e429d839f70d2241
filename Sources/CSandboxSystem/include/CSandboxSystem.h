#pragma once
/*
 * What SandboxSystem needs from glibc that Swift's Glibc module does not show
 * (declared only under _GNU_SOURCE, which Swift's importer does not define).
 * Every symbol is prefixed sbx_system_.
 */

/* pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so no fork in
 * another thread can leak them between pipe and fcntl. */
int sbx_system_pipe_cloexec(int fds[2]);
