import SandboxCore

/// The app's environment, built from nothing (as `lxc-attach --clear-env`): the
/// host's variables leak session secrets (SSH_AUTH_SOCK, DBUS_SESSION_BUS_ADDRESS,
/// tokens) and host-only paths, so only a short allow-list is carried over.
/// Order of precedence, later wins: base → desktop (display, sound) → profile [env].
public struct EnvironmentPlanner: Sendable, Equatable {
    public var user: UserIdentity
    public var hostEnvironment: [String: String]
    /// HOME inside the container.
    public var home: String
    /// XDG_RUNTIME_DIR inside the container (/run/user/UID).
    public var runtimeDir: String

    /// The PATH lxc-attach --clear-env and most distributions' login shells use.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public init(user: UserIdentity, hostEnvironment: [String: String], home: String? = nil, runtimeDir: String? = nil) {
        self.user = user
        self.hostEnvironment = hostEnvironment
        self.home = home ?? user.home
        self.runtimeDir = runtimeDir ?? "/run/user/\(user.uid)"
    }

    /// Variables every app gets: identity, search path, locale, terminal, runtime dir.
    public func base() -> [String: String] {
        var env: [String: String] = [
            "HOME": home,
            "USER": user.name,
            "LOGNAME": user.name,
            "SHELL": user.shell.isEmpty ? "/bin/sh" : user.shell,
            "PATH": Self.defaultPath,
            "XDG_RUNTIME_DIR": runtimeDir,
        ]
        // Locale: LANG, LANGUAGE and every LC_* (LC_ALL included) as the user set them.
        for (key, value) in hostEnvironment where key == "LANG" || key == "LANGUAGE" || key.hasPrefix("LC_") {
            env[key] = value
        }
        if let term = hostEnvironment["TERM"], !term.isEmpty { env["TERM"] = term }
        if let colorterm = hostEnvironment["COLORTERM"], !colorterm.isEmpty { env["COLORTERM"] = colorterm }
        return env
    }

    /// The complete environment as sorted "KEY=VALUE" strings for execve.
    public func environment(desktop: [String: String], profile: [String: String]) -> [String] {
        var env = base()
        env.merge(desktop) { _, new in new }
        env.merge(profile) { _, new in new }
        return Self.render(env)
    }

    /// "KEY=VALUE" strings sorted by key, so plans compare equal and logs are stable.
    public static func render(_ env: [String: String]) -> [String] {
        env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
