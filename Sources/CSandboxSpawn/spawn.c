#include "CSandboxSpawn.h"
int sbx_spawn_placeholder(void) { return 0; }
