import Testing
@testable import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CStringsTests {
    @Test func copiesAreNulTerminatedAndArraysEndInNil() {
        let strings = CStrings()
        defer { strings.free() }
        #expect(strings.copy(nil) == nil)
        let p = strings.copy("héllo")
        #expect(p.map { String(cString: $0) } == "héllo")
        let argv = strings.array(["a", "", "c d"])
        #expect(argv.count == 4 && argv[3] == nil)
        #expect(argv.prefix(3).map { String(cString: $0!) } == ["a", "", "c d"])
        #expect(strings.array([]) == [nil])
    }

    /// What an execve'd or spawned program sees: a real child given the array.
    @Test func aSpawnedProgramGetsTheArrayAsItsArguments() throws {
        let strings = CStrings()
        defer { strings.free() }
        let out = try makePipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, out.write.raw, 1)
        var pid: pid_t = 0
        let argv = strings.array(["/bin/echo", "one", "two words"])
        #expect(posix_spawn(&pid, "/bin/echo", &actions, nil, argv, environ) == 0)
        out.write.close()
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(out.read.raw, &buf, buf.count)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(String(decoding: buf.prefix(max(0, n)), as: UTF8.self) == "one two words\n")
    }
}
