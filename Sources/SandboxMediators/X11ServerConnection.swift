// The X11 proxy's own connections to the real X server, opened before the
// supervisor's loop starts: one trusted connection (the user's cookie) that
// mints the untrusted cookie, watches it and revokes it at the end, and one
// "anchor" connection that presents the minted cookie and keeps it in use.
// Every wait has a deadline: a hung X server fails the start, never hangs it.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

package final class X11ServerConnection {
    let fd: Int32
    package let order = X11ByteOrder.native
    let displayName: String
    /// The server's whole answer to the set-up (prefix included), for whoever
    /// wants to know more than "accepted" (`X11SetupReply`: vendor, screens).
    package private(set) var setupReply: [UInt8] = []
    /// `setupReply` parsed; nil when the server's lengths do not add up.
    package var setup: X11SetupReply? { X11SetupReply(setupReply, order: order) }
    /// Requests sent so far (the server numbers them from 1 after set-up).
    private(set) var sequence: UInt16 = 0
    /// Bytes received and not yet parsed into messages.
    var inbox: [UInt8] = []
    private var closed = false

    private init(fd: Int32, displayName: String) {
        self.fd = fd
        self.displayName = displayName
    }

    deinit { close() }

    package func close() {
        if !closed { Glibc.close(fd); closed = true }
    }

    /// Connects to the server's socket and completes the set-up, presenting
    /// `cookie` as MIT-MAGIC-COOKIE-1 (none: the server's host-based access decides).
    package static func open(socket: String, displayName: String, cookie: [UInt8]?, deadline: Deadline) throws(SandboxError) -> X11ServerConnection {
        let hint = "set x11.mode = \"none\" to run without X"
        var fd: Int32 = -1
        while true {
            switch MediatorSocket.connect(socket) {
            case .success(let connected):
                fd = connected
            case .failure(let e) where e.code == EAGAIN && !deadline.expired:
                // The server's listen backlog is full: it is busy, or hung.
                _ = poll(nil, 0, 10)
                continue
            case .failure(let e):
                throw SandboxError("cannot open display \(displayName): the X server refused or did not answer (\(socket): \(e.text)) — is X running? is DISPLAY right?",
                                    hint: hint)
            }
            break
        }
        let c = X11ServerConnection(fd: fd, displayName: displayName)
        let setup = X11SetupRequest(byteOrder: c.order, authorizationName: cookie == nil ? [] : mitMagicCookie,
                                    authorizationData: cookie ?? [])
        try c.send(setup.encoded, deadline: deadline)
        let head = try c.receive(X11SetupReplyPrefix.length, deadline: deadline)
        guard let prefix = X11SetupReplyPrefix(head, order: c.order) else {
            throw SandboxError("cannot open display \(displayName): the server's answer is not X11 (first byte \(head[0]))", hint: hint)
        }
        let rest = try c.receive(prefix.additionalLength, deadline: deadline)
        switch prefix.status {
        case .success:
            c.setupReply = head + rest
            return c
        case .failed:
            let reason = String(decoding: rest.prefix(prefix.reasonLength), as: UTF8.self)
                .trimmingTrailing { $0 == "\n" || $0 == "\0" }
            throw SandboxError("cannot open display \(displayName): the X server refused the connection: \(reason)",
                                hint: "check XAUTHORITY names your cookie file (xauth list \(displayName)) or that the server is alive")
        case .authenticate:
            throw SandboxError("cannot open display \(displayName): the X server asks for further authentication, which sandbox does not speak",
                                hint: hint)
        }
    }

    /// Sends a request and waits for its reply (events that arrive meanwhile
    /// stay in `inbox`'s wake as `pending`). An X error is thrown with its code.
    func roundTrip(_ request: [UInt8], what: String, deadline: Deadline) throws(SandboxError) -> [UInt8] {
        try send(request, deadline: deadline)
        sequence &+= 1
        let wanted = sequence
        while true {
            while let (message, length) = X11Message.parse(inbox, order: order) {
                inbox.removeFirst(length)
                switch message {
                case .reply(let seq, let bytes) where seq == wanted:
                    return bytes
                case .error(let code, let seq) where seq == wanted:
                    throw SandboxError("the X server on \(displayName) refused \(what) (X error \(code))")
                default:
                    pending.append(message)
                }
            }
            inbox += try receiveSome(deadline: deadline)
        }
    }

    /// Sends a request that has no reply.
    func sendRequest(_ request: [UInt8], deadline: Deadline) throws(SandboxError) {
        try send(request, deadline: deadline)
        sequence &+= 1
    }

    /// Messages that arrived while waiting for a reply (events, other errors).
    var pending: [X11Message] = []

    func send(_ bytes: [UInt8], deadline: Deadline) throws(SandboxError) {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { buf in retryingEINTR { Glibc.send(fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL)) } }
            if n > 0 { done += n; continue }
            if n < 0 && errno == EAGAIN && MediatorSocket.wait(fd, POLLOUT, until: deadline) { continue }
            throw n < 0 && errno != EAGAIN ? lost(errno) : timedOut()
        }
    }

    func receive(_ count: Int, deadline: Deadline) throws(SandboxError) -> [UInt8] {
        while inbox.count < count { inbox += try receiveSome(deadline: deadline) }
        defer { inbox.removeFirst(count) }
        return Array(inbox[0..<count])
    }

    /// Whatever is there (at least one byte), waiting up to the deadline.
    func receiveSome(deadline: Deadline) throws(SandboxError) -> [UInt8] {
        while true {
            switch readAvailable() {
            case .data(let bytes): return bytes
            case .wouldBlock:
                guard MediatorSocket.wait(fd, POLLIN, until: deadline) else { throw timedOut() }
            case .closed: throw lost(0)
            case .failed(let e): throw lost(e)
            }
        }
    }

    enum ReadResult { case data([UInt8]), wouldBlock, closed, failed(Int32) }

    /// One non-blocking read.
    func readAvailable() -> ReadResult {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { b in retryingEINTR { recv(fd, b.baseAddress, b.count, Int32(MSG_DONTWAIT)) } }
        if n > 0 { return .data(Array(buf[0..<n])) }
        if n == 0 { return .closed }
        return errno == EAGAIN ? .wouldBlock : .failed(errno)
    }

    private func timedOut() -> SandboxError {
        SandboxError("cannot open display \(displayName): the X server accepted the connection but did not answer in time — is X hung or stopped?",
                      hint: "set x11.mode = \"none\" to run without X")
    }

    private func lost(_ code: Int32) -> SandboxError {
        SandboxError("the X server on \(displayName) closed the connection\(code == 0 ? "" : " (\(errnoText(code)))")",
                      hint: "check the server is alive and that XAUTHORITY names your cookie file")
    }
}

extension String {
    func trimmingTrailing(_ drop: (Character) -> Bool) -> String {
        var s = Substring(self)
        while let last = s.last, drop(last) { s = s.dropLast() }
        return String(s)
    }
}
