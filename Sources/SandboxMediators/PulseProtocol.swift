// The PulseAudio native protocol, as much of it as the sound mediator reads:
// packet framing, the tagstruct values a command starts with, and the ERROR
// reply. Written from PulseAudio's pstream.c, tagstruct.h, native-common.h and
// protocol-native.c (and checked against pipewire-pulse); nothing here trusts
// a length it has not bounds-checked, since one side is the app.
//
// A packet is a 20-byte descriptor, five big-endian u32s — length, channel,
// offset_hi, offset_lo, flags — then `length` bytes. Channel 0xFFFFFFFF is a
// control packet whose payload is a tagstruct (command, tag, arguments);
// any other channel is audio for that stream, with the seek mode in the low
// byte of the flags. The high byte of the flags marks shared-memory frames
// (a block id instead of bytes), which the mediator never lets through.

/// One framed packet: the descriptor's fields and the payload.
public struct PulsePacket: Equatable, Sendable {
    public static let descriptorSize = 20
    /// PulseAudio refuses frames above 16 MiB (pstream.c FRAME_SIZE_MAX_ALLOW); so do we.
    public static let maxPayload = 16 * 1024 * 1024
    public static let controlChannel: UInt32 = 0xFFFF_FFFF
    public static let seekMask: UInt32 = 0x0000_00FF

    public var channel: UInt32
    public var offsetHi: UInt32
    public var offsetLo: UInt32
    public var flags: UInt32
    public var payload: [UInt8]

    public init(channel: UInt32, offsetHi: UInt32 = 0, offsetLo: UInt32 = 0, flags: UInt32 = 0, payload: [UInt8]) {
        self.channel = channel
        self.offsetHi = offsetHi
        self.offsetLo = offsetLo
        self.flags = flags
        self.payload = payload
    }

    public var isControl: Bool { channel == Self.controlChannel }

    /// The packet on the wire: descriptor then payload.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.descriptorSize + payload.count)
        for v in [UInt32(payload.count), channel, offsetHi, offsetLo, flags] { out.appendBigEndian(v) }
        out += payload
        return out
    }

    /// A control packet carrying a tagstruct.
    public static func control(_ tagstruct: [UInt8]) -> PulsePacket {
        PulsePacket(channel: controlChannel, payload: tagstruct)
    }
}

/// Cuts a byte stream into packets. Bytes are appended as they arrive; `next()`
/// returns a packet once all of it is there. A descriptor announcing more than
/// `maxPayload` bytes is an error (the stream cannot be resynchronised).
public struct PulseFramer: Sendable {
    public enum Failure: Error, Equatable, Sendable { case oversized(UInt32) }

    public private(set) var buffer: [UInt8] = []
    private var start = 0
    public let maxPayload: Int

    public init(maxPayload: Int = PulsePacket.maxPayload) { self.maxPayload = maxPayload }

    /// Bytes received but not yet returned as a packet.
    public var pending: Int { buffer.count - start }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete packet, nil when more bytes are needed.
    public mutating func next() throws(Failure) -> PulsePacket? {
        let avail = buffer.count - start
        guard avail >= PulsePacket.descriptorSize else { return nil }
        let length = buffer.bigEndianU32(at: start)
        guard Int(length) <= maxPayload else { throw .oversized(length) }
        let total = PulsePacket.descriptorSize + Int(length)
        guard avail >= total else { return nil }
        let p = PulsePacket(channel: buffer.bigEndianU32(at: start + 4),
                            offsetHi: buffer.bigEndianU32(at: start + 8),
                            offsetLo: buffer.bigEndianU32(at: start + 12),
                            flags: buffer.bigEndianU32(at: start + 16),
                            payload: Array(buffer[(start + PulsePacket.descriptorSize)..<(start + total)]))
        start += total
        if start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        return p
    }
}

/// One value of a tagstruct (tagstruct.h's PA_TAG_*).
public enum TagValue: Equatable, Sendable {
    case string(String?)          // 't' (NUL-terminated) or 'N' (null)
    case u32(UInt32)              // 'L'
    case u8(UInt8)                // 'B'
    case u64(UInt64)              // 'R'
    case s64(Int64)               // 'r'
    case sampleSpec(format: UInt8, channels: UInt8, rate: UInt32)  // 'a'
    case arbitrary([UInt8])       // 'x': u32 length, bytes
    case bool(Bool)               // '1' / '0'
    case timeval(sec: UInt32, usec: UInt32)  // 'T'
    case usec(UInt64)             // 'U'
    case channelMap([UInt8])      // 'm': u8 count, count positions
    case cvolume([UInt32])        // 'v': u8 count, count u32 volumes
    case proplist([(String, [UInt8])])  // 'P': (key 't', 'L' length, 'x' value)… until 'N'
    case volume(UInt32)           // 'V'
    case formatInfo(encoding: UInt8, properties: [(String, [UInt8])])  // 'f': 'B' encoding, then a proplist

