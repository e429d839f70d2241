#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered writes to stdout/stderr without Foundation.
public enum Console {
    public static func out(_ text: String) { write(1, text) }
    public static func err(_ text: String) { write(2, text) }

    private static func write(_ fd: Int32, _ text: String) {
        try? HostFile.writeAll(fd, Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
