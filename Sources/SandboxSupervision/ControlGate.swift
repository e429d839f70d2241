// The control socket's gatekeeper. The container's init serves sessions, but it
// runs inside the container's pid namespace, where every peer outside it — the
// user's launcher and a process of another container alike — shows as pid 0:
// it cannot tell them apart (issue 9 #4: container A, given B's control socket
// through a careless bind, made B run A's command with a uid A chose). So the
// supervisor, in the user's own pid namespace, holds the listening socket: it
// accepts, checks the peer (the same user, a process of this pid namespace, not
// of any container), and only then hands the connection to the init over a
// private socketpair. Whatever reaches the socket from inside a container is
// closed unread. The rule itself is C (`sbx_gate_admit`, gate.c): the monitor
// the supervisor becomes when it has no mediator to drive applies it too.
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
    let uid = getuid()

    /// Creates the listening socket at `path` and the handoff pair; `initEnd` goes to the spawn.
    public init(path: String) throws {
        listening = try UnixSocket.listen(path: path, type: .seqpacket)
        _ = fcntl(listening.raw, F_SETFL, O_NONBLOCK)
        var pair: [Int32] = [-1, -1]
        guard sbx_socketpair_seqpacket_cloexec(&pair) == 0 else { throw SandboxError.system("socketpair", errno: errno) }
        handoff = OwnedFD(pair[0])
        initEnd = OwnedFD(pair[1])
    }

    /// The init's end of the handoff pair (closed here once the init holds it).
    public let initEnd: OwnedFD

    /// The listening socket and our end of the handoff pair, for the monitor
    /// that takes over the gate (`Supervisor.handOver`).
    var descriptors: (listening: Int32, handoff: Int32) { (listening.raw, handoff.raw) }

    public func interest(_ watch: (Int32, Int16) -> Void) { watch(listening.raw, Int16(POLLIN)) }

    public func ready(fd: Int32, revents: Int16) {
        var why = [CChar](repeating: 0, count: 256)
        while true {
            let verdict = Int(sbx_gate_admit(listening.raw, handoff.raw, uid, &why, why.count))
            let reason = why.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            switch verdict {
            case SBX_GATE_EMPTY: return
            case SBX_GATE_REFUSED: log.info("control: refused a connection: \(reason)")
            case SBX_GATE_UNTAKEN: log.debug("control: \(reason)")
            default: continue
            }
        }
    }

    public func shutdown() {
        listening.close()
        handoff.close()
    }
}
