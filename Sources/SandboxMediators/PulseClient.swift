// A one-shot client of the PulseAudio native protocol, for `sandbox doctor`:
// connect, AUTH (the user's cookie and our SCM_CREDENTIALS, as libpulse
// does), SET_CLIENT_NAME, GET_SERVER_INFO, close. Blocking, with one deadline
// for the whole exchange, so a server that accepts and hangs cannot hang the
// caller. The framing and tagstructs are PulseProtocol.swift's, the formats
// those of PulseAudio's protocol-native.c (command_auth,
// command_set_client_name, command_get_server_info), answered alike by
// pipewire-pulse.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

/// GET_SERVER_INFO's answer, as much of it as a report needs.
public struct PulseServerInfo: Sendable, Equatable {
    /// e.g. "pulseaudio", or "PulseAudio (on PipeWire 0.3.65)" from pipewire-pulse.
    public var name: String
    public var version: String
    public var userName: String
    public var hostName: String
    public var defaultSink: String?
    public var defaultSource: String?

    public init(name: String, version: String, userName: String, hostName: String,
                defaultSink: String? = nil, defaultSource: String? = nil) {
        self.name = name
        self.version = version
        self.userName = userName
        self.hostName = hostName
        self.defaultSink = defaultSink
        self.defaultSource = defaultSource
    }

    /// Parses the REPLY payload: command, tag, then server name, version, user
    /// name, host name, sample spec, default sink, default source (cookie and
    /// channel map follow, unread). Nil when it is not shaped so.
    public init?(reply payload: [UInt8]) {
        var r = TagReader(payload)
        guard (try? r.u32()) == PulseCommand.reply.rawValue, (try? r.u32()) != nil else { return nil }
        var strings: [String?] = []
        while strings.count < 4 {
            guard case .string(let s)? = try? r.value() else { return nil }
            strings.append(s)
        }
        guard case .sampleSpec? = try? r.value() else { return nil }
        guard case .string(let sink)? = try? r.value(), case .string(let source)? = try? r.value() else { return nil }
        self.init(name: strings[0] ?? "", version: strings[1] ?? "", userName: strings[2] ?? "",
                  hostName: strings[3] ?? "", defaultSink: sink, defaultSource: source)
    }
}

/// Why the exchange failed, with a text for people.
public enum PulseClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// connect(2) failed (ENOENT: no server; ECONNREFUSED: a stale socket).
    case connect(socket: String, errno: Int32)
    /// The server answered `step` with ERROR and this PA_ERR_* code.
    case refused(step: String, code: UInt32)
    case timedOut(step: String)
    case closed(step: String)
    case io(step: String, errno: Int32)
    /// Not the protocol: a packet or reply that cannot be read.
    case malformed(step: String, what: String)

    public var description: String {
        switch self {
        case .connect(let socket, let e): return "cannot connect to \(socket): \(errnoText(e))"
        case .refused(let step, let code): return "the server refused \(step): \(PulseWire.errorText(code))"
        case .timedOut(let step): return "no answer to \(step) in time"
        case .closed(let step): return "the server closed the connection during \(step)"
        case .io(let step, let e): return "\(step): \(errnoText(e))"
        case .malformed(let step, let what): return "the answer to \(step) is not PulseAudio's protocol (\(what))"
        }
    }
}

public enum PulseClient {
    /// The protocol version announced in AUTH (PulseAudio 16's); the server
    /// answers with the lower of its own and this. No SHM or memfd flags: the
    /// exchange is control packets only.
    public static let protocolVersion: UInt32 = 35
    /// PA_NATIVE_COOKIE_LENGTH: AUTH carries exactly this many bytes.
    public static let cookieLength = 256