    public static func == (a: TagValue, b: TagValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.u32(x), .u32(y)): return x == y
        case let (.u8(x), .u8(y)): return x == y
        case let (.u64(x), .u64(y)): return x == y
        case let (.s64(x), .s64(y)): return x == y
        case let (.sampleSpec(f1, c1, r1), .sampleSpec(f2, c2, r2)): return f1 == f2 && c1 == c2 && r1 == r2
        case let (.arbitrary(x), .arbitrary(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case let (.timeval(s1, u1), .timeval(s2, u2)): return s1 == s2 && u1 == u2
        case let (.usec(x), .usec(y)): return x == y
        case let (.channelMap(x), .channelMap(y)): return x == y
        case let (.cvolume(x), .cvolume(y)): return x == y
        case let (.proplist(x), .proplist(y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        case let (.volume(x), .volume(y)): return x == y
        case let (.formatInfo(e1, p1), .formatInfo(e2, p2)):
            return e1 == e2 && p1.map(\.0) == p2.map(\.0) && p1.map(\.1) == p2.map(\.1)
        default: return false
        }
    }
}

/// Reads tagstruct values, never past the end of the payload.
public struct TagReader: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        case truncated(at: Int)
        case unknownTag(UInt8, at: Int)
        case wrongTag(expected: UInt8, found: UInt8, at: Int)
        case tooLarge(at: Int)
    }

    /// Largest single value (an arbitrary blob, a proplist entry) accepted, as tagstruct.c's MAX_TAG_SIZE.
    public static let maxValue = 64 * 1024
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset >= bytes.count }

    public mutating func u32() throws(Failure) -> UInt32 {
        try expect(UInt8(ascii: "L"))
        return try rawU32()
    }

    /// The next value, whatever its type.
    public mutating func value() throws(Failure) -> TagValue {
        let at = offset
        let tag = try rawU8()
        switch tag {
        case UInt8(ascii: "t"): return .string(try rawString())
        case UInt8(ascii: "N"): return .string(nil)
        case UInt8(ascii: "L"): return .u32(try rawU32())
        case UInt8(ascii: "B"): return .u8(try rawU8())
        case UInt8(ascii: "R"): return .u64(try rawU64())
        case UInt8(ascii: "r"): return .s64(Int64(bitPattern: try rawU64()))
        case UInt8(ascii: "a"):
            let f = try rawU8(), c = try rawU8()
            return .sampleSpec(format: f, channels: c, rate: try rawU32())
        case UInt8(ascii: "x"): return .arbitrary(try rawArbitrary())
        case UInt8(ascii: "1"): return .bool(true)
        case UInt8(ascii: "0"): return .bool(false)
        case UInt8(ascii: "T"):
            let s = try rawU32()
            return .timeval(sec: s, usec: try rawU32())
        case UInt8(ascii: "U"): return .usec(try rawU64())
        case UInt8(ascii: "m"):
            let n = Int(try rawU8())
            return .channelMap(try rawBytes(n))
        case UInt8(ascii: "v"):
            let n = Int(try rawU8())
            var v: [UInt32] = []
            for _ in 0..<n { v.append(try rawU32()) }
            return .cvolume(v)
        case UInt8(ascii: "P"): return .proplist(try rawProplist())
        case UInt8(ascii: "V"): return .volume(try rawU32())
        case UInt8(ascii: "f"):
            try expect(UInt8(ascii: "B"))
            let e = try rawU8()
            try expect(UInt8(ascii: "P"))
            return .formatInfo(encoding: e, properties: try rawProplist())
        default:
            throw .unknownTag(tag, at: at)
        }
    }

    /// Every remaining value.
    public mutating func all() throws(Failure) -> [TagValue] {
        var out: [TagValue] = []
        while !atEnd { out.append(try value()) }
        return out
    }

    private mutating func expect(_ tag: UInt8) throws(Failure) {
        let at = offset
        let found = try rawU8()
        guard found == tag else { throw .wrongTag(expected: tag, found: found, at: at) }
    }

    private mutating func rawU8() throws(Failure) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func rawU32() throws(Failure) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw .truncated(at: offset) }
        defer { offset += 4 }
        return bytes.bigEndianU32(at: offset)
    }

    private mutating func rawU64() throws(Failure) -> UInt64 {
        let hi = try rawU32()
        return UInt64(hi) << 32 | UInt64(try rawU32())
    }

    private mutating func rawBytes(_ n: Int) throws(Failure) -> [UInt8] {
        guard n >= 0, bytes.count - offset >= n else { throw .truncated(at: offset) }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    private mutating func rawString() throws(Failure) -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else { throw .truncated(at: offset) }
        guard end - offset <= Self.maxValue else { throw .tooLarge(at: offset) }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    private mutating func rawArbitrary() throws(Failure) -> [UInt8] {
        let n = try rawU32()
        guard n <= Self.maxValue else { throw .tooLarge(at: offset) }
        return try rawBytes(Int(n))
    }

    private mutating func rawProplist() throws(Failure) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        while true {
            guard case .string(let key) = try value() else { throw .wrongTag(expected: UInt8(ascii: "t"), found: bytes[offset - 1], at: offset - 1) }
            guard let key else { return out }
            let n = try u32()
            guard n <= Self.maxValue else { throw .tooLarge(at: offset) }
            try expect(UInt8(ascii: "x"))
            let data = try rawArbitrary()
            guard data.count == Int(n) else { throw .wrongTag(expected: UInt8(ascii: "x"), found: 0, at: offset) }
            out.append((key, data))
        }
    }
}

