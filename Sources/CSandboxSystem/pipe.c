#include "CSandboxSystem.h"

#include <fcntl.h>
#include <unistd.h>

int sbx_system_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
