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
