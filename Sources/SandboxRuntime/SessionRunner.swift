// A session: one program run inside a container on behalf of one launcher.
// The launcher sends a RUN request over the init's control socket (argv, env,
// cwd, ids, and its stdio or a pty slave as fds); the init forks and execs it;
// the launcher relays the terminal and signals and gets the exit status back.
import CSandboxSpawn
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

public enum SessionRunner {
    /// Sends the request on `connection`, then relays until the session exits.
    /// Returns the exit status as a shell would (128+N for a signal).
    /// A terminal on stdin gets a pty inside (interactive shells, job control,
    /// Ctrl-C reaching the app) without giving the app the launcher's terminal.
    /// `stdio`: the session's stdin, stdout, stderr instead of the launcher's own (no pty then).
    /// `handOver`: without a pty, become that waiting program once the session
    /// has run for `SessionHandOver.afterMilliseconds`.
    public static func run(_ request: SessionRequest, on connection: ControlConnection, stdio: [Int32]? = nil,
                           handOver: SessionHandOver? = nil, onStarted: () -> Void = {}) throws -> Int32 {
        try finish(submit(request, on: connection, stdio: stdio), on: connection, handOver: handOver, onStarted: onStarted)
    }

    /// A request on its way: what the relay needs once the init answers.
    public struct Submitted {
        public let request: SessionRequest
        /// Our side of the session's pty; nil when it got our stdio.
        let master: OwnedFD?
    }

    /// Sends the request. The init reads it when it reads its clients: on a start,
    /// this goes out with the plan, and the init starts the app as soon as the
    /// container is ready, while the supervisor still writes the state and reports.
    public static func submit(_ request: SessionRequest, on connection: ControlConnection,
                              stdio: [Int32]? = nil) throws -> Submitted {
        // A pty only for a foreground launcher: raw mode from a background job (`sandbox run x &`)
        // would stop it with SIGTTOU; in the background the app gets our fds instead.
        let usePty = stdio == nil && isatty(0) == 1 && tcgetpgrp(0) == getpgrp()
        guard usePty else {
            try sendRequest(request.encoded(flags: 0), fds: stdio ?? [0, 1, 2], on: connection)
            return Submitted(request: request, master: nil)
        }
        var m: Int32 = -1, s: Int32 = -1
        guard sbx_openpty(&m, &s) == 0 else { throw SandboxError.system("cannot allocate a pty", errno: errno) }
        let master = OwnedFD(m)
        let slave = OwnedFD(s)
        copyWindowSize(to: m)
        try sendRequest(request.encoded(flags: UInt32(SBX_RUN_CTTY.rawValue)), fds: [s, s, s], on: connection)
        slave.close()
        return Submitted(request: request, master: master)
    }

    /// Waits for the init's answer to a submitted request, then relays until the
    /// session exits.
    public static func finish(_ submitted: Submitted, on connection: ControlConnection,
                              handOver: SessionHandOver? = nil, onStarted: () -> Void = {}) throws -> Int32 {
        let signalPipe = ForwardedSignals.installOnce()
        guard signalPipe >= 0 else { throw SandboxError.system("cannot create a pipe", errno: errno) }
        let request = submitted.request
        let master = submitted.master
        let usePty = master != nil
        var terminal: RawTerminal? = nil
        switch connection.receive() {
        case .started: break
        case .failed(let f):
            if f.stage == Int32(SBX_STAGE_STOPPING.rawValue) { throw ContainerStopping() }
            throw f.error(argv: request.argv, cwd: request.workingDirectory)
        default: throw ContainerStopping()   // it stopped between our connect and its accept
        }
        onStarted()
        if usePty { terminal = RawTerminal(fd: 0) }
        defer { terminal?.restore() }

        var stdinOpen = usePty
        var buffer = [UInt8](repeating: 0, count: 16384)
        // Nothing to relay but signals and the exit status: a small C program can wait instead.
        var waiting = usePty ? nil : handOver
        let handOverAt = Stopwatch()
        while true {
            var fds = [pollfd(fd: connection.socket.raw, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signalPipe, events: Int16(POLLIN), revents: 0)]
            if let master {
                fds.append(pollfd(fd: master.raw, events: Int16(POLLIN), revents: 0))
                if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            }
            var timeout: Int32 = -1
            if waiting != nil {
                timeout = max(0, SessionHandOver.afterMilliseconds - Int32(handOverAt.milliseconds))
            }
            let r = retryingEINTR { poll(&fds, nfds_t(fds.count), timeout) }
            if r < 0 { throw SandboxError.system("poll", errno: errno) }
            if r == 0, let w = waiting {
                w.become(connection: connection, signalPipe: signalPipe)   // returns only if it could not
                waiting = nil
                continue
            }
            if fds[1].revents != 0 {
                var sig: UInt8 = 0
                while read(signalPipe, &sig, 1) == 1 {   // non-blocking: drains what is there
                    if Int32(sig) == SIGWINCH { if let master { copyWindowSize(to: master.raw) } }
                    else { try? connection.sendSimple(SBX_CTL_SIGNAL, a: Int32(sig)) }
                }
            }
            if let master, fds.count > 2, fds[2].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(master.raw, $0.baseAddress, $0.count) }
                if n > 0 { _ = try? writeAll(1, Array(buffer.prefix(n))) }
            }
            if let master, fds.count > 3, fds[3].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n > 0 { _ = try? writeAll(master.raw, Array(buffer.prefix(n))) } else { stdinOpen = false }
            }
            if fds[0].revents != 0 {
                let reply = connection.receive()
                if let master { drain(master.raw) }
                switch reply {
                case .exited(let status): return shellStatus(status)
                case .closed: throw SandboxError("the container stopped while the session was running")
                default: continue
                }
            }
        }
    }

    static func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while waitReadable(fd, timeoutMs: 20) {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            _ = try? writeAll(1, Array(buffer.prefix(n)))
        }
    }

    static func copyWindowSize(to fd: Int32) {
        var ws = winsize()
        if ioctl(0, UInt(TIOCGWINSZ), &ws) == 0 { _ = ioctl(fd, UInt(TIOCSWINSZ), &ws) }
    }

    /// A wait status as a shell reports it.
    public static func shellStatus(_ status: Int32) -> Int32 { WaitStatus(status).shellStatus }
}

