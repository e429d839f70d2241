// The supervisor: one small process per running container (the executable
// `sandbox-supervisor`). The launcher plans; the supervisor is handed the plan
// as data and only carries it out: it sets up the host side of the network,
// spawns the container, records its state and plan, reports readiness, drives
// the mediators until the init exits, then undoes what it set up and removes
// the state. Its lifeline pipe makes the init stop the container if the
// supervisor dies, even by SIGKILL.
//
// Launchers never supervise: each is only a session client, so the first
// `sandbox run` returns with its own app's exit status while later sessions
// keep the container running.
import CSandboxSpawn
import Logging
import SandboxMediators
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

package let log = Logger(label: "sandbox.engine")

public struct Supervisor {
    public var spec: SupervisorPlan
    /// The encoded `spec`, recorded in the state directory for joins.
    public var encoded: [UInt8]
    /// Built after the spawn (no thread or mediator exists while the container is
    /// cloned) and driven until the init exits.
    public var mediators: (ContainerProcess) throws -> [Mediator] = { _ in [] }

    public init(spec: SupervisorPlan, encoded: [UInt8]) {
        self.spec = spec
        self.encoded = encoded
    }

    var plan: LaunchPlan { spec.plan }
    var directory: ContainerDirectory { ContainerDirectory(root: spec.runtimeDir) }

    /// Starts the container and supervises it until it stops. `statusFD` gets
    /// the notices, then `ready` (or the failure) and is closed; `firstClientFD`
    /// is the launcher's already connected control socket (or -1).
    public func run(statusFD: Int32, firstClientFD: Int32) -> Int32 {
        let name = plan.name
        // A launcher that dies while we start must not take us down with SIGPIPE on the
        // status pipe: we still have a container to stop and state to remove.
        signal(SIGPIPE, SIG_IGN)
        let clock = Stopwatch()
        log.debug("\(name): supervisor has the plan (\(encoded.count) bytes)")
        let status = StatusChannel(fd: statusFD)
        let network = NetworkSetUp(attachment: spec.network, name: name)
        let container: ContainerProcess
        let gate: ControlGate
        let loop = PollLoop()
        var sound: SoundProxy?
        var x11: X11Proxy?
        var bus: BusProxy?
        let busReport = BusReport(container: name, toLogFile: spec.logFile != nil)
        do {
            // The bus proxy: launched now, awaited after the spawn (the two set-ups overlap).
            if let m = plan.dbus {
                do throws(SandboxError) {
                    bus = try BusProxy.launch(m, container: name, report: busReport.line)
                } catch {
                    log.notice("\(name): dbus: \(error.message); the app starts without a session bus")
                    status.send(.notice("dbus: \(error.message); the app starts without a session bus"))
                }
            }
            // Before the spawn: the container's mounts bind the mediators' sockets (and
            // the X proxy's Xauthority), and they are there for the first app.
            sound = try plan.sound.map { s throws(SandboxError) in try SoundMediator.make(s) }
            let (proxy, x11Notice) = try X11Proxy.start(for: plan)
            x11 = proxy
            if let x11Notice { status.send(.notice(x11Notice)) }
            (container, gate) = try start(firstClientFD: firstClientFD, network: network)
            // Listening before READY: the first app may connect at once.
            do throws(SandboxError) {
                try bus?.waitUntilReady()
            } catch {
                bus = nil
                log.notice("\(name): dbus: \(error.message); the app starts without a session bus")
                status.send(.notice("dbus: \(error.message); the app starts without a session bus"))
            }
            loop.add(gate)
            if let sound { loop.add(sound) }
            if let proxy { loop.add(proxy) }
            if let bus { loop.add(bus) }
            for m in try mediators(container) { loop.add(m) }
        } catch {
            sound?.shutdown()
            x11?.shutdown()
            bus?.shutdown()
            log.debug("\(name): start failed after \(clock.elapsed): \(error)")
            status.send(.failure(error as? SandboxError ?? SandboxError("\(error)")))
            status.close()
            network.stop()
            directory.remove(name)
            return 1
        }
        if firstClientFD >= 0 { close(firstClientFD) }   // the init holds it now
        for notice in plan.notices { status.send(.notice(notice)) }
        status.send(.ready(pid: container.pid))
        status.close()
        log.info("\(name): container started in \(clock.elapsed) (init pid \(container.pid)\(spec.persistent ? ", persistent" : ""))")
        // Nobody reads our stderr from here on (the launcher may be gone), except the
        // bus proxy's report: --log-dbus lines, and its death, go to the user's terminal.
        if bus != nil && !busReport.toLogFile { busReport.terminal = fcntl(2, F_DUPFD_CLOEXEC, 3) }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        if null >= 0 { dup2(null, 0); dup2(null, 1); dup2(null, 2); close(null) }

        // Nothing to mediate (the loop holds the gate alone): a small C program does
        // that once the container has run for a moment (see `handOverAfterMilliseconds`).
        if loop.mediators.count == 1,
           loop.run(until: container.pidfd.raw, afterMilliseconds: Self.handOverAfterMilliseconds) == .deadline {
            handOver(container: container, gate: gate, network: network, clock: clock)
        }
        // Drive the mediators until the init exits (its pidfd becomes readable).
        loop.run(until: container.pidfd.raw)
        tearDown(initPid: container.pid, network: network, clock: clock)
        return 0
    }

