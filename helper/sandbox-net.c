/* sandbox-net: placeholder until the helper lands (issue 5). Refuses everything. */
#include <stdio.h>
int main(void) { fputs("sandbox-net: not yet implemented\n", stderr); return 2; }
