import ArgumentParser
import Logging
import SandboxCore
import SandboxRuntime

struct Start: LaunchCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        _superCommandName: "sandbox",   // parsed as a root by Sandbox.parseLaunch
        abstract: "Start a profile's container without running its app; it stays until `sandbox stop`."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.", completion: NameCompletion.profiles)
    var profile: String

    var request: LaunchRequest {
        .start(profile: profile, log: global.options)
    }
}
