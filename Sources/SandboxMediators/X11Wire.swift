// The few pieces of the X11 wire protocol the X11 proxy speaks, as pure
// values: the client's connection set-up request (parsed and rewritten), the
// server's set-up reply prefix, and the core and SECURITY-extension requests the
// proxy's own connection sends. Layouts follow the X Window System Protocol
// (chapter 8, "Connection Setup"; the encoding appendix) and the Security
// Extension specification (xorgproto's securproto.h has the same structs).
// Everything here is unit-tested in both byte orders without an X server.

/// The byte order a client picks in its first byte; the server answers in it.
public enum X11ByteOrder: UInt8, Sendable, Equatable {
    /// 'B': most significant byte first.
    case msbFirst = 0x42
    /// 'l': least significant byte first.
    case lsbFirst = 0x6C

    /// The order of this machine, which the proxy's own connections use.
    public static var native: X11ByteOrder { 1.littleEndian == 1 ? .lsbFirst : .msbFirst }

    func u16(_ b: [UInt8], _ at: Int) -> UInt16 {
        self == .msbFirst ? UInt16(b[at]) << 8 | UInt16(b[at + 1]) : UInt16(b[at + 1]) << 8 | UInt16(b[at])
    }

    func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        self == .msbFirst
            ? UInt32(u16(b, at)) << 16 | UInt32(u16(b, at + 2))
            : UInt32(u16(b, at + 2)) << 16 | UInt32(u16(b, at))
    }
}

/// Appends X11 wire values in one byte order.
struct X11Writer {
    let order: X11ByteOrder
    var bytes: [UInt8] = []

    init(_ order: X11ByteOrder) { self.order = order }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) {
        let hi = UInt8(v >> 8), lo = UInt8(v & 0xff)
        bytes += order == .msbFirst ? [hi, lo] : [lo, hi]
    }
    mutating func u32(_ v: UInt32) {
        if order == .msbFirst { u16(UInt16(v >> 16)); u16(UInt16(v & 0xffff)) } else { u16(UInt16(v & 0xffff)); u16(UInt16(v >> 16)) }
    }
    /// The bytes, then zeros up to a multiple of 4 (the protocol's STRING8 + pad).
    mutating func padded(_ data: [UInt8]) {
        bytes += data
        bytes += [UInt8](repeating: 0, count: X11Wire.pad(data.count))
    }
}

enum X11Wire {
    /// Bytes of padding after `n` bytes to reach a multiple of 4.
    static func pad(_ n: Int) -> Int { (4 - n % 4) % 4 }
    static func padded(_ n: Int) -> Int { n + pad(n) }
}

/// The only authorization protocol the proxy presents: the untrusted cookie is one.
public let mitMagicCookie: [UInt8] = Array("MIT-MAGIC-COOKIE-1".utf8)

/// A client's connection set-up request (protocol chapter 8):
///
///     1  byte-order ('B' or 'l')     1  unused
///     2  protocol-major-version      2  protocol-minor-version
///     2  n, length of auth name      2  d, length of auth data     2  unused
///     n  auth name, padded to 4      d  auth data, padded to 4
public struct X11SetupRequest: Sendable, Equatable {
    public var byteOrder: X11ByteOrder
    public var majorVersion: UInt16
    public var minorVersion: UInt16
    public var authorizationName: [UInt8]
    public var authorizationData: [UInt8]

    public init(byteOrder: X11ByteOrder, majorVersion: UInt16 = 11, minorVersion: UInt16 = 0,
                authorizationName: [UInt8] = [], authorizationData: [UInt8] = []) {
        self.byteOrder = byteOrder
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.authorizationName = authorizationName
        self.authorizationData = authorizationData
    }

    /// The fixed part before the name and data.
    public static let headerLength = 12
    /// The longest set-up the proxy accepts. Real clients send at most a
    /// 19-byte name and a few dozen bytes of data (XDM-AUTHORIZATION-1); the
    /// fields allow 2 × 64 KiB, which no honest client needs.
    public static let maximumLength = 1024

