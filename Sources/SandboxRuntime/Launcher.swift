// The launcher side of run/exec/start/stop: join a running container or start
// one (through a detached supervisor), under the runtime directory's lock.
import CSandboxSpawn
import Logging
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// A message already shown to the user (the supervisor's own words); exit 1 quietly.
public struct AlreadyReported: Error, Sendable {}

let log = Logger(label: "sandbox.engine")

public struct Launcher: Sendable {
    public var name: String
    public var directory: ContainerDirectory
    /// argv that starts this container's supervisor: the `sandbox` executable
    /// and its hidden `_supervise` command (the CLI knows the spelling).
    public var supervisorArguments: [String]
    /// The profile file, to notice edits made while the container runs.
    public var profilePath: String
    public var stopTimeout: Int

    public init(name: String, directory: ContainerDirectory, supervisorArguments: [String], profilePath: String, stopTimeout: Int) {
        self.name = name
        self.directory = directory
        self.supervisorArguments = supervisorArguments
        self.profilePath = profilePath
        self.stopTimeout = stopTimeout
    }

    /// Runs `request` in the container, starting it first when needed. Returns the session's exit status.
    public func runSession(_ request: SessionRequest) throws -> Int32 {
        // Catch SIGINT/SIGTERM/SIGHUP from here on: one that arrives while the container
        // starts is forwarded to the app once it runs, instead of killing us half-way.
        ForwardedSignals.installOnce()
        for _ in 0..<5 {
            let lock = try directory.lock()
            let connection: ControlConnection
            switch directory.status(name) {
            case .running(let state):
                noticeProfileChange(state)
                guard let c = ControlConnection.connect(path: directory.controlSocket(name)) else {
                    log.debug("\(name): init \(state.initPid) does not accept; waiting for it to exit")
                    lock.close()
                    waitForExit(of: state)
                    continue
                }
                log.debug("\(name): joining the running container (init pid \(state.initPid))")
                connection = c
            case .stale:
                log.info("\(name): removing stale state left by a container that is gone")
                directory.remove(name)
                connection = try startSupervisorLogged(persistent: false)
            case .notRunning:
                log.debug("\(name): starting the container")
                connection = try startSupervisorLogged(persistent: false)
            }
            do {
                let clock = Stopwatch()
                let status = try SessionRunner.run(request, on: connection, onStarted: {
                    lock.close()
                    log.debug("\(name): session \(request.argv.first ?? "") started in \(clock.elapsed)")
                })
                log.info("\(name): session \(request.argv.first ?? "") exited with status \(status) after \(clock.elapsed)")
                return status
            } catch is ContainerStopping {
                log.debug("\(name): the container is stopping; starting a new one after it")
                lock.close()
                if case .running(let state) = directory.status(name) { waitForExit(of: state) }
                continue
            }
        }
        throw SandboxError("\(name): the container keeps stopping while joining it", hint: "try again, or `sandbox stop \(name)`")
    }

    /// `sandbox start`: a container without an app, kept until `sandbox stop`.
    public func start() throws -> Bool {
        let lock = try directory.lock()
        defer { lock.close() }
        switch directory.status(name) {
        case .running(let state):
            noticeProfileChange(state)
            return false
        case .stale:
            directory.remove(name)
        case .notRunning:
            break
        }
        _ = try startSupervisorLogged(persistent: true)
        return true
    }

    /// `sandbox stop`: SIGTERM to everything inside, `timeout` s of grace, then SIGKILL. False if not running.
    public func stop(timeout: Int?) throws -> Bool {
        let lock = try directory.lock()
        switch directory.status(name) {
        case .notRunning:
            lock.close()
            return false
        case .stale:
            directory.remove(name)
            lock.close()
            return false
        case .running(let state):
            let grace = timeout ?? stopTimeout
            let clock = Stopwatch()
            log.debug("\(name): stopping init \(state.initPid) (\(grace) s before SIGKILL)")
            defer { log.info("\(name): stopped in \(clock.elapsed)") }
            let pidfd = OwnedFD(sbx_pidfd_open(state.initPid))
            // The supervisor removes the state and then exits: waiting for its exit is
            // quicker than polling the state (opened now, before it can be gone; the
            // start time proves the pid was not reused).
            let supervisor = OwnedFD(sbx_pidfd_open(state.supervisorPid))
            let supervisorIsOurs = supervisor.raw >= 0 && processStartTime(state.supervisorPid) == state.supervisorStartTime
            if let c = ControlConnection.connect(path: directory.controlSocket(name)) {
                try c.sendSimple(SBX_CTL_STOP, a: Int32(clamping: grace))
            } else if pidfd.raw >= 0 {
                _ = sbx_pidfd_send_signal(pidfd.raw, SIGKILL)
            }
            lock.close()
            if pidfd.raw >= 0, !waitReadable(pidfd.raw, timeoutMs: Int32(clamping: (grace + 5) * 1000)) {
                _ = sbx_pidfd_send_signal(pidfd.raw, SIGKILL)
                _ = waitReadable(pidfd.raw, timeoutMs: 5000)
            }
            log.debug("\(name): init \(state.initPid) exited after \(clock.elapsed); waiting for the supervisor to remove the state")
            if supervisorIsOurs { _ = waitReadable(supervisor.raw, timeoutMs: 2000) }
            // Then make sure (a supervisor killed before its clean-up leaves stale state).
            for _ in 0..<100 {
                if case .notRunning = directory.status(name) { return true }
                usleep(20_000)
            }
            let again = try directory.lock()
            if case .stale = directory.status(name) { directory.remove(name) }
            again.close()
            return true
        }
    }

