import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run another program in a profile's running (or newly started) container."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.")
    var profile: String

    @Flag(help: "Run as uid 0 inside the container (to install packages into an image).")
    var root = false

    @Argument(parsing: .postTerminator, help: "The command to run (default: your shell).")
    var command: [String] = []

    func run() async throws {
        _ = try global.bootstrap()
        let engine = Engine.current()
        let profile = try engine.loadProfile(self.profile)
        let plan = try engine.plan(for: profile)
        var env = plan.environment
        var cwd = plan.workingDirectory
        var uid = plan.uid, gid = plan.gid
        if root {
            guard plan.uidMap.contains(where: { $0.inside == 0 }), plan.gidMap.contains(where: { $0.inside == 0 }) else {
                throw SandboxError("exec --root: uid 0 is not mapped in \(profile.name)'s container",
                                   hint: "give \(engine.user.name) a range in /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(engine.user.name)) and keep [idmap] passthrough = true")
            }
            // Capabilities are dropped all the same: root inside owns files, nothing more.
            uid = 0
            gid = 0
            env = env.map { e in
                if e.hasPrefix("HOME=") { return "HOME=/root" }
                if e.hasPrefix("USER=") { return "USER=root" }
                if e.hasPrefix("LOGNAME=") { return "LOGNAME=root" }
                return e
            }
            if cwd == plan.home { cwd = "/" }
        }
        let argv = command.isEmpty ? [engine.user.shell] : command
        let request = SessionRequest(argv: argv, environment: env, workingDirectory: cwd, uid: uid, gid: gid)
        let status = try engine.runSession(engine.launcher(for: profile), request)
        throw ExitCode(status)
    }
}
