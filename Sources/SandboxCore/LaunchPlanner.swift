// Profile → LaunchPlan: the pure part of a container start. Id maps, the mount
// list, the app's argv, environment and working directory. Desktop, network and
// policy planners add to the returned plan before it is spawned.

public enum LaunchPlanner {
    /// Variables passed through from the launcher's environment (everything else is dropped).
    public static let passedThroughEnvironment = ["TERM", "COLORTERM", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
                                                  "LC_MESSAGES", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY",
                                                  "TZ", "NO_COLOR"]
    /// lxc-attach --clear-env's PATH, plus Debian's game directories (a user's
    /// login PATH has them: games such as gnome-mines live in /usr/games).
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/games:/usr/games"

    /// - Parameters:
    ///   - idmap: the computed id maps (IDMapPlanner), so this stays free of /etc/subuid reads.
    ///   - extraArgs: `sandbox run NAME -- ARGS`.
    ///   - hostEnvironment: the launcher's environment (only passedThroughEnvironment is used).
    ///   - hostWorkingDirectory: where the launcher runs; kept when visible inside.
    public static func plan(profile: Profile, paths: Paths, user: UserIdentity, idmap: IDMapPlan,
                            extraArgs: [String] = [], hostEnvironment: [String: String] = [:],
                            hostWorkingDirectory: String = "/",
                            host: HostFilesystem = LiveHostFilesystem()) throws(SandboxError) -> LaunchPlan {
        var plan = LaunchPlan(name: profile.name, hostname: profile.name)
        if profile.network.mode == .host { plan.namespaces.remove(.net) }
        plan.uidMap = idmap.uidMap
        plan.gidMap = idmap.gidMap
        plan.notices += idmap.notices
        // Delegated supplementary groups (video, render, audio…) mapped 1:1: every session keeps them.
        plan.supplementaryGroups = idmap.keptGroups

        let mounts = try MountPlanner.plan(profile: profile, paths: paths, user: user, host: host,
                                           keptGroups: idmap.keptGroups)
        plan.mounts = mounts.ops
        plan.notices += mounts.notices
        plan.hostDirectories = mounts.hostDirectories
        plan.visiblePaths = mounts.visible.map { ($0.host, $0.container) }
        plan.home = mounts.home

        plan.command = profile.command
        plan.argv = profile.command + extraArgs
        plan.uid = user.uid
        plan.gid = user.gid
        plan.stopTimeout = profile.session.stopTimeout
        plan.processLimit = profile.limits.processes
        plan.environment = environment(profile: profile, user: user, home: mounts.home, host: hostEnvironment)
        plan.workingDirectory = plan.containerPath(forHost: hostWorkingDirectory) ?? mounts.home
        return plan
    }

    /// A clean environment: identity, PATH, locale and terminal from the host, then the profile's [env].
    public static func environment(profile: Profile, user: UserIdentity, home: String,
                                   host: [String: String]) -> [String] {
        var env: [(String, String)] = [
            ("HOME", home), ("USER", user.name), ("LOGNAME", user.name), ("SHELL", user.shell.isEmpty ? "/bin/sh" : user.shell),
            ("PATH", defaultPath), ("XDG_RUNTIME_DIR", "/run/user/\(user.uid)"), ("container", "sandbox"),
            ("SANDBOX_NAME", profile.name),
        ]
        for key in passedThroughEnvironment {
            if let v = host[key] { env.append((key, v)) }
        }
        for (k, v) in profile.env.sorted(by: { $0.key < $1.key }) {
            env.removeAll { $0.0 == k }
            env.append((k, v))
        }
        return env.map { "\($0.0)=\($0.1)" }
    }
}
