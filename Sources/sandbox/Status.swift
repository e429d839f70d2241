import ArgumentParser
import SandboxCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show one container's state."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.")
    var profile: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        _ = try global.bootstrap()
        throw NotYetImplemented(command: "status")
    }
}
