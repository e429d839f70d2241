// The app's system call policy as plain values: which calls the filter denies,
// on which arguments, with which errno, and why. Pure (no libseccomp, no kernel):
// SeccompCompiler.swift turns these rules into BPF. The list follows flatpak's
// setup_seccomp() (flatpak-run.c) and adds the kernel-attack-surface calls
// Docker's default profile denies that desktop apps never need.
//
// Denied calls fail with an errno (EPERM, or ENOSYS where the caller should fall
// back to an older call), never SIGSYS: an app that probes for a feature keeps
// running.
import Glibc
import SandboxCore

/// One denial in the app's seccomp filter.
public struct SeccompRule: Sendable, Equatable, CustomStringConvertible {
    /// A test on one system call argument (libseccomp 2.5.4 cannot AND two
    /// tests on the same argument, so a rule has at most one).
    public struct ArgumentTest: Sendable, Equatable {
        public enum Comparison: Sendable, Equatable {
            case equal(UInt64)
            case notEqual(UInt64)
            case atLeast(UInt64)
            /// `(arg & mask) == value`.
            case maskedEqual(mask: UInt64, value: UInt64)
        }
        /// Argument index, 0…5.
        public var index: UInt32
        public var comparison: Comparison
        public init(index: UInt32, _ comparison: Comparison) {
            self.index = index
            self.comparison = comparison
        }
    }

    /// System call name as libseccomp and `man 2 syscalls` spell it.
    public var syscall: String
    /// errno the call returns instead of running.
    public var errno: Int32
    /// nil: every call is denied; otherwise only calls that pass the test.
    public var argument: ArgumentTest?
    /// Only in the native (x86-64) filter, not in the i386 one `multiarch` adds:
    /// i386 multiplexes socket() through socketcall(), whose arguments seccomp
    /// cannot read (libseccomp issue #8; flatpak has the same limit).
    public var nativeABIOnly: Bool
    /// The x86-64 number, for calls newer than the installed libseccomp.
    public var x86_64NumberIfUnknown: Int32?
    /// Why it is denied (shown by docs and `profile show`).
    public var reason: String

    public init(
        _ syscall: String, errno: Int32, argument: ArgumentTest? = nil, nativeABIOnly: Bool = false,
        x86_64NumberIfUnknown: Int32? = nil, reason: String
    ) {
        self.syscall = syscall
        self.errno = errno
        self.argument = argument
        self.nativeABIOnly = nativeABIOnly
        self.x86_64NumberIfUnknown = x86_64NumberIfUnknown
        self.reason = reason
    }

    public var description: String {
        var s = syscall
        if let argument {
            switch argument.comparison {
            case .equal(let v): s += "(arg\(argument.index) == \(hex(v)))"
            case .notEqual(let v): s += "(arg\(argument.index) != \(hex(v)))"
            case .atLeast(let v): s += "(arg\(argument.index) >= \(v))"
            case .maskedEqual(let mask, let v): s += "(arg\(argument.index) & \(hex(mask)) == \(hex(v)))"
            }
        }
        return s + " -> \(SeccompRule.errnoName(errno))"
    }

    static func errnoName(_ e: Int32) -> String {
        switch e {
        case EPERM: return "EPERM"
        case ENOSYS: return "ENOSYS"
        case EAFNOSUPPORT: return "EAFNOSUPPORT"
        default: return "errno \(e)"
        }
    }
}

private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// Constants the rules test arguments against. Spelled out here because Swift's
/// Glibc module hides the _GNU_SOURCE ones and the rules must stay pure.
public enum SeccompConstants {
    public static let cloneNewUser: UInt64 = 0x1000_0000  // CLONE_NEWUSER
    public static let tiocsti: UInt64 = 0x5412  // TIOCSTI: push a byte into the tty's input queue
    public static let tioclinux: UInt64 = 0x541C  // TIOCLINUX: VT selection/paste
    public static let perLinux: UInt64 = 0x0000  // PER_LINUX
    /// The low 32 bits of an ioctl request: the kernel truncates `cmd` to
    /// unsigned int, so a filter comparing all 64 bits is bypassed by setting
    /// high bits (CVE-2019-10063).
    public static let low32Bits: UInt64 = 0xFFFF_FFFF
    /// Socket families an app may create (flatpak's allowlist): AF_UNSPEC,
    /// AF_UNIX, AF_INET, AF_INET6, AF_NETLINK.
    public static let allowedSocketFamilies: [UInt64] = [0, 1, 2, 10, 16]
}

/// The app's seccomp policy, from the profile's `[seccomp]` table. The engine
/// compiles it in the parent (`compile()`, SeccompCompiler.swift) and the child
/// loads the bytes last, after no_new_privs, just before exec.
public struct SeccompPolicy: Sendable {
    public var settings: Profile.Seccomp
    /// The profile file, for error messages.
    public var sourcePath: String

    public init(_ settings: Profile.Seccomp, sourcePath: String = "profile") {
        self.settings = settings
        self.sourcePath = sourcePath
    }