/// The init refused a session because the container is stopping.
public struct ContainerStopping: Error, Sendable {}

/// A join can connect to an init that is exiting (its last session ended a moment
/// ago, its state not yet removed): the request then meets a closed connection,
/// the same race as a connection that closes before the reply. 1 in 100
/// back-to-back `sandbox run`s of a short app failed here with "connection reset".
private func sendRequest(_ bytes: [UInt8], fds: [Int32], on connection: ControlConnection) throws {
    let failure = connection.trySend(bytes, fds: fds)
    if failure == ECONNRESET || failure == EPIPE { throw ContainerStopping() }
    if failure != 0 { throw SandboxError.system("cannot talk to the container's init", errno: failure) }
}

/// The launcher's waiting form: `sandbox-session` (C, helper/sandbox-session.c).
/// A session without a terminal leaves the launcher nothing to do but forward
/// SIGINT/SIGTERM/SIGHUP/SIGQUIT and exit with the session's status, for as long
/// as the app runs; the Swift launcher holds ~10.8 MB resident for that, the C
/// program a fraction of a megabyte. After half a second (a session that ends
/// sooner, a script's `exec … -- true`, pays no execve) the launcher becomes it:
/// same pid and command line, the control connection inherited.
public struct SessionHandOver: Sendable {
    public static let afterMilliseconds: Int32 = 500
    /// The program (beside the supervisor).
    public var program: String
    /// "NAME: session ARGV0", the launcher's own log line's start.
    public var label: String
    /// When the request was sent, for the "exited … after" line.
    public var started: Stopwatch

    public init(program: String, label: String, started: Stopwatch) {
        self.program = program
        self.label = label
        self.started = started
    }

    /// execve's the program; returns only when that failed, with everything as it was.
    func become(connection: ControlConnection, signalPipe: Int32) {
        guard access(program, X_OK) == 0 else { return }
        // Blocked across the execve: a signal that comes now stays pending for the
        // program's signalfd instead of killing it before it can forward it.
        var forwarded = sigset_t(), previous = sigset_t()
        sigemptyset(&forwarded)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&forwarded, sig) }
        sigprocmask(SIG_BLOCK, &forwarded, &previous)
        // What the handlers caught before goes to the session now, as the relay would.
        var sig: UInt8 = 0
        while read(signalPipe, &sig, 1) == 1 {
            if Int32(sig) != SIGWINCH { try? connection.sendSimple(SBX_CTL_SIGNAL, a: Int32(sig)) }
        }
        let logFD = LogSetup.openInfoFile()
        let socket = connection.socket.raw
        log.debug("\(label): becoming sandbox-session after \(started.elapsed)")
        // The launcher's own command line: `ps` and `pgrep -f` see no change.
        let failure = becomeProgram(program, argv: CommandLine.arguments, keeping: [socket] + (logFD >= 0 ? [logFD] : []), environment: [
            ("SANDBOX_SESSION", "\(socket) \(logFD) \(started.startMicroseconds)"), ("SANDBOX_SESSION_LABEL", label),
        ])
        if logFD >= 0 { close(logFD) }
        sigprocmask(SIG_SETMASK, &previous, nil)
        log.info("\(label): cannot execute \(program) (\(errnoText(failure))); the launcher keeps waiting itself")
    }
}
