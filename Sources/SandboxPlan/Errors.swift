// A profile's problems: each says what is wrong, where (file, line, key) and how
// to fix it. Every other failure is a SandboxError (SandboxSystem).

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
