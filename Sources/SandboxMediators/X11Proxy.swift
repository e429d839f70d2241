// The X11 mediator (x11.mode = "untrusted"). The container's display socket
// /tmp/.X11-unix/XN is a socket this proxy listens on. For every connection
// the app makes, the proxy reads the client's set-up request, replaces its
// authorization with an untrusted MIT-MAGIC-COOKIE-1 minted through the X
// SECURITY extension — whatever the app sent: nothing, a stolen trusted
// cookie, garbage — connects to the real display and relays bytes both ways.
// So every connection is an untrusted SECURITY client, even when the server's
// host-based list (Debian's `xhost +si:localuser:$USER`) would have made a
// cookie-less connection of the same uid a trusted one.
//
// The cookie: minted over the proxy's own trusted connection (the user's
// cookie), with the revocation event selected; that connection stays open for
// the container's lifetime (a server never resets while it has a client, so a
// bare Xvfb no longer forgets the cookie after the app's last window closed)
// and revokes the cookie at shutdown. A second, "anchor" connection presents
// the cookie itself: while it is open the cookie is in use, so its timeout
// never runs; if the supervisor dies (even by SIGKILL) both connections close
// and the server drops the cookie `cookieTimeout` seconds later — no record on
// disk is needed to clean up after a crash.
//
// Fail closed: if the cookie can no longer be presented validly (the server
// died or restarted, someone revoked the cookie) a rewritten set-up would be
// refused — or, on a server with host-based access, accepted as TRUSTED. So as
// soon as either connection closes or the revocation event arrives, the proxy
// closes every relay and refuses new connections.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

public final class X11Proxy: Mediator, @unchecked Sendable {
    // @unchecked Sendable: made before the spawn and driven by the supervisor's
    // one loop thread afterwards; never used from two threads.

    /// What the proxy needs, as plain values (SandboxCore's X11Mediation).
    public struct Configuration: Sendable, Equatable {
        /// N of the display :N.
        public var display: UInt32
        /// The real server's socket on the host, /tmp/.X11-unix/XN.
        public var serverSocket: String
        /// Where the proxy listens on the host (bound at /tmp/.X11-unix/XN inside).
        public var proxySocket: String
        /// The user's Xauthority, for the proxy's own trusted connection.
        public var userXauthority: String
        /// Where the proxy writes the untrusted cookie (FamilyWild) for the app.
        public var containerXauthority: String

        public init(display: UInt32, serverSocket: String, proxySocket: String, userXauthority: String, containerXauthority: String) {
            self.display = display
            self.serverSocket = serverSocket
            self.proxySocket = proxySocket
            self.userXauthority = userXauthority
            self.containerXauthority = containerXauthority
        }
    }

    public let name = "x11"
    /// Where the proxy reports what it did (the supervisor's debug log).
    public var report: (String) -> Void = { _ in }

    public let configuration: Configuration
    /// The minted authorization's id and cookie.
    public let authorizationID: UInt32
    public let cookie: [UInt8]
    /// False once the cookie may no longer be valid: every relay is closed and new connections refused.
    public private(set) var cookieValid = true

    /// Seconds the server keeps the cookie after its last user disconnected.
    public static let cookieTimeout: UInt32 = 10
    /// Connections one container may hold open at once (an app needs a few).
    public static let maximumConnections = 128
    /// Bytes buffered per direction before the proxy stops reading the sender.
    static let queueLimit = 256 * 1024

