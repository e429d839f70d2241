import Logging
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
                throw SandboxError("cannot open log file \(file): \(String(cString: strerror(errno)))",
                                   hint: "check the directory exists and is writable")
            }
        }
        let sink = fd
        LoggingSystem.bootstrap { label in
            var h = FDLogHandler(label: label, fd: sink)
            h.logLevel = level
            return h
        }
    }
}

/// Writes "sandbox[PID] LEVEL label: message" lines to a file descriptor with one write(2) each.
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
        var line = "sandbox[\(getpid())] \(event.level) \(label): \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        }
        line += "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
