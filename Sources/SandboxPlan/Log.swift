import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// swift-log set-up shared by every command: level and destination as LXC's -l / -o.
public enum LogSetup {
    /// Bootstraps logging once; `file` appends to a path, nil writes to stderr.
    public static func bootstrap(level: Logger.Level, file: String?) throws {
        var fd: Int32 = 2
        if let file {
            fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 {
                throw SandboxError.system("cannot open log file \(file)", errno: errno,
                                   hint: "check the directory exists and is writable")
            }
        }
        let sink = fd
        configured.withLock { $0 = (level, file) }
        LoggingSystem.bootstrap { label in
            var h = FDLogHandler(label: label, fd: sink)
            h.logLevel = level
            return h
        }
    }
}

extension LogSetup {
    private static let configured = Mutex<(level: Logger.Level, file: String?)?>(nil)

    /// The level and file bootstrapped (notice and stderr before bootstrap).
    public static var current: (level: Logger.Level, file: String?) {
        guard let (level, file) = configured.withLock({ $0 }) else { return (.notice, nil) }
        return (level, file.map(absolute))
    }

    /// The -o file opened again for a program this process becomes (close-on-exec:
    /// `becomeProgram` or dup2 hands it over), when info lines go there; else -1.
    public static func openInfoFile() -> Int32 {
        let (level, file) = current
        guard let file, level <= .info else { return -1 }
        return open(file, O_WRONLY | O_APPEND | O_CLOEXEC)
    }

    /// The supervisor runs from another directory; an absolute path keeps it writing to the same file.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return path }
        let cwd = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return cwd == "/" ? "/" + path : cwd + "/" + path
    }
}

/// Milliseconds on the monotonic clock, for "took N ms" log lines.
public struct Stopwatch: Sendable {
    let startNanoseconds: Int64

    public init() { startNanoseconds = monotonicNanoseconds() }

    /// A stopwatch started at `startMicroseconds` of CLOCK_MONOTONIC (one that
    /// another program image of this process started: the supervisor's teardown).
    public init(startMicroseconds us: UInt64) { startNanoseconds = Int64(us) * 1000 }

    /// CLOCK_MONOTONIC at the start, in microseconds.
    public var startMicroseconds: UInt64 { UInt64(startNanoseconds / 1000) }

    public var milliseconds: Double { Double(monotonicNanoseconds() - startNanoseconds) / 1_000_000 }

    /// "12.3 ms"
    public var elapsed: String {
        let tenths = Int((milliseconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) ms"
    }
}

/// Writes "TIME sandbox[PID] LEVEL label: message" lines to a file descriptor with one write(2) each.
public struct FDLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .notice
    let label: String
    let fd: Int32

    public init(label: String, fd: Int32) {
        self.label = label
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "\(Self.timestamp()) sandbox[\(getpid())] \(event.level) \(label): \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        }
        line += "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// UTC wall clock with microseconds ("2026-12-01 19:05:01.123456"), to line up the
    /// launcher's and the supervisor's lines in one file.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(tm.tm_year + 1900)-\(pad(Int(tm.tm_mon) + 1, 2))-\(pad(Int(tm.tm_mday), 2)) "
            + "\(pad(Int(tm.tm_hour), 2)):\(pad(Int(tm.tm_min), 2)):\(pad(Int(tm.tm_sec), 2)).\(pad(ts.tv_nsec / 1000, 6))"
    }
}

extension LogSetup {
    /// `sandbox -l debug -o FILE run NAME` (LXC puts -l/-o anywhere) as the
    /// subcommands parse it: the leading log options move after the command
    /// words, before any `--` (what follows it belongs to the app).
    public static func hoistingLogOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if ["-l", "--log-level", "-o", "--log-file"].contains(a), i + 1 < arguments.count {
                leading += [a, arguments[i + 1]]
                i += 2
            } else if a.hasPrefix("--log-level=") || a.hasPrefix("--log-file=") {
                leading.append(a)
                i += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        var rest = Array(arguments[i...])
        let at = rest.firstIndex(of: "--") ?? rest.endIndex
        rest.insert(contentsOf: leading, at: at)
        return rest
    }
}
