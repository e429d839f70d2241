#if canImport(Glibc)
import Glibc
#endif
import SandboxPlan
import SandboxTestSupport
import Testing

/// An error keeps what failed, the errno and the cause apart; `message` and
/// Console render them, and only they.
@Suite struct SandboxErrorTests {
    @Test func aSystemErrorCarriesItsErrno() {
        let e = SandboxError.system("cannot open /x", errno: ENOENT, hint: "create it")
        #expect(e.what == "cannot open /x")
        #expect(e.errno == ENOENT)
        #expect(e.message == "cannot open /x: no such file or directory")
        #expect(Console.format(e) == "sandbox: error: cannot open /x: no such file or directory\nsandbox: hint: create it")
    }

    @Test func aWrappedErrorKeepsItsCauseAndHint() {
        let inner = SandboxError.system("cannot bind /run/s", errno: EACCES, hint: "check the directory")
        let outer = SandboxError.wrapping(inner, "cannot start the supervisor")
        #expect(outer.cause == "cannot bind /run/s: permission denied")
        #expect(outer.message == "cannot start the supervisor: cannot bind /run/s: permission denied")
        #expect(outer.hint == "check the directory")
        #expect(SandboxError.wrapping(inner, "x", hint: "mine").hint == "mine")
        struct Other: Error, CustomStringConvertible { var description: String { "other failure" } }
        #expect(SandboxError.wrapping(Other(), "cannot run tar").message == "cannot run tar: other failure")
    }

    /// The system layer's own failures carry the errno as data.
    @Test func hostFileFailuresCarryTheErrno() throws {
        let dir = TemporaryDirectory()
        defer { _ = dir.remove() }
        let file = dir.appending("file")
        try HostFile.writeAtomically("x", to: file, mode: 0o600)
        do {
            try HostFile.makeDirectories(file + "/sub", mode: 0o700)
            Issue.record("made a directory below a regular file")
        } catch {
            #expect(error.what == "cannot create \(file)/sub")
            #expect(error.errno == ENOTDIR, "\(error)")
            #expect(error.message == "cannot create \(file)/sub: not a directory")
        }
    }
}
