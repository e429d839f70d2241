// The compiled filter against the real kernel. Tests/Policy/seccomp-try.c
// (built here with cc) loads a filter exactly as the engine's child does and
// tries one attack. Each attack runs three times:
//   - unfiltered: the baseline, which must succeed or fail differently;
//   - with the real filter: must fail with the documented errno;
//   - with the same rules but every errno replaced by a marker no kernel path
//     returns: proves the filter, not a missing capability, stopped the call.
import CLibseccomp
import Glibc
import SandboxCore
import Testing
@testable import SandboxRuntime
import SandboxTestSupport

/// What one run of seccomp-try printed.
enum TryResult: Equatable, CustomStringConvertible {
    case ok
    case errno(Int32)
    /// The kernel has no such ABI (int 0x80 with IA32 emulation off).
    case unsupported
    var description: String {
        switch self {
        case .ok: return "ok"
        case .unsupported: return "unsupported"
        case .errno(let e): return "errno \(e) (\(errnoText(e)))"
        }
    }
}

/// errno the marker filter returns: within seccomp's 12-bit errno range, used by no kernel path.
let markerErrno: Int32 = 4000

/// The tests that load a filter into seccomp-try, which they build with cc.
let needsSeccompRunner = Testing.ConditionTrait.enabled(
    if: HostRequirements.seccompFilters && HostRequirements.cCompiler,
    "needs seccomp filters in the kernel and a C compiler at /usr/bin/cc (to build Tests/Policy/seccomp-try.c)")

enum Runner {
    /// The runner binary, built once per test process.
    static let path: Result<String, SandboxError> = {
        let source = String("\(#filePath)".dropLast("SandboxRuntimeTests/SeccompFilterTests.swift".count))
            + "Policy/seccomp-try.c"
        let binary = TemporaryDirectory(prefix: "sandbox-policy-test").appending("seccomp-try")
        let (status, output) = runProcess(["/usr/bin/cc", "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror",
                                           "-o", binary, source])
        guard status == 0 else { return .failure(SandboxError("cc \(source) failed (\(status)):\n\(output)")) }
        atexit {  // the test process leaves nothing behind in /tmp
            if case .success(let binary) = Runner.path {
                TemporaryDirectory(adopting: String(binary.dropLast("/seccomp-try".count))).remove()
            }
        }
        return .success(binary)
    }()

    /// Runs one attack; `filter` nil means unfiltered.
    static func attempt(_ attack: String, filter: [UInt8]?) throws -> TryResult {
        let output = try run([attack], filter: filter)
        let words = output.split(separator: " ")
        if words.first == "ok" { return .ok }
        if words.first == "unsupported" { return .unsupported }
        if words.first == "errno", words.count >= 2, let e = Int32(words[1]) { return .errno(e) }
        throw SandboxError("seccomp-try \(attack): unexpected output \(output)")
    }

    /// Runs seccomp-try with the filter written to a temporary file; its stdout.
    static func run(_ arguments: [String], filter: [UInt8]?) throws -> String {
        let binary = try path.get()
        var filterPath = "-"
        var directory: TemporaryDirectory? = nil
        defer { directory?.remove() }
        if let filter {
            directory = TemporaryDirectory(prefix: "sandbox-policy-test")
            filterPath = directory!.appending("filter.bpf")
            try writeFile(filterPath, filter)
        }
        let (status, output) = runProcess([binary, filterPath] + arguments)
        guard status == 0 else { throw SandboxError("seccomp-try \(arguments) exited with status \(status): \(output)") }
        return output
    }
}

struct Attack: Sendable, CustomTestStringConvertible {
    var name: String
    /// What the real filter must answer.
    var expected: TryResult
    /// The kernel may lack the feature entirely, so the baseline can equal the
    /// filtered answer (x32 is compiled out here); the marker run still proves the rule.
    var kernelMayLack: Bool = false
    var testDescription: String { name }
}

