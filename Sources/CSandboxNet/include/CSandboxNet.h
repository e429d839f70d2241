#pragma once
/* The setuid helper's logic: see Docs/man/sandbox-net.8. Every symbol is prefixed sbxnet_. */
int sbxnet_placeholder(void);
