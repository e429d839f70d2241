// The C child's failure reports, {stage, errno, index}, driven by real failures of
// real children: the clone3 child that builds the container (through
// sbx_spawn_container itself, so the raw report is seen before Swift words it) and
// the session child the init forks (through the control socket, whose FAILED reply
// carries the report unchanged). Every failing child is a process of its own; the
// one case where the launcher itself must die runs as an exit test.
import Testing
import CSandboxSpawn
import SandboxCore
@testable import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

private func stage(_ s: sbx_stage) -> Int32 { Int32(s.rawValue) }

/// A container start through the C boundary alone: user, mount and pid namespaces
/// (and uts with a hostname), the caller's own uid and gid mapped (written here, as a
/// process may for its own ids), then `mounts`. No Swift plan: the request is what a
/// test needs to make one step fail.
enum RawContainerStart {
    struct Mount {
        var kind: sbx_mount_kind
        var source: String? = nil
        var target: String
        var data: String? = nil
        var mode: UInt32 = 0o755
    }

    /// What the child reported, or nil when the init came up (EOF on the error pipe).
    /// `insideID`: the id the caller's uid and gid get inside; `writeMaps: false`
    /// releases the child without them (the launcher gave up).
    /// `errorFD`: where the child reports instead of a pipe read here (then nil is returned);
    /// `afterClone` runs with the child's pid before anything is written to it.
    static func report(mounts: [Mount], hostname: String? = nil, becomeRoot: Bool = false,
                       insideID: UInt32? = nil, writeMaps: Bool = true, errorFD: Int32? = nil,
                       afterClone: (pid_t) -> Void = { _ in }) throws -> sbx_spawn_error? {
        let strings = CStrings()
        defer { strings.free() }
        func c(_ s: String?) -> UnsafePointer<CChar>? { UnsafePointer(strings.copy(s)) }
        let ops: [sbx_mount_op] = mounts.map { m in
            var o = sbx_mount_op()
            o.kind = Int32(m.kind.rawValue)
            o.source = c(m.source)
            o.target = c(m.target)
            o.data = c(m.data)
            o.data_len = m.data?.utf8.count ?? 0
            o.mode = m.mode
            o.recursive = 1
            return o
        }
        let sync = try makePipe(), errors = try makePipe(), lifeline = try makePipe()
        var gate: [Int32] = [-1, -1]
        guard sbx_socketpair_seqpacket_cloexec(&gate) == 0 else { throw SandboxError("socketpair: \(errnoText(errno))") }
        let gateOurs = OwnedFD(gate[0]), listen = OwnedFD(gate[1])
        var namespaces = SBX_NS_USER.rawValue | SBX_NS_MOUNT.rawValue | SBX_NS_PID.rawValue
        if hostname != nil { namespaces |= SBX_NS_UTS.rawValue }

        var pidfd: Int32 = -1
        let pid = ops.withUnsafeBufferPointer { buf in
            var req = sbx_spawn_request()
            req.namespaces = namespaces
            req.hostname = c(hostname)
            req.mounts = buf.baseAddress
            req.mount_count = buf.count
            req.become_root = becomeRoot ? 1 : 0
            req.sync_fd = sync.read.raw
            req.error_fd = errorFD ?? errors.write.raw
            req.lifeline_fd = lifeline.read.raw
            req.listen_fd = listen.raw
            req.first_client_fd = -1
            req.stop_timeout = 1
            req.session_uid = getuid()
            req.session_gid = getgid()
            return sbx_spawn_container(&req, &pidfd)
        }
        guard pid > 0 else { throw SandboxError("clone3: \(errnoText(errno))") }
        let pidFD = OwnedFD(pidfd)
        defer { pidFD.close(); gateOurs.close() }
        sync.read.close()
        errors.write.close()
        lifeline.read.close()
        listen.close()
        afterClone(pid)
        if writeMaps {
            do {
                // The kernel takes one line of the writer's own id, gid_map only after setgroups is denied.
                for (file, text) in [("setgroups", "deny"), ("uid_map", "\(insideID ?? getuid()) \(getuid()) 1\n"),
                                     ("gid_map", "\(insideID ?? getgid()) \(getgid()) 1\n")] {
                    let fd = open("/proc/\(pid)/\(file)", O_WRONLY | O_CLOEXEC)
                    defer { close(fd) }
                    let bytes = Array(text.utf8)
                    guard fd >= 0, bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
                        throw SandboxError("cannot write /proc/\(pid)/\(file): \(errnoText(errno))")
                    }
                }
                try writeAll(sync.write.raw, [1])
            } catch {
                sync.write.close()  // EOF: the child gives up
                ContainerSpawner.reap(pid)
                throw error
            }
        }
        sync.write.close()
        let bytes = readAll(errors.read.raw, limit: MemoryLayout<sbx_spawn_error>.size)
        // A ready init stops at once (no client, not persistent); the lifeline's EOF makes sure.
        lifeline.write.close()
        ContainerSpawner.reap(pid)
        guard bytes.count == MemoryLayout<sbx_spawn_error>.size else { return nil }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: sbx_spawn_error.self) }
    }
}

