// Typed errors. Every message says what is wrong, where (file, line, key) and
// how to fix it; the CLI prints `description` and exits non-zero.

/// A place in a profile or config file.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public init(file: String, line: Int? = nil, key: String? = nil) {
        self.file = file
        self.line = line
        self.key = key
    }
    /// "FILE:LINE: key K" – the form editors and compilers use.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let key { s += ": key '\(key)'" }
        return s
    }
}

/// A problem in a profile or config file. `profile check` collects all of them.
public struct ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case syntax, unknownKey, wrongType, badValue, badIDMap, idMapOverlap, idMapRange,
             idMapNotDelegated, badMountTarget, missingInclude, includeCycle, notFound,
             /// A profile or config file (or its directory) another user could change.
             unsafeFile
    }
    public var kind: Kind
    public var location: SourceLocation
    public var message: String
    /// How to fix it, when there is something to say.
    public var hint: String?
    public init(_ kind: Kind, at location: SourceLocation, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.location = location
        self.message = message
        self.hint = hint
    }
    public var description: String {
        var s = "\(location): \(message)"
        if let hint { s += " (\(hint))" }
        return s
    }
}

/// Several profile problems at once.
public struct ProfileErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ProfileError]
    public init(_ errors: [ProfileError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A failure for the user, as data: what failed (`what`), why (`errno`, the
/// system's reason, and `cause`, a lower failure's text), and how to fix it
/// (`hint`). `message` is the one place these become a line of text; Console
/// prints it with the hint. Throw sites say what they were doing and pass the
/// errno or the error they met, instead of formatting them.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
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
