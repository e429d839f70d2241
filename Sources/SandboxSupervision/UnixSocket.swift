// Unix sockets by path: the control socket, and the mediators' listening sockets.
// The one place a sockaddr_un is built.
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

public enum UnixSocket {
    public enum Kind: Sendable {
        case stream, seqpacket
        var type: Int32 {
            switch self {
            case .stream: return Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            case .seqpacket: return Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            }
        }
    }

    /// The address of `path`, or nil when it does not fit sun_path (107 bytes).
    public static func address(_ path: String) -> sockaddr_un? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: addr.sun_path), !bytes.contains(0) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in bytes.enumerated() { buf[i] = b }
        }
        return addr
    }

    /// A listening socket at `path` (an old one is replaced), mode 0600 by umask.
    public static func listen(path: String, type kind: Kind, backlog: Int32 = 16) throws -> OwnedFD {
        guard var addr = address(path) else {
            throw SandboxError("the socket path \(path) is longer than a unix socket allows (107 bytes)",
                               hint: "use a shorter XDG_RUNTIME_DIR or profile name")
        }
        let fd = socket(AF_UNIX, kind.type, 0)
        guard fd >= 0 else { throw SandboxError("socket: \(errnoText(errno))") }
        let owned = OwnedFD(fd)
        unlink(path)
        let old = umask(0o077)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(old)
        guard rc == 0 else { throw SandboxError("cannot bind \(path): \(errnoText(errno))") }
        guard Glibc.listen(fd, backlog) == 0 else { throw SandboxError("listen on \(path): \(errnoText(errno))") }
        return owned
    }

    /// A connection to `path`, or nil when nobody listens there.
    public static func connect(path: String, type kind: Kind) -> OwnedFD? {
        guard var addr = address(path) else { return nil }
        let fd = socket(AF_UNIX, kind.type, 0)
        guard fd >= 0 else { return nil }
        let owned = OwnedFD(fd)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return rc == 0 ? owned : nil
    }
}
