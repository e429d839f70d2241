/* sandbox-net: setuid-root veth helper. All logic lives in Sources/CSandboxNet
 * (helper.c) so the Swift tests and the fuzzers run the same code. */
#include "CSandboxNet.h"

int main(int argc, char **argv) { return sbxnet_main(argc, argv); }
