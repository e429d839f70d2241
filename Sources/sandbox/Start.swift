import ArgumentParser
import Logging
import SandboxCore
import SandboxRuntime

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        _superCommandName: "sandbox",   // parsed as a root by Sandbox.parseLaunch
        abstract: "Start a profile's container without running its app; it stays until `sandbox stop`."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.", completion: NameCompletion.profiles)
    var profile: String

    func run() throws {
        _ = try global.bootstrap()
        let starter = ContainerStarter()
        let (name, loaded) = try starter.context.containerName(self.profile)
        do {
            let started = try starter.context.launcher(for: name).start(prepare: {
                try starter.prepareStart(loaded ?? starter.context.loadProfile(name))
            })
            if !started { Console.say(.notice, "\(name) is already running") }
        } catch is AlreadyReported {
            throw ExitCode.failure
        }
    }
}
