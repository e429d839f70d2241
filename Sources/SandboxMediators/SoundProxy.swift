// The sound mediator: a PulseAudio native-protocol proxy between the apps of
// one container and the user's sound server. The container sees only the
// proxy's socket; every app connection gets its own upstream connection, and
// every control packet the app sends passes SoundPolicy first. Refused
// commands are answered here with an "Access denied" ERROR carrying the
// request's tag, so libpulse reports the failure and the stream stays in step.
//
// Non-blocking throughout (the supervisor's one thread drives it from
// PollLoop): each direction has an output queue, and a side is not read while
// the queue it feeds is above `highWater`, so a peer that stops reading slows
// the other down instead of growing our memory.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

public final class SoundProxy: Mediator {
    public let name = "sound"
    public let listener: Int32
    /// The host server's socket path.
    public let upstream: String
    public let microphone: Bool
    /// Where `listener` is bound (removed at shutdown), when the proxy made it.
    public let socketPath: String?
    /// Called with one line per event worth a debug log (connections, refusals).
    public var note: (String) -> Void = { _ in }
    /// Most app connections at once; more are closed as they arrive.
    public var maxConnections = 64
    /// Bytes queued towards one side above which the side feeding it is not read.
    public var highWater = 256 * 1024

    private var connections: [Connection] = []
    /// One receive buffer for every read (allocated once, never held past a read).
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// A listening unix stream socket at `path` (an old socket there is replaced),
    /// non-blocking and close-on-exec, mode 0600.
    public static func listen(at path: String) throws(SandboxError) -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SandboxError.system("socket", errno: errno) }
        configure(fd)
        guard let rc = withUnixSocketAddress(path, { bind(fd, $0, $1) }) else {
            close(fd)
            throw SandboxError("the sound socket path \(path) is longer than a unix socket allows (107 bytes)")
        }
        guard rc == 0 else { let e = errno; close(fd); throw SandboxError.system("cannot bind \(path)", errno: e) }
        chmod(path, 0o600)
        guard Glibc.listen(fd, 64) == 0 else { let e = errno; close(fd); throw SandboxError.system("listen on \(path)", errno: e) }
        return fd
    }

    /// The proxy on an already listening socket (from `listen(at:)`).
    /// `upstream`: the host server, "unix:/run/user/1000/pulse/native" or a path.
    public init(listener: Int32, upstream: String, microphone: Bool, socketPath: String? = nil) {
        self.listener = listener
        self.upstream = upstream.hasPrefix("unix:") ? String(upstream.dropFirst(5)) : upstream
        self.microphone = microphone
        self.socketPath = socketPath
    }

    /// Creates the container's socket at `path` and the proxy serving it.
    public convenience init(listeningAt path: String, upstream: String, microphone: Bool) throws(SandboxError) {
        self.init(listener: try Self.listen(at: path), upstream: upstream, microphone: microphone, socketPath: path)
    }

    public var connectionCount: Int { connections.count }

    // MARK: Mediator

    public func interest(_ watch: (Int32, Int16) -> Void) {
        watch(listener, Int16(POLLIN))
        for c in connections {
            var ce: Int16 = 0, se: Int16 = 0
            if c.mayReadClient(highWater) { ce |= Int16(POLLIN) }
            if !c.toClient.isEmpty { ce |= Int16(POLLOUT) }
            if c.mayReadServer(highWater) { se |= Int16(POLLIN) }
            if !c.toServer.isEmpty { se |= Int16(POLLOUT) }
            watch(c.client, ce)
            watch(c.server, se)
        }
    }

    public func ready(fd: Int32, revents: Int16) {
        if fd == listener {
            acceptClient()
            return
        }
        guard let c = connections.first(where: { $0.client == fd || $0.server == fd }) else { return }
        if fd == c.client {
            clientReady(c, revents)
        } else {
            serverReady(c, revents)
        }
        if c.closed { connections.removeAll { $0 === c } }
    }

    public func shutdown() {
        for c in connections { c.close() }
        connections.removeAll()
        close(listener)
        if let socketPath { unlink(socketPath) }
    }

    // MARK: Connections

    private func acceptClient() {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return }   // EAGAIN, ECONNABORTED, EMFILE: nothing to do now
        Self.configure(fd)
        guard connections.count < maxConnections else {
            note("sound: refusing connection: \(maxConnections) already open")
            close(fd)
            return
        }
        let up = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard up >= 0 else { close(fd); return }
        Self.configure(up)
        let rc = withUnixSocketAddress(upstream) { connect(up, $0, $1) } ?? -1
        // A unix connect completes at once or fails (EAGAIN: the server's backlog is full).
        guard rc == 0 else {
            note("sound: cannot connect to \(upstream): \(errnoText(errno))")
            close(up); close(fd)
            return
        }
        connections.append(Connection(client: fd, server: up, microphone: microphone))
        note("sound: app connection \(fd) relayed to \(upstream)")
    }

    private func clientReady(_ c: Connection, _ revents: Int16) {
        if revents & Int16(POLLOUT) != 0 { c.flush(toClient: true) }
        if c.closed { return }
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            guard c.mayReadClient(highWater) else {
                if revents & Int16(POLLHUP | POLLERR) != 0 { c.close() }
                return
            }
            readClient(c)
        }
    }

    private func serverReady(_ c: Connection, _ revents: Int16) {
        if revents & Int16(POLLOUT) != 0 { c.flush(toClient: false) }
        if c.closed { return }
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            guard c.mayReadServer(highWater) else {
                if revents & Int16(POLLHUP | POLLERR) != 0 { c.close() }
                return
            }
            readServer(c)
        }
    }

    private func readClient(_ c: Connection) {
        switch Self.receiveRefusingDescriptors(c.client, into: &readBuffer) {
        case .bytes(let n):
            c.fromClient.append(readBuffer[0..<n])
        case .wouldBlock:
            return
        case .closed:
            c.close()
            return
        case .descriptors:
            note("sound: app connection \(c.client) sent file descriptors; closed")
            c.close()
            return
        }
        while true {
            let packet: PulsePacket?
            do { packet = try c.fromClient.next() } catch {
                note("sound: app connection \(c.client): \(error); closed")
                c.close()
                return
            }
            guard let packet else { break }
            switch c.policy.fromClient(packet) {
            case .forward(let p): c.toServer.append(p.bytes)
            case .refuse(let tag, let error):
                if let h = PulseWire.header(packet.payload) {
                    note("sound: refused command \(PulseCommand(rawValue: h.command).map { "\($0)" } ?? "\(h.command)") (tag \(tag))")
                }
                c.toClient.append(PulseWire.errorReply(tag: tag, error: error).bytes)
            case .drop: break
            case .disconnect(let why):
                note("sound: app connection \(c.client) sent \(why); closed")
                c.close()
                return
            }
        }
        c.flush(toClient: false)
        if !c.closed { c.flush(toClient: true) }
    }

    private func readServer(_ c: Connection) {
        let n = readBuffer.withUnsafeMutableBytes { buf in retryingEINTR { recv(c.server, buf.baseAddress, buf.count, Int32(MSG_DONTWAIT)) } }
        if n < 0 {
            if errno == EAGAIN { return }
            c.close()
            return
        }
        if n == 0 { c.close(); return }
        c.fromServer.append(readBuffer[0..<n])
        while true {
            let packet: PulsePacket?
            do { packet = try c.fromServer.next() } catch {
                note("sound: the server sent \(error); closed")
                c.close()
                return
            }
            guard let packet else { break }
            c.toClient.append(c.policy.fromServer(packet).bytes)
        }
        c.flush(toClient: true)
    }

    // MARK: Sockets

    enum Received { case bytes(Int), wouldBlock, closed, descriptors }

    /// recvmsg with room for ancillary data: any (SCM_RIGHTS from a hostile app)
    /// is closed and reported, and the bytes that came with it are discarded.
    static func receiveRefusingDescriptors(_ fd: Int32, into buf: inout [UInt8]) -> Received {
        // Room for a few cmsghdrs; 8-byte aligned as cmsghdr requires.
        var control = [UInt64](repeating: 0, count: 64)
        let (n, flags, controlLength): (Int, Int32, Int) = buf.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_iov = iovp
                    msg.msg_iovlen = 1
                    msg.msg_control = ctl.baseAddress
                    msg.msg_controllen = ctl.count
                    let n = retryingEINTR { recvmsg(fd, &msg, Int32(MSG_DONTWAIT) | msgCmsgCloexec) }
                    return (n, msg.msg_flags, Int(msg.msg_controllen))
                }
            }
        }
        if n < 0 { return errno == EAGAIN ? .wouldBlock : .closed }
        if controlLength > 0 || flags & Int32(MSG_CTRUNC) != 0 {
            closeDescriptors(control, length: controlLength)
            return .descriptors
        }
        if n == 0 { return .closed }
        return .bytes(n)
    }

    /// Closes every descriptor of the SCM_RIGHTS messages in a control buffer.
    static func closeDescriptors(_ control: [UInt64], length: Int) {
        control.withUnsafeBytes { raw in
            let length = min(length, raw.count)
            let header = 16   // cmsghdr on LP64: size_t len, int level, int type
            var at = 0
            while at + header <= length {
                let len = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                let level = raw.loadUnaligned(fromByteOffset: at + 8, as: Int32.self)
                let type = raw.loadUnaligned(fromByteOffset: at + 12, as: Int32.self)
                guard len >= header, at + len <= length else { return }
                if level == SOL_SOCKET && type == Int32(SCM_RIGHTS) {
                    var p = at + header
                    while p + 4 <= at + len {
                        close(raw.loadUnaligned(fromByteOffset: p, as: Int32.self))
                        p += 4
                    }
                }
                at += (len + 7) & ~7
            }
        }
    }

    static func configure(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
}

