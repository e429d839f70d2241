import ArgumentParser
import SandboxCore

/// `sandbox bogus`: swift-argument-parser would say "Unexpected argument 'bogus'",
/// which reads like a wrong option. Say what it is and what the commands are.
enum UnknownCommand {
    /// The message for a first argument that is no command, or nil when it is one
    /// (or an option: the parser reports those itself).
    static func message(_ arguments: [String], commands: [any ParsableCommand.Type]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = commands.compactMap { $0.configuration.commandName }
        // `help` is the parser's own (`sandbox help run`).
        if names.contains(first) || first == "help" { return nil }
        let shown = commands.filter { $0.configuration.shouldDisplay }.compactMap { $0.configuration.commandName }
        var hint = """
            commands: \(shown.joined(separator: ", "))
            'sandbox --help' says what each does, 'sandbox help COMMAND' more about one
            """
        // `sandbox firefox` for `sandbox run firefox`.
        if isProfile(first) { hint += "\nto run the profile '\(first)': sandbox run \(first)" }
        return Console.format(SandboxError("unknown command '\(first)'", hint: hint))
    }

    static func isProfile(_ name: String) -> Bool {
        guard ProfileName.isValid(name) else { return false }
        let context = CommandContext.current()
        return ProfileStore(paths: context.paths, user: context.user).locate(name) != nil
    }
}
