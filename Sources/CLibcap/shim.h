#pragma once
#include <sys/capability.h>
/* CAP_TO_MASK is a function-like macro Swift cannot import. */
static inline __u32 CLibcap_cap_to_mask(int cap) { return CAP_TO_MASK(cap); }
