// Whole reads and writes, waits and /proc facts the supervisor and launcher
// share (OwnedFD, makePipe and the EINTR retry are SandboxSystem's).
import CSandboxSystem
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

package func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SandboxError) {
    do { try HostFile.writeAll(fd, bytes) } catch { throw SandboxError.system("write", errno: error.rawValue) }
}

/// An anonymous file (memfd_create, close-on-exec) holding `bytes`, read from its
/// start: data one program hands to the next across execve, of any size (a pipe
/// would block once its 64 KiB buffer is full, with no reader yet).
package func makeMemoryFile(_ name: String, holding bytes: [UInt8]) throws(SandboxError) -> OwnedFD {
    let fd = OwnedFD(try retrying("memfd_create") { sbx_system_memfd_cloexec(name) })
    try writeAll(fd.raw, bytes)
    try retrying("lseek") { lseek(fd.raw, 0, SEEK_SET) }
    return fd
}

/// Reads until EOF (or `limit` bytes).
package func readAll(_ fd: Int32, limit: Int = 1 << 20) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = chunk.withUnsafeMutableBytes { buf in retryingEINTR { read(fd, buf.baseAddress, buf.count) } }
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
    return retryingEINTR { poll(&p, 1, timeoutMs) } > 0
}
