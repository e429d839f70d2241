import ArgumentParser
import Logging
import SandboxCore
import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

@main
struct Sandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run desktop apps in unprivileged per-app containers.",
        discussion: """
            Each app gets its own container, started on launch and stopped when its \
            last session exits. Profiles live in ~/.config/sandbox/profiles, \
            /etc/sandbox/profiles and PREFIX/share/sandbox/profiles (first wins).
            """,
        version: SandboxVersion.string,
        subcommands: [
            Run.self, Exec.self, Start.self, Stop.self, List.self, Status.self,
            Create.self, DesktopCommand.self, ProfileCommand.self, Doctor.self,
            DesktopPlumbing.self,
            Destroy.self, RemoveTreeCommand.self,
        ]
    )

    /// `sandbox -l LEVEL -o FILE COMMAND …` works like `sandbox COMMAND -l LEVEL -o FILE …`.
    static func main() async {
        let given = Array(CommandLine.arguments.dropFirst())
        // A launcher's click and a join: no parser (LaunchRequest.plainForm says why).
        if let request = LaunchRequest.plainForm(given) {
            do { try request.perform() } catch { report(error, relaying: request.relaysStatus) }
            return
        }
        // A constant, which the parser prints after the same reflection (5 M instructions).
        if given == ["--version"] {
            Console.out(plainVersion)
            return
        }
        let arguments = LogSetup.hoistingLogOptions(given)
        if let message = UnknownCommand.message(arguments, commands: configuration.subcommands) {
            Console.err(message)
            exit(withError: ExitCode(64))
        }
        var relaying = false
        do {
            var command: any ParsableCommand
            if let launch = parseLaunch(arguments) { command = launch } else { command = try parseAsRoot(arguments) }
            relaying = (command as? any LaunchCommand)?.request.relaysStatus ?? false
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            report(error, relaying: relaying)
        }
    }

    /// The launch path's commands with options, parsed on their own. `parseAsRoot` first tries
    /// the arguments as two `--generate-completion-script` pseudo-commands, which
    /// costs more than everything else a cold `run` does in the launcher (5.5 M of
    /// its 17.4 M instructions; Docs/benchmarks.md). A subcommand parsed as the root
    /// with a super-command name skips that check and prints the same usage. Only
    /// a clean result counts: help, errors and anything unexpected are parsed
    /// again from the root, so what the user sees is the parser's usual answer.
    static func parseLaunch(_ arguments: [String]) -> sending (any ParsableCommand)? {
        guard let first = arguments.first,
              let type = launchCommands.first(where: { $0.configuration.commandName == first }),
              let command = try? type.parseAsRoot(Array(arguments.dropFirst())),
              Swift.type(of: command) == type else { return nil }
        return command
    }

    /// What `--version` prints (LaunchRequestTests compare it with the parser's).
    static let plainVersion = SandboxVersion.string

    static let launchCommands: [any ParsableCommand.Type] = [Run.self, Exec.self, Start.self, Stop.self]

    /// Prints a failure in the one message style (Console) and exits; help and
    /// --version go to standard output as the parser prints them.
    /// `relaying`: for run and exec, which pass the app's exit status on, a failure
    /// of their own exits 125, 126 or 127 (`SandboxError.Code`), never a status
    /// the app could have returned itself.
    static func report(_ error: any Error, relaying: Bool = false) -> Never {
        // run and exec end by throwing the app's status: nothing to print, and the
        // parser's message machinery costs half a million instructions per exit.
        if let status = error as? ExitCode { Glibc.exit(status.rawValue) }
        switch error {
        case is AlreadyReported:
            break   // the supervisor's messages are out already
        case let e as SandboxError:
            Console.say(e)
        case let e as ProfileErrors:
            for one in e.errors { Console.say(.error, one.description) }
        case _ where relaying:
            Console.say(.error, "\(error)")
        default:
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { Console.out(message) }
            } else if !message.isEmpty {
                // The parser's "Error: …" (a missing argument, a bad option value) then its usage.
                let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let first = lines.removeFirst()
                Console.say(.error, first)
                if !lines.isEmpty { Console.err(lines.joined(separator: "\n")) }
            }
            Glibc.exit(code.rawValue)
        }
        if relaying { Glibc.exit((error as? SandboxError)?.code.launchExitStatus ?? SandboxError.Code.failed.launchExitStatus) }
        Glibc.exit(EXIT_FAILURE)
    }
}

/// Options every command takes; pulled in with @OptionGroup.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("l"), .long], help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    @Option(name: [.customShort("o"), .long], help: "Append log messages to this file instead of standard error.")
    var logFile: String?

    var options: LogOptions { LogOptions(level: logLevel, file: logFile) }

    /// Sets up swift-log once per process and returns the launcher's logger.
    func bootstrap() throws -> Logger {
        try LogSetup.bootstrap(level: logLevel, file: logFile)
        return Logger(label: "sandbox")
    }
}

// Spelled out: the parser's defaults go through String(describing:), whose
// conformance look-ups scan every conformance record of the binary on each
// start (about 1 M instructions of a join).
extension Logger.Level: @retroactive ExpressibleByArgument {
    public var defaultValueDescription: String { rawValue }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}
