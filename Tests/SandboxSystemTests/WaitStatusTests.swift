import SandboxSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Starts `argv` (stdio inherited) and returns its pid. Its signal mask is
/// emptied and SIGTERM's action reset: the test runner's (which posix_spawn
/// would pass on) may block or ignore it.
private func spawn(_ argv: [String]) throws -> pid_t {
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), term = sigset_t()
    sigemptyset(&none)
    sigemptyset(&term)
    sigaddset(&term, SIGTERM)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &term)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    try #require(posix_spawn(&pid, argv[0], nil, &attributes, &cArgs, environ) == 0)
    return pid
}

private func reap(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    #expect(retryingEINTR { waitpid(pid, &status, 0) } == pid)
    return status
}

@Test func anExitStatusOfARealChild() throws {
    let status = WaitStatus(reap(try spawn(["/bin/sh", "-c", "exit 3"])))
    #expect(status.exited)
    #expect(status.shellStatus == 3)
    #expect(status.description == "exit status 3")
    let success = WaitStatus(reap(try spawn(["/bin/sh", "-c", "exit 0"])))
    #expect(success.shellStatus == 0)
}

@Test func aChildKilledBySIGTERM() throws {
    let pid = try spawn(["/bin/sleep", "60"])
    #expect(kill(pid, SIGTERM) == 0)
    let status = WaitStatus(reap(pid))
    #expect(!status.exited)
    #expect(status.shellStatus == 128 + SIGTERM)
    #expect(status.description == "killed by signal \(SIGTERM)")
}
