#include "CSandboxSystem.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

int sbx_system_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int sbx_system_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

short sbx_system_spawn_flag_setsid(void) { return POSIX_SPAWN_SETSID; }

int sbx_system_memfd_cloexec(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
