// The pure rule list: what the default policy denies and how allow/deny/none
// change it. No kernel involved; SeccompFilterTests.swift tries the attacks.
import Glibc
import SandboxCore
import Testing
@testable import SandboxRuntime

private func rules(_ edit: (inout Profile.Seccomp) -> Void = { _ in }) throws -> [SeccompRule] {
    var settings = Profile.Seccomp()
    edit(&settings)
    return try SeccompPolicy(settings, sourcePath: "/p/app.toml").rules()
}

private func unconditional(_ rules: [SeccompRule]) -> [String: Int32] {
    var map: [String: Int32] = [:]
    for rule in rules where rule.argument == nil { map[rule.syscall] = rule.errno }
    return map
}

@Test func defaultPolicyDeniesTheKernelAttackSurface() throws {
    let denied = unconditional(try rules())
    for name in ["init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "keyctl", "add_key",
                 "request_key", "bpf", "perf_event_open", "userfaultfd", "swapon", "swapoff", "reboot", "acct",
                 "quotactl", "nfsservctl", "syslog", "uselib", "ptrace", "unshare", "setns", "mount", "umount2",
                 "pivot_root", "chroot"] {
        #expect(denied[name] == EPERM, "\(name) should be denied with EPERM")
    }
    // flatpak returns ENOSYS where callers should fall back to an older call.
    for name in ["open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "open_tree_attr",
                 "clone3", "io_uring_setup"] {
        #expect(denied[name] == ENOSYS, "\(name) should be denied with ENOSYS")
    }
    // Calls apps need stay out of the list entirely.
    for name in ["read", "write", "openat", "mmap", "clone", "ioctl", "socket", "personality", "kcmp", "getpid"] {
        #expect(denied[name] == nil, "\(name) must not be denied unconditionally")
    }
}

@Test func terminalIoctlsAreComparedOnTheLow32BitsOnly() throws {
    let ioctls = try rules().filter { $0.syscall == "ioctl" }
    let requests = ioctls.compactMap { rule -> UInt64? in
        guard rule.errno == EPERM, let test = rule.argument, test.index == 1,
              case .maskedEqual(let mask, let value) = test.comparison, mask == 0xFFFF_FFFF else { return nil }
        return value
    }
    #expect(Set(requests) == [0x5412, 0x541C])  // TIOCSTI, TIOCLINUX
    #expect(ioctls.count == 2)
}

@Test func cloneIsDeniedOnlyWithCloneNewUser() throws {
    let clone = try rules().filter { $0.syscall == "clone" }
    #expect(clone.count == 1)
    #expect(clone.first?.argument == .init(index: 0, .maskedEqual(mask: 0x1000_0000, value: 0x1000_0000)))
    #expect(clone.first?.errno == EPERM)
}

@Test func personalityOnlyAllowsPerLinux() throws {
    let rule = try #require(try rules().first { $0.syscall == "personality" })
    #expect(rule.argument == .init(index: 0, .notEqual(0)))
    #expect(rule.errno == EPERM)
}

@Test func socketFamiliesOutsideFlatpaksAllowlistFailWithEAFNOSUPPORT() throws {
    let socket = try rules().filter { $0.syscall == "socket" }
    #expect(socket.allSatisfy { $0.errno == EAFNOSUPPORT && $0.nativeABIOnly })
    var equal: [UInt64] = []
    var atLeast: [UInt64] = []
    for rule in socket {
        switch rule.argument?.comparison {
        case .equal(let v)?: equal.append(v)
        case .atLeast(let v)?: atLeast.append(v)
        default: Issue.record("unexpected socket rule \(rule)")
        }
    }
    #expect(equal.sorted() == Array(3...9) + Array(11...15))
    #expect(atLeast == [17])
    // Decide every family 0…64 the way the filter would.
    for family in UInt64(0)...64 {
        let denied = equal.contains(family) || family >= 17
        #expect(denied == !(family == 0 || family == 1 || family == 2 || family == 10 || family == 16), "family \(family)")
    }
}

@Test func allowUsernsLiftsOnlyTheNamespaceRules() throws {
    let strict = try rules()
    let relaxed = try rules { $0.allowUserns = true }
    let names = Set(relaxed.map(\.syscall))
    for name in ["unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "clone", "clone3"] {
        #expect(!names.contains(name), "\(name) should be allowed with allow_userns")
    }
    // The new mount API and the rest stay denied (CVE-2021-41133).
    for name in ["open_tree", "fsopen", "keyctl", "bpf", "ioctl", "ptrace"] { #expect(names.contains(name)) }
    #expect(relaxed.count < strict.count)
}

@Test func allowRemovesAndDenyAddsNames() throws {
    let edited = try rules {
        $0.allow = ["ptrace", "ioctl"]
        $0.deny = ["kcmp", "clone3", "kcmp"]
    }
    #expect(!edited.contains { $0.syscall == "ptrace" })
    #expect(!edited.contains { $0.syscall == "ioctl" })
    // A denied name replaces any default rule for it with one unconditional EPERM.
    #expect(edited.filter { $0.syscall == "clone3" } == [SeccompRule("clone3", errno: EPERM, reason: "listed in seccomp.deny")])
    #expect(edited.filter { $0.syscall == "kcmp" }.count == 1)
}

@Test func profileNoneHasNoRulesAndWarns() throws {
    var settings = Profile.Seccomp()
    settings.profile = .none
    let policy = SeccompPolicy(settings, sourcePath: "/p/app.toml")
    #expect(try policy.rules().isEmpty)
    #expect(try policy.compile().isEmpty)
    #expect(policy.notices.count == 1)
    #expect(policy.notices.first?.contains("seccomp.profile = \"none\"") == true)
}

@Test func allowOfANameThatIsNotDeniedIsANotice() {
    var settings = Profile.Seccomp()
    settings.allow = ["chmod", "ptrace"]
    let notices = SeccompPolicy(settings, sourcePath: "/p/app.toml").notices
    #expect(notices == ["/p/app.toml: seccomp.allow: 'chmod' is not denied by the default policy; the entry has no effect"])
}

@Test func badNamesAndConflictsNameTheirKeys() {
    var settings = Profile.Seccomp()
    settings.allow = ["Ptrace", "bpf"]
    settings.deny = ["bpf", "kcmp;rm"]
    #expect {
        try SeccompPolicy(settings, sourcePath: "/p/app.toml").rules()
    } throws: { error in
        let text = "\(error)"
        return text.contains("/p/app.toml: key 'seccomp.allow': 'Ptrace' is not a system call name")
            && text.contains("/p/app.toml: key 'seccomp.deny': 'kcmp;rm' is not a system call name")
            && text.contains("/p/app.toml: key 'seccomp.deny': 'bpf' is in both seccomp.allow and seccomp.deny")
            && (error as? ProfileErrors)?.errors.count == 3
    }
}

@Test func nearestNameSuggestion() {
    #expect(SeccompPolicy.nearest(to: "ptrac", among: ["ptrace", "pread64"]) == "ptrace")
    #expect(SeccompPolicy.nearest(to: "userfaultdf", among: ["userfaultfd"]) == "userfaultfd")
    #expect(SeccompPolicy.nearest(to: "nothinglikeit", among: ["ptrace", "read"]) == nil)
    #expect(SeccompPolicy.editDistance(Array("kitten".utf8), Array("sitting".utf8)) == 3)
}