    /// Asks the server at `socket` who it is. `cookie` is the user's
    /// ~/.config/pulse/cookie (zeros when there is none: the server then
    /// decides by our credentials alone, as it does for libpulse).
    public static func serverInfo(socket: String, cookie: [UInt8], clientName: String,
                                  timeoutMilliseconds: Int) throws(PulseClientError) -> PulseServerInfo {
        let deadline = Deadline(seconds: Double(timeoutMilliseconds) / 1000)
        var fd: Int32 = -1
        while true {
            switch MediatorSocket.connect(socket) {
            case .success(let connected): fd = connected
            case .failure(let e) where e.code == EAGAIN && !deadline.expired:
                _ = poll(nil, 0, 10)   // the server's backlog is full: busy, or hung
                continue
            case .failure(let e): throw .connect(socket: socket, errno: e.code)
            }
            break
        }
        defer { close(fd) }
        var exchange = Exchange(fd: fd, deadline: deadline)

        var auth = TagWriter()
        auth.u32(PulseCommand.auth.rawValue); auth.u32(0)
        auth.u32(protocolVersion)
        auth.arbitrary(cookie.count == cookieLength ? cookie : [UInt8](repeating: 0, count: cookieLength))
        try exchange.send(PulsePacket.control(auth.bytes).bytes, step: "AUTH", withCredentials: true)
        _ = try exchange.reply(tag: 0, step: "AUTH")

        var name = TagWriter()
        name.u32(PulseCommand.setClientName.rawValue); name.u32(1)
        name.proplist([("application.name", Array(clientName.utf8) + [0])])
        try exchange.send(PulsePacket.control(name.bytes).bytes, step: "SET_CLIENT_NAME", withCredentials: false)
        _ = try exchange.reply(tag: 1, step: "SET_CLIENT_NAME")

        var info = TagWriter()
        info.u32(PulseCommand.getServerInfo.rawValue); info.u32(2)
        try exchange.send(PulsePacket.control(info.bytes).bytes, step: "GET_SERVER_INFO", withCredentials: false)
        let payload = try exchange.reply(tag: 2, step: "GET_SERVER_INFO")
        guard let parsed = PulseServerInfo(reply: payload) else {
            throw .malformed(step: "GET_SERVER_INFO", what: "\(payload.count) bytes that are not a server info")
        }
        return parsed
    }

    /// One connection's packets in both directions, bounded by the deadline.
    struct Exchange {
        let fd: Int32
        let deadline: Deadline
        /// A reply to doctor's few commands is small; 1 MiB bounds what a hostile server can make us hold.
        var framer = PulseFramer(maxPayload: 1 << 20)

        func send(_ bytes: [UInt8], step: String, withCredentials: Bool) throws(PulseClientError) {
            var done = 0
            var credentials = withCredentials
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    let rest = UnsafeRawBufferPointer(rebasing: raw[done...])
                    let flags = Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)
                    return retryingEINTR {
                        credentials ? MediatorSocket.sendWithCredentials(fd, rest, flags: flags)
                                    : Glibc.send(fd, rest.baseAddress, rest.count, flags)
                    }
                }
                if n > 0 { done += n; credentials = false; continue }
                if n < 0 && errno == EAGAIN {
                    guard MediatorSocket.wait(fd, POLLOUT, until: deadline) else { throw .timedOut(step: step) }
                    continue
                }
                throw n < 0 && errno == EPIPE ? .closed(step: step) : .io(step: step, errno: n < 0 ? errno : EIO)
            }
        }

        /// The payload of the REPLY to `tag`; its ERROR is thrown. Other
        /// packets (events, audio) are skipped.
        mutating func reply(tag: UInt32, step: String) throws(PulseClientError) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let packet: PulsePacket?
                do { packet = try framer.next() } catch { throw .malformed(step: step, what: "a packet of more than 1 MiB") }
                if let packet {
                    guard packet.isControl, let header = PulseWire.header(packet.payload), header.tag == tag else { continue }
                    let command = header.command
                    if command == PulseCommand.reply.rawValue { return packet.payload }
                    if command == PulseCommand.error.rawValue {
                        throw .refused(step: step, code: PulseWire.leadingU32s(packet.payload, count: 1).first ?? PulseWire.errUnknown)
                    }
                    throw .malformed(step: step, what: "command \(command) in answer")
                }
                let n = buffer.withUnsafeMutableBytes { buf in retryingEINTR { recv(fd, buf.baseAddress, buf.count, Int32(MSG_DONTWAIT)) } }
                if n > 0 { framer.append(buffer[0..<n]); continue }
                if n == 0 { throw .closed(step: step) }
                guard errno == EAGAIN else { throw .io(step: step, errno: errno) }
                guard MediatorSocket.wait(fd, POLLIN, until: deadline) else { throw .timedOut(step: step) }
            }
        }
    }
}