private let defaultAttacks: [Attack] = [
    Attack(name: "tiocsti", expected: .errno(EPERM)),
    Attack(name: "tiocsti-high", expected: .errno(EPERM)),
    Attack(name: "tioclinux", expected: .errno(EPERM)),
    Attack(name: "keyctl", expected: .errno(EPERM)),
    Attack(name: "add_key", expected: .errno(EPERM)),
    Attack(name: "request_key", expected: .errno(EPERM)),
    Attack(name: "bpf", expected: .errno(EPERM)),
    Attack(name: "perf_event_open", expected: .errno(EPERM)),
    Attack(name: "userfaultfd", expected: .errno(EPERM)),
    Attack(name: "io_uring_setup", expected: .errno(ENOSYS)),
    Attack(name: "fsopen", expected: .errno(ENOSYS)),
    Attack(name: "open_tree", expected: .errno(ENOSYS)),
    Attack(name: "mount", expected: .errno(EPERM)),
    Attack(name: "chroot", expected: .errno(EPERM)),
    Attack(name: "init_module", expected: .errno(EPERM)),
    Attack(name: "finit_module", expected: .errno(EPERM)),
    Attack(name: "kexec_load", expected: .errno(EPERM)),
    Attack(name: "syslog", expected: .errno(EPERM)),
    Attack(name: "ptrace", expected: .errno(EPERM)),
    Attack(name: "personality-read-implies-exec", expected: .errno(EPERM)),
    Attack(name: "clone-newuser", expected: .errno(EPERM)),
    Attack(name: "unshare-newuser", expected: .errno(EPERM)),
    Attack(name: "clone3-newuser", expected: .errno(ENOSYS)),
    Attack(name: "clone3", expected: .errno(ENOSYS)),
    Attack(name: "socket-packet", expected: .errno(EAFNOSUPPORT)),
    Attack(name: "socket-vsock", expected: .errno(EAFNOSUPPORT)),
    Attack(name: "socket-vsock-high", expected: .errno(EAFNOSUPPORT)),
    Attack(name: "int80-getpid", expected: .errno(ENOSYS)),
    Attack(name: "int80-keyctl", expected: .errno(ENOSYS)),
    Attack(name: "x32-getpid", expected: .errno(ENOSYS), kernelMayLack: true),
]

/// Calls an app needs; the filter must leave them working.
private let controls = ["getpid", "tcgets", "tiocgwinsz", "personality-linux", "fork", "posix_spawn", "socket-unix",
                        "socket-inet", "socket-netlink"]

private func defaultFilter() throws -> [UInt8] { try SeccompPolicy(Profile.Seccomp()).compile() }
private func markedDefaultFilter() throws -> [UInt8] {
    try SeccompPolicy(Profile.Seccomp()).compile(markingDenialsWith: markerErrno)
}

@Test(needsSeccompRunner, arguments: defaultAttacks)
func defaultFilterStopsAttack(_ attack: Attack) throws {
    let baseline = try Runner.attempt(attack.name, filter: nil)
    if baseline == .unsupported {
        // No such ABI on this kernel (IA32 emulation off): nothing to bypass through.
        #expect(try Runner.attempt(attack.name, filter: try defaultFilter()) == .unsupported)
        return
    }
    let filtered = try Runner.attempt(attack.name, filter: try defaultFilter())
    let marked = try Runner.attempt(attack.name, filter: try markedDefaultFilter())
    #expect(filtered == attack.expected, "\(attack.name) with the filter")
    #expect(marked == .errno(markerErrno), "\(attack.name) was not stopped by a filter rule")
    if !attack.kernelMayLack {
        #expect(baseline != filtered, "\(attack.name) gives \(baseline) even without the filter: the test proves nothing")
    }
}

@Test(needsSeccompRunner, arguments: controls)
func defaultFilterKeepsOrdinaryCallsWorking(_ call: String) throws {
    #expect(try Runner.attempt(call, filter: nil) == .ok)
    // (posix_spawn works only because clone3 answers ENOSYS and glibc falls back to clone.)
    #expect(try Runner.attempt(call, filter: try defaultFilter()) == .ok)
}

@Test(needsSeccompRunner, .enabled(if: HostRequirements.namespaces, "needs unprivileged user namespaces (the control creates them)"))
func allowUsernsLetsTheAppCreateUserNamespacesButNotUseTheNewMountAPI() throws {
    var settings = Profile.Seccomp()
    settings.allowUserns = true
    let filter = try SeccompPolicy(settings).compile()
    for call in ["clone-newuser", "unshare-newuser", "clone3-newuser", "clone3"] {
        #expect(try Runner.attempt(call, filter: filter) == .ok, "\(call)")
    }
    #expect(try Runner.attempt("open_tree", filter: filter) == .errno(ENOSYS))
    #expect(try Runner.attempt("tiocsti", filter: filter) == .errno(EPERM))
}

