// Xauthority files in pure Swift (the format libXau reads and writes), so the
// supervisor reads the user's cookie and writes the container's without libXau.
// An entry is five fields, each big-endian: a 2-byte family, then address,
// display number, authorization name and data, each as a 2-byte length + bytes.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

/// One Xauthority entry (addresses and cookies are bytes).
public struct XauthEntry: Sendable, Equatable {
    public var family: UInt16
    public var address: [UInt8]
    public var number: String
    public var name: String
    public var data: [UInt8]

    public init(family: UInt16, address: [UInt8], number: String, name: String, data: [UInt8]) {
        self.family = family
        self.address = address
        self.number = number
        self.name = name
        self.data = data
    }

    /// libXau's FamilyLocal and FamilyWild.
    public static let familyLocal: UInt16 = 256
    public static let familyWild: UInt16 = 65535
}

/// Choosing the cookie a container gets (pure; flatpak's write_xauth is the model).
public enum XauthSelection {
    /// The entries of the user's Xauthority that authorise `display` from this
    /// host, rewritten to FamilyWild: inside the container the hostname differs
    /// (own UTS namespace), so a FamilyLocal entry keyed by the host's name would
    /// never match. Entries for other displays, other hosts or TCP are dropped.
    public static func entries(from all: [XauthEntry], display: UInt32, hostname: String) -> [XauthEntry] {
        var picked: [XauthEntry] = []
        let number = String(display)
        for entry in all {
            let local = entry.family == XauthEntry.familyLocal && entry.address == Array(hostname.utf8)
            guard local || entry.family == XauthEntry.familyWild else { continue }
            // An empty number matches every display (libXau semantics).
            guard entry.number.isEmpty || entry.number == number else { continue }
            var wild = entry
            wild.family = XauthEntry.familyWild
            wild.address = []
            wild.number = number
            // Two host entries (local + wild) for one display would both be written; keep the first.
            if !picked.contains(where: { $0.name == wild.name }) { picked.append(wild) }
        }
        return picked
    }

    /// The MIT-MAGIC-COOKIE-1 this host's clients present for `display`, if any.
    public static func cookie(from all: [XauthEntry], display: UInt32, hostname: String) -> [UInt8]? {
        entries(from: all, display: display, hostname: hostname).first { $0.name == "MIT-MAGIC-COOKIE-1" }?.data
    }
}

public enum Xauthority {
    /// Every complete entry of a file's bytes; a truncated last entry is
    /// ignored, as libXau's reader stops there.
    public static func parse(_ b: [UInt8]) -> [XauthEntry] {
        var entries: [XauthEntry] = []
        var at = 0
        func field() -> [UInt8]? {
            guard at + 2 <= b.count else { return nil }
            let n = Int(b[at]) << 8 | Int(b[at + 1])
            guard at + 2 + n <= b.count else { return nil }
            defer { at += 2 + n }
            return Array(b[at + 2..<at + 2 + n])
        }
        while at + 2 <= b.count {
            let family = UInt16(b[at]) << 8 | UInt16(b[at + 1])
            at += 2
            guard let address = field(), let number = field(), let name = field(), let data = field() else { break }
            entries.append(XauthEntry(family: family, address: address, number: String(decoding: number, as: UTF8.self),
                                      name: String(decoding: name, as: UTF8.self), data: data))
        }
        return entries
    }

    public static func encode(_ entries: [XauthEntry]) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: Int) { out += [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
        func field(_ f: [UInt8]) { u16(f.count); out += f }
        for e in entries {
            u16(Int(e.family))
            field(e.address); field(Array(e.number.utf8)); field(Array(e.name.utf8)); field(e.data)
        }
        return out
    }

    /// The entries of `path`; a missing file is an empty list (X servers run without one).
    public static func read(_ path: String) throws(SandboxError) -> [XauthEntry] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return [] }
            throw SandboxError.system("cannot read the X authority file \(path)", errno: errno,
                                hint: "check XAUTHORITY points to a readable file")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { buf in retryingEINTR { Glibc.read(fd, buf.baseAddress, buf.count) } }
            guard n >= 0 else {
                throw SandboxError.system("cannot read the X authority file \(path)", errno: errno)
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return parse(bytes)
    }

    /// Writes `entries` to `path` (mode 0600) through a temporary file and
    /// rename, so a reader never sees half a cookie. No fsync: the file is the
    /// container's, in the runtime directory, and does not outlive a boot.
    public static func write(_ entries: [XauthEntry], to path: String) throws(SandboxError) {
        let temp = path + ".tmp\(getpid())"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SandboxError.system("cannot write \(temp)", errno: errno) }
        let bytes = encode(entries)
        var done = 0
        var failure: Int32 = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { buf in retryingEINTR { Glibc.write(fd, buf.baseAddress, buf.count) } }
            if n <= 0 { failure = errno; break }
            done += n
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temp, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temp)
            throw SandboxError.system("cannot write the container's X authority file \(path)", errno: failure)
        }
    }
}

