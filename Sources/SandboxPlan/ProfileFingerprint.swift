/// FNV-1a over a profile file's bytes: cheap and stable across processes. The
/// launcher records it from the bytes it parsed; a join compares it with the file
/// now, to say that a change applies at the next start. Not a security check.
public enum ProfileFingerprint {
    public static func of(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return String(h, radix: 16)
    }
}