    public enum Parsed: Sendable, Equatable {
        /// Not enough bytes yet to decide.
        case incomplete
        /// A whole request, `length` bytes long (what follows belongs to the first requests).
        case complete(X11SetupRequest, length: Int)
        /// Not a set-up request the proxy forwards; the connection is closed.
        case invalid(String)
    }

    /// Parses the start of what a client sent. Decides as early as it can: a
    /// bad first byte or announced lengths over `maximumLength` are invalid
    /// before the rest arrives.
    public static func parse(_ b: [UInt8]) -> Parsed {
        guard let first = b.first else { return .incomplete }
        guard let order = X11ByteOrder(rawValue: first) else {
            return .invalid("bad byte-order byte 0x\(String(first, radix: 16))")
        }
        guard b.count >= headerLength else { return .incomplete }
        let nameLength = Int(order.u16(b, 6)), dataLength = Int(order.u16(b, 8))
        let total = headerLength + X11Wire.padded(nameLength) + X11Wire.padded(dataLength)
        guard total <= maximumLength else {
            return .invalid("set-up request of \(total) bytes (authorization name \(nameLength), data \(dataLength)) exceeds \(maximumLength)")
        }
        guard b.count >= total else { return .incomplete }
        let nameStart = headerLength, dataStart = headerLength + X11Wire.padded(nameLength)
        let request = X11SetupRequest(
            byteOrder: order, majorVersion: order.u16(b, 2), minorVersion: order.u16(b, 4),
            authorizationName: Array(b[nameStart..<nameStart + nameLength]),
            authorizationData: Array(b[dataStart..<dataStart + dataLength]))
        return .complete(request, length: total)
    }

    /// The request on the wire, in its own byte order, with zero padding.
    public var encoded: [UInt8] {
        var w = X11Writer(byteOrder)
        w.u8(byteOrder.rawValue); w.u8(0)
        w.u16(majorVersion); w.u16(minorVersion)
        w.u16(UInt16(truncatingIfNeeded: authorizationName.count))
        w.u16(UInt16(truncatingIfNeeded: authorizationData.count))
        w.u16(0)
        w.padded(authorizationName)
        w.padded(authorizationData)
        return w.bytes
    }

    /// The same request presenting `cookie` as MIT-MAGIC-COOKIE-1, whatever it
    /// presented before (nothing, another cookie, garbage). Byte order and
    /// protocol version are kept: the server answers the client in them.
    public func presenting(cookie: [UInt8]) -> X11SetupRequest {
        var r = self
        r.authorizationName = mitMagicCookie
        r.authorizationData = cookie
        return r
    }
}

/// The first 8 bytes of the server's answer to a set-up request.
public struct X11SetupReplyPrefix: Sendable, Equatable {
    public enum Status: UInt8, Sendable { case failed = 0, success = 1, authenticate = 2 }
    public var status: Status
    /// For `failed`: the length of the reason string that follows.
    public var reasonLength: Int
    /// Bytes that follow the prefix (the protocol gives it in 4-byte units).
    public var additionalLength: Int

    public static let length = 8

    public init(status: Status, reasonLength: Int, additionalLength: Int) {
        self.status = status
        self.reasonLength = reasonLength
        self.additionalLength = additionalLength
    }

    public init?(_ b: [UInt8], order: X11ByteOrder) {
        guard b.count >= Self.length, let status = Status(rawValue: b[0]) else { return nil }
        self.status = status
        reasonLength = Int(b[1])
        additionalLength = Int(order.u16(b, 6)) * 4
    }
}

/// Requests the proxy's own connection sends. Each returns the request's bytes.
public enum X11Request {
    /// QueryExtension (opcode 98): is `name` present, and its major opcode and first event.
    public static func queryExtension(_ name: String, order: X11ByteOrder) -> [UInt8] {
        let n = Array(name.utf8)
        var w = X11Writer(order)
        w.u8(98); w.u8(0)
        w.u16(UInt16(2 + X11Wire.padded(n.count) / 4))
        w.u16(UInt16(n.count)); w.u16(0)
        w.padded(n)
        return w.bytes
    }

