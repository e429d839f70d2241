import ArgumentParser
import SandboxCore

struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "List, show and check profiles.",
        subcommands: [ListProfiles.self, Show.self, Check.self]
    )

    struct ListProfiles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List profiles: name, source file, description.")
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            _ = try global.bootstrap()
            throw NotYetImplemented(command: "profile list")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the fully merged profile as TOML.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A profile name or a path to a .toml file.") var profile: String
        func run() async throws {
            _ = try global.bootstrap()
            throw NotYetImplemented(command: "profile show")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate profiles; exits 0 only when all are valid.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Profile names or paths (default: every profile found).") var profiles: [String] = []
        func run() async throws {
            _ = try global.bootstrap()
            throw NotYetImplemented(command: "profile check")
        }
    }
}