    /// The default deny list, before `seccomp.allow` / `seccomp.deny`.
    public static func defaultRules(allowUserns: Bool) -> [SeccompRule] {
        var rules = kernelSurface + keyringAndMemoryPolicy + terminalInjection + mountAPI + personality
        if !allowUserns { rules += nestedNamespaces }
        rules += socketFamilies
        return rules
    }

    /// The effective rules: defaults minus `allow`, plus `deny` (a denied name
    /// replaces any default rule for it with an unconditional EPERM). Empty for
    /// `profile = "none"`. Throws every problem at once, each naming its key.
    public func rules() throws(ProfileErrors) -> [SeccompRule] {
        var problems: [ProfileError] = []
        for (key, names) in [("seccomp.allow", settings.allow), ("seccomp.deny", settings.deny)] {
            for name in names where !Self.looksLikeSyscallName(name) {
                problems.append(ProfileError(
                    .badValue, at: SourceLocation(file: sourcePath, key: key),
                    "'\(name)' is not a system call name",
                    hint: "use names as in `man 2 syscalls`, e.g. \"ptrace\""))
            }
        }
        for name in Set(settings.allow).intersection(settings.deny).sorted() {
            problems.append(ProfileError(
                .badValue, at: SourceLocation(file: sourcePath, key: "seccomp.deny"),
                "'\(name)' is in both seccomp.allow and seccomp.deny",
                hint: "remove it from one of the two lists"))
        }
        guard problems.isEmpty else { throw ProfileErrors(problems) }
        if settings.profile == .none { return [] }

        let allowed = Set(settings.allow)
        let denied = Set(settings.deny)
        var rules = Self.defaultRules(allowUserns: settings.allowUserns)
            .filter { !allowed.contains($0.syscall) && !denied.contains($0.syscall) }
        var seen = Set<String>()
        for name in settings.deny where seen.insert(name).inserted {
            rules.append(SeccompRule(name, errno: EPERM, reason: "listed in seccomp.deny"))
        }
        return rules
    }

    /// Things the user should hear about once at start.
    public var notices: [String] {
        var notices: [String] = []
        if settings.profile == .none {
            notices.append(
                "\(sourcePath): seccomp.profile = \"none\": the app runs without a system call filter "
                    + "(TIOCSTI terminal injection, the kernel keyring, bpf, the new mount API and nested "
                    + "user namespaces are all reachable)")
            return notices
        }
        let defaults = Set(Self.defaultRules(allowUserns: settings.allowUserns).map(\.syscall))
        for name in settings.allow where !defaults.contains(name) && Self.looksLikeSyscallName(name) {
            notices.append("\(sourcePath): seccomp.allow: '\(name)' is not denied by the default policy; the entry has no effect")
        }
        return notices
    }

