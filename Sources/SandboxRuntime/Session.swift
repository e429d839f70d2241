// A session: one program run inside a container on behalf of one launcher.
// The launcher sends a RUN request over the init's control socket (argv, env,
// cwd, ids, and its stdio or a pty slave as fds); the init forks and execs it;
// the launcher relays the terminal and signals and gets the exit status back.
// While the launcher's connection is open it counts as a client; when it closes
// (exit or SIGKILL) the session gets SIGHUP and the container may stop.
import CSandboxSpawn
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// What to run.
public struct SessionRequest: Sendable, Equatable {
    public var argv: [String]
    public var environment: [String]
    public var workingDirectory: String
    public var uid: UInt32
    public var gid: UInt32
    /// `exec --root`: root of the container's user namespace, with its capabilities
    /// (but CAP_SYS_ADMIN). A user who is root on the host still runs apps without.
    public var asContainerRoot = false
    public init(argv: [String], environment: [String], workingDirectory: String, uid: UInt32, gid: UInt32) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
    }

    /// The container's app: the profile's command plus `extraArgs` (`run NAME -- ARGS`),
    /// in the launcher's directory when a bind makes it visible inside, else the home.
    public static func app(of plan: LaunchPlan, extraArgs: [String], hostWorkingDirectory: String) -> SessionRequest {
        SessionRequest(argv: plan.command + extraArgs, environment: plan.environment,
                       workingDirectory: plan.containerPath(forHost: hostWorkingDirectory) ?? plan.home,
                       uid: plan.uid, gid: plan.gid)
    }

    /// Another program in the container (`exec`), as the user or as root of the
    /// container's user namespace.
    public static func program(_ argv: [String], of plan: LaunchPlan, hostWorkingDirectory: String,
                               asRoot: Bool) throws -> SessionRequest {
        var request = app(of: plan, extraArgs: [], hostWorkingDirectory: hostWorkingDirectory)
        request.argv = argv
        guard asRoot else { return request }
        guard plan.uidMap.contains(where: { $0.inside == 0 }), plan.gidMap.contains(where: { $0.inside == 0 }) else {
            throw SandboxError("exec --root: uid 0 is not mapped in \(plan.name)'s container",
                               hint: "give your user a range in /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER) and keep [idmap] passthrough = true")
        }
        request.uid = 0
        request.gid = 0
        request.asContainerRoot = true
        request.environment = request.environment.map { e in
            if e.hasPrefix("HOME=") { return "HOME=/root" }
            if e.hasPrefix("USER=") { return "USER=root" }
            if e.hasPrefix("LOGNAME=") { return "LOGNAME=root" }
            return e
        }
        if request.workingDirectory == plan.home { request.workingDirectory = "/" }
        return request
    }

    /// The RUN message: header then NUL-separated cwd, argv, env.
    public func encoded(flags: UInt32) -> [UInt8] {
        var strings: [UInt8] = []
        for s in [workingDirectory] + argv + environment {
            strings += Array(s.utf8.filter { $0 != 0 })
            strings.append(0)
        }
        var m = sbx_ctl_message()
        m.type = UInt32(SBX_CTL_RUN.rawValue)
        m.uid = uid
        m.gid = gid
        m.flags = flags | (asContainerRoot ? UInt32(SBX_RUN_ROOT.rawValue) : 0)
        m.argc = UInt32(argv.count)
        m.envc = UInt32(environment.count)
        m.strings_len = UInt32(strings.count)
        return withUnsafeBytes(of: m) { Array($0) } + strings
    }
}

/// How the container answered.
public enum ControlReply: Sendable, Equatable {
    case started(pid: Int32)
    case exited(status: Int32)
    case failed(SessionFailure)
    case state(sessions: Int32, clients: Int32, stopping: Bool)
    case closed
}

/// One connection to a container's init.
public final class ControlConnection: @unchecked Sendable {
    public let socket: OwnedFD

    public init(socket: OwnedFD) { self.socket = socket }

    /// Connects to control.sock; nil when nobody listens (a stale or stopping container).
    public static func connect(path: String) -> ControlConnection? {
        UnixSocket.connect(path: path, type: .seqpacket).map(ControlConnection.init(socket:))
    }

    public func send(_ bytes: [UInt8], fds: [Int32] = []) throws {
        let n = bytes.withUnsafeBytes { buf in
            fds.withUnsafeBufferPointer { sbx_ctl_send(socket.raw, buf.baseAddress, buf.count, $0.baseAddress, Int32($0.count)) }
        }
        if n != bytes.count { throw SandboxError("cannot talk to the container's init: \(errnoText(errno))") }
    }

    public func sendSimple(_ type: sbx_ctl_type, a: Int32 = 0) throws {
        var m = sbx_ctl_message()
        m.type = UInt32(type.rawValue)
        m.a = a
        try send(withUnsafeBytes(of: m) { Array($0) })
    }

