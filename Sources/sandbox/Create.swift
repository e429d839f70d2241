import ArgumentParser
import SandboxCore

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Build an image rootfs for a profile with rootfs.mode = \"image\" (mmdebstrap)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile name.")
    var profile: String

    func run() async throws {
        _ = try global.bootstrap()
        throw NotYetImplemented(command: "create")
    }
}
