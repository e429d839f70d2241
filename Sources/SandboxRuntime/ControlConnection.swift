// The launcher's end of a container init's control socket (control.sock,
// seqpacket: one message per packet, fds alongside). While a connection is
// open it counts as a client; when it closes (exit or SIGKILL) its session
// gets SIGHUP and the container may stop.
import CSandboxSpawn
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// How the container answered.
public enum ControlReply: Sendable, Equatable {
    case started(pid: Int32)
    case exited(status: Int32)
    case failed(ChildFailure)
    case state(sessions: Int32, clients: Int32, stopping: Bool)
    case closed
}

/// One connection to a container's init.
public final class ControlConnection: @unchecked Sendable {
    public let socket: OwnedFD

    public init(socket: OwnedFD) { self.socket = socket }

    /// Connects to control.sock; nil when nobody listens (a stale or stopping container).
    public static func connect(path: String) -> ControlConnection? {
        UnixSocket.connect(path: path, type: .seqpacket).map(ControlConnection.init(socket:))
    }

    public func send(_ bytes: [UInt8], fds: [Int32] = []) throws {
        let failure = trySend(bytes, fds: fds)
        if failure != 0 { throw SandboxError.system("cannot talk to the container's init", errno: failure) }
    }

    /// 0 when the message went out whole, else the errno.
    public func trySend(_ bytes: [UInt8], fds: [Int32] = []) -> Int32 {
        let n = bytes.withUnsafeBytes { buf in
            fds.withUnsafeBufferPointer { sbx_ctl_send(socket.raw, buf.baseAddress, buf.count, $0.baseAddress, Int32($0.count)) }
        }
        if n == bytes.count { return 0 }
        return n < 0 ? errno : EMSGSIZE
    }

    public func sendSimple(_ type: sbx_ctl_type, a: Int32 = 0) throws {
        var m = sbx_ctl_message()
        m.type = UInt32(type.rawValue)
        m.a = a
        try send(withUnsafeBytes(of: m) { Array($0) })
    }

    /// Reads one reply (blocking).
    public func receive() -> ControlReply {
        var m = sbx_ctl_message()
        let n = withUnsafeMutableBytes(of: &m) { buf in retryingEINTR { recv(socket.raw, buf.baseAddress, buf.count, 0) } }
        guard n == MemoryLayout<sbx_ctl_message>.size else { return .closed }
        switch sbx_ctl_type(rawValue: m.type) {
        case SBX_CTL_STARTED: return .started(pid: m.a)
        case SBX_CTL_EXITED: return .exited(status: m.a)
        case SBX_CTL_FAILED: return .failed(ChildFailure(stage: m.a, errno: m.b, index: m.c))
        case SBX_CTL_STATE: return .state(sessions: m.a, clients: m.b, stopping: m.c != 0)
        default: return .closed
        }
    }

    /// Asks for the session and client counts (a short-lived connection).
    public static func queryStatus(path: String) -> (sessions: Int32, stopping: Bool)? {
        guard let c = connect(path: path) else { return nil }
        guard (try? c.sendSimple(SBX_CTL_STATUS)) != nil, waitReadable(c.socket.raw, timeoutMs: 2000) else { return nil }
        if case let .state(sessions, _, stopping) = c.receive() { return (sessions, stopping) }
        return nil
    }
}