    /// Reads one reply (blocking).
    public func receive() -> ControlReply {
        var m = sbx_ctl_message()
        let n = withUnsafeMutableBytes(of: &m) { buf -> Int in
            while true {
                let r = recv(socket.raw, buf.baseAddress, buf.count, 0)
                if r < 0 && errno == EINTR { continue }
                return r
            }
        }
        guard n == MemoryLayout<sbx_ctl_message>.size else { return .closed }
        switch sbx_ctl_type(rawValue: m.type) {
        case SBX_CTL_STARTED: return .started(pid: m.a)
        case SBX_CTL_EXITED: return .exited(status: m.a)
        case SBX_CTL_FAILED: return .failed(SessionFailure(stage: m.a, errno: m.b, index: m.c))
        case SBX_CTL_STATE: return .state(sessions: m.a, clients: m.b, stopping: m.c != 0)
        default: return .closed
        }
    }

    /// Asks for the session and client counts (a short-lived connection).
    public static func queryStatus(path: String) -> (sessions: Int32, stopping: Bool)? {
        guard let c = connect(path: path) else { return nil }
        guard (try? c.sendSimple(SBX_CTL_STATUS)) != nil, waitReadable(c.socket.raw, timeoutMs: 2000) else { return nil }
        if case let .state(sessions, _, stopping) = c.receive() { return (sessions, stopping) }
        return nil
    }
}

/// Signals the launcher forwards to its session, caught through a self-pipe.
enum ForwardedSignals {
    nonisolated(unsafe) static var pipeWrite: Int32 = -1
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH]

    nonisolated(unsafe) static var pipeRead: Int32 = -1

    /// Installs the handlers once per process; returns the read end of the self-pipe.
    @discardableResult
    static func installOnce() -> Int32 {
        if pipeRead >= 0 { return pipeRead }
        guard let p = try? makePipe() else { return -1 }
        _ = fcntl(p.write.raw, F_SETFL, O_NONBLOCK)
        _ = fcntl(p.read.raw, F_SETFL, O_NONBLOCK)
        pipeWrite = p.write.release()
        pipeRead = p.read.release()
        for sig in forwarded {
            var sa = sigaction()
            sa.__sigaction_handler.sa_handler = { signo in
                var b = UInt8(truncatingIfNeeded: signo)
                let saved = errno
                _ = write(ForwardedSignals.pipeWrite, &b, 1)
                errno = saved
            }
            sa.sa_flags = SA_RESTART
            sigaction(sig, &sa, nil)
        }
        return pipeRead
    }
}

/// The terminal of the launcher, in raw mode while a pty session runs.
final class RawTerminal {
    var saved = termios()
    var active = false
    init(fd: Int32) {
        guard tcgetattr(fd, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)
        active = tcsetattr(fd, TCSANOW, &raw) == 0
    }
    func restore() {
        if active { tcsetattr(0, TCSADRAIN, &saved) }
        active = false
    }
    deinit { restore() }
}

public enum SessionRunner {
    /// Sends the request on `connection`, then relays until the session exits.
    /// Returns the exit status as a shell would (128+N for a signal).
    /// A terminal on stdin gets a pty inside (interactive shells, job control,
    /// Ctrl-C reaching the app) without giving the app the launcher's terminal.
    /// `stdio`: the session's stdin, stdout, stderr instead of the launcher's own (no pty then).
    public static func run(_ request: SessionRequest, on connection: ControlConnection, stdio: [Int32]? = nil,
                           onStarted: () -> Void = {}) throws -> Int32 {
        let signalPipe = ForwardedSignals.installOnce()
        guard signalPipe >= 0 else { throw SandboxError("cannot create a pipe: \(errnoText(errno))") }
        // A pty only for a foreground launcher: raw mode from a background job (`sandbox run x &`)
        // would stop it with SIGTTOU; in the background the app gets our fds instead.
        let usePty = stdio == nil && isatty(0) == 1 && tcgetpgrp(0) == getpgrp()
        var master: OwnedFD? = nil
        var terminal: RawTerminal? = nil
        if usePty {
            var m: Int32 = -1, s: Int32 = -1
            guard sbx_openpty(&m, &s) == 0 else { throw SandboxError("cannot allocate a pty: \(errnoText(errno))") }
            master = OwnedFD(m)
            let slave = OwnedFD(s)
            copyWindowSize(to: m)
            try connection.send(request.encoded(flags: UInt32(SBX_RUN_CTTY.rawValue)), fds: [s, s, s])
            slave.close()
        } else {
            try connection.send(request.encoded(flags: 0), fds: stdio ?? [0, 1, 2])
        }
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
        while true {
            var fds = [pollfd(fd: connection.socket.raw, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signalPipe, events: Int16(POLLIN), revents: 0)]
            if let master {
                fds.append(pollfd(fd: master.raw, events: Int16(POLLIN), revents: 0))
                if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            }
            let r = poll(&fds, nfds_t(fds.count), -1)
            if r < 0 { if errno == EINTR { continue }; throw SandboxError("poll: \(errnoText(errno))") }
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
