import ArgumentParser
import SandboxCore

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List running containers: NAME STATE PID SESSIONS."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        _ = try global.bootstrap()
        throw NotYetImplemented(command: "list")
    }
}
