// Every program sandbox runs on the host goes through `HostCommand`: doctor's
// probes, `create`'s mmdebstrap | unshare tar, update-desktop-database, the id
// map helpers, pasta, the setuid network helper, the detached supervisor, and
// getent for accounts that /etc/passwd and /etc/group do not name (Accounts).
// No shell anywhere: argv goes to the program as it is.
//
// Off the launch path (`run(capture:)`, `pipeline`) it is swift-subprocess, which
// resolves names in PATH, closes every descriptor from 3 up in the child, resets
// signal dispositions and reaps through a pidfd.
//
// The launch path (`start`/`run(passing:)`, `startDetached`) keeps one small
// posix_spawn primitive below, for two reasons:
//  - swift-subprocess 1.0 cannot give a child a descriptor besides 0-2: it always
//    adds a close-from-3 file action, and on Linux its PlatformOptions has no
//    preSpawnProcessConfigurator (that hook exists on Darwin and Windows only).
//    sandbox-net takes the container's network namespace as fd 3; the supervisor
//    takes its status pipe as fd 3 and its first client connection as fd 4.
//  - it is measurably slower where latency counts: the first use in a process
//    starts its monitor, worker and epoll I/O threads, and every run hops between
//    them and the task pool. Measured on this machine kind (2 cores, release build,
//    a fresh process running newuidmap and newgidmap in parallel, as the supervisor
//    does): posix_spawn median 3.3 ms (min 1.6), swift-subprocess median 7.1 ms
//    (min 3.7); still 4.1 ms against 2.8 ms once warm. newuidmap/newgidmap and
//    pasta run between the clone and the app's start, so they use the primitive.
import CSandboxSystem

#if canImport(Glibc)
import Glibc
#endif

public struct HostCommand: Sendable {
    /// What the program printed and how it ended.
    public struct Result: Sendable {
        /// Exit status, or 128+signal when killed.
        public var status: Int32
        /// stdout; with `.combined`, stdout and stderr together.
        public var output: String
        /// stderr when collected apart: `.separate`, and always from the posix_spawn primitive.
        public var errorOutput: String
        public var succeeded: Bool { status == 0 }
        package init(status: Int32, output: String, errorOutput: String) {
            self.status = status
            self.output = output
            self.errorOutput = errorOutput
        }
    }

    /// How the program's stdout and stderr are collected.
    public enum Capture: Sendable {
        /// Both into `output`, as a terminal would show them.
        case combined
        /// stdout into `output`, stderr into `errorOutput`.
        case separate
    }

    /// argv[0] is an absolute path or a name searched in PATH.
    public var argv: [String]
    /// The child's whole environment; nil: ours.
    public var environment: [String: String]?
    /// The file to run when argv[0] is only the name the program sees; nil: argv[0].
    public var executablePath: String?

    public init(_ argv: [String], environment: [String: String]? = nil, executablePath: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.executablePath = executablePath
    }

    /// What runs: `executablePath`, else argv[0].
    package var program: String { executablePath ?? argv.first ?? "" }

    /// The first directory of PATH (or the usual system ones) holding an executable `name`.
    public static func find(_ name: String, path: String? = SandboxPlan.Environment.current["PATH"]) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let dirs = (path ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        for d in dirs where d.hasPrefix("/") {
            let p = d + "/" + name
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }
}

// MARK: - The posix_spawn primitive

extension HostCommand {
    /// A program started by `start(passing:)`; `finish()` collects its output and reaps it.
    public struct Running: Sendable {
        public let pid: pid_t
        let stdout: OwnedFD
        let stderr: OwnedFD

        /// Reads stdout and stderr to EOF, then waits for the exit status.
        public func finish() -> Result {
            let (out, err) = HostCommand.readBoth(stdout.raw, stderr.raw)
            stdout.close()
            stderr.close()
            return Result(status: HostCommand.wait(pid), output: out, errorOutput: err)
        }
    }

    /// Starts the program with `descriptors` as its fds 3, 4, … and no other descriptor
    /// of ours, stdin from /dev/null, stdout and stderr into pipes that `finish()` reads.
    /// Starting several before finishing any runs them in parallel. The program must be
    /// an absolute path.
    public func start(passing descriptors: [Int32]) throws(SandboxError) -> Running {
        let out: (read: OwnedFD, write: OwnedFD), err: (read: OwnedFD, write: OwnedFD)
        do {
            out = try makePipe()
            err = try makePipe()
        } catch { throw SandboxError.wrapping(error, "cannot run \(program)") }
        let pid = try spawn(stdout: .descriptor(out.write.raw), stderr: .descriptor(err.write.raw),
                            passing: descriptors, newSession: false)
        return Running(pid: pid, stdout: out.read, stderr: err.read)
    }

