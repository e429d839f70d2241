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
    /// The process's environment (a later duplicate wins). Split at the "=" byte:
    /// a Character search and a growing dictionary cost 37 K instructions a
    /// variable, which a desktop session's 60 make a tenth of a click's work.
    public static var current: [String: String] {
        var count = 0
        while environ[count] != nil { count += 1 }
        var result: [String: String] = [:]
        result.reserveCapacity(count)
        for i in 0..<count {
            guard let entry = environ[i], let eq = strchr(entry, 61 /* = */) else { continue }
            let key = String(decoding: UnsafeRawBufferPointer(start: entry, count: eq - entry), as: UTF8.self)
            result[key] = String(cString: eq + 1)
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
