#pragma once
/* The C boundary between clone and exec: see spawn.c. Every symbol is prefixed sbx_spawn_. */
int sbx_spawn_placeholder(void);
