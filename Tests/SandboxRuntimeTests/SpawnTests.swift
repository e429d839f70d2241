import Testing
import CLibseccomp
import CSandboxSpawn
import SandboxCore
@testable import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A real container from this (multithreaded) test process: the C boundary, the
/// mount list, the init and one session with a seccomp filter. Needs user
/// namespaces, and either root or a subuid range for the user running the tests.
@Suite(.serialized) struct SpawnTests {
    /// struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, little-endian.
    static func instruction(_ code: UInt16, _ jt: UInt8, _ jf: UInt8, _ k: UInt32) -> [UInt8] {
        [UInt8(code & 0xff), UInt8(code >> 8), jt, jf,
         UInt8(k & 0xff), UInt8((k >> 8) & 0xff), UInt8((k >> 16) & 0xff), UInt8(k >> 24)]
    }

    /// uname(2) (63 on x86_64) fails with EPERM; everything else is allowed.
    static let denyUname: [UInt8] =
        instruction(0x20, 0, 0, 0)                  // ld [nr]
        + instruction(0x15, 0, 1, UInt32(seccomp_syscall_resolve_name("uname"))) // jeq uname (the native number, resolved)
        + instruction(0x06, 0, 0, 0x0005_0000 | 1)  // ret ERRNO(EPERM)
        + instruction(0x06, 0, 0, 0x7fff_0000)      // ret ALLOW

    func run(_ script: String, filter: [UInt8]) throws -> (status: Int32, output: String) {
        let user = UserIdentity.current()
        let base = "/tmp/sandbox-spawn-test-\(getpid())"
        let paths = Paths(configDir: base + "/config", dataDir: base + "/data", runtimeDir: base + "/run", profileDirs: [])
        var profile = Profile(name: "spawntest", sourcePath: base + "/spawntest.toml")
        profile.home.mode = .tmpfs
        let subuid = SubordinateIDs.parse(contents: HostFile.read("/etc/subuid") ?? "", user: user.name, uid: user.uid)
        let subgid = SubordinateIDs.parse(contents: HostFile.read("/etc/subgid") ?? "", user: user.name, uid: user.uid)
        let idmap = IDMapPlanner.plan(settings: profile.idmap, uid: user.uid, gid: user.gid, userName: user.name, subuid: subuid, subgid: subgid)
        var plan = try LaunchPlanner.plan(profile: profile, paths: paths, user: user, idmap: idmap)
        plan.seccompFilter = filter
        plan.stopTimeout = 1

        try HostFile.makeDirectories(base + "/run", mode: 0o700)
        defer { ContainerDirectory(root: base + "/run").remove("x"); rmdir(base + "/run"); rmdir(base) }
        // The control gate's handoff pair (nothing is handed over here: the first client is).
        var gate: [Int32] = [-1, -1]
        #expect(sbx_socketpair_seqpacket_cloexec(&gate) == 0)
        let listen = OwnedFD(gate[1]), gateOurs = OwnedFD(gate[0])
        defer { gateOurs.close() }
        var pair: [Int32] = [-1, -1]
        #expect(sbx_socketpair_seqpacket_cloexec(&pair) == 0)
        let theirs = OwnedFD(pair[1])
        let container = try ContainerSpawner.spawn(plan: plan, listenFD: listen.raw, firstClientFD: theirs.raw, persistent: false)
        theirs.close()
        let out = try makePipe()
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        let request = SessionRequest(argv: ["/bin/sh", "-c", script], environment: plan.environment,
                                     workingDirectory: "/", uid: plan.uid, gid: plan.gid)
        let connection = ControlConnection(socket: OwnedFD(pair[0]))
        let status = try SessionRunner.run(request, on: connection, stdio: [null, out.write.raw, out.write.raw])
        out.write.close()
        let text = String(decoding: readAll(out.read.raw), as: UTF8.self)
        connection.socket.close()
        // The last client is gone: the init stops the container.
        #expect(waitReadable(container.pidfd.raw, timeoutMs: 5000))
        ContainerSpawner.reap(container.pid)
        return (status, text)
    }

    @Test func sessionRunsWithTheFilterNoCapabilitiesAndItsOwnPidNamespace() throws {
        let r = try run("grep -E '^(Seccomp|NoNewPrivs|CapEff|CapBnd):' /proc/self/status; cat /proc/1/comm; uname -s || echo UNAME-DENIED; exit 4",
                        filter: Self.denyUname)
        #expect(r.status == 4)
        #expect(r.output.contains("Seccomp:\t2"))
        #expect(r.output.contains("NoNewPrivs:\t1"))
        #expect(r.output.contains("CapEff:\t0000000000000000"))
        #expect(r.output.contains("CapBnd:\t0000000000000000"))
        #expect(r.output.contains("sandbox-init"))
        #expect(r.output.contains("UNAME-DENIED"))
        #expect(!r.output.contains("Linux"))
    }

    @Test func withoutAFilterSeccompIsOff() throws {
        let r = try run("grep '^Seccomp:' /proc/self/status; uname -s", filter: [])
        #expect(r.status == 0)
        #expect(r.output.contains("Seccomp:\t0"))
        #expect(r.output.contains("Linux"))
    }

    @Test func aMalformedFilterIsRefusedBeforeAnythingStarts() {
        #expect(throws: SandboxError.self) { try run("true", filter: [1, 2, 3]) }
    }
}
