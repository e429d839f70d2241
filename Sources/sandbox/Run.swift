import ArgumentParser
import SandboxCore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a profile's app in its container, starting the container if needed."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.")
    var profile: String

    @Argument(parsing: .postTerminator, help: "Arguments appended to the profile's command.")
    var args: [String] = []

    func run() async throws {
        _ = try global.bootstrap()
        throw NotYetImplemented(command: "run")
    }
}
