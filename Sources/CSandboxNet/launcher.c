/* Small system-call wrappers for the launcher side (Swift's Glibc module is
 * built without _GNU_SOURCE, so pipe2 is not visible there). */
#include "CSandboxNet.h"

#include <fcntl.h>
#include <unistd.h>

int sbxnet_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
