#include "logline.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

void sbx_log_line(int fd, const char *level, const char *text) {
    struct timespec now;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    dprintf(fd, "%s.%06ld sandbox[%d] %s sandbox.engine: %s\n", stamp, now.tv_nsec / 1000, (int)getpid(), level, text);
}