    /// GetInputFocus (opcode 43): the cheapest round trip, to know the server
    /// has processed everything sent before it.
    public static func getInputFocus(order: X11ByteOrder) -> [UInt8] {
        var w = X11Writer(order)
        w.u8(43); w.u8(0); w.u16(1)
        return w.bytes
    }

    /// The SECURITY extension's trust levels and attribute bits (secur.h).
    public static let trustLevelUntrusted: UInt32 = 1
    public static let attributeTimeout: UInt32 = 1 << 0
    public static let attributeTrustLevel: UInt32 = 1 << 1
    public static let attributeEventMask: UInt32 = 1 << 3
    public static let authorizationRevokedMask: UInt32 = 1 << 0

    /// SecurityGenerateAuthorization (minor 1): a new MIT-MAGIC-COOKIE-1 whose
    /// data the server chooses (no data sent), with this timeout (seconds after
    /// its last client disconnects; 0 = never), trust level and event mask.
    ///
    ///     1 major  1 minor=1  2 length  2 n (name)  2 d (data)  4 value-mask
    ///     n name, padded  d data, padded  4×popcount(value-mask) values in bit order
    public static func securityGenerateAuthorization(
        major: UInt8, timeout: UInt32, trustLevel: UInt32, eventMask: UInt32, order: X11ByteOrder
    ) -> [UInt8] {
        var w = X11Writer(order)
        let values = [timeout, trustLevel, eventMask]
        w.u8(major); w.u8(1)
        w.u16(UInt16(3 + X11Wire.padded(mitMagicCookie.count) / 4 + values.count))
        w.u16(UInt16(mitMagicCookie.count)); w.u16(0)
        w.u32(attributeTimeout | attributeTrustLevel | attributeEventMask)
        w.padded(mitMagicCookie)
        for v in values { w.u32(v) }
        return w.bytes
    }

    /// SecurityRevokeAuthorization (minor 2): the cookie stops working and the
    /// server closes every client that connected with it.
    public static func securityRevokeAuthorization(major: UInt8, id: UInt32, order: X11ByteOrder) -> [UInt8] {
        var w = X11Writer(order)
        w.u8(major); w.u8(2); w.u16(2)
        w.u32(id)
        return w.bytes
    }
}

/// What the server sends after set-up: 32-byte replies (plus 4 × length more),
/// errors and events.
public enum X11Message: Sendable, Equatable {
    case reply(sequence: UInt16, bytes: [UInt8])
    case error(code: UInt8, sequence: UInt16)
    case event(code: UInt8, bytes: [UInt8])

    /// The first message in `b` and its length, or nil when incomplete.
    public static func parse(_ b: [UInt8], order: X11ByteOrder) -> (X11Message, Int)? {
        guard b.count >= 32 else { return nil }
        switch b[0] {
        case 0:
            return (.error(code: b[1], sequence: order.u16(b, 2)), 32)
        case 1:
            let total = 32 + Int(order.u32(b, 4)) * 4
            guard b.count >= total else { return nil }
            return (.reply(sequence: order.u16(b, 2), bytes: Array(b[0..<total])), total)
        default:
            // Bit 7 marks events sent with SendEvent; the code is the rest.
            return (.event(code: b[0] & 0x7f, bytes: Array(b[0..<32])), 32)
        }
    }
}

/// QueryExtension's reply: present?, major opcode, first event.
public struct X11ExtensionInfo: Sendable, Equatable {
    public var present: Bool
    public var majorOpcode: UInt8
    public var firstEvent: UInt8

    public init(present: Bool, majorOpcode: UInt8, firstEvent: UInt8) {
        self.present = present
        self.majorOpcode = majorOpcode
        self.firstEvent = firstEvent
    }

