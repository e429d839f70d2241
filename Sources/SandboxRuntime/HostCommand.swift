#if canImport(Glibc)
import Glibc
#endif
import SandboxCore

/// Runs a host program (unshare, mmdebstrap) with posix_spawn and waits for it.
/// Used by doctor's probes and by `create`; never on the launch path.
public struct HostCommand: Sendable {
    public struct Result: Sendable {
        /// Exit status, or 128+signal when killed.
        public var status: Int32
        /// stdout and stderr together, when captured.
        public var output: String
        public var succeeded: Bool { status == 0 }
    }

    public var argv: [String]
    public var environment: [String: String]?

    public init(_ argv: [String], environment: [String: String]? = nil) {
        self.argv = argv
        self.environment = environment
    }

    /// Spawns argv[0] (an absolute path, or searched in PATH) with stdin from /dev/null.
    /// `capture`: collect stdout+stderr; otherwise they go to ours.
    public func run(capture: Bool) throws(SandboxError) -> Result {
        guard capture else {
            let pid = try spawn(stdin: nil, stdout: nil)
            return Result(status: try Self.wait(pid), output: "")
        }
        let (readEnd, writeEnd) = try Self.makePipe()
        let pid: pid_t
        do {
            pid = try spawn(stdin: nil, stdout: writeEnd, stderrToStdout: true)
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(writeEnd)
        var output: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += buf[0..<n]
        }
        close(readEnd)
        return Result(status: try Self.wait(pid), output: String(decoding: output, as: UTF8.self))
    }

    /// `producer | consumer`: the producer's stdout feeds the consumer's stdin; both
    /// stderrs are ours. Returns both exit statuses (producer, consumer).
    public static func pipeline(_ producer: HostCommand, _ consumer: HostCommand) throws(SandboxError) -> (Int32, Int32) {
        let (readEnd, writeEnd) = try makePipe()
        let first: pid_t
        do {
            first = try producer.spawn(stdin: nil, stdout: writeEnd)
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(writeEnd)
        let second: pid_t
        do {
            second = try consumer.spawn(stdin: readEnd, stdout: nil)
        } catch {
            close(readEnd)
            // Nobody reads any more: the producer gets EPIPE and exits.
            _ = try? wait(first)
            throw error
        }
        close(readEnd)
        let a = try wait(first)
        let b = try wait(second)
        return (a, b)
    }

    /// Starts the program; `stdin`/`stdout` nil mean /dev/null and our own stdout.
    func spawn(stdin: Int32?, stdout: Int32?, stderrToStdout: Bool = false) throws(SandboxError) -> pid_t {
        guard let program = argv.first else { throw SandboxError("no program to run") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        if stderrToStdout { posix_spawn_file_actions_adddup2(&actions, 1, 2) }
        let cArgv = argv.map { strdup($0) } + [nil]
        let env = environment.map { $0.map { "\($0.key)=\($0.value)" }.sorted() }
        let cEnv = env.map { $0.map { strdup($0) } + [nil] }
        defer {
            cArgv.forEach { free($0) }
            cEnv?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc: Int32 = cEnv.map { e in
            e.withUnsafeBufferPointer { envp in
                posix_spawnp(&pid, program, &actions, nil, cArgv, UnsafeMutablePointer(mutating: envp.baseAddress))
            }
        } ?? posix_spawnp(&pid, program, &actions, nil, cArgv, environ)
        guard rc == 0 else { throw SandboxError("cannot run \(program): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Exit status, or 128+signal.
    static func wait(_ pid: pid_t) throws(SandboxError) -> Int32 {
        var wstatus: Int32 = 0
        while waitpid(pid, &wstatus, 0) < 0 {
            if errno != EINTR { throw SandboxError("waitpid: \(String(cString: strerror(errno)))") }
        }
        let termSig = wstatus & 0x7f
        return termSig == 0 ? (wstatus >> 8) & 0xff : 128 + termSig
    }

    /// pipe2 is hidden behind _GNU_SOURCE in Swift's Glibc; doctor and create spawn
    /// from one thread, so setting FD_CLOEXEC right after is enough.
    static func makePipe() throws(SandboxError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SandboxError("pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    /// The first directory of PATH (or the usual system ones) holding an executable `name`.
    public static func find(_ name: String, path: String? = Environment.current["PATH"]) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let dirs = (path ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        for d in dirs where d.hasPrefix("/") {
            let p = d + "/" + name
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }
}

/// Small file reads for probes; nil when the file cannot be read.
enum HostFile {
    static func read(_ path: String, limit: Int = 1 << 20) -> String? {
        readBytes(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    static func readBytes(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 8192)
        while data.count < limit {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            data += buf[0..<n]
        }
        return data
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }
}
