// What every command starts from: who runs it, where sandbox keeps its files,
// and the environment it was started with. `ContainerStarter` adds the launch
// path for the commands that start or join containers.
import ArgumentParser
import Logging
import SandboxCore
import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The launch path's log (`-l debug -o FILE`); the supervisor writes to the same file.
let log = Logger(label: "sandbox")

struct CommandContext {
    let user: UserIdentity
    let paths: Paths
    let environment: [String: String]

    static func current() -> CommandContext {
        let env = Environment.current
        let user = UserIdentity.current(environment: env)
        return CommandContext(user: user, paths: Paths.current(environment: env, user: user), environment: env)
    }

    var directory: ContainerDirectory { ContainerDirectory(paths: paths) }

    func loadProfile(_ nameOrPath: String) throws -> Profile {
        do {
            let clock = Stopwatch()
            let profile = try ProfileStore(paths: paths, user: user).load(nameOrPath)
            log.debug("profile \(profile.name) loaded from \(profile.sourcePath)\(profile.include.isEmpty ? "" : " (includes \(profile.include.joined(separator: ", ")))") in \(clock.elapsed)")
            return profile
        } catch {
            throw SandboxError(error.description)
        }
    }

    func launcher(for name: String) -> Launcher {
        Launcher(name: name, directory: directory)
    }

    func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }


    /// The container name an argument means: a profile name as written, or the
    /// name of a profile file given by path (which has to be read to know it).
    func containerName(_ nameOrPath: String) throws -> (name: String, profile: Profile?) {
        if !ProfileStore.isPath(nameOrPath) && ProfileName.problem(nameOrPath) == nil { return (nameOrPath, nil) }
        let profile = try loadProfile(nameOrPath)
        return (profile.name, profile)
    }
}
