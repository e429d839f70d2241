#pragma once
#include <seccomp.h>
/* Function-like macros Swift cannot import. */
static inline uint32_t CLibseccomp_act_errno(uint32_t e) { return SCMP_ACT_ERRNO(e); }
