import ArgumentParser
import SandboxCore
import SandboxRuntime
import SandboxDesktop

struct Run: ParsableCommand {
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

    func run() throws {
        _ = try global.bootstrap()
        var starter = ContainerStarter()
        starter.logBus = logDBus
        let cwd = starter.context.currentDirectory()
        let status = try starter.runSession(profile, extraArgs: args) { plan in
            guard !plan.argv.isEmpty || !args.isEmpty else {
                throw SandboxError("\(plan.name): the profile has no `command`",
                                   hint: "add command = [\"…\"] to it, or use `sandbox exec \(plan.name) -- CMD`")
            }
            if logDBus && plan.dbus?.log != true {
                Console.say(.notice, plan.dbus == nil
                    ? "--log-dbus: \(plan.name) has no bus proxy (its profile's dbus.mode is not \"filtered\", or none could be started)"
                    : "--log-dbus: \(plan.name) runs already without it; it applies when the container starts (sandbox stop \(plan.name))")
            }
            // Files from a launcher's %U (or the command line) the container does
            // not see go through the document portal, for a start and a join alike.
            let files = FileHandOver.apply(args, plan: plan, cwd: cwd, busAddress: starter.environment["DBUS_SESSION_BUS_ADDRESS"])
            for n in files.notices { Console.say(.notice, n) }
            return SessionRequest.app(of: plan, extraArgs: files.arguments, hostWorkingDirectory: cwd)
        }
        throw ExitCode(status)
    }
}