/// MSG_CMSG_CLOEXEC (a GNU flag Swift's Glibc module does not show): a
/// descriptor that does arrive is close-on-exec before we close it.
let msgCmsgCloexec: Int32 = 0x4000_0000
/// SCM_CREDENTIALS, also GNU-only in Glibc's headers.
let scmCredentials: Int32 = 2

/// One app connection and its upstream connection.
final class Connection {
    let client: Int32
    let server: Int32
    var policy: SoundPolicy
    /// The app's packets are buffered whole before the policy reads them; libpulse
    /// sends audio in blocks of at most 64 KiB and commands far smaller, so 1 MiB
    /// bounds what one connection can make the supervisor hold.
    var fromClient = PulseFramer(maxPayload: 1 << 20)
    var fromServer = PulseFramer()
    var toClient = OutputQueue()
    var toServer = OutputQueue()
    private(set) var closed = false

    init(client: Int32, server: Int32, microphone: Bool) {
        self.client = client
        self.server = server
        self.policy = SoundPolicy(microphone: microphone)
    }

    /// The app is read only while both queues it can feed (requests upstream,
    /// refusals back to it) have room.
    func mayReadClient(_ highWater: Int) -> Bool { toServer.count < highWater && toClient.count < highWater }
    func mayReadServer(_ highWater: Int) -> Bool { toClient.count < highWater }

