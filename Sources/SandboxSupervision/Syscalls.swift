// Thin, typed wrappers for the system calls the runtime makes: errors carry
// the call's name and errno, EINTR is retried in one place.
import CSandboxSpawn
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which one, on what, and errno.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32
    public init(_ call: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.errno = errno
    }
    public var description: String { "\(call): \(errnoText(errno))" }
}

@discardableResult
package func retrying<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let r = body()
        if r >= 0 { return r }
        if errno == EINTR { continue }
        throw SystemCallError(call)
    }
}

/// A file descriptor closed on deinit.
public final class OwnedFD: @unchecked Sendable {
    public private(set) var raw: Int32
    public init(_ raw: Int32) { self.raw = raw }
    public func close() {
        if raw >= 0 { _ = Glibc.close(raw) }
        raw = -1
    }
    /// Gives up ownership without closing.
    public func release() -> Int32 {
        defer { raw = -1 }
        return raw
    }
    deinit { close() }
}

package func makePipe() throws(SystemCallError) -> (read: OwnedFD, write: OwnedFD) {
    var fds: [Int32] = [-1, -1]
    try retrying("pipe2") { sbx_pipe_cloexec(&fds) }
    return (OwnedFD(fds[0]), OwnedFD(fds[1]))
}

package func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemCallError) {
    do { try HostFile.writeAll(fd, bytes) } catch { throw SystemCallError("write", errno: error.rawValue) }
}

/// Reads until EOF (or `limit` bytes).
package func readAll(_ fd: Int32, limit: Int = 1 << 20) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out += chunk.prefix(n)
    }
    return out
}

/// The process start time (field 22 of /proc/PID/stat), to tell a pid from a reused one.
public func processStartTime(_ pid: Int32) -> UInt64? {
    guard let stat = HostFile.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // fields[0] is the state (field 3), so field 22 is fields[19].
    guard fields.count > 19 else { return nil }
    return UInt64(fields[19])
}

/// Waits until fd is readable or `timeoutMs` passes; true when readable (or hung up).
package func waitReadable(_ fd: Int32, timeoutMs: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        let r = poll(&p, 1, timeoutMs)
        if r < 0 && errno == EINTR { continue }
        return r > 0
    }
}
