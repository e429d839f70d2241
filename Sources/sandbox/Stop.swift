import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Stop: LaunchCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        _superCommandName: "sandbox",   // parsed as a root by Sandbox.parseLaunch
        abstract: "Stop a profile's container and everything in it."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.", completion: NameCompletion.containers)
    var profile: String

    @Option(help: "Seconds of SIGTERM grace before SIGKILL (default: the profile's session.stop_timeout).")
    var timeout: Int?

    func validate() throws {
        if let timeout, timeout < 0 { throw ValidationError("--timeout must be 0 or more seconds") }
    }

    var request: LaunchRequest {
        .stop(profile: profile, timeout: timeout, log: global.options)
    }
}
