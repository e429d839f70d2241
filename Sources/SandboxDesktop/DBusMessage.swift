// The D-Bus wire format (little-endian), as much of it as the launcher needs to
// call one method on the session bus with file descriptors: the document
// portal's AddFull. Values are marshalled by signature with the spec's
// alignment rules; replies are parsed with bounds checks on every read and a
// bound on nesting, since the bytes come from another process.

import SandboxSystem

/// A D-Bus value, by its type code.
public indirect enum DBusValue: Equatable, Sendable {
    case byte(UInt8)
    case bool(Bool)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(UInt64)          // the bits: only carried, never computed with
    case string(String)
    case objectPath(String)
    case signature(String)
    /// An index into the message's file descriptors.
    case unixFD(UInt32)
    case array(elementSignature: String, [DBusValue])
    case structure([DBusValue])
    case dictEntry(DBusValue, DBusValue)
    case variant(signature: String, DBusValue)

    public var string: String? {
        switch self {
        case .string(let s), .objectPath(let s), .signature(let s): s
        default: nil
        }
    }
}

public struct DBusMessage: Equatable, Sendable {
    public enum Kind: UInt8, Sendable { case methodCall = 1, methodReturn = 2, error = 3, signal = 4 }
    public var kind: Kind
    public var serial: UInt32
    public var path: String?
    public var interface: String?
    public var member: String?
    public var errorName: String?
    public var replySerial: UInt32?
    public var destination: String?
    public var sender: String?
    public var signature: String = ""
    public var unixFDs: UInt32 = 0
    public var body: [DBusValue] = []

    public init(kind: Kind, serial: UInt32) {
        self.kind = kind
        self.serial = serial
    }

    public static func methodCall(serial: UInt32, destination: String, path: String, interface: String, member: String,
                                  signature: String = "", body: [DBusValue] = [], unixFDs: UInt32 = 0) -> DBusMessage {
        var m = DBusMessage(kind: .methodCall, serial: serial)
        m.destination = destination
        m.path = path
        m.interface = interface
        m.member = member
        m.signature = signature
        m.body = body
        m.unixFDs = unixFDs
        return m
    }

    /// Messages larger than this are refused (the spec's maximum is 128 MiB; ours are small).
    public static let maxLength = 1 << 20

    public func encoded() throws(SandboxError) -> [UInt8] {
        var body = DBusWriter()
        let types = try DBusSignature.split(signature)
        guard types.count == self.body.count else { throw SandboxError("body has \(self.body.count) values for signature \(signature)") }
        for (t, v) in zip(types, self.body) { try body.write(v, as: t) }
        var fields: [DBusValue] = []
        func field(_ code: UInt8, _ sig: String, _ v: DBusValue) {
            fields.append(.structure([.byte(code), .variant(signature: sig, v)]))
        }
        if let path { field(1, "o", .objectPath(path)) }
        if let interface { field(2, "s", .string(interface)) }
        if let member { field(3, "s", .string(member)) }
        if let errorName { field(4, "s", .string(errorName)) }
        if let replySerial { field(5, "u", .uint32(replySerial)) }
        if let destination { field(6, "s", .string(destination)) }
        if let sender { field(7, "s", .string(sender)) }
        if !signature.isEmpty { field(8, "g", .signature(signature)) }
        if unixFDs > 0 { field(9, "u", .uint32(unixFDs)) }
        var header = DBusWriter()
        header.bytes = [UInt8(ascii: "l"), kind.rawValue, 0, 1]
        header.writeUInt32(UInt32(body.bytes.count))
        header.writeUInt32(serial)
        try header.write(.array(elementSignature: "(yv)", fields), as: "a(yv)")
        header.align(8)
        let all = header.bytes + body.bytes
        guard all.count <= Self.maxLength else { throw SandboxError("message of \(all.count) bytes is too large") }
        return all
    }

    /// The length of the message that starts with these 16 bytes (header and body), or nil if they are no D-Bus header.
    public static func totalLength(header16 b: [UInt8]) -> Int? {
        guard b.count >= 16, b[0] == UInt8(ascii: "l"), b[3] == 1 else { return nil }
        func u32(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24 }
        let fieldsLength = u32(12)
        let headerEnd = (16 + fieldsLength + 7) & ~7
        let total = headerEnd + u32(4)
        return total <= maxLength ? total : nil
    }

