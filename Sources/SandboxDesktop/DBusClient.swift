// A blocking D-Bus connection for one short conversation on the host's session
// bus (the document portal's AddFull at a launch): EXTERNAL authentication with
// fd passing, Hello, then method calls, every wait bounded by one deadline so a
// frozen bus costs a launch seconds, never a hang.
import SandboxCore
import SandboxMediators
#if canImport(Glibc)
import Glibc
#endif

public final class DBusClient {
    let fd: Int32
    let deadline: Deadline
    var serial: UInt32 = 0
    var buffer: [UInt8] = []

    /// Connects and authenticates to a bus address such as `unix:path=/run/user/1000/bus`
    /// (the first unix:path= or unix:abstract= entry of a ;-separated list).
    public convenience init(address: String, timeoutSeconds: Double = 5) throws(SandboxError) {
        guard let bus = UnixBusAddress.parse(address).first else {
            throw SandboxError("the bus address '\(address)' has no unix:path= or unix:abstract= entry")
        }
        try self.init(bus: bus, timeoutSeconds: timeoutSeconds)
    }

    /// Connects and authenticates to the bus at one socket.
    public init(bus: UnixBusAddress, timeoutSeconds: Double = 5) throws(SandboxError) {
        deadline = Deadline(seconds: timeoutSeconds)
        switch MediatorSocket.connect(bus.socketName) {
        case .success(let fd): self.fd = fd
        case .failure(let e): throw SandboxError("cannot connect to the session bus at \(bus): \(e.text)")
        }
        do {
            try authenticate()
            _ = try call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                         interface: "org.freedesktop.DBus", member: "Hello")
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    func authenticate() throws(SandboxError) {
        let uid = String(getuid())
        let hex = uid.utf8.map { b in let h = String(b, radix: 16); return h.count == 1 ? "0" + h : h }.joined()
        try send(Array("\0AUTH EXTERNAL \(hex)\r\n".utf8), fds: [])
        guard try readLine().hasPrefix("OK ") else { throw SandboxError("the session bus refused EXTERNAL authentication") }
        try send(Array("NEGOTIATE_UNIX_FD\r\n".utf8), fds: [])
        guard try readLine() == "AGREE_UNIX_FD" else { throw SandboxError("the session bus does not pass file descriptors") }
        try send(Array("BEGIN\r\n".utf8), fds: [])
    }

    func readLine() throws(SandboxError) -> String {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < 4096 else { throw SandboxError("the session bus sent an overlong line") }
            try fill()
        }
    }

    /// Reads what is there (waiting up to the deadline) into the buffer.
    func fill() throws(SandboxError) {
        guard MediatorSocket.wait(fd, Int32(POLLIN), until: deadline) else { throw SandboxError("the session bus did not answer in time") }
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { buf in retryingEINTR { recv(fd, buf.baseAddress, buf.count, 0) } }
        if n < 0 && errno == EAGAIN { return }
        guard n > 0 else { throw SandboxError("the session bus closed the connection") }
        buffer += chunk[..<n]
    }

    /// Sends all of `bytes`, with `fds` (SCM_RIGHTS) on the first part.
    func send(_ bytes: [UInt8], fds: [Int32]) throws(SandboxError) {
        var sent = 0
        var rights = fds
        while sent < bytes.count {
            guard MediatorSocket.wait(fd, Int32(POLLOUT), until: deadline) else { throw SandboxError("the session bus did not take the message in time") }
            let n = bytes[sent...].withUnsafeBytes { buf in retryingEINTR { Self.sendmsg(fd, buf, rights: rights) } }
            if n < 0 && errno == EAGAIN { continue }
            guard n > 0 else { throw SandboxError.system("writing to the session bus failed", errno: errno) }
            sent += n
            rights = []
        }
    }

    static func sendmsg(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, rights: [Int32]) -> Int {
        var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
        var msg = msghdr()
        let space = rights.isEmpty ? 0 : (16 + 4 * rights.count + 7) & ~7
        var control = [UInt8](repeating: 0, count: max(space, 1))
        return control.withUnsafeMutableBytes { ctl in
            if !rights.isEmpty {
                ctl.storeBytes(of: UInt64(16 + 4 * rights.count), toByteOffset: 0, as: UInt64.self)   // cmsg_len
                ctl.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
                ctl.storeBytes(of: Int32(SCM_RIGHTS), toByteOffset: 12, as: Int32.self)
                for (i, r) in rights.enumerated() { ctl.storeBytes(of: r, toByteOffset: 16 + 4 * i, as: Int32.self) }
            }
            return withUnsafeMutablePointer(to: &iov) { iovp in
                msg.msg_iov = iovp
                msg.msg_iovlen = 1
                msg.msg_control = rights.isEmpty ? nil : ctl.baseAddress
                msg.msg_controllen = space
                return Glibc.sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
            }
        }
    }

    /// Calls a method and returns its reply's body; an error reply is thrown with its name and text.
    @discardableResult
    public func call(destination: String, path: String, interface: String, member: String,
                     signature: String = "", body: [DBusValue] = [], fds: [Int32] = []) throws(SandboxError) -> [DBusValue] {
        serial += 1
        let message = DBusMessage.methodCall(serial: serial, destination: destination, path: path, interface: interface,
                                             member: member, signature: signature, body: body, unixFDs: UInt32(fds.count))
        try send(try message.encoded(), fds: fds)
        while true {
            let reply = try receive()
            guard reply.replySerial == serial else { continue }   // signals (NameAcquired) and others
            if reply.kind == .error {
                let text = reply.body.first?.string ?? ""
                throw SandboxError("\(reply.errorName ?? "error")\(text.isEmpty ? "" : ": " + text)")
            }
            return reply.body
        }
    }

    func receive() throws(SandboxError) -> DBusMessage {
        while buffer.count < 16 { try fill() }
        guard let total = DBusMessage.totalLength(header16: Array(buffer.prefix(16))) else {
            throw SandboxError("the session bus sent something that is not a D-Bus message")
        }
        while buffer.count < total { try fill() }
        let bytes = Array(buffer.prefix(total))
        buffer.removeFirst(total)
        return try DBusMessage.decode(bytes)
    }
}
