// The launcher side of run/exec/start/stop: join a running container (from its
// recorded plan) or start one through a detached `sandbox-supervisor` fed the
// plan as data, under the container's own lock.
import CSandboxSpawn
import Logging
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// A message already shown to the user (the supervisor's own words): the command
/// exits without another (1; 125 for run and exec, `Sandbox.report`).
public struct AlreadyReported: Error, Sendable {}

/// What a cold start needs, computed only when the container is not running:
/// the supervisor's plan, and what to undo if the supervisor never starts.
public struct PreparedStart: Sendable {
    public var spec: SupervisorPlan
    public var abandon: @Sendable () -> Void
    /// Where the plan's once-notices already shown for this profile are recorded.
    public var seenNoticesFile: String?
    public init(spec: SupervisorPlan, seenNoticesFile: String? = nil, abandon: @escaping @Sendable () -> Void = {}) {
        self.spec = spec
        self.seenNoticesFile = seenNoticesFile
        self.abandon = abandon
    }
}

public struct Launcher: Sendable {
    public var name: String
    public var directory: ContainerDirectory
    /// The `sandbox-supervisor` executable.
    public var supervisorPath: String
    /// SIGTERM grace when stopping a container whose plan cannot be read.
    public var defaultStopTimeout = 10

    public init(name: String, directory: ContainerDirectory, supervisorPath: String = Launcher.supervisorPath()) {
        self.name = name
        self.directory = directory
        self.supervisorPath = supervisorPath
    }

    /// PREFIX/bin/sandbox → PREFIX/libexec/sandbox/sandbox-supervisor; in a build
    /// tree, the one beside the `sandbox` binary.
    public static func supervisorPath(executable: String = Paths.executablePath()) -> String {
        let dir = HostFile.dirname(executable)
        let beside = dir + "/sandbox-supervisor"
        if access(beside, X_OK) == 0 { return beside }
        return HostFile.dirname(dir) + "/libexec/sandbox/sandbox-supervisor"
    }

    /// Runs a session in the container, starting it first when needed. A running
    /// container's session comes from its recorded plan (no profile is read);
    /// `prepare` is called only for a start. Returns the session's exit status.
    public func runSession(_ request: (LaunchPlan) throws -> SessionRequest,
                           prepare: () throws -> PreparedStart) throws -> Int32 {
        // Catch SIGINT/SIGTERM/SIGHUP from here on: one that arrives while the container
        // starts is forwarded to the app once it runs, instead of killing us half-way.
        ForwardedSignals.installOnce()
        for _ in 0..<5 {
            let lock = try directory.lock(name)
            let connection: ControlConnection
            let plan: LaunchPlan
            var submitted: SessionRunner.Submitted? = nil
            var clock = Stopwatch()   // from the request's sending
            switch directory.status(name) {
            case .running(let state):
                noticeProfileChange(state)
                guard let c = ControlConnection.connect(path: directory.controlSocket(name)) else {
                    log.debug("\(name): init \(state.initPid) does not accept; waiting for it to exit")
                    lock.close()
                    waitForExit(of: state, timeout: defaultStopTimeout)
                    continue
                }
                if let recorded = directory.recordedPlan(name) {
                    plan = recorded.plan
                } else {
                    // Started by another version of sandbox: plan from the profile.
                    log.info("\(name): the running container's plan cannot be read; planning from the profile")
                    plan = try prepare().spec.plan
                }
                log.debug("\(name): joining the running container (init pid \(state.initPid))")
                connection = c
            case .stale:
                log.info("\(name): removing stale state left by a container that is gone")
                directory.remove(name)
                fallthrough
            case .notRunning:
                log.debug("\(name): starting the container")
                let pending = try spawnSupervisor(persistent: false)
                let prepared = try prepareOrAbandon(prepare, pending)
                plan = prepared.spec.plan
                // The session's request before the plan is handed over: a request
                // that cannot be made (no command) starts no container.
                let session = try prepareOrAbandon({ try request(plan) }, pending, undo: prepared.abandon)
                handPlan(prepared.spec, pending)
                clock = Stopwatch()
                // The init finds the request queued when it first reads its clients
                // and starts the app at once, while the supervisor still writes the
                // state and reports ready (a quarter of a millisecond of each click).
                // If that fails, the supervisor's report says why, and a request that
                // did not go out is sent again below.
                submitted = try? SessionRunner.submit(session, on: ControlConnection(socket: pending.ours))
                connection = try startSupervisorLogged(prepared, pending, planHanded: true)
            }
            do {
                if submitted == nil { clock = Stopwatch() }
                let session = try submitted ?? SessionRunner.submit(request(plan), on: connection)
                let waiting = SessionHandOver(program: HostFile.dirname(supervisorPath) + "/sandbox-session",
                                              label: "\(name): session \(session.request.argv.first ?? "")", started: clock)
                let status = try SessionRunner.finish(session, on: connection, handOver: waiting, onStarted: {
                    lock.close()
                    let with = submitted != nil ? " (its request went with the plan: the container's start included)" : ""
                    log.debug("\(name): session \(session.request.argv.first ?? "") started in \(clock.elapsed)\(with)")
                })
                log.info("\(name): session \(session.request.argv.first ?? "") exited with status \(status) after \(clock.elapsed)")
                return status
            } catch is ContainerStopping {
                log.debug("\(name): the container is stopping; starting a new one after it")
                lock.close()
                if case .running(let state) = directory.status(name) { waitForExit(of: state, timeout: plan.stopTimeout) }
                continue
            }
        }
        throw SandboxError("\(name): the container keeps stopping while joining it", hint: "try again, or `sandbox stop \(name)`")
    }

