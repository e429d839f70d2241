import ArgumentParser
import SandboxCore
import SandboxRuntime
import SandboxDesktop

struct Run: LaunchCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        _superCommandName: "sandbox",   // parsed as a root by Sandbox.parseLaunch
        abstract: "Run a profile's app in its container, starting the container if needed."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("log-dbus"),
          help: "Show what the app asks of the session bus and what the profile's [dbus] rules refuse (on a container's start).")
    var logDBus = false

    @Argument(help: "The profile (container) name.", completion: NameCompletion.profiles)
    var profile: String

    @Argument(parsing: .postTerminator, help: "Arguments appended to the profile's command.")
    var args: [String] = []

    var request: LaunchRequest {
        .run(profile: profile, args: args, logDBus: logDBus, log: global.options)
    }
}
