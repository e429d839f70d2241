#if canImport(Glibc)
import Glibc
#endif

// The launcher's view of who runs it and where its files are. Not in SandboxPlan:
// the supervisor gets the user and the paths in its plan. No getpwuid here either
// (Accounts says why).

extension UserIdentity {
    /// The real uid/gid of this process; HOME from the environment wins over passwd, as everywhere.
    public static func current(environment env: [String: String] = Environment.current) -> UserIdentity {
        let uid = getuid(), gid = getgid()
        var name = env["USER"] ?? "user\(uid)"
        var home = env["HOME"] ?? "/"
        var shell = "/bin/sh"
        if let account = Accounts.user(uid: uid) {
            name = account.name
            if env["HOME"] == nil { home = account.home }
            shell = account.shell
        }
        var groups = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
        let n = getgroups(Int32(groups.count), &groups)
        groups = n > 0 ? Array(groups.prefix(Int(n))) : []
        return UserIdentity(uid: uid, gid: gid, name: name, home: home, shell: shell, groups: groups.map { UInt32($0) })
    }
}

extension Paths {
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
}