    /// `start(passing:)` and `finish()`: the program's output and exit status.
    public func run(passing descriptors: [Int32]) throws(SandboxError) -> Result {
        try start(passing: descriptors).finish()
    }

    /// Starts the program in a new session (no controlling terminal, so no terminal
    /// signals; it outlives us) with `descriptors` as its fds 3, 4, …, stdin and
    /// stdout /dev/null, stderr ours. The caller reaps it (`HostCommand.wait`).
    /// The program must be an absolute path.
    public func startDetached(passing descriptors: [Int32]) throws(SandboxError) -> pid_t {
        try spawn(stdout: .null, stderr: .ours, passing: descriptors, newSession: true)
    }

    /// Exit status, or 128+signal.
    public static func wait(_ pid: pid_t) -> Int32 {
        var wstatus: Int32 = 0
        _ = retryingEINTR { waitpid(pid, &wstatus, 0) }
        return WaitStatus(wstatus).shellStatus
    }

    enum Sink { case null, ours, descriptor(Int32) }

    /// posix_spawn: stdin /dev/null, stdout and stderr as given, `passing` onto
    /// 3, 4, …, every other descriptor closed.
    func spawn(stdout: Sink, stderr: Sink, passing: [Int32], newSession: Bool) throws(SandboxError) -> pid_t {
        guard !argv.isEmpty, program.hasPrefix("/") else {
            throw SandboxError("internal error: '\(program)' is not an absolute path")
        }
        // Every source is first copied above the highest target, so no dup2 below
        // overwrites the source of a later one (a socketpair end may well be fd 3 or 4).
        let firstFree = 3 + Int32(passing.count)
        var copies: [Int32] = []
        defer { copies.forEach { close($0) } }
        func above(_ fd: Int32) throws(SandboxError) -> Int32 {
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, firstFree)
            guard copy >= 0 else { throw SandboxError.system("cannot run \(program): fcntl", errno: errno) }
            copies.append(copy)
            return copy
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, sink) in [(Int32(1), stdout), (2, stderr)] {
            switch sink {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .ours: break
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, try above(fd), target)
            }
        }
        for (i, fd) in passing.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, try above(fd), 3 + Int32(i))
        }
        sbx_system_spawn_addclosefrom(&actions, firstFree)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Children start with default signal dispositions and an empty mask: an
        // ignored SIGPIPE or a blocked SIGTERM of ours would otherwise survive
        // execve (passt 2023-03-09 refuses to start with SIGPIPE ignored).
        var defaults = sigset_t(), empty = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        var flags = Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= sbx_system_spawn_flag_setsid() }
        posix_spawnattr_setflags(&attr, flags)

        let strings = CStrings()
        defer { strings.free() }
        let cArgv = strings.array(argv)
        let cEnv = environment.map { env in strings.array(env.map { "\($0.key)=\($0.value)" }.sorted()) }
        var pid: pid_t = 0
        let rc = cEnv.map { posix_spawn(&pid, program, &actions, &attr, cArgv, $0) }
            ?? posix_spawn(&pid, program, &actions, &attr, cArgv, environ)
        guard rc == 0 else { throw SandboxError.system("cannot run \(program)", errno: rc) }
        return pid
    }

    /// Reads both pipes to EOF without letting either fill up (1 MiB kept of each).
    static func readBoth(_ a: Int32, _ b: Int32) -> (String, String) {
        var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        var data: [[UInt8]] = [[], []]
        var open = 2
        var chunk = [UInt8](repeating: 0, count: 4096)
        while open > 0 {
            if retryingEINTR({ poll(&fds, 2, -1) }) < 0 { break }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = retryingEINTR { read(fds[i].fd, &chunk, chunk.count) }
                if n > 0 {
                    if data[i].count < 1 << 20 { data[i].append(contentsOf: chunk.prefix(n)) }
                } else {
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        return (String(decoding: data[0], as: UTF8.self), String(decoding: data[1], as: UTF8.self))
    }
}
