#pragma once
#include <seccomp.h>
/* Function-like macros Swift cannot import. */
static inline uint32_t CLibseccomp_act_errno(uint32_t e) { return SCMP_ACT_ERRNO(e); }

/* SCMP_ARCH_* expand to AUDIT_ARCH_* expressions Swift does not import. */
static inline uint32_t CLibseccomp_arch_x86_64(void) { return SCMP_ARCH_X86_64; }
static inline uint32_t CLibseccomp_arch_x86(void) { return SCMP_ARCH_X86; }

/* The AUDIT_ARCH this code was compiled for, from the kernel's <linux/audit.h> and
 * the compiler's target, not from libseccomp: what a native filter must check first,
 * so tests can hold libseccomp's output against it on every architecture. 0 for an
 * architecture not listed here. */
static inline uint32_t CLibseccomp_audit_arch_of_build(void) {
#if defined(__x86_64__) && defined(__LP64__)
    return AUDIT_ARCH_X86_64;
#elif defined(__aarch64__) && defined(__AARCH64EL__)
    return AUDIT_ARCH_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
    return AUDIT_ARCH_RISCV64;
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return AUDIT_ARCH_PPC64LE;
#elif defined(__s390x__)
    return AUDIT_ARCH_S390X;
#elif defined(__i386__)
    return AUDIT_ARCH_I386;
#elif defined(__arm__) && defined(__ARMEL__)
    return AUDIT_ARCH_ARM;
#else
    return 0;
#endif
}

/* memfd_create is hidden from Swift's Glibc module (built without _GNU_SOURCE).
 * libseccomp 2.5.4 has no seccomp_export_bpf_mem, so the policy compiler exports
 * the filter into a memfd and reads it back. */
extern int memfd_create(const char *name, unsigned int flags);
static inline int CLibseccomp_memfd_cloexec(const char *name) { return memfd_create(name, 1u /* MFD_CLOEXEC */); }
