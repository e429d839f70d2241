#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered writes to stdout/stderr without Foundation.
///
/// Every message for a person has one shape, whatever printed it (the CLI, the
/// argument parser, the supervisor's reports): `sandbox: KIND: text`, with the
/// kind error, warning, notice or hint, and a fix-it on its own `hint:` line.
/// Progress lines of long commands say which command: `sandbox create: …`.
public enum Console {
    public enum Kind: String, Sendable { case error, warning, notice, hint }

    public static func out(_ text: String) { write(1, text) }
    public static func err(_ text: String) { write(2, text) }

    /// `sandbox: KIND: text`, each line of a multi-line text prefixed the same way.
    public static func say(_ kind: Kind, _ text: String) { err(format(kind, text)) }

    /// An error and its hint, as printed.
    public static func say(_ error: SandboxError) { err(format(error)) }

    public static func format(_ kind: Kind, _ text: String, program: String = "sandbox") -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "\(program): \(kind.rawValue): \($0)" }.joined(separator: "\n")
    }

    public static func format(_ error: SandboxError, program: String = "sandbox") -> String {
        var text = format(.error, error.message, program: program)
        if let hint = error.hint { text += "\n" + format(.hint, hint, program: program) }
        return text
    }

    private static func write(_ fd: Int32, _ text: String) {
        try? HostFile.writeAll(fd, Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
