// The one error type for what a person reads: SandboxSystem holds it so that
// every module, the mediators included, throws the same thing.
#if canImport(Glibc)
import Glibc
#endif

/// A failure for the user, as data: what failed (`what`), why (`errno`, the
/// system's reason, and `cause`, a lower failure's text), and how to fix it
/// (`hint`). `message` is the one place these become a line of text; Console
/// prints it with the hint. Throw sites say what they were doing and pass the
/// errno or the error they met, instead of formatting them.
public struct SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var what: String
    public var errno: Int32?
    public var cause: String?
    public var hint: String?

    public init(_ what: String, errno: Int32? = nil, cause: String? = nil, hint: String? = nil) {
        self.what = what
        self.errno = errno
        self.cause = cause
        self.hint = hint
    }

    /// A failed system call: "WHAT: the errno's text".
    public static func system(_ what: String, errno: Int32, hint: String? = nil) -> SandboxError {
        SandboxError(what, errno: errno, hint: hint)
    }

    /// A failure that another one caused: "WHAT: the cause's message". The cause's
    /// hint stays, unless this one has its own.
    public static func wrapping(_ cause: any Error, _ what: String, hint: String? = nil) -> SandboxError {
        if let inner = cause as? SandboxError {
            return SandboxError(what, cause: inner.message, hint: hint ?? inner.hint)
        }
        return SandboxError(what, cause: "\(cause)", hint: hint)
    }

    /// "WHAT[: errno text][: cause]".
    public var message: String {
        var text = what
        if let errno { text += ": " + errnoText(errno) }
        if let cause { text += ": " + cause }
        return text
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\nhint: \(hint)"
    }
}
