// SeccompPolicy → BPF bytes, with libseccomp, in the parent. The child (C, after
// clone) loads them unchanged with seccomp(SECCOMP_SET_MODE_FILTER): they are a
// `struct sock_filter` array, 8 bytes per instruction, native byte order.
import CLibseccomp
import Glibc
import SandboxCore

extension SeccompPolicy {
    /// The filter for the app, or `[]` for `seccomp.profile = "none"` (then
    /// `notices` carries the warning). Throws `ProfileErrors` naming the key
    /// for bad or unknown system call names, `SandboxError` if libseccomp fails.
    public func compile() throws -> [UInt8] {
        try compile(markingDenialsWith: nil)
    }

    /// Checks `seccomp.allow` / `seccomp.deny` against the system call table,
    /// for `sandbox profile check`. Throws every problem at once.
    public func validate() throws {
        _ = try rules()
        let problems = unknownNames()
        if !problems.isEmpty { throw ProfileErrors(problems) }
    }

    /// `marker` replaces every errno the filter returns (tests use one no kernel
    /// path returns, so a result proves the filter, not a missing capability,
    /// stopped the call). nil in production.
    func compile(markingDenialsWith marker: Int32?) throws -> [UInt8] {
        let rules = try rules()
        // Typos are errors even with the filter off: they would bite when it is turned back on.
        let problems = unknownNames()
        if !problems.isEmpty { throw ProfileErrors(problems) }
        guard settings.profile != .none else { return [] }

        // A call from another ABI (i386 int 0x80, x32) must not slip past rules
        // written for x86-64 numbers: libseccomp sends it to the bad-arch action.
        // ENOSYS instead of libseccomp's default SIGSYS: "that ABI does not exist".
        let badArch = CLibseccomp_act_errno(UInt32(marker ?? ENOSYS))
        let native = try FilterContext(badArchAction: badArch, arch: nil)
        for rule in rules { try native.add(rule, marker: marker, nativeABI: true) }

        if settings.multiarch && seccomp_arch_native() == CLibseccomp_arch_x86_64() {
            // 32-bit games (Steam) need the i386 ABI; it gets the same rules.
            let i386 = try FilterContext(badArchAction: badArch, arch: CLibseccomp_arch_x86())
            for rule in rules where !rule.nativeABIOnly { try i386.add(rule, marker: marker, nativeABI: false) }
            try native.merge(consuming: i386)
        }
        return try native.exportBPF()
    }

    /// Names in allow/deny that this libseccomp does not know, with a suggestion.
    func unknownNames() -> [ProfileError] {
        var problems: [ProfileError] = []
        for (key, names) in [("seccomp.allow", settings.allow), ("seccomp.deny", settings.deny)] {
            for name in names where Self.looksLikeSyscallName(name) && Self.resolve(name) == nil {
                var hint = "names are those of `man 2 syscalls`"
                if let near = Self.nearestSyscallName(to: name) { hint = "did you mean '\(near)'? " + hint }
                problems.append(ProfileError(.badValue, at: SourceLocation(file: sourcePath, key: key),
                                             "unknown system call '\(name)'", hint: hint))
            }
        }
        return problems
    }

    /// The native number (or libseccomp's negative pseudo-number for a call
    /// that exists only on other architectures), nil when unknown.
    static func resolve(_ name: String) -> Int32? {
        let n = seccomp_syscall_resolve_name(name)
        if n != __NR_SCMP_ERROR { return n }
        if seccomp_arch_native() == CLibseccomp_arch_x86_64(), let n = x86_64CallsNewerThanLibseccomp[name] { return n }
        return nil
    }

    /// Calls newer than libseccomp 2.5.4, by x86-64 number.
    static let x86_64CallsNewerThanLibseccomp: [String: Int32] = {
        var table: [String: Int32] = [:]
        for rule in defaultRules(allowUserns: false) { if let n = rule.x86_64NumberIfUnknown { table[rule.syscall] = n } }
        return table
    }()

    static func nearestSyscallName(to name: String) -> String? {
        var known: [String] = []
        let arch = seccomp_arch_native()
        for n in Int32(0)..<1024 {
            guard let c = seccomp_syscall_resolve_num_arch(arch, n) else { continue }
            known.append(String(cString: c))
            free(c)
        }
        return nearest(to: name, among: known)
    }