    func noticeProfileChange(_ state: ContainerState) {
        if state.profilePath == profilePath && state.profileFingerprint != profileFingerprint(path: profilePath) {
            Console.err("sandbox: notice: \(profilePath) changed since \(name) started; the changes apply at the next start (sandbox stop \(name))")
        }
    }

    func waitForExit(of state: ContainerState) {
        let pidfd = OwnedFD(sbx_pidfd_open(state.initPid))
        if pidfd.raw >= 0 { _ = waitReadable(pidfd.raw, timeoutMs: Int32(clamping: (stopTimeout + 5) * 1000)) }
        for _ in 0..<50 {
            if case .running = directory.status(name) { usleep(20_000) } else { return }
        }
    }

    /// startSupervisor, timed for the log.
    func startSupervisorLogged(persistent: Bool) throws -> ControlConnection {
        let clock = Stopwatch()
        let connection = try startSupervisor(persistent: persistent)
        log.debug("\(name): supervisor reported READY after \(clock.elapsed)")
        return connection
    }

    /// Spawns `sandbox _supervise NAME` detached (own session) and waits for READY.
    /// Returns our end of the first client connection (persistent: an unused one).
    func startSupervisor(persistent: Bool) throws -> ControlConnection {
        var pair: [Int32] = [-1, -1]
        guard sbx_socketpair_seqpacket_cloexec(&pair) == 0 else { throw SandboxError("socketpair: \(errnoText(errno))") }
        let ours = OwnedFD(pair[0]), theirs = OwnedFD(pair[1])
        let ready = try makePipe()

        var args = supervisorArguments
        if persistent { args.append("--persistent") }
        // argv[0] stays the CLI's spelling ("sandbox"); the file run is this executable.
        let command = HostCommand(args, executablePath: Paths.executablePath())
        let child: pid_t
        do {
            child = try command.startDetached(passing: persistent ? [ready.write.raw] : [ready.write.raw, theirs.raw])
        } catch {
            throw SandboxError("cannot start the supervisor: \(error.message)")
        }
        ready.write.close()
        theirs.close()

        // A start that hangs (a stuck hook or helper) must not hold the lock forever.
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var deadline = 60_000
        while deadline > 0 {
            guard waitReadable(ready.read.raw, timeoutMs: 1000) else { deadline -= 1000; continue }
            let n = chunk.withUnsafeMutableBytes { read(ready.read.raw, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            collected += chunk.prefix(n)
        }
        if deadline <= 0 {
            kill(child, SIGKILL)   // its lifeline takes the container down with it
            _ = HostCommand.wait(child)
            directory.remove(name)
            throw SandboxError("\(name): the container did not start within 60 seconds", hint: "something it runs at start (newuidmap, the network helper, the sound server) did not answer; try `sandbox doctor`")
        }
        var ok = false
        let text = String(decoding: collected, as: UTF8.self)
        for line in text.split(separator: "\n") {
            if line == "READY" { ok = true } else { Console.err("sandbox: \(line)") }
        }
        if !ok {
            _ = HostCommand.wait(child)
            throw AlreadyReported()
        }
        return ControlConnection(socket: ours)
    }

    /// Running containers for `list` and `status`.
    public static func describe(_ directory: ContainerDirectory, name: String) -> ContainerDescription {
        switch directory.status(name) {
        case .notRunning: return ContainerDescription(name: name, state: "stopped", pid: nil, sessions: 0, persistent: false, profile: nil)
        case .stale: return ContainerDescription(name: name, state: "stale", pid: nil, sessions: 0, persistent: false, profile: nil)
        case .running(let s):
            let q = ControlConnection.queryStatus(path: directory.controlSocket(name))
            return ContainerDescription(name: name, state: q?.stopping == true ? "stopping" : "running", pid: s.initPid,
                                        sessions: Int(q?.sessions ?? 0), persistent: s.persistent, profile: s.profilePath)
        }
    }
}

public struct ContainerDescription: Sendable, Equatable {
    public var name: String
    public var state: String
    public var pid: Int32?
    public var sessions: Int
    public var persistent: Bool
    public var profile: String?

    public var json: String {
        let q = JSONText.quote
        return "{\"name\":\(q(name)),\"state\":\(q(state)),\"pid\":\(pid.map(String.init) ?? "null"),\"sessions\":\(sessions),\"persistent\":\(persistent),\"profile\":\(profile.map(q) ?? "null")}"
    }
}

/// The init refused a session because the container is stopping.
public struct ContainerStopping: Error, Sendable {}