    /// After the init exited: reap it, release the network, remove the state
    /// (unless a new container of the same name has it already).
    func tearDown(initPid: Int32, network: NetworkSetUp, clock: Stopwatch) {
        let name = plan.name
        var waitStatus: Int32 = 0
        _ = retryingEINTR { waitpid(initPid, &waitStatus, 0) }
        log.info("\(name): init \(initPid) exited (\(WaitStatus(waitStatus))); tearing down")
        let teardown = Stopwatch()
        network.stop()
        log.debug("\(name): stop hooks done in \(teardown.elapsed)")
        if let lock = try? directory.lock(name) {
            if case .running(let s) = directory.status(name), s.initPid != initPid {} else { directory.remove(name) }
            lock.close()
        }
        log.debug("\(name): state removed; teardown took \(teardown.elapsed), the container ran \(clock.elapsed)")
    }

    func start(firstClientFD: Int32, network: NetworkSetUp) throws -> (ContainerProcess, ControlGate) {
        let name = plan.name
        try HostFile.makeDirectories(directory.stateDir(name), mode: 0o700)
        for dir in plan.hostDirectories {   // below each root, no symlink is followed
            do { try HostFile.makeDirectories(dir, mode: 0o700) } catch {
                throw SandboxError(error.message, hint: "check its parent directory is writable")
            }
        }
        let gate = try ControlGate(path: directory.controlSocket(name))
        let spawnClock = Stopwatch()
        var hooks = ContainerHooks()
        hooks.beforeRelease = { container, _ in try network.attach(container) }
        let container = try ContainerSpawner.spawn(plan: plan, listenFD: gate.initEnd.raw, firstClientFD: firstClientFD,
                                                   persistent: spec.persistent, hooks: hooks)
        gate.initEnd.close()
        log.debug("\(name): container spawned in \(spawnClock.elapsed) (init pid \(container.pid))")
        let me = getpid()
        let state = ContainerState(
            name: name, initPid: container.pid, initStartTime: processStartTime(container.pid) ?? 0,
            supervisorPid: me, supervisorStartTime: processStartTime(me) ?? 0, persistent: spec.persistent,
            profilePath: spec.profilePath, profileFingerprint: spec.profileFingerprint,
            startedAt: Int(time(nil)))
        // The plan first: a launcher that sees the state may join at once and reads it.
        try HostFile.writeAtomically(encoded, to: directory.planFile(name), mode: 0o600, durable: false)
        try directory.write(state)
        log.debug("\(name): state and plan written to \(directory.stateDir(name))")
        return (container, gate)
    }
}

/// Where the bus proxy's lines go: the log file (-o), else the terminal of the
/// launcher that started the container (a write to a closed one fails quietly).
final class BusReport: @unchecked Sendable {
    let container: String
    let toLogFile: Bool
    var terminal: Int32 = 2

    init(container: String, toLogFile: Bool) {
        self.container = container
        self.toLogFile = toLogFile
    }

    func line(_ text: String, important: Bool) {
        if important { log.error("\(container): \(text)") } else if toLogFile { log.notice("\(container): \(text)") }
        guard !toLogFile, terminal >= 0 else { return }
        // The one message shape (Console); a launcher relaying a pty has its terminal
        // in raw mode: no newline translation.
        let end = isatty(terminal) == 1 ? "\r\n" : "\n"
        let message = Console.format(important ? .warning : .notice, "\(container): \(text)")
        _ = try? writeAll(terminal, Array((message + end).utf8))
    }
}

/// The host side of the container's network, from the plan's data.
final class NetworkSetUp: @unchecked Sendable {
    let attachment: NetworkAttachment
    let name: String
    /// The leased veth pair's host side and address, to give back at the end.
    var held: (hostInterface: String, address: String)?

    init(attachment: NetworkAttachment, name: String) {
        self.attachment = attachment
        self.name = name
    }

    /// Before the id maps: the helper needs only the netns, and pasta must open
    /// /proc/PID/ns while the child is still the user's own and dumpable (once
    /// the init is root inside, the open fails with EACCES).
    func attach(_ container: ContainerProcess) throws {
        let clock = Stopwatch()
        switch attachment {
        case .none:
            return
        case .veth(let bridge, let helper):
            let attached = try ContainerNetwork.attachVeth(containerPID: container.pid, bridge: bridge,
                                                           helper: SandboxNetHelper(path: helper))
            held = (attached.hostInterface, "\(attached.address)")
            log.info("\(name): network: leased \(attached.address)/\(attached.prefixLength) via \(attached.gateway) on \(bridge) (host side \(attached.hostInterface)) in \(clock.elapsed)")
        case .pasta(let pidFile, let arguments):
            let pasta = try PastaProcess.start(containerPID: container.pid, pidFile: pidFile, forwarding: [], extraArguments: arguments)
            log.info("\(name): network: pasta pid \(pasta.pid) started in \(clock.elapsed)")
        }
    }

    /// After the init exited (or a failed start): release the lease, stop pasta.
    func stop() {
        switch attachment {
        case .none:
            return
        case .veth(let bridge, let helper):
            guard let held else { return }
            do {
                try SandboxNetHelper(path: helper).release(bridge: bridge, hostInterface: held.hostInterface)
                log.debug("\(name): network: released \(held.address) (\(held.hostInterface))")
            } catch {
                log.info("\(name): network: releasing \(held.address) failed (the next start reclaims it): \(error)")
            }
            self.held = nil
        case .pasta(let pidFile, _):
            PastaProcess.running(pidFile: pidFile)?.stop()
        }
    }
}
