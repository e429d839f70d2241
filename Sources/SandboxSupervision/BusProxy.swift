// The session bus mediator: xdg-dbus-proxy, run by the supervisor for the
// container's lifetime from the plan's DBusMediation.
//
// Launched BEFORE the spawn and awaited after it (its namespace set-up and
// GLib's start overlap the container's; the container binds the directory its
// socket appears in, so the socket need not exist yet) in a user+mount namespace whose root holds the app's
// /.flatpak-info (identityroot.c), so xdg-desktop-portal sees the app id. The
// proxy writes one byte on its --fd when it listens, and exits when the other
// end of that pipe closes: the supervisor holds it, so the proxy cannot outlive
// the supervisor, even a SIGKILLed one. In the loop, the proxy's pidfd tells the
// supervisor at once when it dies mid-session (logged, and said on the user's
// terminal), and its output (the --log lines: what the app asked, what was
// refused) is relayed line by line with a prefix.
import CSandboxSpawn
import Logging
import SandboxMediators
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

public final class BusProxy: Mediator {
    public let name = "dbus"
    public let pid: pid_t
    let pidfd: OwnedFD
    /// Our end of the --fd pipe: closing it stops the proxy.
    let ready: OwnedFD
    /// The proxy's stdout and stderr (non-blocking).
    let output: OwnedFD
    let mediation: DBusMediation
    let container: String
    /// The spawn's error pipe until the proxy is known to have exec'd.
    private var spawnErrors: OwnedFD?
    private let clock = Stopwatch()
    /// One line of the proxy's output, or a word about the proxy itself (already prefixed).
    public var report: (_ line: String, _ important: Bool) -> Void
    private var pending: [UInt8] = []
    private var alive = true
    private var outputOpen = true

    /// How long the proxy may take to listen.
    public static let readyTimeoutMilliseconds: Int32 = 5000

    init(pid: pid_t, pidfd: OwnedFD, ready: OwnedFD, output: OwnedFD, mediation: DBusMediation, container: String,
         report: @escaping (String, Bool) -> Void) {
        self.pid = pid
        self.pidfd = pidfd
        self.ready = ready
        self.output = output
        self.mediation = mediation
        self.container = container
        self.report = report
    }

    /// Starts the proxy (clone3 into its namespaces) and returns at once; call
    /// `waitUntilReady` before the first app runs. A failure is a SandboxError
    /// the supervisor turns into a notice: the app starts without a bus (the
    /// binds of the socket directory are optional, the socket link dangles).
    public static func launch(_ m: DBusMediation, container: String,
                              report: @escaping (String, Bool) -> Void) throws(SandboxError) -> BusProxy {
        for bus in [m.session, m.system].compactMap({ $0 }) {
            guard bus.socketPath.utf8.count < 108 else {
                throw SandboxError("the bus socket path \(bus.socketPath) is longer than a unix socket allows (107 bytes)",
                                    hint: "use a shorter XDG_RUNTIME_DIR or profile name")
            }
            unlink(bus.socketPath)   // left by an earlier container of this name
            // Its directory: the container binds it before the socket exists.
            let dir = HostFile.dirname(bus.socketPath)
            do { try HostFile.makeDirectories(dir, mode: 0o700) } catch {
                throw SandboxError.wrapping(error, "cannot create the bus socket's directory \(dir)")
            }
        }
        let readyPipe: (read: OwnedFD, write: OwnedFD), outPipe: (read: OwnedFD, write: OwnedFD), errPipe: (read: OwnedFD, write: OwnedFD)
        do {
            readyPipe = try makePipe()
            outPipe = try makePipe()
            errPipe = try makePipe()
        } catch {
            throw SandboxError.wrapping(error, "the bus proxy")
        }
        let argv = m.proxyArguments(readyFD: readyPipe.write.raw)
        let strings = CStrings()
        defer { strings.free() }
        var cStrings = strings.array(argv)
        var env = strings.array(["LANG=C.UTF-8"])
        let name = strings.copy(".flatpak-info"), data = strings.copy(m.identity), path = strings.copy(m.proxy)

        var rawPidfd: Int32 = -1
        let pid: pid_t = cStrings.withUnsafeMutableBufferPointer { argvBuf in
            env.withUnsafeMutableBufferPointer { envBuf in
                var req = sbx_identity_root_request()
                req.path = UnsafePointer(path)
                req.argv = UnsafePointer(argvBuf.baseAddress)
                req.envp = UnsafePointer(envBuf.baseAddress)
                req.file_name = UnsafePointer(name)
                req.file_data = UnsafePointer(data)
                req.file_len = m.identity.utf8.count
                req.uid = getuid()
                req.gid = getgid()
                req.keep_fd = readyPipe.write.raw
                req.output_fd = outPipe.write.raw
                req.error_fd = errPipe.write.raw
                return sbx_spawn_in_identity_root(&req, &rawPidfd)
            }
        }
        guard pid > 0 else { throw SandboxError.system("cannot start the bus proxy: clone3", errno: errno) }
        readyPipe.write.close()
        outPipe.write.close()
        errPipe.write.close()
        _ = fcntl(outPipe.read.raw, F_SETFL, fcntl(outPipe.read.raw, F_GETFL) | O_NONBLOCK)
        let proxy = BusProxy(pid: pid, pidfd: OwnedFD(rawPidfd), ready: readyPipe.read, output: outPipe.read, mediation: m,
                             container: container, report: report)
        proxy.spawnErrors = errPipe.read
        return proxy
    }

