// The supervisor's event loop. A container's supervisor is one thread: it
// waits on the init's pidfd and drives every mediator that stands between the
// app and a host service (sound, X11, the session bus) from one poll(2) set.
// One thread keeps the process small, and no thread ever exists while the
// supervisor clones the container (the setxid and atfork traps of cloning a
// multithreaded process, Docs/architecture.md).
//
// A mediator says which descriptors it wants watched before every poll and is
// called back with each one that became ready. It must never block: sockets it
// owns are non-blocking, and it buffers what the other side cannot take yet.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

/// Something the supervisor's loop drives for the container's lifetime.
public protocol Mediator: AnyObject {
    /// A short name for the log ("sound", "x11").
    var name: String { get }
    /// Adds the descriptors to watch now, with the poll events wanted (POLLIN, POLLOUT).
    func interest(_ watch: (_ fd: Int32, _ events: Int16) -> Void)
    /// One of the watched descriptors is ready (`revents` as poll(2) returned them).
    func ready(fd: Int32, revents: Int16)
    /// The container stopped: close every descriptor, undo host-side state.
    func shutdown()
}

public final class PollLoop {
    public private(set) var mediators: [Mediator] = []

    public init() {}

    public func add(_ mediator: Mediator) { mediators.append(mediator) }

    /// Why `run` returned.
    public enum Ending: Equatable { case stopped, deadline }

    /// Runs until `stopFD` becomes readable (the init's pidfd: the container is
    /// gone), then shuts every mediator down. With `afterMilliseconds`, returns
    /// `.deadline` once that much time has passed without the stop, every
    /// mediator still running (the supervisor's hand-over to the monitor).
    @discardableResult
    public func run(until stopFD: Int32, afterMilliseconds limit: Int? = nil) -> Ending {
        var fds: [pollfd] = []
        var owners: [Int] = []
        let deadline = limit.map { Self.now() + $0 }
        while true {
            fds.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0))
            owners.append(-1)
            for (i, m) in mediators.enumerated() {
                m.interest { fd, events in
                    fds.append(pollfd(fd: fd, events: events, revents: 0))
                    owners.append(i)
                }
            }
            var timeout: Int32 = -1
            if let deadline {
                let left = deadline - Self.now()
                if left <= 0 { return .deadline }
                timeout = Int32(clamping: left)
            }
            let n = fds.withUnsafeMutableBufferPointer { buf in retryingEINTR { poll(buf.baseAddress, nfds_t(buf.count), timeout) } }
            if n < 0 { break }   // EFAULT/EINVAL/ENOMEM: nothing sensible left to wait for
            if n == 0 { continue }   // the deadline (checked above)
            if fds[0].revents != 0 { break }
            for k in 1..<fds.count where fds[k].revents != 0 {
                mediators[owners[k]].ready(fd: fds[k].fd, revents: fds[k].revents)
            }
        }
        for m in mediators { m.shutdown() }
        return .stopped
    }

    /// CLOCK_MONOTONIC in milliseconds.
    static func now() -> Int { Int(monotonicNanoseconds() / 1_000_000) }
}
