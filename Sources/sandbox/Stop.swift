import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Stop: ParsableCommand {
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

    func run() throws {
        _ = try global.bootstrap()
        let context = CommandContext.current()
        // A container keeps running even if its profile was deleted or broken: stop
        // it by name, with the grace its recorded plan gives. No profile is read.
        let (name, _) = try context.containerName(self.profile)
        let launcher = context.launcher(for: name)
        if try !launcher.stop(timeout: timeout) {
            Console.say(.error, "\(launcher.name) is not running")
            throw ExitCode(1)
        }
    }
}