/// Builds tagstructs (for replies the mediator makes itself, and for tests).
public struct TagWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func u32(_ v: UInt32) { bytes.append(UInt8(ascii: "L")); bytes.appendBigEndian(v) }
    public mutating func u8(_ v: UInt8) { bytes += [UInt8(ascii: "B"), v] }
    public mutating func bool(_ v: Bool) { bytes.append(UInt8(ascii: v ? "1" : "0")) }
    public mutating func string(_ s: String?) {
        guard let s else { bytes.append(UInt8(ascii: "N")); return }
        bytes.append(UInt8(ascii: "t"))
        bytes += Array(s.utf8)
        bytes.append(0)
    }
    public mutating func arbitrary(_ data: [UInt8]) {
        bytes.append(UInt8(ascii: "x"))
        bytes.appendBigEndian(UInt32(data.count))
        bytes += data
    }
    public mutating func cvolume(_ v: [UInt32]) {
        bytes += [UInt8(ascii: "v"), UInt8(truncatingIfNeeded: v.count)]
        for x in v { bytes.appendBigEndian(x) }
    }
    public mutating func proplist(_ entries: [(String, [UInt8])]) {
        bytes.append(UInt8(ascii: "P"))
        for (k, v) in entries {
            string(k)
            u32(UInt32(v.count))
            arbitrary(v)
        }
        string(nil)
    }
}

/// The commands of native-common.h (the enum's order is the wire number).
public enum PulseCommand: UInt32, Sendable, CaseIterable {
    case error = 0, timeout, reply
    case createPlaybackStream, deletePlaybackStream, createRecordStream, deleteRecordStream
    case exit, auth, setClientName, lookupSink, lookupSource, drainPlaybackStream, stat, getPlaybackLatency
    case createUploadStream, deleteUploadStream, finishUploadStream, playSample, removeSample
    case getServerInfo = 20, getSinkInfo, getSinkInfoList, getSourceInfo, getSourceInfoList
    case getModuleInfo, getModuleInfoList, getClientInfo, getClientInfoList
    case getSinkInputInfo, getSinkInputInfoList, getSourceOutputInfo, getSourceOutputInfoList
    case getSampleInfo, getSampleInfoList, subscribe
    case setSinkVolume = 36, setSinkInputVolume, setSourceVolume, setSinkMute, setSourceMute
    case corkPlaybackStream, flushPlaybackStream, triggerPlaybackStream
    case setDefaultSink, setDefaultSource, setPlaybackStreamName, setRecordStreamName
    case killClient, killSinkInput, killSourceOutput, loadModule, unloadModule
    case addAutoloadObsolete = 53, removeAutoloadObsolete, getAutoloadInfoObsolete, getAutoloadInfoListObsolete
    case getRecordLatency = 57, corkRecordStream, flushRecordStream, prebufPlaybackStream
    case request = 61, overflow, underflow, playbackStreamKilled, recordStreamKilled, subscribeEvent
    case moveSinkInput = 67, moveSourceOutput, setSinkInputMute, suspendSink, suspendSource
    case setPlaybackStreamBufferAttr = 72, setRecordStreamBufferAttr
    case updatePlaybackStreamSampleRate, updateRecordStreamSampleRate
    case playbackStreamSuspended = 76, recordStreamSuspended, playbackStreamMoved, recordStreamMoved
    case updateRecordStreamProplist = 80, updatePlaybackStreamProplist, updateClientProplist
    case removeRecordStreamProplist, removePlaybackStreamProplist, removeClientProplist
    case started = 86, extensionCommand, getCardInfo, getCardInfoList, setCardProfile
    case clientEvent = 91, playbackStreamEvent, recordStreamEvent
    case playbackBufferAttrChanged = 94, recordBufferAttrChanged
    case setSinkPort = 96, setSourcePort, setSourceOutputVolume, setSourceOutputMute, setPortLatencyOffset
    case enableSrbchannel = 101, disableSrbchannel, registerMemfdShmid, sendObjectMessage
}

