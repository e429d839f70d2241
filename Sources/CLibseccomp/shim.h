#pragma once
#include <seccomp.h>
/* Function-like macros Swift cannot import. */
static inline uint32_t CLibseccomp_act_errno(uint32_t e) { return SCMP_ACT_ERRNO(e); }

/* SCMP_ARCH_* expand to AUDIT_ARCH_* expressions Swift does not import. */
static inline uint32_t CLibseccomp_arch_x86_64(void) { return SCMP_ARCH_X86_64; }
static inline uint32_t CLibseccomp_arch_x86(void) { return SCMP_ARCH_X86; }

/* memfd_create is hidden from Swift's Glibc module (built without _GNU_SOURCE).
 * libseccomp 2.5.4 has no seccomp_export_bpf_mem, so the policy compiler exports
 * the filter into a memfd and reads it back. */
extern int memfd_create(const char *name, unsigned int flags);
static inline int CLibseccomp_memfd_cloexec(const char *name) { return memfd_create(name, 1u /* MFD_CLOEXEC */); }
