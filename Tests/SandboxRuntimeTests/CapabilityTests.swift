// Capability names and the /proc/PID/status verifier. The kernel test
// drops capabilities the way the engine's child does (seccomp-try
// drop-caps-status, Tests/Policy/seccomp-try.c) and lets the verifier judge.
import Glibc
import SandboxCore
import Testing
@testable import SandboxRuntime

@Test func capabilityNamesComeFromLibcap() {
    #expect(Capability.name(of: 21) == "cap_sys_admin")
    #expect(Capability.name(of: 0) == "cap_chown")
}

private let confinedStatus = """
    Name:\tapp
    NoNewPrivs:\t1
    Seccomp:\t2
    Seccomp_filters:\t1
    CapInh:\t0000000000000000
    CapPrm:\t0000000000000000
    CapEff:\t0000000000000000
    CapBnd:\t0000000000000000
    CapAmb:\t0000000000000000
    """

@Test func verifierAcceptsAConfinedProcess() throws {
    let status = try ProcessSecurityStatus(statusText: confinedStatus)
    #expect(status.problems(expectingFilter: true).isEmpty)
    #expect(status.seccompFilters == 1)
}

@Test func verifierNamesEachProblem() throws {
    let text = confinedStatus
        .replacingOccurrences("CapBnd:\t0000000000000000", "CapBnd:\t0000000000200000")
        .replacingOccurrences("NoNewPrivs:\t1", "NoNewPrivs:\t0")
        .replacingOccurrences("Seccomp:\t2", "Seccomp:\t0")
    let problems = try ProcessSecurityStatus(statusText: text).problems(expectingFilter: true)
    #expect(problems == [
        "bounding capability set is not empty: cap_sys_admin",
        "no_new_privs is not set (setuid binaries could regain privileges)",
        "no seccomp filter is loaded (Seccomp: 0, expected 2)",
    ])
    #expect(throws: SandboxError.self) { try ProcessSecurityStatus(statusText: "Name:\tx\n") }
}

@Test func verifierFlagsThisTestProcessWhichIsNotConfined() throws {
    let status = try ProcessSecurityStatus.read()
    let problems = status.problems(expectingFilter: true)
    #expect(problems.contains { $0.hasPrefix("bounding capability set is not empty") })
    #expect(problems.contains { $0.hasPrefix("no seccomp filter") })
}

@Test(needsSeccompRunner) func droppingUpToTheKernelsLastCapabilityLeavesNoneAndTheFilterLoaded() throws {
    let text = String(decoding: try readAll("/proc/sys/kernel/cap_last_cap"), as: UTF8.self)
    let last = try #require(Int32(text.split(separator: "\n").first ?? ""))
    let filter = try SeccompPolicy(Profile.Seccomp()).compile()
    let confined = try ProcessSecurityStatus(
        statusText: try Runner.run(["drop-caps-status", "\(last)"], filter: filter))
    #expect(confined.problems(expectingFilter: true) == [])
    #expect(confined.seccompMode == 2 && confined.noNewPrivs)
    // One capability short (a kernel newer than the headers) leaves it in the bounding set.
    let short = try ProcessSecurityStatus(
        statusText: try Runner.run(["drop-caps-status", "\(last - 1)"], filter: filter))
    #expect(short.problems(expectingFilter: true)
        == ["bounding capability set is not empty: \(Capability.name(of: last))"])
}

private func readAll(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SandboxError("cannot open \(path)") }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    return n > 0 ? Array(buffer[..<n]) : []
}

// String.replacingOccurrences(_:_:) comes from ContainerStateTests.swift (same test module).

@Test func confinementForAProfile() throws {
    var profile = Profile(name: "app", sourcePath: "/p/app.toml")
    let strict = try Confinement(profile: profile)
    #expect(!strict.seccompFilter.isEmpty && strict.notices.isEmpty)
    profile.seccomp.profile = .none
    let open = try Confinement(profile: profile)
    #expect(open.seccompFilter.isEmpty)
    #expect(open.notices.first?.hasPrefix("/p/app.toml: seccomp.profile = \"none\"") == true)
    profile.seccomp.profile = .default
    profile.seccomp.deny = ["no_such_call"]
    #expect(throws: ProfileErrors.self) { try Confinement(profile: profile) }
}