    /// `sandbox start`: a container without an app, kept until `sandbox stop`.
    public func start(prepare: () throws -> PreparedStart) throws -> Bool {
        let lock = try directory.lock(name)
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
        let pending = try spawnSupervisor(persistent: true)
        let prepared = try prepareOrAbandon(prepare, pending)
        _ = try startSupervisorLogged(prepared, pending)
        return true
    }

    /// `sandbox stop`: SIGTERM to everything inside, `timeout` s of grace (default: the
    /// container's own), then SIGKILL. False if not running. Reads no profile.
    public func stop(timeout: Int?) throws -> Bool {
        let lock = try directory.lock(name)
        switch directory.status(name) {
        case .notRunning:
            lock.close()
            return false
        case .stale:
            directory.remove(name)
            lock.close()
            return false
        case .running(let state):
            let grace = timeout ?? directory.recordedPlan(name)?.plan.stopTimeout ?? defaultStopTimeout
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
            let again = try directory.lock(name)
            if case .stale = directory.status(name) { directory.remove(name) }
            again.close()
            return true
        }
    }

    /// A start that fails while planning or setting up the desktop leaves nothing
    /// behind: the waiting supervisor gets an empty plan and exits, and there is
    /// no state directory for `list` to show as stale.
    func prepareOrAbandon<T>(_ prepare: () throws -> T, _ pending: PendingSupervisor,
                             undo: () -> Void = {}) throws -> T {
        do {
            return try prepare()
        } catch {
            pending.abandon()
            undo()
            directory.remove(name)
            throw error
        }
    }

    func noticeProfileChange(_ state: ContainerState) {
        guard !state.profilePath.isEmpty, state.profileFingerprint != profileFingerprint(path: state.profilePath) else { return }
        Console.say(.notice, "\(state.profilePath) changed since \(name) started; the changes apply at the next start (sandbox stop \(name))")
    }

    func waitForExit(of state: ContainerState, timeout: Int) {
        let pidfd = OwnedFD(sbx_pidfd_open(state.initPid))
        if pidfd.raw >= 0 { _ = waitReadable(pidfd.raw, timeoutMs: Int32(clamping: (timeout + 5) * 1000)) }
        for _ in 0..<50 {
            if case .running = directory.status(name) { usleep(20_000) } else { return }
        }
    }

    /// startSupervisor, timed for the log.
    func startSupervisorLogged(_ prepared: PreparedStart, _ pending: PendingSupervisor,
                               planHanded: Bool = false) throws -> ControlConnection {
        let clock = Stopwatch()
        do {
            if !planHanded { handPlan(prepared.spec, pending) }
            let connection = try awaitReady(pending)
            log.debug("\(name): supervisor reported ready after \(clock.elapsed)")
            showOnce(prepared.spec.plan.onceNotices, seen: prepared.seenNoticesFile)
            return connection
        } catch let error as SupervisorNotStarted {
            prepared.abandon()
            throw error.underlying
        }
    }

    struct SupervisorNotStarted: Error { var underlying: any Error }