    public static func decode(_ bytes: [UInt8]) throws(SandboxError) -> DBusMessage {
        guard bytes.count >= 16, bytes[0] == UInt8(ascii: "l") else { throw SandboxError("not a little-endian D-Bus message") }
        guard let kind = Kind(rawValue: bytes[1]) else { throw SandboxError("unknown message type \(bytes[1])") }
        var r = DBusReader(bytes: bytes, offset: 4)
        let bodyLength = Int(try r.readUInt32())
        var m = DBusMessage(kind: kind, serial: try r.readUInt32())
        guard case .array(_, let fields) = try r.read("a(yv)") else { throw SandboxError("bad header fields") }
        for f in fields {
            guard case .structure(let parts) = f, parts.count == 2, case .byte(let code) = parts[0],
                  case .variant(_, let v) = parts[1] else { continue }
            switch (code, v) {
            case (1, .objectPath(let s)): m.path = s
            case (2, .string(let s)): m.interface = s
            case (3, .string(let s)): m.member = s
            case (4, .string(let s)): m.errorName = s
            case (5, .uint32(let u)): m.replySerial = u
            case (6, .string(let s)): m.destination = s
            case (7, .string(let s)): m.sender = s
            case (8, .signature(let s)): m.signature = s
            case (9, .uint32(let u)): m.unixFDs = u
            default: break
            }
        }
        try r.align(8)
        guard r.offset + bodyLength == bytes.count else { throw SandboxError("body length \(bodyLength) does not match the message") }
        var body = DBusReader(bytes: Array(bytes[r.offset...]), offset: 0)
        for t in try DBusSignature.split(m.signature) { m.body.append(try body.read(t)) }
        return m
    }
}


enum DBusSignature {
    static let maxDepth = 32

    /// The complete types of a signature, e.g. "ahusas" → ["ah", "u", "s", "as"].
    static func split(_ sig: String) throws(SandboxError) -> [String] {
        let s = Array(sig.utf8)
        var out: [String] = []
        var i = 0
        while i < s.count {
            let end = try completeTypeEnd(s, i, depth: 0)
            out.append(String(decoding: s[i..<end], as: UTF8.self))
            i = end
        }
        return out
    }

    /// The index just past the complete type starting at `i`.
    static func completeTypeEnd(_ s: [UInt8], _ i: Int, depth: Int) throws(SandboxError) -> Int {
        guard depth < maxDepth else { throw SandboxError("signature nested too deeply") }
        guard i < s.count else { throw SandboxError("signature ends early") }
        switch s[i] {
        case UInt8(ascii: "a"): return try completeTypeEnd(s, i + 1, depth: depth + 1)
        case UInt8(ascii: "("), UInt8(ascii: "{"):
            let close = s[i] == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "}")
            var j = i + 1
            while j < s.count && s[j] != close { j = try completeTypeEnd(s, j, depth: depth + 1) }
            guard j < s.count, j > i + 1 else { throw SandboxError("bad struct in signature") }
            return j + 1
        default:
            guard "ybnqiuxtdsoghv".utf8.contains(s[i]) else { throw SandboxError("unknown type code in signature") }
            return i + 1
        }
    }

    static func alignment(_ code: UInt8) -> Int {
        switch code {
        case UInt8(ascii: "y"), UInt8(ascii: "g"), UInt8(ascii: "v"): 1
        case UInt8(ascii: "n"), UInt8(ascii: "q"): 2
        case UInt8(ascii: "x"), UInt8(ascii: "t"), UInt8(ascii: "d"), UInt8(ascii: "("), UInt8(ascii: "{"): 8
        default: 4
        }
    }
}

struct DBusWriter {
    var bytes: [UInt8] = []

    mutating func align(_ n: Int) { while bytes.count % n != 0 { bytes.append(0) } }
    mutating func writeUInt32(_ v: UInt32) {
        align(4)
        for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) }
    }
    mutating func writeUInt64(_ v: UInt64) {
        align(8)
        for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }
    mutating func writeString(_ s: String, lengthBytes: Int) throws(SandboxError) {
        let u = Array(s.utf8)
        guard !u.contains(0) else { throw SandboxError("a string with a NUL byte") }
        if lengthBytes == 1 {
            guard u.count < 256 else { throw SandboxError("signature too long") }
            bytes.append(UInt8(u.count))
        } else {
            writeUInt32(UInt32(u.count))
        }
        bytes += u
        bytes.append(0)
    }

    mutating func write(_ v: DBusValue, as type: String) throws(SandboxError) {
        let t = Array(type.utf8)
        guard let code = t.first else { throw SandboxError("empty type") }
        switch (code, v) {
        case (UInt8(ascii: "y"), .byte(let b)): bytes.append(b)
        case (UInt8(ascii: "b"), .bool(let b)): writeUInt32(b ? 1 : 0)
        case (UInt8(ascii: "i"), .int32(let i)): writeUInt32(UInt32(bitPattern: i))
        case (UInt8(ascii: "u"), .uint32(let u)), (UInt8(ascii: "h"), .unixFD(let u)): writeUInt32(u)
        case (UInt8(ascii: "x"), .int64(let i)): writeUInt64(UInt64(bitPattern: i))
        case (UInt8(ascii: "t"), .uint64(let u)), (UInt8(ascii: "d"), .double(let u)): writeUInt64(u)
        case (UInt8(ascii: "s"), .string(let s)), (UInt8(ascii: "o"), .objectPath(let s)): try writeString(s, lengthBytes: 4)
        case (UInt8(ascii: "g"), .signature(let s)): try writeString(s, lengthBytes: 1)
        case (UInt8(ascii: "v"), .variant(let sig, let inner)):
            try writeString(sig, lengthBytes: 1)
            try write(inner, as: sig)
        case (UInt8(ascii: "a"), .array(_, let items)):
            let element = String(decoding: t.dropFirst(), as: UTF8.self)
            writeUInt32(0)
            let lengthAt = bytes.count - 4
            align(DBusSignature.alignment(t[1]))
            let start = bytes.count
            for item in items { try write(item, as: element) }
            let n = UInt32(bytes.count - start)
            for k in 0..<4 { bytes[lengthAt + k] = UInt8(truncatingIfNeeded: n >> UInt32(8 * k)) }
        case (UInt8(ascii: "("), .structure(let parts)):
            align(8)
            let inner = try DBusSignature.split(String(decoding: t.dropFirst().dropLast(), as: UTF8.self))
            guard inner.count == parts.count else { throw SandboxError("struct of \(parts.count) values for \(type)") }
            for (pt, pv) in zip(inner, parts) { try write(pv, as: pt) }
        case (UInt8(ascii: "{"), .dictEntry(let k, let val)):
            align(8)
            let inner = try DBusSignature.split(String(decoding: t.dropFirst().dropLast(), as: UTF8.self))
            guard inner.count == 2 else { throw SandboxError("bad dict entry type \(type)") }
            try write(k, as: inner[0])
            try write(val, as: inner[1])
        default:
            throw SandboxError("value \(v) does not fit type \(type)")
        }
    }
}