    /// Waits until the proxy exec'd and listens (at most readyTimeoutMilliseconds).
    public func waitUntilReady() throws(SandboxError) {
        if let errors = spawnErrors {
            // The child reports {stage, errno} or execs (EOF); a set-up that hangs is cut off.
            var pfd = pollfd(fd: errors.raw, events: Int16(POLLIN), revents: 0)
            let n = retryingEINTR { poll(&pfd, 1, Self.readyTimeoutMilliseconds) }
            guard n > 0 else {
                stop()
                throw SandboxError("the bus proxy's namespace set-up did not finish within \(Self.readyTimeoutMilliseconds / 1000) s")
            }
            let failure = readAll(errors.raw, limit: MemoryLayout<sbx_spawn_error>.size)
            errors.close()
            spawnErrors = nil
            if failure.count == MemoryLayout<sbx_spawn_error>.size {
                var e = sbx_spawn_error()
                withUnsafeMutableBytes(of: &e) { $0.copyBytes(from: failure) }
                stop()
                throw SandboxError.system("cannot start the bus proxy \(mediation.proxy): \(Self.stageText(e.stage))", errno: e.err)
            }
        }
        try waitUntilListening()
        log.debug("\(container): dbus: proxy pid \(pid) listening \(clock.elapsed) after its launch (app id \(mediation.appID))")
    }

    static func stageText(_ stage: Int32) -> String {
        switch UInt32(stage) {
        case SBX_IR_STAGE_STDIO.rawValue: return "setting up its output"
        case SBX_IR_STAGE_IDMAP.rawValue: return "writing its user namespace's id maps"
        case SBX_IR_STAGE_ROOT.rawValue: return "making its root directory"
        case SBX_IR_STAGE_MIRROR.rawValue: return "binding the host's directories into its root"
        case SBX_IR_STAGE_FILE.rawValue: return "writing /.flatpak-info"
        case SBX_IR_STAGE_PIVOT.rawValue: return "changing its root"
        case SBX_IR_STAGE_EXEC.rawValue: return "executing it"
        default: return "stage \(stage)"
        }
    }

    /// The ready byte, or the proxy's exit (its last words are the reason), or the deadline.
    func waitUntilListening() throws(SandboxError) {
        let deadline = Stopwatch()
        while true {
            let left = Self.readyTimeoutMilliseconds - Int32(deadline.milliseconds)
            guard left > 0 else {
                stop()
                throw SandboxError("the bus proxy did not listen within \(Self.readyTimeoutMilliseconds / 1000) s")
            }
            var fds = [pollfd(fd: ready.raw, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: output.raw, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 2, left)
            if n < 0 && errno == EINTR { continue }
            if fds[1].revents != 0 { drainOutput() }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                if read(ready.raw, &byte, 1) == 1 { return }
            }
            if fds[0].revents & Int16(POLLHUP) != 0 {
                // The proxy exited before listening: what it printed says why.
                drainOutput()
                let words = lastLines.joined(separator: "; ")
                stop()
                throw SandboxError("the bus proxy exited before listening" + (words.isEmpty ? "" : ": " + words))
            }
        }
    }

    /// The last lines the proxy printed (for a failure message).
    private var lastLines: [String] = []

    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)

    /// Reads what the proxy printed so far and reports each complete line.
    func drainOutput() {
        guard outputOpen else { return }
        while true {
            let n = readBuffer.withUnsafeMutableBytes { buf in retryingEINTR { read(output.raw, buf.baseAddress, buf.count) } }
            if n > 0 {
                pending += readBuffer.prefix(n)
                while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    emit(Array(pending[..<nl]))
                    pending.removeSubrange(...nl)
                }
                if pending.count > 4096 { emit(pending); pending.removeAll() }
                continue
            }
            if n == 0 {   // EOF: the proxy (and every copy of its output) is gone
                if !pending.isEmpty { emit(pending); pending.removeAll() }
                outputOpen = false
            }
            return
        }
    }

    private func emit(_ bytes: [UInt8]) {
        let line = String(decoding: bytes, as: UTF8.self)
        lastLines.append(line)
        if lastLines.count > 3 { lastLines.removeFirst() }
        report("dbus: " + line, false)
    }

    // MARK: Mediator

    public func interest(_ watch: (Int32, Int16) -> Void) {
        if outputOpen { watch(output.raw, Int16(POLLIN)) }
        if alive { watch(pidfd.raw, Int16(POLLIN)) }
    }

    public func ready(fd: Int32, revents: Int16) {
        if fd == output.raw {
            drainOutput()
        } else if fd == pidfd.raw {
            drainOutput()
            var status: Int32 = 0
            _ = retryingEINTR { waitpid(pid, &status, 0) }
            alive = false
            report("dbus: the bus proxy (pid \(pid)) exited (\(WaitStatus(status))); the app has no session bus from now on — restart it to get one back", true)
        }
    }

    public func shutdown() {
        stop()
        for bus in [mediation.session, mediation.system].compactMap({ $0 }) { unlink(bus.socketPath) }
    }

    /// Stops the proxy: closing our end of --fd makes it exit; SIGKILL if it does not within 1 s.
    func stop() {
        guard alive else { output.close(); ready.close(); return }
        ready.close()
        var fds = [pollfd(fd: pidfd.raw, events: Int16(POLLIN), revents: 0)]
        if retryingEINTR({ poll(&fds, 1, 1000) }) == 0 { _ = sbx_pidfd_send_signal(pidfd.raw, SIGKILL) }
        var status: Int32 = 0
        _ = retryingEINTR { waitpid(pid, &status, 0) }
        alive = false
        drainOutput()
        output.close()
        pidfd.close()
    }
}