    /// The closest candidate within an edit distance of 2, if any.
    static func nearest(to name: String, among candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let d = editDistance(Array(name.utf8), Array(candidate.utf8))
            if d <= 2, d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Owns one libseccomp filter context.
private final class FilterContext {
    private(set) var handle: scmp_filter_ctx?

    /// `arch` nil: the native architecture; otherwise a context for that one only.
    init(badArchAction: UInt32, arch: UInt32?) throws {
        guard let handle = seccomp_init(SCMP_ACT_ALLOW) else { throw SandboxError("seccomp_init failed (out of memory?)") }
        self.handle = handle
        try check(seccomp_attr_set(handle, SCMP_FLTATR_ACT_BADARCH, badArchAction), "seccomp_attr_set(ACT_BADARCH)")
        if let arch {
            try check(seccomp_arch_add(handle, arch), "seccomp_arch_add")
            try check(seccomp_arch_remove(handle, 0 /* SCMP_ARCH_NATIVE */), "seccomp_arch_remove(native)")
        }
    }

    deinit { if let handle { seccomp_release(handle) } }

    func add(_ rule: SeccompRule, marker: Int32?, nativeABI: Bool) throws {
        var number = seccomp_syscall_resolve_name(rule.syscall)
        if number == __NR_SCMP_ERROR {
            // Newer than libseccomp: by number, and only where the number is known.
            guard nativeABI, seccomp_arch_native() == CLibseccomp_arch_x86_64(),
                  let n = SeccompPolicy.x86_64CallsNewerThanLibseccomp[rule.syscall] else { return }
            number = n
        }
        let action = CLibseccomp_act_errno(UInt32(marker ?? rule.errno))
        var tests: [scmp_arg_cmp] = []
        if let test = rule.argument {
            switch test.comparison {
            case .equal(let v): tests.append(scmp_arg_cmp(arg: test.index, op: SCMP_CMP_EQ, datum_a: v, datum_b: 0))
            case .notEqual(let v): tests.append(scmp_arg_cmp(arg: test.index, op: SCMP_CMP_NE, datum_a: v, datum_b: 0))
            case .atLeast(let v): tests.append(scmp_arg_cmp(arg: test.index, op: SCMP_CMP_GE, datum_a: v, datum_b: 0))
            case .maskedEqual(let mask, let v):
                tests.append(scmp_arg_cmp(arg: test.index, op: SCMP_CMP_MASKED_EQ, datum_a: mask, datum_b: v))
            }
        }
        // Not _exact: libseccomp translates a native (pseudo-)number to the i386
        // one. The rules it would rewrite badly (socket family tests become "all
        // socketcall(SYS_SOCKET)" on i386) are nativeABIOnly and never get here.
        let rc = tests.withUnsafeBufferPointer {
            seccomp_rule_add_array(handle, action, number, UInt32($0.count), $0.baseAddress)
        }
        try check(rc, "seccomp_rule_add(\(rule))")
    }

    func merge(consuming other: FilterContext) throws {
        try check(seccomp_merge(handle, other.handle), "seccomp_merge")
        other.handle = nil  // seccomp_merge released it
    }

    /// The BPF program as bytes (no seccomp_export_bpf_mem in libseccomp 2.5.4:
    /// export into a memfd and read it back).
    func exportBPF() throws -> [UInt8] {
        let fd = CLibseccomp_memfd_cloexec("sandbox-seccomp")
        guard fd >= 0 else { throw SandboxError.system("memfd_create for the seccomp filter failed", errno: errno) }
        defer { close(fd) }
        try check(seccomp_export_bpf(handle, fd), "seccomp_export_bpf")
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0, size % 8 == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw SandboxError("seccomp_export_bpf produced \(size) bytes, not a sock_filter array")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buf in retryingEINTR { read(fd, buf.baseAddress! + done, buf.count - done) } }
            guard n > 0 else { throw SandboxError.system("reading the exported seccomp filter failed", errno: errno) }
            done += n
        }
        return bytes
    }

    private func check(_ rc: Int32, _ what: String) throws {
        guard rc < 0 else { return }
        throw SandboxError.system("\(what) failed", errno: -rc,
                           hint: "this is a bug in sandbox's seccomp policy; please report it")
    }
}
