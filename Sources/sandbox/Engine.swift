// The launch path as the commands use it, in order:
//   profile (ProfileStore) → plan (LaunchPlanner + the desktop/net/policy
//   planners, pure) → spawn (supervisor, C) → session (launcher) → teardown.
import ArgumentParser
import SandboxCore
import SandboxRuntime
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
        let plan = try LaunchPlanner.plan(profile: profile, paths: paths, user: user, idmap: idmap,
                                          extraArgs: extraArgs, hostEnvironment: environment,
                                          hostWorkingDirectory: currentDirectory())
        // Other planners add to the plan here, each pure (the launcher and the
        // supervisor both compute it: the launcher for the session's environment):
        //   policy:  plan.seccompFilter = <SeccompPolicy BPF bytes for profile.seccomp>
        //   desktop: plan.addMounts(…), plan.environment, plan.notices for X11, PulseAudio, devices
        //   net:     plan.addMounts([.file(path: "/etc/resolv.conf", …)]) for profile.network
        return plan
    }

    /// Side effects at fixed points of the container's life (run in the supervisor).
    func hooks(for profile: Profile) -> ContainerHooks {
        // desktop: hooks.started / hooks.stopped load and unload the PulseAudio module.
        // net:     hooks.beforeRelease calls sandbox-net with container.namespacePath("net").
        ContainerHooks()
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
