// D-Bus server addresses (the D-Bus specification, "Server Addresses"): a
// `;`-separated list of `transport:key=value,…` entries, tried in order, whose
// values escape bytes as %XX. Only `unix:path=` and `unix:abstract=` name a
// socket a client can connect to; tcp:, nonce-tcp:, unixexec: and the listening
// forms (unix:dir=, unix:tmpdir=, unix:runtime=) are passed over.

/// One `unix:` entry of a D-Bus address that names a socket.
public enum UnixBusAddress: Sendable, Equatable, CustomStringConvertible {
    /// A socket file, `unix:path=…`.
    case path(String)
    /// A Linux abstract socket, `unix:abstract=…` (the name without its leading NUL).
    case abstract(String)

    /// Every `unix:path=` and `unix:abstract=` entry of `address`, in order. An
    /// entry whose value is empty, badly escaped or holds a NUL is left out.
    public static func parse(_ address: String) -> [UnixBusAddress] {
        var out: [UnixBusAddress] = []
        for entry in address.split(separator: ";") where entry.hasPrefix("unix:") {
            for pair in entry.dropFirst(5).split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, kv[0] == "path" || kv[0] == "abstract",
                      let value = PercentEscapes.decode(kv[1]), !value.isEmpty else { continue }
                out.append(kv[0] == "path" ? .path(value) : .abstract(value))
                break
            }
        }
        return out
    }

    /// The name for connect(2): the path, or the abstract name after a NUL byte.
    public var socketName: String {
        switch self {
        case .path(let p): return p
        case .abstract(let name): return "\0" + name
        }
    }

    /// For messages: the entry as written, unescaped.
    public var description: String {
        switch self {
        case .path(let p): return "unix:path=" + p
        case .abstract(let name): return "unix:abstract=" + name
        }
    }
}

/// %XX escapes, as D-Bus address values and URL paths write bytes.
public enum PercentEscapes {
    /// The bytes `s` stands for; nil for a bad escape, a NUL or invalid UTF-8.
    public static func decode(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                // Two hex digits exactly: UInt8(_:radix:) alone would take "%+f".
                guard it.count >= 2, it.prefix(2).allSatisfy(\.isHexDigit),
                      let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                out.append(v)
                it = it.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        guard !out.contains(0) else { return nil }
        return String(validating: out, as: UTF8.self)
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