@Test(needsSeccompRunner) func multiarchAddsTheI386ABIWithTheSameRules() throws {
    var settings = Profile.Seccomp()
    settings.multiarch = true
    let filter = try SeccompPolicy(settings).compile()
    if try Runner.attempt("int80-getpid", filter: nil) != .unsupported {  // IA32 emulation on
        #expect(try Runner.attempt("int80-getpid", filter: nil) == .ok)
        #expect(try Runner.attempt("int80-getpid", filter: filter) == .ok)
        #expect(try Runner.attempt("int80-keyctl", filter: nil) == .ok)
        #expect(try Runner.attempt("int80-keyctl", filter: filter) == .errno(EPERM))
    }
    #expect(try Runner.attempt("x32-getpid", filter: try SeccompPolicy(settings).compile(markingDenialsWith: markerErrno))
        == .errno(markerErrno))
    #expect(try Runner.attempt("keyctl", filter: filter) == .errno(EPERM))
    #expect(try Runner.attempt("tiocsti-high", filter: filter) == .errno(EPERM))
}

@Test(needsSeccompRunner) func profileAllowAndDenyChangeTheCompiledFilter() throws {
    var settings = Profile.Seccomp()
    settings.allow = ["ptrace"]
    settings.deny = ["getpid"]
    let filter = try SeccompPolicy(settings).compile()
    #expect(try Runner.attempt("ptrace", filter: filter) == .ok)
    #expect(try Runner.attempt("getpid", filter: filter) == .errno(EPERM))
    #expect(try Runner.attempt("keyctl", filter: filter) == .errno(EPERM))
}

@Test func compiledFilterIsASockFilterArray() throws {
    let bytes = try defaultFilter()
    #expect(!bytes.isEmpty && bytes.count % 8 == 0)
    // The program checks the architecture first: it loads seccomp_data.arch
    // (offset 4) and compares it with the AUDIT_ARCH this test was compiled for.
    let native = CLibseccomp_audit_arch_of_build()
    try #require(native != 0, "CLibseccomp/shim.h does not know this architecture's AUDIT_ARCH")
    #expect(seccomp_arch_native() == native)
    let instructions = decode(bytes)
    let ldAbsWord: UInt16 = 0x20, jeqConstant: UInt16 = 0x15
    #expect(instructions.first?.code == ldAbsWord && instructions.first?.k == 4)
    #expect(instructions.contains { $0.code == jeqConstant && $0.k == native })
    let i386 = CLibseccomp_arch_x86()  // AUDIT_ARCH_I386
    #expect(!instructions.contains { $0.k == i386 }, "an i386 branch without multiarch")
    // multiarch adds the i386 ABI where the CPU runs it natively: on x86-64 only.
    var multiarch = Profile.Seccomp()
    multiarch.multiarch = true
    let withI386 = decode(try SeccompPolicy(multiarch).compile()).contains { $0.code == jeqConstant && $0.k == i386 }
    #expect(withI386 == (native == CLibseccomp_arch_x86_64()))
}

/// (code, k) of each `struct sock_filter { u16 code; u8 jt, jf; u32 k; }`, in host byte order as the kernel reads it.
private func decode(_ bytes: [UInt8]) -> [(code: UInt16, k: UInt32)] {
    bytes.withUnsafeBytes { raw in
        stride(from: 0, to: raw.count, by: 8).map { i in
            (raw.loadUnaligned(fromByteOffset: i, as: UInt16.self), raw.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
        }
    }
}

@Test func unknownSyscallNamesAreProfileErrorsWithASuggestion() {
    var settings = Profile.Seccomp()
    settings.allow = ["ptrac"]
    settings.deny = ["no_such_call_at_all"]
    #expect {
        try SeccompPolicy(settings, sourcePath: "/home/u/.config/sandbox/profiles/app.toml").compile()
    } throws: { error in
        let text = "\(error)"
        return text.contains("app.toml: key 'seccomp.allow': unknown system call 'ptrac' (did you mean 'ptrace'?")
            && text.contains("app.toml: key 'seccomp.deny': unknown system call 'no_such_call_at_all'")
    }
    #expect(throws: ProfileErrors.self) { try SeccompPolicy(settings).validate() }
    settings.profile = .none  // a typo bites when the filter is turned back on
    #expect(throws: ProfileErrors.self) { try SeccompPolicy(settings).compile() }
    // Calls newer than libseccomp 2.5.4 are known by number.
    var newer = Profile.Seccomp()
    newer.deny = ["open_tree_attr"]
    #expect(throws: Never.self) { try SeccompPolicy(newer).validate() }
}

// MARK: Process plumbing for the tests (HostCommand; no Foundation).

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try HostFile.writeAtomically(bytes, to: path, mode: 0o600)
}

/// Runs argv, returns (exit status or 128+signal, stdout then stderr).
func runProcess(_ argv: [String]) -> (Int32, String) {
    do {
        let r = try HostCommand(argv).run(passing: [])
        return (r.status, (r.output + r.errorOutput).trimmingCharacters(in: "\n"))
    } catch {
        return (-1, error.message)
    }
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
