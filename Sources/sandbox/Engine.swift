// The launch path as the commands use it, in order:
//   profile (ProfileStore) → plan (LaunchPlanner + the desktop/net/policy
//   planners, pure) → spawn (supervisor, C) → session (launcher) → teardown.
import ArgumentParser
import SandboxCore
import SandboxDesktop
import SandboxRuntime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct Engine {
    let user: UserIdentity
    let paths: Paths
    let environment: [String: String]

    static func current() -> Engine {
        let env = Environment.current
        let user = UserIdentity.current(environment: env)
        return Engine(user: user, paths: Paths.current(environment: env, user: user), environment: env)
    }

    var directory: ContainerDirectory { ContainerDirectory(paths: paths) }

    func loadProfile(_ nameOrPath: String) throws -> Profile {
        do {
            return try ProfileStore(paths: paths, user: user).load(nameOrPath)
        } catch {
            throw SandboxError(error.description)
        }
    }

    /// The complete plan for a container start and its sessions.
    func plan(for profile: Profile, extraArgs: [String] = []) throws -> LaunchPlan {
        let subuid = SubordinateIDs.parse(contents: readText("/etc/subuid"), user: user.name, uid: user.uid)
        let subgid = SubordinateIDs.parse(contents: readText("/etc/subgid"), user: user.name, uid: user.uid)
        let idmap = IDMapPlanner.plan(settings: profile.idmap, uid: user.uid, gid: user.gid, userName: user.name,
                                      subuid: subuid, subgid: subgid)
        var plan = try LaunchPlanner.plan(profile: profile, paths: paths, user: user, idmap: idmap,
                                          extraArgs: extraArgs, hostEnvironment: environment,
                                          hostWorkingDirectory: currentDirectory())
        // The other planners add to the plan, each pure: the launcher and the
        // supervisor both compute it (the launcher for the session's environment).
        let confinement = try Confinement(profile: profile)
        plan.seccompFilter = confinement.seccompFilter
        plan.notices += confinement.notices
        plan.environment = desktopPlanner(for: profile, home: plan.home).sessionEnvironment(adding: plan.environment)
        if profile.network.mode == .host {
            plan.notices.append("network.mode = \"host\": the app shares your network namespace (every host interface and abstract socket)")
        }
        return plan
    }

    func desktopPlanner(for profile: Profile, home: String) -> DesktopPlanner {
        DesktopPlanner(profile: profile, user: user, hostEnvironment: environment,
                       stateDir: directory.stateDir(profile.name), insideHome: home)
    }

    /// The bridge a veth profile attaches to: the profile's, else config.toml's.
    func bridge(for profile: Profile) throws -> String {
        if let bridge = profile.network.bridge { return bridge }
        do {
            return try ProfileStore(paths: paths, user: user).userConfig().bridge
        } catch {
            throw SandboxError(error.description)
        }
    }

    /// Side effects at fixed points of the container's life (run in the supervisor).
    func hooks(for profile: Profile) throws -> ContainerHooks {
        var hooks = ContainerHooks()
        switch profile.network.mode {
        case .veth:
            // The helper needs only the netns, so it runs before the id maps exist;
            // the lease is released when the container stops (the next helper call
            // would also reclaim it).
            let bridge = try bridge(for: profile)
            let lease = Mutex<VethLease?>(nil)
            hooks.beforeRelease = { container, _ in
                let attached = try ContainerNetwork.attachVeth(containerPID: container.pid, bridge: bridge)
                lease.withLock { $0 = attached }
            }
            hooks.stopped = { _ in
                guard let held = lease.withLock({ $0 }) else { return }
                try? SandboxNetHelper.installed().release(bridge: bridge, hostInterface: held.hostInterface)
            }
        case .pasta:
            // pasta joins the container's user namespace, so it starts once the id maps are written.
            let pidFile = directory.stateDir(profile.name) + "/pasta.pid"
            hooks.started = { container, _ in
                _ = try PastaProcess.start(containerPID: container.pid, pidFile: pidFile)
            }
            hooks.stopped = { _ in PastaProcess.running(pidFile: pidFile)?.stop() }
        case .none, .host:
            break
        }
        return hooks
    }

    func launcher(for profile: Profile) -> Launcher {
        Launcher(name: profile.name, directory: directory,
                 supervisorArguments: ["sandbox", "_supervise", profile.sourcePath],
                 profilePath: profile.sourcePath, stopTimeout: profile.session.stopTimeout)
    }

    func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func readText(_ path: String) -> String { LiveHostFilesystem().contents(of: path) ?? "" }

    /// Runs a session; the supervisor's own messages were printed already.
    func runSession(_ launcher: Launcher, _ request: SessionRequest) throws -> Int32 {
        do {
            return try launcher.runSession(request)
        } catch is AlreadyReported {
            throw ExitCode.failure
        }
    }
}
