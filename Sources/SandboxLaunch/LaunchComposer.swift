// The composition root of a launch: profile + a snapshot of host facts → the
// complete LaunchPlan, calling every planner once, in order. It performs no
// effect (the seccomp compiler works in memory), so `swift test` covers
// "profile → complete plan" without a kernel; the CLI only gathers the facts.
import SandboxCore
import SandboxDesktop
import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

/// What the launcher knows of the host when it plans, read once.
public struct HostFacts: Sendable {
    public var user: UserIdentity
    public var paths: Paths
    public var environment: [String: String]
    /// The launcher's working directory (kept inside when a bind makes it visible).
    public var workingDirectory: String
    /// Path kinds and small files: the host tree, /etc/subuid, /etc/subgid, /etc/passwd, …
    public var filesystem: HostFilesystem
    /// The IPv4 address of a bridge (a veth container's gateway and resolver), nil without one.
    public var bridgeAddress: @Sendable (String) -> String?
    /// The xdg-dbus-proxy executable, nil when it is not installed.
    public var busProxy: String?

    public init(user: UserIdentity, paths: Paths, environment: [String: String], workingDirectory: String,
                filesystem: HostFilesystem, bridgeAddress: @escaping @Sendable (String) -> String?, busProxy: String? = nil) {
        self.busProxy = busProxy
        self.user = user
        self.paths = paths
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.filesystem = filesystem
        self.bridgeAddress = bridgeAddress
    }

    /// This machine, as the launcher sees it now.
    public static func live(user: UserIdentity, paths: Paths, environment: [String: String],
                            workingDirectory: String) -> HostFacts {
        HostFacts(user: user, paths: paths, environment: environment, workingDirectory: workingDirectory,
                  filesystem: LiveHostFilesystem(), bridgeAddress: { HostNetwork.ipv4Address(of: $0) },
                  busProxy: findExecutable("xdg-dbus-proxy", environment: environment))
    }

    /// The first executable `name` in /usr/bin, /usr/libexec, then PATH.
    public static func findExecutable(_ name: String, environment: [String: String]) -> String? {
        let dirs = ["/usr/bin", "/usr/libexec"] + (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return dirs.lazy.filter { $0.hasPrefix("/") }.map { $0 + "/" + name }.first { access($0, X_OK) == 0 }
    }
}

public enum LaunchComposer {
    /// The complete plan for a container start and its sessions: id maps from
    /// /etc/subuid and /etc/subgid, the mount list, argv/environment/working
    /// directory, the seccomp filter, the desktop variables, /etc/hosts and
    /// resolv.conf for its own network, and every notice. `bridge` is the veth
    /// bridge (profile or config.toml), nil for other network modes.
    /// `logBus`: the bus proxy logs every message and refusal (`--log-dbus`, `-l debug`).
    public static func plan(for profile: Profile, extraArgs: [String] = [], bridge: String?,
                            facts: HostFacts, logBus: Bool = false) throws -> LaunchPlan {
        let user = facts.user
        let subuid = SubordinateIDs.parse(contents: facts.filesystem.contents(of: "/etc/subuid") ?? "", user: user.name, uid: user.uid)
        let subgid = SubordinateIDs.parse(contents: facts.filesystem.contents(of: "/etc/subgid") ?? "", user: user.name, uid: user.uid)
        let idmap = IDMapPlanner.plan(settings: profile.idmap, uid: user.uid, gid: user.gid, userName: user.name,
                                      subuid: subuid, subgid: subgid, groups: user.groups)
        var plan = try LaunchPlanner.plan(profile: profile, paths: facts.paths, user: user, idmap: idmap,
                                          extraArgs: extraArgs, hostEnvironment: facts.environment,
                                          hostWorkingDirectory: facts.workingDirectory, host: facts.filesystem)
        let confinement = try Confinement(profile: profile)
        plan.seccompFilter = confinement.seccompFilter
        plan.notices += confinement.notices
        plan.environment = DesktopSetUp(profile: profile, user: user, hostEnvironment: facts.environment,
                                        stateDir: facts.paths.stateDir(profile.name), insideHome: plan.home)
            .sessionEnvironment(adding: plan.environment)
        // The session bus: a filtering proxy, the host's bus, or an address that fails at once.
        let bus = BusPlanner.plan(profile: profile, user: user, hostEnvironment: facts.environment,
                                  stateDir: facts.paths.stateDir(profile.name), host: facts.filesystem,
                                  proxy: facts.busProxy, log: logBus)
        plan.addMounts(bus.mounts)
        plan.notices += bus.notices
        plan.onceNotices += bus.onceNotices
        plan.dbus = bus.mediation
        for (key, value) in bus.environment.sorted(by: { $0.key < $1.key }) where profile.env[key] == nil {
            plan.environment.removeAll { $0.hasPrefix(key + "=") }
            plan.environment.append(key + "=" + value)
        }
        // resolv.conf and hosts for the container's own network (the bridge is the veth gateway).
        let gateway = profile.network.mode == .veth ? bridge.flatMap(facts.bridgeAddress) : nil
        let names = NetworkPlanner.plan(profile: profile, paths: facts.paths, user: user, gateway: gateway, host: facts.filesystem)
        plan.addMounts(names.mounts)
        plan.notices += names.notices
        if profile.network.mode == .host {
            plan.notices.append("network.mode = \"host\": the app shares your network namespace (every host interface and abstract socket)")
        }
        return plan
    }
}