extension sbx_spawn_error: @retroactive Equatable {
    public static func == (a: sbx_spawn_error, b: sbx_spawn_error) -> Bool {
        a.stage == b.stage && a.err == b.err && a.index == b.index
    }
}

private func report(_ s: sbx_stage, _ err: Int32, _ index: Int32) -> sbx_spawn_error {
    sbx_spawn_error(stage: stage(s), err: err, index: index)
}

extension SpawnTests {
    // MARK: the container's child, before the init

    @Test func aStartThatFailsNowhereComesUp() throws {
        #expect(try RawContainerStart.report(mounts: [.init(kind: SBX_MOUNT_TMPFS, target: "/")], hostname: "box") == nil)
    }

    @Test func aLauncherThatGivesUpBeforeTheIdMapsIsReportedAsWaitIdmap() throws {
        #expect(try RawContainerStart.report(mounts: [], writeMaps: false) == report(SBX_STAGE_WAIT_IDMAP, EPIPE, 0))
    }

    @Test func becomingRootWithoutUidZeroMappedFailsAtSetid() throws {
        // The caller's ids are 1000 inside: 0 is not mapped, so setresgid(0) is EINVAL.
        let insideID: UInt32 = getuid() == 1000 ? 2000 : 1000
        #expect(try RawContainerStart.report(mounts: [], becomeRoot: true, insideID: insideID)
            == report(SBX_STAGE_SETID, EINVAL, 0))
    }

    @Test func aMissingBindSourceNamesItsMountStep() throws {
        let missing = "/nonexistent-sandbox-test-\(getpid())"
        #expect(try RawContainerStart.report(mounts: [
            .init(kind: SBX_MOUNT_TMPFS, target: "/"),
            .init(kind: SBX_MOUNT_BIND, source: missing, target: "/x"),
        ]) == report(SBX_STAGE_MOUNT_SOURCE, ENOENT, 1))
    }

    @Test func aMountPointUnderAFileFailsAtMkdirNamingItsStep() throws {
        #expect(try RawContainerStart.report(mounts: [
            .init(kind: SBX_MOUNT_TMPFS, target: "/"),
            .init(kind: SBX_MOUNT_FILE, target: "/f", data: "not a directory\n", mode: 0o644),
            .init(kind: SBX_MOUNT_MKDIR, target: "/f/d"),
        ]) == report(SBX_STAGE_MOUNT_MKDIR, ENOTDIR, 2))
    }

    @Test func aHostnameTooLongForTheKernelFailsAtHostname() throws {
        #expect(try RawContainerStart.report(mounts: [.init(kind: SBX_MOUNT_TMPFS, target: "/")],
                                             hostname: String(repeating: "h", count: 100))
            == report(SBX_STAGE_HOSTNAME, EINVAL, 0))
    }

    /// The launcher killed (SIGKILL: nothing of it runs) between clone3 and the id maps.
    /// The child must not wait for ever: it sees EOF on the sync pipe, reports, and exits.
    /// The report goes to what was the launcher's stdout, which the exit test collects.
    @Test func aLauncherKilledBeforeTheIdMapsLeavesAChildThatReportsAndExits() async throws {
        let result = await #expect(processExitsWith: .signal(SIGKILL), observing: [\.standardOutputContent]) {
            _ = try? RawContainerStart.report(mounts: [], writeMaps: false, errorFD: dup(1)) { _ in _ = kill(getpid(), SIGKILL) }
        }
        let out = try #require(result).standardOutputContent
        try #require(out.count >= MemoryLayout<sbx_spawn_error>.size, "no report: \(out)")
        let e = out.suffix(MemoryLayout<sbx_spawn_error>.size).withUnsafeBytes { $0.loadUnaligned(as: sbx_spawn_error.self) }
        #expect(e == report(SBX_STAGE_WAIT_IDMAP, EPIPE, 0))
    }

    // MARK: the session child, forked by the init

    /// Sends one RUN and returns the init's FAILED report, or nil when the session ran
    /// (then its exit is awaited, so the next request is not refused as busy).
    func sessionFailure(_ request: SessionRequest, flags: UInt32 = 0, on started: Started, stdio: [Int32]) throws -> ChildFailure? {
        try started.connection.send(request.encoded(flags: flags), fds: stdio)
        #expect(waitReadable(started.connection.socket.raw, timeoutMs: 5000))
        switch started.connection.receive() {
        case .failed(let f): return f
        case .started:
            _ = started.connection.receive()
            return nil
        default:
            Issue.record("the init closed the connection")
            return nil
        }
    }

    @Test func aSessionThatCannotStartReportsStageErrnoAndIndex() throws {
        let started = try start(filter: [])
        defer { started.stop() }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        let stdio = [null, null, null]
        let plan = started.plan
        func request(_ argv: [String], cwd: String = "/", uid: UInt32? = nil) -> SessionRequest {
            SessionRequest(argv: argv, environment: plan.environment, workingDirectory: cwd, uid: uid ?? plan.uid, gid: plan.gid)
        }
        #expect(try sessionFailure(request(["/nonexistent/program"]), on: started, stdio: stdio)
            == ChildFailure(stage: stage(SBX_STAGE_SESSION_EXEC), errno: ENOENT, index: 0))
        #expect(try sessionFailure(request(["no-such-program-\(getpid())"]), on: started, stdio: stdio)
            == ChildFailure(stage: stage(SBX_STAGE_SESSION_EXEC), errno: ENOENT, index: 0))
        #expect(try sessionFailure(request(["/"]), on: started, stdio: stdio)
            == ChildFailure(stage: stage(SBX_STAGE_SESSION_EXEC), errno: EACCES, index: 0))
        // run and exec exit 127 and 126 for these (SandboxError.Code), as env(1) does.
        let missing = ChildFailure(stage: stage(SBX_STAGE_SESSION_EXEC), errno: ENOENT, index: 0).error(argv: ["x"], cwd: "/")
        #expect(missing.code == .commandNotFound && missing.code.launchExitStatus == 127)
        let refused = ChildFailure(stage: stage(SBX_STAGE_SESSION_EXEC), errno: EACCES, index: 0).error(argv: ["/"], cwd: "/")
        #expect(refused.code == .commandNotExecutable && refused.code.launchExitStatus == 126)
        let chdir = ChildFailure(stage: stage(SBX_STAGE_SESSION_CHDIR), errno: ENOENT, index: 0).error(argv: ["x"], cwd: "/y")
        #expect(chdir.code == .failed && chdir.code.launchExitStatus == 125)
        #expect(try sessionFailure(request(["/bin/true"], cwd: "/no/such/directory"), on: started, stdio: stdio)
            == ChildFailure(stage: stage(SBX_STAGE_SESSION_CHDIR), errno: ENOENT, index: 0))
        // A controlling terminal asked for, /dev/null given: TIOCSCTTY says ENOTTY.
        #expect(try sessionFailure(request(["/bin/true"]), flags: UInt32(SBX_RUN_CTTY.rawValue), on: started, stdio: stdio)
            == ChildFailure(stage: stage(SBX_STAGE_SESSION_CTTY), errno: ENOTTY, index: 0))
        // Ids the plan does not allow are refused by the init before any fork.
        let other: UInt32 = plan.uid == 4242 ? 4243 : 4242
        #expect(try sessionFailure(request(["/bin/true"], uid: other), on: started, stdio: stdio)
            == ChildFailure(stage: stage(SBX_STAGE_SESSION_REQUEST), errno: EPERM, index: 0))
        // The container outlives its failed sessions.
        #expect(try sessionFailure(request(["/bin/true"]), on: started, stdio: stdio) == nil)
    }

    @Test func aFilterTheKernelRefusesFailsEverySessionAtTheSeccompStage() throws {
        // One `ld [nr]` and no `ret`: the right size for a sock_filter array, refused by the kernel.
        let started = try start(filter: Self.instruction(0x20, 0, 0, 0))
        defer { started.stop() }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        let request = SessionRequest(argv: ["/bin/true"], environment: started.plan.environment, workingDirectory: "/",
                                     uid: started.plan.uid, gid: started.plan.gid)
        #expect(try sessionFailure(request, on: started, stdio: [null, null, null])
            == ChildFailure(stage: stage(SBX_STAGE_SESSION_SECCOMP), errno: EINVAL, index: 0))
    }
}
