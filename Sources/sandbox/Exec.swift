import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Exec: ParsableCommand {
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

    func run() throws {
        _ = try global.bootstrap()
        let starter = ContainerStarter()
        let cwd = starter.context.currentDirectory()
        let argv = command.isEmpty ? [starter.user.shell] : command
        let status = try starter.runSession(profile) { plan in
            try SessionRequest.program(argv, of: plan, hostWorkingDirectory: cwd, asRoot: root)
        }
        throw ExitCode(status)
    }
}