/// Protocol constants the mediator uses.
public enum PulseWire {
    /// pulse/def.h PA_ERR_ACCESS: libpulse reports it as "Access denied".
    public static let errAccess: UInt32 = 1
    /// PA_ERR_PROTOCOL (def.h counts from PA_OK = 0: ACCESS 1, COMMAND 2, … PROTOCOL 7).
    public static let errProtocol: UInt32 = 7
    /// PA_ERR_UNKNOWN.
    public static let errUnknown: UInt32 = 20

    /// The text libpulse's pa_strerror gives for a PA_ERR_* code.
    public static func errorText(_ code: UInt32) -> String {
        let texts = ["OK", "Access denied", "Unknown command", "Invalid argument", "Entity exists", "No such entity",
                     "Connection refused", "Protocol error", "Timeout", "No authentication key", "Internal error",
                     "Connection terminated", "Entity killed", "Invalid server", "Module initialization failed",
                     "Bad state", "No data", "Incompatible protocol version", "Too large", "Not supported",
                     "Unknown error code", "No such extension", "Obsolete functionality", "Missing implementation",
                     "Client forked", "Input/Output error", "Device or resource busy"]
        return code < texts.count ? texts[Int(code)] : "error \(code)"
    }
    /// The AUTH version word: low 16 bits the version, the high ones flags (internal.h).
    public static let flagSHM: UInt32 = 0x8000_0000
    public static let flagMemfd: UInt32 = 0x4000_0000

    /// The ERROR reply PulseAudio's pa_pstream_send_error builds: command, tag, error code.
    public static func errorReply(tag: UInt32, error: UInt32 = errAccess) -> PulsePacket {
        var w = TagWriter()
        w.u32(PulseCommand.error.rawValue)
        w.u32(tag)
        w.u32(error)
        return .control(w.bytes)
    }

    /// A control packet's command and tag (its first two values), nil when it
    /// does not start with two u32s.
    public static func header(_ payload: [UInt8]) -> (command: UInt32, tag: UInt32)? {
        var r = TagReader(payload)
        guard let c = try? r.u32(), let t = try? r.u32() else { return nil }
        return (c, t)
    }

    /// The u32 values that follow command and tag, up to `count` of them (fewer
    /// when the arguments are not u32s).
    public static func leadingU32s(_ payload: [UInt8], count: Int) -> [UInt32] {
        var r = TagReader(payload)
        guard (try? r.u32()) != nil, (try? r.u32()) != nil else { return [] }
        var out: [UInt32] = []
        while out.count < count, let v = try? r.u32() { out.append(v) }
        return out
    }

    /// AUTH (client → server) and its REPLY (server → client) carry the protocol
    /// version as the u32 right after command and tag; clears its shared-memory
    /// and memfd flag bits in place. Returns false when the payload is not shaped so.
    @discardableResult
    public static func clearSharedMemoryFlags(_ payload: inout [UInt8]) -> Bool {
        // 'L' cmd(4) 'L' tag(4) 'L' version(4): the version's bytes are 11..<15.
        guard payload.count >= 15, payload[0] == UInt8(ascii: "L"), payload[5] == UInt8(ascii: "L"),
              payload[10] == UInt8(ascii: "L") else { return false }
        let v = payload.bigEndianU32(at: 11) & ~(flagSHM | flagMemfd)
        payload.replaceBigEndian(v, at: 11)
        return true
    }
}

extension Array where Element == UInt8 {
    func bigEndianU32(at i: Int) -> UInt32 {
        UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }

    mutating func appendBigEndian(_ v: UInt32) {
        append(UInt8(v >> 24)); append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8)); append(UInt8(truncatingIfNeeded: v))
    }

    mutating func replaceBigEndian(_ v: UInt32, at i: Int) {
        self[i] = UInt8(v >> 24); self[i + 1] = UInt8(truncatingIfNeeded: v >> 16)
        self[i + 2] = UInt8(truncatingIfNeeded: v >> 8); self[i + 3] = UInt8(truncatingIfNeeded: v)
    }
}