    /// The first bytes upstream (the AUTH) go with our credentials.
    private var credentialsSent = false

    func flush(toClient: Bool) {
        guard !closed else { return }
        let ok: Bool
        if toClient {
            ok = self.toClient.write(to: client)
        } else if !credentialsSent && !toServer.isEmpty {
            // PulseAudio authenticates a local client by the SCM_CREDENTIALS that
            // come with its AUTH (uid == the server's). The kernel adds them by
            // itself only once the server has set SO_PASSCRED on the accepted
            // socket, which races with a proxy that sends at once: send them
            // explicitly, as libpulse does.
            credentialsSent = true
            ok = toServer.writeWithCredentials(to: server)
        } else {
            ok = toServer.write(to: server)
        }
        if !ok { close() }
    }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(client)
        Glibc.close(server)
    }
}

/// Bytes waiting for a non-blocking socket to take them.
struct OutputQueue {
    private var bytes: [UInt8] = []
    private var start = 0

    var count: Int { bytes.count - start }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ more: [UInt8]) {
        if start > 0 && start >= bytes.count / 2 {
            bytes.removeFirst(start)
            start = 0
        }
        bytes += more
    }

    /// Like write(to:), with the first chunk carrying SCM_CREDENTIALS (our own
    /// pid, uid and gid, which needs no privilege).
    mutating func writeWithCredentials(to fd: Int32) -> Bool {
        while true {
            let from = start, length = count
            let n = bytes.withUnsafeBytes { raw in
                retryingEINTR {
                    MediatorSocket.sendWithCredentials(fd, UnsafeRawBufferPointer(rebasing: raw[from..<from + length]),
                                                       flags: Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
                }
            }
            if n < 0 {
                // EAGAIN: nothing went; the credentials are lost to a full socket
                // right after connect, which a fresh socket never is.
                return errno == EAGAIN
            }
            start += n
            return write(to: fd)
        }
    }

    /// Writes what the socket takes now. False when the peer is gone.
    mutating func write(to fd: Int32) -> Bool {
        while count > 0 {
            let from = start, length = count
            let n = bytes.withUnsafeBytes { raw in
                retryingEINTR { send(fd, raw.baseAddress! + from, length, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)) }
            }
            if n < 0 { return errno == EAGAIN }
            start += n
        }
        bytes.removeAll(keepingCapacity: true)
        start = 0
        return true
    }
}
