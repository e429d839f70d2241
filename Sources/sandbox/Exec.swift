import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Exec: LaunchCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        _superCommandName: "sandbox",   // parsed as a root by Sandbox.parseLaunch
        abstract: "Run another program in a profile's running (or newly started) container."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.", completion: NameCompletion.containers)
    var profile: String

    @Flag(help: "Run as uid 0 inside the container (to install packages into an image).")
    var root = false

    @Argument(parsing: .postTerminator, help: "The command to run (default: your shell).")
    var command: [String] = []

    var request: LaunchRequest {
        .exec(profile: profile, command: command, root: root, log: global.options)
    }
}
