import ArgumentParser
import SandboxCore

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a profile's container and everything in it."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.")
    var profile: String

    @Option(help: "Seconds of SIGTERM grace before SIGKILL (default: the profile's session.stop_timeout).")
    var timeout: Int?

    func run() async throws {
        _ = try global.bootstrap()
        throw NotYetImplemented(command: "stop")
    }
}
