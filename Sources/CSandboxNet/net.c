#include "CSandboxNet.h"
int sbxnet_placeholder(void) { return 0; }
