#if canImport(Glibc)
import Glibc
#endif

/// The invoking user, read once from the kernel and the passwd database.
public struct UserIdentity: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var name: String
    public var home: String
    public var shell: String
    /// Supplementary groups of the process (getgroups), e.g. video, render, audio.
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, name: String, home: String, shell: String = "/bin/sh", groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.name = name
        self.home = home
        self.shell = shell
        self.groups = groups
    }

    /// The real uid/gid of this process; HOME from the environment wins over passwd, as everywhere.
    public static func current(environment env: [String: String] = Environment.current) -> UserIdentity {
        let uid = getuid(), gid = getgid()
        var name = env["USER"] ?? "user\(uid)"
        var home = env["HOME"] ?? "/"
        var shell = "/bin/sh"
        if let pw = getpwuid(uid) {
            name = String(cString: pw.pointee.pw_name)
            if env["HOME"] == nil { home = String(cString: pw.pointee.pw_dir) }
            shell = String(cString: pw.pointee.pw_shell)
        }
        var groups = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
        let n = getgroups(Int32(groups.count), &groups)
        groups = n > 0 ? Array(groups.prefix(Int(n))) : []
        return UserIdentity(uid: uid, gid: gid, name: name, home: home, shell: shell, groups: groups.map { UInt32($0) })
    }
}

/// The process environment as a dictionary, without Foundation.
public enum Environment {
    public static var current: [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                result[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return result
    }
}

/// Where sandbox keeps things, per the XDG base directory spec.
public struct Paths: Sendable, Equatable {
    /// ~/.config/sandbox (profiles/ and config.toml)
    public var configDir: String
    /// ~/.local/share/sandbox (NAME/rootfs, NAME/home)
    public var dataDir: String
    /// $XDG_RUNTIME_DIR/sandbox (NAME/ state, sockets, locks)
    public var runtimeDir: String
    /// Profile directories, highest priority first.
    public var profileDirs: [String]

    public init(configDir: String, dataDir: String, runtimeDir: String, profileDirs: [String]) {
        self.configDir = configDir
        self.dataDir = dataDir
        self.runtimeDir = runtimeDir
        self.profileDirs = profileDirs
    }

    /// Computes the paths from the environment and where this executable lives:
    /// user > /etc/sandbox > PREFIX/share/sandbox > the checkout's Profiles/ (build tree only).
    public static func current(environment env: [String: String] = Environment.current,
                               user: UserIdentity = .current(),
                               executable: String = Paths.executablePath()) -> Paths {
        func xdg(_ key: String, _ fallback: String) -> String {
            if let v = env[key], v.hasPrefix("/") { return v }   // relative XDG values are invalid per spec
            return fallback
        }
        let config = xdg("XDG_CONFIG_HOME", user.home + "/.config") + "/sandbox"
        let data = xdg("XDG_DATA_HOME", user.home + "/.local/share") + "/sandbox"
        let runtime = xdg("XDG_RUNTIME_DIR", "/tmp/sandbox-runtime-\(user.uid)") + "/sandbox"
        var dirs = [config + "/profiles", "/etc/sandbox/profiles"]
        // PREFIX/bin/sandbox -> PREFIX/share/sandbox/profiles
        let binDir = HostFile.dirname(executable)
        dirs.append(HostFile.dirname(binDir) + "/share/sandbox/profiles")
        // <checkout>/.build/<config>/sandbox -> <checkout>/Profiles
        let parts = executable.split(separator: "/", omittingEmptySubsequences: false)
        if let i = parts.firstIndex(of: ".build"), i > 0 {
            dirs.append(parts[..<i].joined(separator: "/") + "/Profiles")
        }
        return Paths(configDir: config, dataDir: data, runtimeDir: runtime, profileDirs: dirs)
    }

    public var userConfigFile: String { configDir + "/config.toml" }
    public func stateDir(_ name: String) -> String { runtimeDir + "/" + name }
    public func rootfsDir(_ name: String) -> String { dataDir + "/" + name + "/rootfs" }
    public func homeDir(_ name: String) -> String { dataDir + "/" + name + "/home" }

    public static func executablePath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return "/usr/local/bin/sandbox" }
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
