// Finding, loading, merging and validating profiles. CONTRACT for other
// components: `ProfileStore(paths:user:).load(nameOrPath)` returns a fully merged,
// validated Profile or throws ProfileErrors (every problem, each with file, line
// and key). Implementation: issue 2 (profiles).

/// One line of `sandbox profile list`.
public struct ProfileSummary: Sendable, Equatable {
    public var name: String
    public var path: String
    public var description: String
    public init(name: String, path: String, description: String) {
        self.name = name
        self.path = path
        self.description = description
    }
}

/// Per-user defaults from ~/.config/sandbox/config.toml.
public struct UserConfig: Sendable, Equatable {
    public var bridge: String = "sandboxbr0"
    /// Overrides Paths.dataDir when set.
    public var dataDir: String? = nil
    public var stopTimeout: Int = 10
    public init() {}
}

public struct ProfileStore: Sendable {
    public var paths: Paths
    public var user: UserIdentity

    public init(paths: Paths, user: UserIdentity) {
        self.paths = paths
        self.user = user
    }

    /// Loads NAME from the search path, or a file when the argument contains "/" or ends in ".toml".
    public func load(_ nameOrPath: String) throws(ProfileErrors) -> Profile {
        throw ProfileErrors([ProfileError(.notFound, at: SourceLocation(file: nameOrPath), "profile loading is not implemented yet")])
    }

    /// Every profile found, first directory wins for equal names.
    public func list() -> [ProfileSummary] { [] }

    /// ~/.config/sandbox/config.toml, or defaults when it does not exist.
    public func userConfig() throws(ProfileErrors) -> UserConfig { UserConfig() }
}
