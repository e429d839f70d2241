#if canImport(Glibc)
import Glibc
#endif

/// sockaddr_un for `path`, nil when it does not fit (107 bytes), is empty or
/// holds a NUL. A path starting with a NUL byte is an abstract name (a session
/// bus that dbus-launch started listens on one). The one place a unix socket
/// address is built (the mediators, the supervisor's control socket and the
/// launcher's bus client all use it).
package func withUnixSocketAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let abstract = bytes.first == 0
    guard bytes.count > (abstract ? 1 : 0), bytes.count < MemoryLayout.size(ofValue: addr.sun_path),
          !bytes.dropFirst().contains(0) else { return nil }
    withUnsafeMutableBytes(of: &addr.sun_path) { buf in
        for (i, b) in bytes.enumerated() { buf[i] = b }
    }
    // An abstract name is exactly its bytes long; a path ends at its NUL.
    let length = abstract ? MemoryLayout<sa_family_t>.size + bytes.count : MemoryLayout<sockaddr_un>.size
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
    }
}
