// The supervisor: one detached process per running container. It spawns the
// container, records its state, reports readiness to the launcher that started
// it, waits for the init to exit and removes the state. Its lifeline pipe makes
// the init stop the container if the supervisor dies, even by SIGKILL.
//
// Launchers never supervise: each is only a session client, so the first
// `sandbox run` returns with its own app's exit status while later sessions
// keep the container running.
import CSandboxSpawn
import Logging
import SandboxCore
import SandboxMediators
#if canImport(Glibc)
import Glibc
#endif

public struct Supervisor {
    public var plan: LaunchPlan
    public var profile: Profile
    public var directory: ContainerDirectory
    public var persistent: Bool
    public var hooks: ContainerHooks
    /// Built after the spawn (no thread or mediator exists while the container is
    /// cloned) and driven until the init exits.
    public var mediators: @Sendable (ContainerProcess) throws -> [Mediator] = { _ in [] }

    public init(plan: LaunchPlan, profile: Profile, directory: ContainerDirectory, persistent: Bool,
                hooks: ContainerHooks = ContainerHooks()) {
        self.plan = plan
        self.profile = profile
        self.directory = directory
        self.persistent = persistent
        self.hooks = hooks
    }

    /// Starts the container and supervises it until it stops. `readyFD` gets the
    /// notices, then "READY" (or the error) and is closed; `firstClientFD` is
    /// the launcher's already connected control socket (or -1).
    public func run(readyFD: Int32, firstClientFD: Int32) -> Int32 {
        let name = plan.name
        // A launcher that dies while we start must not take us down with SIGPIPE on the
        // status pipe: we still have a container to stop and state to remove.
        signal(SIGPIPE, SIG_IGN)
        let clock = Stopwatch()
        let container: ContainerProcess
        let loop = PollLoop()
        var sound: SoundProxy?
        do {
            sound = try plan.sound.map { s throws(SandboxError) in try SoundMediator.make(s) }
            container = try start(firstClientFD: firstClientFD)
            if let sound { loop.add(sound) }
            for m in try mediators(container) { loop.add(m) }
        } catch {
            sound?.shutdown()
            log.debug("\(name): start failed after \(clock.elapsed): \(error)")
            report(readyFD, "\(error)")
            close(readyFD)
            hooks.stopped(plan)   // what beforeRelease/started set up (a pasta daemon, a lease)
            directory.remove(name)
            return 1
        }
        if firstClientFD >= 0 { close(firstClientFD) }   // the init holds it now
        for notice in plan.notices { report(readyFD, "notice: \(notice)") }
        report(readyFD, "READY")
        close(readyFD)
        log.info("\(name): container started in \(clock.elapsed) (init pid \(container.pid)\(persistent ? ", persistent" : ""))")
        // Nobody reads our stderr from here on (the launcher may be gone).
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        if null >= 0 { dup2(null, 0); dup2(null, 1); dup2(null, 2); close(null) }

        // Drive the mediators until the init exits (its pidfd becomes readable).
        loop.run(until: container.pidfd.raw)
        var status: Int32 = 0
        while waitpid(container.pid, &status, 0) < 0 && errno == EINTR {}
        log.info("\(name): init \(container.pid) exited (\(describeWaitStatus(status))); tearing down")
        let teardown = Stopwatch()
        hooks.stopped(plan)
        log.debug("\(name): stop hooks done in \(teardown.elapsed)")
        if let lock = try? directory.lock() {
            // A new container of the same name may already have replaced ours.
            if case .running(let s) = directory.status(name), s.initPid != container.pid {} else { directory.remove(name) }
            lock.close()
        }
        log.debug("\(name): state removed; teardown took \(teardown.elapsed), the container ran \(clock.elapsed)")
        return 0
    }

    func start(firstClientFD: Int32) throws -> ContainerProcess {
        let name = plan.name
        try HostFile.makeDirectories(directory.stateDir(name), mode: 0o700)
        for dir in plan.hostDirectories {
            do { try HostFile.makeDirectories(dir, mode: 0o700) } catch {
                throw SandboxError(error.message, hint: "check its parent directory is writable")
            }
        }
        let listen = try listenSocket(path: directory.controlSocket(name))
        let spawnClock = Stopwatch()
        let container = try ContainerSpawner.spawn(plan: plan, listenFD: listen.raw, firstClientFD: firstClientFD,
                                                   persistent: persistent, hooks: hooks)
        listen.close()
        log.debug("\(name): container spawned in \(spawnClock.elapsed) (init pid \(container.pid))")
        let me = getpid()
        let state = ContainerState(
            name: name, initPid: container.pid, initStartTime: processStartTime(container.pid) ?? 0,
            supervisorPid: me, supervisorStartTime: processStartTime(me) ?? 0, persistent: persistent,
            profilePath: profile.sourcePath, profileFingerprint: profileFingerprint(path: profile.sourcePath),
            startedAt: Int(time(nil)))
        try directory.write(state)
        let hookClock = Stopwatch()
        try hooks.started(container, plan)
        log.debug("\(name): state written to \(directory.stateDir(name)); start hooks done in \(hookClock.elapsed)")
        return container
    }

    func listenSocket(path: String) throws -> OwnedFD {
        unlink(path)
        let fd = sbx_socket_seqpacket_cloexec()
        guard fd >= 0 else { throw SandboxError("socket: \(errnoText(errno))") }
        let owned = OwnedFD(fd)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SandboxError("the control socket path \(path) is too long", hint: "use a shorter XDG_RUNTIME_DIR or profile name")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in bytes.enumerated() { buf[i] = b }
        }
        let old = umask(0o077)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(old)
        guard rc == 0 else { throw SandboxError("cannot bind \(path): \(errnoText(errno))") }
        guard Glibc.listen(fd, 16) == 0 else { throw SandboxError("listen: \(errnoText(errno))") }
        return owned
    }

    /// For failures before a Supervisor exists (profile or plan errors).
    public static func reportFailure(readyFD: Int32, _ message: String) {
        _ = try? writeAll(readyFD, Array((message + "\n").utf8))
    }

    func report(_ fd: Int32, _ line: String) {
        _ = try? writeAll(fd, Array((line + "\n").utf8))
    }
}

/// "exit status 0" / "killed by signal 9", for the log.
func describeWaitStatus(_ status: Int32) -> String {
    status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)"
}
