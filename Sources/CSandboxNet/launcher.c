/* Small system-call wrappers for the launcher side (Swift's Glibc module is
 * built without _GNU_SOURCE, so pipe2 is not visible there). */
#include "CSandboxNet.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

int sbxnet_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34+, _GNU_SOURCE only):
 * a spawned helper or daemon gets fds 0-3 and nothing else of the launcher's. */
int sbxnet_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