    /// Facts about the machine (a missing optional device, the microphone off) are
    /// said at a profile's first start and when they change, not at every click;
    /// the log has them every time. `seen` records the set last shown.
    func showOnce(_ notices: [String], seen file: String?) {
        for n in notices { log.info("\(name): \(n)") }
        let shown = Set(file.flatMap { HostFile.read($0) }?.split(separator: "\n").map(String.init) ?? [])
        for n in notices where !shown.contains(n) { Console.say(.notice, n) }
        guard let file, Set(notices) != shown else { return }
        do {
            try HostFile.makeDirectories(HostFile.dirname(file), mode: 0o700)
            try HostFile.writeAtomically(notices.map { $0 + "\n" }.joined(), to: file, mode: 0o600)
        } catch {
            log.debug("\(name): cannot record the notices shown: \(error)")
        }
    }

    /// A supervisor started before its plan exists, waiting for it on fd 3.
    struct PendingSupervisor {
        let child: pid_t
        let persistent: Bool
        let planWrite: OwnedFD
        let statusRead: OwnedFD
        /// Our end of the first client connection (persistent: an unused one).
        let ours: OwnedFD

        /// Planning failed: an empty plan makes it exit without starting anything.
        func abandon() {
            planWrite.close()
            _ = HostCommand.wait(child)
        }
    }

    /// Spawns `sandbox-supervisor` detached (own session) before planning: its
    /// exec, the Swift runtime's start-up and its first page faults (about a
    /// millisecond) overlap the launcher's profile loading, planning and desktop
    /// set-up, on another core.
    func spawnSupervisor(persistent: Bool) throws -> PendingSupervisor {
        var pair: [Int32] = [-1, -1]
        guard sbx_socketpair_seqpacket_cloexec(&pair) == 0 else { throw SandboxError.system("socketpair", errno: errno) }
        let ours = OwnedFD(pair[0]), theirs = OwnedFD(pair[1])
        let planPipe = try makePipe()
        let status = try makePipe()
        let command = HostCommand(["sandbox-supervisor", name], executablePath: supervisorPath)
        let child: pid_t
        do {
            let fds = [planPipe.read.raw, status.write.raw] + (persistent ? [] : [theirs.raw])
            child = try command.startDetached(passing: fds)
        } catch {
            throw SandboxError.wrapping(error, "cannot start the supervisor \(supervisorPath)", hint: "reinstall sandbox (make install)")
        }
        planPipe.read.close()
        status.write.close()
        theirs.close()
        return PendingSupervisor(child: child, persistent: persistent, planWrite: planPipe.write, statusRead: status.read, ours: ours)
    }

    /// Hands the pending supervisor the encoded plan.
    func handPlan(_ plannedSpec: SupervisorPlan, _ pending: PendingSupervisor) {
        var spec = plannedSpec
        spec.persistent = pending.persistent   // fd 5 was passed or not at the spawn
        // A plan larger than the pipe buffer is written while the supervisor reads it.
        do { try writeAll(pending.planWrite.raw, PlanCodec.encode(spec)) } catch {
            log.debug("\(name): writing the plan: \(error)")   // the status pipe says why
        }
        pending.planWrite.close()
    }

    /// Waits for the supervisor's ready record. Returns our end of the first
    /// client connection.
    func awaitReady(_ pending: PendingSupervisor) throws -> ControlConnection {
        let child = pending.child, status = pending.statusRead.raw

        // A start that hangs (a stuck helper) must not hold the lock forever.
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var deadline = 60_000
        while deadline > 0 {
            guard waitReadable(status, timeoutMs: 1000) else { deadline -= 1000; continue }
            let n = chunk.withUnsafeMutableBytes { buf in retryingEINTR { read(status, buf.baseAddress, buf.count) } }
            if n <= 0 { break }
            collected += chunk.prefix(n)
        }
        if deadline <= 0 {
            kill(child, SIGKILL)   // its lifeline takes the container down with it
            _ = HostCommand.wait(child)
            directory.remove(name)
            throw SandboxError("\(name): the container did not start within 60 seconds", hint: "something it runs at start (newuidmap, the network helper, the sound server) did not answer; try `sandbox doctor`")
        }
        var ready = false
        for record in StatusRecord.decodeAll(collected) {
            switch record {
            case .notice(let text): Console.say(.notice, text)
            case .ready: ready = true
            case .failure(let error): Console.say(error)
            }
        }
        if !ready {
            let how = HostCommand.wait(child)
            if collected.isEmpty {
                // It never got as far as the plan: undo the desktop set-up here.
                throw SupervisorNotStarted(underlying: SandboxError("\(name): the supervisor exited without a report (status \(how))",
                                                                    hint: "run with -l debug -o FILE and read the log"))
            }
            throw AlreadyReported()
        }
        return ControlConnection(socket: pending.ours)
    }
}
