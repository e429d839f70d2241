import ArgumentParser
import SandboxCore

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check whether this machine and user are ready to run sandboxed apps."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = try global.bootstrap()
        throw NotYetImplemented(command: "doctor")
    }
}
