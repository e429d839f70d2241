// A file descriptor whose owner is visible in the type: whoever holds the
// OwnedFD closes it, by deinit if not before.
import CSandboxSystem
#if canImport(Glibc)
import Glibc
#endif

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

/// A pipe, both ends close-on-exec.
package func makePipe() throws(SandboxError) -> (read: OwnedFD, write: OwnedFD) {
    var fds: [Int32] = [-1, -1]
    try retrying("pipe2") { sbx_system_pipe_cloexec(&fds) }
    return (OwnedFD(fds[0]), OwnedFD(fds[1]))
}

