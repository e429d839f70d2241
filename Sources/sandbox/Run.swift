import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a profile's app in its container, starting the container if needed."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.")
    var profile: String

    @Argument(parsing: .postTerminator, help: "Arguments appended to the profile's command.")
    var args: [String] = []

    func run() async throws {
        _ = try global.bootstrap()
        let engine = Engine.current()
        let profile = try engine.loadProfile(self.profile)
        let plan = try engine.plan(for: profile, extraArgs: args)
        guard !plan.argv.isEmpty else {
            throw SandboxError("\(profile.sourcePath): the profile has no `command`",
                               hint: "add command = [\"…\"] to it, or use `sandbox exec \(profile.name) -- CMD`")
        }
        let request = SessionRequest(argv: plan.argv, environment: plan.environment,
                                     workingDirectory: plan.workingDirectory, uid: plan.uid, gid: plan.gid)
        let status = try engine.runSession(engine.launcher(for: profile), request)
        throw ExitCode(status)
    }
}
