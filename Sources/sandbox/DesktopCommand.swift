import ArgumentParser
import SandboxCore

struct DesktopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desktop",
        abstract: "Install or remove a profile's .desktop launcher.",
        subcommands: [Install.self, Remove.self]
    )

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write ~/.local/share/applications/sandbox-NAME.desktop.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile name.") var profile: String
        func run() async throws {
            _ = try global.bootstrap()
            throw NotYetImplemented(command: "desktop install")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a profile's .desktop launcher.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile name.") var profile: String
        func run() async throws {
            _ = try global.bootstrap()
            throw NotYetImplemented(command: "desktop remove")
        }
    }
}