struct DBusReader {
    let bytes: [UInt8]
    var offset: Int

    mutating func align(_ n: Int) throws(SandboxError) {
        let next = (offset + n - 1) / n * n
        guard next <= bytes.count else { throw SandboxError("message ends early") }
        offset = next
    }
    mutating func take(_ n: Int) throws(SandboxError) -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw SandboxError("message ends early") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    mutating func readUInt32() throws(SandboxError) -> UInt32 {
        try align(4)
        let b = try take(4)
        return b.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func readUInt64() throws(SandboxError) -> UInt64 {
        try align(8)
        let b = try take(8)
        return b.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func readString(lengthBytes: Int) throws(SandboxError) -> String {
        let n = lengthBytes == 1 ? Int(try take(1).first!) : Int(try readUInt32())
        let s = try take(n)
        guard try take(1).first == 0 else { throw SandboxError("string not NUL-terminated") }
        guard let text = String(validating: s, as: UTF8.self), !s.contains(0) else { throw SandboxError("string is not UTF-8") }
        return text
    }

    mutating func read(_ type: String, depth: Int = 0) throws(SandboxError) -> DBusValue {
        guard depth < DBusSignature.maxDepth else { throw SandboxError("value nested too deeply") }
        let t = Array(type.utf8)
        guard let code = t.first else { throw SandboxError("empty type") }
        switch code {
        case UInt8(ascii: "y"): return .byte(try take(1).first!)
        case UInt8(ascii: "b"): return .bool(try readUInt32() != 0)
        case UInt8(ascii: "n"), UInt8(ascii: "q"):
            try align(2)
            let b = try take(2)
            return .uint32(UInt32(b.first!) | UInt32(b.last!) << 8)
        case UInt8(ascii: "i"): return .int32(Int32(bitPattern: try readUInt32()))
        case UInt8(ascii: "u"): return .uint32(try readUInt32())
        case UInt8(ascii: "h"): return .unixFD(try readUInt32())
        case UInt8(ascii: "x"): return .int64(Int64(bitPattern: try readUInt64()))
        case UInt8(ascii: "t"): return .uint64(try readUInt64())
        case UInt8(ascii: "d"): return .double(try readUInt64())
        case UInt8(ascii: "s"): return .string(try readString(lengthBytes: 4))
        case UInt8(ascii: "o"): return .objectPath(try readString(lengthBytes: 4))
        case UInt8(ascii: "g"): return .signature(try readString(lengthBytes: 1))
        case UInt8(ascii: "v"):
            let sig = try readString(lengthBytes: 1)
            guard try DBusSignature.split(sig).count == 1 else { throw SandboxError("variant signature \(sig) is not one type") }
            return .variant(signature: sig, try read(sig, depth: depth + 1))
        case UInt8(ascii: "a"):
            let n = Int(try readUInt32())
            guard n <= DBusMessage.maxLength else { throw SandboxError("array too long") }
            let element = String(decoding: t.dropFirst(), as: UTF8.self)
            try align(DBusSignature.alignment(t[1]))
            let end = offset + n
            guard end <= bytes.count else { throw SandboxError("array runs past the message") }
            var items: [DBusValue] = []
            while offset < end { items.append(try read(element, depth: depth + 1)) }
            guard offset == end else { throw SandboxError("array elements overrun its length") }
            return .array(elementSignature: element, items)
        case UInt8(ascii: "("), UInt8(ascii: "{"):
            try align(8)
            let inner = try DBusSignature.split(String(decoding: t.dropFirst().dropLast(), as: UTF8.self))
            var parts: [DBusValue] = []
            for pt in inner { parts.append(try read(pt, depth: depth + 1)) }
            if code == UInt8(ascii: "{") {
                guard parts.count == 2 else { throw SandboxError("dict entry of \(parts.count) values") }
                return .dictEntry(parts[0], parts[1])
            }
            return .structure(parts)
        default:
            throw SandboxError("unknown type \(type)")
        }
    }
}
