// The control socket's gatekeeper. The container's init serves sessions, but it
// runs inside the container's pid namespace, where every peer outside it — the
// user's launcher and a process of another container alike — shows as pid 0:
// it cannot tell them apart (issue 9 #4: container A, given B's control socket
// through a careless bind, made B run A's command with a uid A chose). So the
// supervisor, in the user's own pid namespace, holds the listening socket: it
// accepts, checks the peer (the same user, a process of this pid namespace, not
// of any container), and only then hands the connection to the init over a
// private socketpair. Whatever reaches the socket from inside a container is
// closed unread.
import CSandboxSpawn
import Logging
import SandboxMediators
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

public final class ControlGate: Mediator {
    public let name = "control"
    let listening: OwnedFD
    /// Our end of the socketpair whose other end the init reads (`listen_fd`).
    let handoff: OwnedFD
    let ownPidNamespace: String?
    let uid = getuid()

    /// Creates the listening socket at `path` and the handoff pair; `initEnd` goes to the spawn.
    public init(path: String) throws {
        listening = try UnixSocket.listen(path: path, type: .seqpacket)
        _ = fcntl(listening.raw, F_SETFL, O_NONBLOCK)
        var pair: [Int32] = [-1, -1]
        guard sbx_socketpair_seqpacket_cloexec(&pair) == 0 else { throw SandboxError("socketpair: \(errnoText(errno))") }
        handoff = OwnedFD(pair[0])
        initEnd = OwnedFD(pair[1])
        ownPidNamespace = Self.pidNamespace(of: getpid())
    }

    /// The init's end of the handoff pair (closed here once the init holds it).
    public let initEnd: OwnedFD

    public func interest(_ watch: (Int32, Int16) -> Void) { watch(listening.raw, Int16(POLLIN)) }

    public func ready(fd: Int32, revents: Int16) {
        while true {
            let c = sbx_accept_cloexec(listening.raw)
            if c < 0 { return }   // EAGAIN: all taken; anything else: try at the next wake-up
            let connection = OwnedFD(c)
            switch verdict(for: c) {
            case .admit:
                if !pass(c) { log.debug("control: the init did not take a connection: \(errnoText(errno))") }
            case .refuse(let why):
                log.info("control: refused a connection: \(why)")
            }
            connection.close()
        }
    }

    public func shutdown() {
        listening.close()
        handoff.close()
    }

    enum Verdict: Equatable { case admit, refuse(String) }

    /// The same user, in this pid namespace: a launcher on the host. A process inside
    /// any container has a pid namespace of its own (and a user namespace too).
    func verdict(for fd: Int32) -> Verdict {
        var pid: pid_t = 0
        var peerUID: uid_t = 0
        guard sbx_peer_credentials(fd, &pid, &peerUID) == 0 else { return .refuse("no peer credentials: \(errnoText(errno))") }
        guard peerUID == uid else { return .refuse("peer uid \(peerUID) is not \(uid)") }
        guard pid > 0, let ns = Self.pidNamespace(of: pid), ns == ownPidNamespace else {
            return .refuse("peer pid \(pid) is not a process of the user's own pid namespace (a container's?)")
        }
        return .admit
    }

    static func pidNamespace(of pid: pid_t) -> String? {
        var buf = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/\(pid)/ns/pid", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends `fd` to the init as SCM_RIGHTS (one byte of payload).
    func pass(_ fd: Int32) -> Bool {
        let byte: [UInt8] = [1]
        return byte.withUnsafeBytes { buf in
            withUnsafePointer(to: fd) { p in sbx_ctl_send(handoff.raw, buf.baseAddress, 1, p, 1) == 1 }
        }
    }
}