    private let displayName: String
    private let security: X11ServerConnection
    /// The SECURITY extension's major opcode and its first event (AuthorizationRevoked).
    private let securityMajor: UInt8
    private let securityEvent: UInt8
    private let anchor: X11ServerConnection
    private var listenFD: Int32
    private var relays: [Int32: Relay] = [:]
    private var isShutDown = false
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    private let control = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)

    /// Mints the cookie, writes the container's Xauthority and listens: all
    /// before the container is spawned (its binds name the socket and the file).
    /// Blocking, with `timeout` seconds for the whole exchange with the server.
    public init(_ configuration: Configuration, timeout: Double = 5) throws(SandboxError) {
        self.configuration = configuration
        displayName = ":\(configuration.display)"
        let deadline = Deadline(seconds: timeout)
        let userCookie = XauthSelection.cookie(from: try Xauthority.read(configuration.userXauthority),
                                               display: configuration.display, hostname: Self.hostname())
        let trusted = try X11ServerConnection.open(socket: configuration.serverSocket, displayName: displayName,
                                                   cookie: userCookie, deadline: deadline)
        let order = trusted.order
        let query = try trusted.roundTrip(X11Request.queryExtension("SECURITY", order: order),
                                          what: "QueryExtension(SECURITY)", deadline: deadline)
        guard let info = X11ExtensionInfo(reply: query), info.present else {
            throw SandboxError("the X server on \(displayName) has no SECURITY extension, so it cannot issue an untrusted cookie",
                                hint: "use x11.mode = \"trusted\" (the app can then read other windows) or \"none\"")
        }
        let generated = try trusted.roundTrip(
            X11Request.securityGenerateAuthorization(major: info.majorOpcode, timeout: Self.cookieTimeout,
                                                     trustLevel: X11Request.trustLevelUntrusted,
                                                     eventMask: X11Request.authorizationRevokedMask, order: order),
            what: "an untrusted cookie (SecurityGenerateAuthorization)", deadline: deadline)
        guard let minted = X11GeneratedAuthorization(reply: generated, order: order), !minted.cookie.isEmpty else {
            throw SandboxError("the X server on \(displayName) answered SecurityGenerateAuthorization without a cookie")
        }
        func revokeOnFailure() {
            _ = try? trusted.sendRequest(X11Request.securityRevokeAuthorization(major: info.majorOpcode, id: minted.id, order: order),
                                         deadline: Deadline(seconds: 1))
            _ = try? trusted.roundTrip(X11Request.getInputFocus(order: order), what: "a sync", deadline: Deadline(seconds: 1))
        }
        let anchorConnection: X11ServerConnection
        let listening: Int32
        do {
            anchorConnection = try X11ServerConnection.open(socket: configuration.serverSocket, displayName: displayName,
                                                            cookie: minted.cookie, deadline: deadline)
        } catch {
            revokeOnFailure()
            throw error
        }
        do {
            try Xauthority.write([XauthEntry(family: XauthEntry.familyWild, address: [], number: String(configuration.display),
                                             name: "MIT-MAGIC-COOKIE-1", data: minted.cookie)],
                                 to: configuration.containerXauthority)
            // 0666 like the server's own socket: the app's uid inside need not be
            // the user's (explicit id maps); the host side sits in the user's 0700 state dir.
            listening = try MediatorSocket.listen(configuration.proxySocket, mode: 0o666)
        } catch {
            anchorConnection.close()
            revokeOnFailure()
            unlink(configuration.containerXauthority)
            throw error
        }
        security = trusted
        securityMajor = info.majorOpcode
        securityEvent = info.firstEvent
        authorizationID = minted.id
        cookie = minted.cookie
        anchor = anchorConnection
        listenFD = listening
    }

    deinit {
        shutdown()
        scratch.deallocate()
        control.deallocate()
    }

    static func hostname() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    // MARK: Mediator

    public func interest(_ watch: (Int32, Int16) -> Void) {
        guard !isShutDown else { return }
        if relays.count < Self.maximumConnections * 2 { watch(listenFD, Int16(POLLIN)) }
        watch(security.fd, Int16(POLLIN))
        watch(anchor.fd, Int16(POLLIN))
        for (fd, relay) in relays {
            let events = fd == relay.app ? relay.appEvents : relay.serverEvents
            if events != 0 { watch(fd, events) }
        }
    }

    public func ready(fd: Int32, revents: Int16) {
        guard !isShutDown else { return }
        if fd == listenFD { acceptAll(); return }
        if fd == security.fd || fd == anchor.fd { checkCookie(); return }
        guard let relay = relays[fd] else { return }   // closed earlier in this round
        let canWrite = revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0
        let canRead = revents & Int16(POLLIN | POLLERR | POLLHUP) != 0
        if fd == relay.app {
            if canWrite { flush(relay, toApp: true) }
            if canRead && relays[fd] != nil { readApp(relay) }
        } else {
            if canWrite { flush(relay, toApp: false) }
            if canRead && relays[fd] != nil { readServer(relay) }
        }
    }

    /// Revokes the cookie (the server also closes every client that used it),
    /// closes every connection and removes the socket and the Xauthority file.
    /// Safe to call twice.
    public func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        close(listenFD)
        unlink(configuration.proxySocket)
        for relay in Array(relays.values) where relays[relay.app] != nil { closeRelay(relay) }
        if cookieValid {
            report(revoke())
        }
        anchor.close()
        security.close()
        unlink(configuration.containerXauthority)
    }

    /// SecurityRevokeAuthorization, then a round trip to know it was processed.
    private func revoke() -> String {
        let order = security.order
        let deadline = Deadline(seconds: 2)
        do {
            try security.sendRequest(X11Request.securityRevokeAuthorization(major: securityMajor, id: authorizationID, order: order),
                                     deadline: deadline)
            let revokeSequence = security.sequence
            _ = try security.roundTrip(X11Request.getInputFocus(order: order), what: "a sync", deadline: deadline)
            if security.pending.contains(where: { if case .error(_, let s) = $0 { return s == revokeSequence } else { return false } }) {
                return "x11: cookie \(authorizationID) was already revoked"
            }
            return "x11: revoked untrusted cookie \(authorizationID)"
        } catch {
            return "x11: revoking cookie \(authorizationID): \(error.message)"
        }
    }

    // MARK: The cookie's connections

    /// Reads what the server sent on the proxy's own connections. Closed, or
    /// the revocation event: the cookie is gone, and with it every relay.
    private func checkCookie() {
        for (connection, label) in [(security, "trusted"), (anchor, "anchor")] {
            var reading = true
            while reading && cookieValid {
                switch connection.readAvailable() {
                case .data(let bytes):
                    connection.inbox += bytes
                case .wouldBlock:
                    reading = false
                case .closed, .failed:
                    invalidate("the X server closed the proxy's \(label) connection (server gone or restarted)")
                }
            }
            while let (message, length) = X11Message.parse(connection.inbox, order: connection.order) {
                connection.inbox.removeFirst(length)
                if connection === security, case .event(let code, let bytes) = message, code == securityEvent,
                   connection.order.u32(bytes, 4) == authorizationID {
                    invalidate("the untrusted cookie \(authorizationID) was revoked")
                }
            }
        }
    }

    private func invalidate(_ why: String) {
        guard cookieValid else { return }
        cookieValid = false
        report("x11: \(why); closing the app's X connections and refusing new ones")
        for relay in Array(relays.values) where relays[relay.app] != nil { closeRelay(relay) }
    }

    /// Whether a set-up may be forwarded now: first looks at what the cookie's
    /// connections received since the last poll (a server that died between
    /// two polls must not be replaced by one that takes our set-up as trusted).
    private func cookieStillValid() -> Bool {
        var fds = [pollfd(fd: security.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: anchor.fd, events: Int16(POLLIN), revents: 0)]
        if fds.withUnsafeMutableBufferPointer({ poll($0.baseAddress, 2, 0) }) != 0 { checkCookie() }
        return cookieValid
    }

    // MARK: Relays

    private final class Relay {
        let app: Int32
        var server: Int32 = -1
        /// The app's bytes before its set-up request is complete.
        var setup: [UInt8] = []
        var toServer = ByteQueue()
        var toApp = ByteQueue()
        var appClosed = false
        var serverClosed = false

        init(app: Int32) { self.app = app }

        var appEvents: Int16 {
            var e: Int32 = 0
            if !appClosed && (server < 0 ? setup.count <= X11SetupRequest.maximumLength : toServer.count < X11Proxy.queueLimit) { e |= POLLIN }
            if !toApp.isEmpty { e |= POLLOUT }
            return Int16(e)
        }
        var serverEvents: Int16 {
            var e: Int32 = 0
            if !serverClosed && toApp.count < X11Proxy.queueLimit { e |= POLLIN }
            if !toServer.isEmpty { e |= POLLOUT }
            return Int16(e)
        }
    }

    private func acceptAll() {
        while true {
            let fd = retryingEINTR { accept(listenFD, nil, nil) }
            if fd < 0 { return }   // EAGAIN: no more; EMFILE and the like: try again next round
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            guard cookieValid, relays.count < Self.maximumConnections * 2 else {
                close(fd)
                continue
            }
            relays[fd] = Relay(app: fd)
        }
    }

    private func closeRelay(_ relay: Relay) {
        relays[relay.app] = nil
        close(relay.app)
        if relay.server >= 0 {
            relays[relay.server] = nil
            close(relay.server)
        }
    }

    private func drop(_ relay: Relay, _ why: String) {
        report("x11: closing an app connection: \(why)")
        closeRelay(relay)
    }

    /// Reads from the app with recvmsg, so descriptors it tries to pass are
    /// seen (and closed, and the connection with them) instead of forwarded.
    private func readApp(_ relay: Relay) {
        guard relay.appEvents & Int16(POLLIN) != 0 else { return }
        var iov = iovec(iov_base: scratch.baseAddress, iov_len: scratch.count)
        var n = 0
        var controlLength = 0
        var truncated = false
        withUnsafeMutablePointer(to: &iov) { iovp in
            var msg = msghdr()
            msg.msg_iov = iovp
            msg.msg_iovlen = 1
            msg.msg_control = control.baseAddress
            msg.msg_controllen = control.count
            n = retryingEINTR { recvmsg(relay.app, &msg, Int32(MSG_DONTWAIT) | Self.cmsgCloexec) }
            controlLength = Int(msg.msg_controllen)
            truncated = msg.msg_flags & Int32(MSG_CTRUNC) != 0
        }
        if n >= 0 && (controlLength > 0 || truncated) {
            closePassedDescriptors(controlLength)
            drop(relay, "it tried to pass file descriptors (refused)")
            return
        }
        if n < 0 {
            if errno == EAGAIN { return }
            drop(relay, "read: \(errnoText(errno))")
            return
        }
        if n == 0 {
            relay.appClosed = true
            if relay.server < 0 || relay.toServer.isEmpty { closeRelay(relay) }
            return
        }
        let data = UnsafeRawBufferPointer(rebasing: scratch[0..<n])
        if relay.server >= 0 {
            relay.toServer.append(data)
        } else {
            relay.setup += data
            switch X11SetupRequest.parse(relay.setup) {
            case .incomplete:
                return
            case .invalid(let why):
                drop(relay, "bad set-up request: \(why)")
                return
            case .complete(let request, let length):
                guard cookieStillValid() else {
                    closeRelay(relay)
                    return
                }
                switch MediatorSocket.connect(configuration.serverSocket) {
                case .failure(let e):
                    drop(relay, "cannot connect to \(configuration.serverSocket): \(e.text)")
                    return
                case .success(let fd):
                    relay.server = fd
                    relays[fd] = relay
                }
                relay.toServer.append(request.presenting(cookie: cookie).encoded)
                relay.toServer.append(relay.setup[length...])
                relay.setup = []
            }
        }
        flush(relay, toApp: false)
    }

    private func readServer(_ relay: Relay) {
        guard relay.serverEvents & Int16(POLLIN) != 0 else { return }
        let n = retryingEINTR { recv(relay.server, scratch.baseAddress, scratch.count, Int32(MSG_DONTWAIT)) }
        if n < 0 {
            if errno == EAGAIN { return }
            drop(relay, "read from the server: \(errnoText(errno))")
            return
        }
        if n == 0 {
            // The server closed (after an error it sent, or at reset): what the
            // app still has queued for it has nowhere to go.
            relay.serverClosed = true
            relay.toServer = ByteQueue()
            if relay.toApp.isEmpty { closeRelay(relay) }
            return
        }
        relay.toApp.append(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        flush(relay, toApp: true)
    }

    /// Writes what the socket takes now; the rest waits for POLLOUT.
    private func flush(_ relay: Relay, toApp: Bool) {
        let fd = toApp ? relay.app : relay.server
        guard fd >= 0 else { return }
        let failure = toApp ? relay.toApp.send(to: fd) : relay.toServer.send(to: fd)
        if let failure {
            drop(relay, "write: \(errnoText(failure))")
            return
        }
        // The other side is gone and everything it sent has been delivered.
        if toApp && relay.serverClosed && relay.toApp.isEmpty { closeRelay(relay) }
        if !toApp && relay.appClosed && relay.toServer.isEmpty { closeRelay(relay) }
    }

    /// MSG_CMSG_CLOEXEC: a descriptor the app passes never leaks into a child.
    static let cmsgCloexec: Int32 = 0x4000_0000

    /// Closes every descriptor of SCM_RIGHTS messages in `control`.
    private func closePassedDescriptors(_ length: Int) {
        let header = MemoryLayout<cmsghdr>.size
        let levelAt = MemoryLayout<cmsghdr>.offset(of: \.cmsg_level)!
        let typeAt = MemoryLayout<cmsghdr>.offset(of: \.cmsg_type)!
        var at = 0
        while at + header <= length {
            let cmsgLength = Int(control.load(fromByteOffset: at, as: Int.self))
            guard cmsgLength >= header, at + cmsgLength <= length else { break }
            let level = control.load(fromByteOffset: at + levelAt, as: Int32.self)
            let type = control.load(fromByteOffset: at + typeAt, as: Int32.self)
            if level == SOL_SOCKET && type == 1 /* SCM_RIGHTS */ {
                for i in 0..<(cmsgLength - header) / 4 {
                    close(control.load(fromByteOffset: at + header + 4 * i, as: Int32.self))
                }
            }
            at += (cmsgLength + 7) & ~7
        }
    }
}

/// A FIFO of bytes waiting for a socket to take them.
struct ByteQueue {
    private var storage: [UInt8] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(_ bytes: UnsafeRawBufferPointer) { storage.append(contentsOf: bytes) }
    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 { storage.append(contentsOf: bytes) }

    /// Sends as much as `fd` takes without blocking; the errno of a failure, else nil.
    mutating func send(to fd: Int32) -> Int32? {
        while !isEmpty {
            let n = storage[head...].withUnsafeBytes { buf in
                retryingEINTR { Glibc.send(fd, buf.baseAddress, buf.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            }
            if n < 0 { return errno == EAGAIN ? nil : errno }
            head += n
        }
        storage.removeAll(keepingCapacity: storage.capacity <= 1 << 20)
        head = 0
        return nil
    }
}