    public init?(reply b: [UInt8]) {
        guard b.count >= 32, b[0] == 1 else { return nil }
        present = b[8] != 0
        majorOpcode = b[9]
        firstEvent = b[10]
    }
}

/// SecurityGenerateAuthorization's reply: the authorization's id and cookie.
public struct X11GeneratedAuthorization: Sendable, Equatable {
    public var id: UInt32
    public var cookie: [UInt8]

    public init(id: UInt32, cookie: [UInt8]) {
        self.id = id
        self.cookie = cookie
    }

    public init?(reply b: [UInt8], order: X11ByteOrder) {
        guard b.count >= 32, b[0] == 1 else { return nil }
        id = order.u32(b, 8)
        let n = Int(order.u16(b, 12))
        guard b.count >= 32 + n else { return nil }
        cookie = Array(b[32..<32 + n])
    }
}

/// What a successful connection set-up tells a client (protocol chapter 8),
/// as much as `sandbox doctor` reports: protocol version, vendor, release and
/// each screen's size. Every length the server gives is checked against the
/// bytes received: a truncated or hostile reply is nil, never a crash.
///
///     0  1 Success      2  major   4  minor   6  length (4-byte units after 8)
///     8  release       12  resource-id-base  16  resource-id-mask  20  motion-buffer-size
///    24  v, vendor length   26  maximum-request-length   28  screens   29  n, formats
///    30..35  byte orders, scanline unit/pad, min/max keycode   36  unused
///    40  vendor, padded to 4;  8n formats;  the screens, each:
///         0 root  4 colormap  8 white  12 black  16 input masks  20 width  22 height
///        24 width mm  26 height mm  28 min maps  30 max maps  32 visual  36 backing
///        37 save-unders  38 root depth  39 d, depths;  then d depths, each:
///         0 depth  1 unused  2 v, visuals  4 unused;  then 24v visual types
public struct X11SetupReply: Sendable, Equatable {
    public struct Screen: Sendable, Equatable {
        public var width: UInt16
        public var height: UInt16
        public var widthMillimeters: UInt16
        public var heightMillimeters: UInt16
        public var rootDepth: UInt8
    }

    public var majorVersion: UInt16
    public var minorVersion: UInt16
    public var release: UInt32
    public var vendor: String
    public var screens: [Screen]

    /// Parses the whole reply (the 8-byte prefix included) in `order`.
    public init?(_ b: [UInt8], order: X11ByteOrder) {
        guard b.count >= 40, b[0] == X11SetupReplyPrefix.Status.success.rawValue else { return nil }
        // The announced length must fit what arrived (extra bytes are not ours to read).
        let total = 8 + Int(order.u16(b, 6)) * 4
        guard total >= 40, total <= b.count else { return nil }
        majorVersion = order.u16(b, 2)
        minorVersion = order.u16(b, 4)
        release = order.u32(b, 8)
        let vendorLength = Int(order.u16(b, 24))
        let screenCount = Int(b[28]), formatCount = Int(b[29])
        guard 40 + vendorLength <= total else { return nil }
        vendor = String(decoding: b[40..<40 + vendorLength], as: UTF8.self)
        var at = 40 + X11Wire.padded(vendorLength) + 8 * formatCount
        var screens: [Screen] = []
        for _ in 0..<screenCount {
            guard at + 40 <= total else { return nil }
            screens.append(Screen(width: order.u16(b, at + 20), height: order.u16(b, at + 22),
                                  widthMillimeters: order.u16(b, at + 24), heightMillimeters: order.u16(b, at + 26),
                                  rootDepth: b[at + 38]))
            let depths = Int(b[at + 39])
            at += 40
            for _ in 0..<depths {
                guard at + 8 <= total else { return nil }
                at += 8 + 24 * Int(order.u16(b, at + 2))
            }
            guard at <= total else { return nil }
        }
        self.screens = screens
    }
}
