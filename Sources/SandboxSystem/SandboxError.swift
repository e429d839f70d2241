// The one error type for what a person reads: SandboxSystem holds it so that
// every module, the mediators included, throws the same thing.
#if canImport(Glibc)
import Glibc
#endif

/// A failure for the user, as data: which kind (`code`), what failed (`what`), why (`errno`, the
/// system's reason, and `cause`, a lower failure's text), and how to fix it
/// (`hint`). `message` is the one place these become a line of text; Console
/// prints it with the hint. Throw sites say what they were doing and pass the
/// errno or the error they met, instead of formatting them.
public struct SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which kind of failure: `run` and `exec` pass the app's own exit status on,
    /// so their own failures take statuses an app rarely uses, as env(1), chroot(1)
    /// and `podman run` do.
    public enum Code: Sendable, Equatable {
        /// sandbox could not do it (start, join, the container gone): 125.
        case failed
        /// The command is there but cannot be executed (not executable, a bad
        /// interpreter): 126.
        case commandNotExecutable
        /// The command is not there inside the container: 127.
        case commandNotFound

        public var launchExitStatus: Int32 {
            switch self {
            case .failed: 125
            case .commandNotExecutable: 126
            case .commandNotFound: 127
            }
        }
    }

    public var code: Code
    public var what: String
    public var errno: Int32?
    public var cause: String?
    public var hint: String?

    public init(_ what: String, code: Code = .failed, errno: Int32? = nil, cause: String? = nil, hint: String? = nil) {
        self.code = code
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
