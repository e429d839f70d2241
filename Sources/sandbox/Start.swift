import ArgumentParser
import SandboxCore

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a profile's container without running its app."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.")
    var profile: String

    func run() async throws {
        _ = try global.bootstrap()
        throw NotYetImplemented(command: "start")
    }
}
