#pragma once
/* The container's PID 1 (init.c), entered by spawn.c's clone3 child once the root is built. */
#include "CSandboxSpawn.h"

/* Reaps, starts sessions on request, stops the container when the last client is gone; never returns. */
__attribute__((noreturn)) void sbx_init_main(const struct sbx_spawn_request *req);
