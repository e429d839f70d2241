// Blocking unix sockets by path for the control socket (the address comes from
// SandboxSystem's withUnixSocketAddress, the one place it is built).
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

    /// A listening socket at `path` (an old one is replaced), mode 0600 by umask.
    public static func listen(path: String, type kind: Kind, backlog: Int32 = 16) throws -> OwnedFD {
        let fd = socket(AF_UNIX, kind.type, 0)
        guard fd >= 0 else { throw SandboxError.system("socket", errno: errno) }
        let owned = OwnedFD(fd)
        unlink(path)
        let old = umask(0o077)
        let bound = withUnixSocketAddress(path) { bind(fd, $0, $1) }
        umask(old)
        guard let rc = bound else {
            throw SandboxError("the socket path \(path) is longer than a unix socket allows (107 bytes)",
                               hint: "use a shorter XDG_RUNTIME_DIR or profile name")
        }
        guard rc == 0 else { throw SandboxError.system("cannot bind \(path)", errno: errno) }
        guard Glibc.listen(fd, backlog) == 0 else { throw SandboxError.system("listen on \(path)", errno: errno) }
        return owned
    }

    /// A connection to `path`, or nil when nobody listens there.
    public static func connect(path: String, type kind: Kind) -> OwnedFD? {
        let fd = socket(AF_UNIX, kind.type, 0)
        guard fd >= 0 else { return nil }
        let owned = OwnedFD(fd)
        let rc = withUnixSocketAddress(path) { Glibc.connect(fd, $0, $1) }
        return rc == 0 ? owned : nil
    }
}