    static func looksLikeSyscallName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first >= 0x61 && first <= 0x7A) else {
            return false
        }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    // MARK: The default lists

    /// Calls that reach privileged or notoriously buggy kernel code and that no
    /// desktop app needs. Most also need a capability the app lacks; denying them
    /// anyway keeps their argument parsing out of reach.
    static let kernelSurface: [SeccompRule] = {
        func deny(_ names: [String], _ reason: String, errno: Int32 = EPERM) -> [SeccompRule] {
            names.map { SeccompRule($0, errno: errno, reason: reason) }
        }
        return deny(["init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms"],
                    "loading or removing kernel modules")
            + deny(["kexec_load", "kexec_file_load"], "replacing the running kernel")
            + deny(["reboot"], "rebooting the machine")
            + deny(["swapon", "swapoff"], "changing swap devices")
            + deny(["acct"], "turning process accounting off (flatpak)")
            + deny(["quotactl", "quotactl_fd"], "reading or changing disk quotas (flatpak)")
            + deny(["nfsservctl"], "controlling the kernel NFS server")
            + deny(["syslog"], "reading the kernel log (dmesg), which leaks kernel addresses (flatpak)")
            + deny(["uselib"], "obsolete a.out library loading (flatpak)")
            + deny(["lookup_dcookie"], "kernel profiling internals (Docker)")
            + deny(["iopl", "ioperm"], "raw I/O port access")
            + deny(["modify_ldt", "vm86", "vm86old"],
                   "16-bit segments and vm86: unused by apps, historic information leaks (flatpak)")
            + deny(["bpf"], "loading eBPF programs, a frequent kernel-exploit vector")
            + deny(["perf_event_open"], "profiling from inside; perf has been the source of many kernel CVEs (flatpak)")
            + deny(["userfaultfd"], "stalling kernel page faults at will, the standard primitive for kernel race exploits")
            + deny(["open_by_handle_at"], "opening files by handle, bypassing the mount tree (the Docker 'shocker' escape)")
            + deny(["ptrace"],
                   "tracing other processes of the container; flatpak denies it unless --devel. "
                       + "Debuggers and crash reporters can get it back with seccomp.allow = [\"ptrace\"]")
            + deny(["io_uring_setup", "io_uring_enter", "io_uring_register"],
                   "io_uring, a large kernel attack surface (off in Docker, ChromeOS, Android); "
                       + "ENOSYS makes libraries fall back to ordinary calls", errno: ENOSYS)
    }()

    /// flatpak: the keyring is not namespaced (keys of the user's other sessions
    /// would be reachable); the NUMA memory-policy calls are "scary VM ops".
    static let keyringAndMemoryPolicy: [SeccompRule] =
        ["add_key", "keyctl", "request_key"].map {
            SeccompRule($0, errno: EPERM, reason: "the kernel keyring is shared with the user's other sessions (flatpak)")
        }
        + ["move_pages", "mbind", "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "migrate_pages"].map {
            SeccompRule($0, errno: EPERM, reason: "NUMA memory-policy operations (flatpak)")
        }

    /// CVE-2017-5226 (TIOCSTI types commands into the terminal the app was
    /// started from), CVE-2023-28100 (TIOCLINUX does the same on a VT), both
    /// compared on the low 32 bits only (CVE-2019-10063).
    static let terminalInjection: [SeccompRule] = [
        SeccompRule("ioctl", errno: EPERM,
                    argument: .init(index: 1, .maskedEqual(mask: SeccompConstants.low32Bits, value: SeccompConstants.tiocsti)),
                    reason: "TIOCSTI fakes input on the controlling terminal (CVE-2017-5226, CVE-2019-10063)"),
        SeccompRule("ioctl", errno: EPERM,
                    argument: .init(index: 1, .maskedEqual(mask: SeccompConstants.low32Bits, value: SeccompConstants.tioclinux)),
                    reason: "TIOCLINUX pastes into a virtual console (CVE-2023-28100)"),
    ]

    /// CVE-2021-41133: the new mount API changes the VFS without going through
    /// mount(2). Denied even with allow_userns (nested sandboxes such as
    /// Chrome's do not use it); ENOSYS as flatpak does, so callers fall back.
    static let mountAPI: [SeccompRule] =
        ["open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"].map {
            SeccompRule($0, errno: ENOSYS, reason: "the new mount API (CVE-2021-41133)")
        }
        + [SeccompRule("open_tree_attr", errno: ENOSYS, x86_64NumberIfUnknown: 467,
                       reason: "the new mount API, Linux 6.15 (CVE-2021-41133)")]

    /// flatpak: only PER_LINUX. Other personalities turn on READ_IMPLIES_EXEC,
    /// ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO… for the app's children.
    static let personality: [SeccompRule] = [
        SeccompRule("personality", errno: EPERM,
                    argument: .init(index: 0, .notEqual(SeccompConstants.perLinux)),
                    reason: "personality flags other than PER_LINUX (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, …) (flatpak)"),
    ]

    /// Unless allow_userns: no nested namespaces. A new user namespace would
    /// give the app every capability over fresh namespaces, the entry point of
    /// most unprivileged kernel exploits. Like flatpak, the other calls that set
    /// up or enter namespaces go too (they only work with such capabilities);
    /// allow_userns gives them all back for apps with their own sandbox (Chrome).
    static let nestedNamespaces: [SeccompRule] =
        ["unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot"].map {
            SeccompRule($0, errno: EPERM, reason: "setting up or entering nested namespaces (flatpak; seccomp.allow_userns lifts it)")
        } + [
            SeccompRule("clone", errno: EPERM,
                        argument: .init(index: 0, .maskedEqual(mask: SeccompConstants.cloneNewUser, value: SeccompConstants.cloneNewUser)),
                        reason: "clone(CLONE_NEWUSER) creates a user namespace (seccomp.allow_userns lifts it)"),
            // seccomp cannot read clone3's flags (they are in memory): deny it
            // whole, with ENOSYS so glibc falls back to clone (flatpak, Docker).
            SeccompRule("clone3", errno: ENOSYS,
                        reason: "clone3's flags are out of seccomp's reach; ENOSYS makes glibc use clone (flatpak)"),
        ]

    /// flatpak's socket family allowlist: unix, inet, inet6, netlink. Everything
    /// else (AF_PACKET, AF_BLUETOOTH, AF_ALG, AF_VSOCK, …) returns EAFNOSUPPORT,
    /// as if the kernel lacked the family. The last rule (>=) also catches values
    /// with high bits set.
    static let socketFamilies: [SeccompRule] = {
        let allowed = SeccompConstants.allowedSocketFamilies
        var rules: [SeccompRule] = []
        var next: UInt64 = 0
        for family in allowed {
            while next < family {
                rules.append(SeccompRule("socket", errno: EAFNOSUPPORT, argument: .init(index: 0, .equal(next)),
                                         nativeABIOnly: true, reason: "socket family \(next) is not allowed (flatpak)"))
                next += 1
            }
            next = family + 1
        }
        rules.append(SeccompRule("socket", errno: EAFNOSUPPORT, argument: .init(index: 0, .atLeast(next)),
                                 nativeABIOnly: true, reason: "socket families from \(next) up are not allowed (flatpak)"))
        return rules
    }()
}
