import ArgumentParser
import Logging
import SandboxCore
import SandboxPlan
import SandboxRuntime
import SandboxDesktop

/// What one of the launch path's commands (run, exec, start, stop) was asked to
/// do, as plain values. The parsed commands turn themselves into one; so does
/// `plainForm`, which reads the shapes a launcher click and a join use without
/// the argument parser.
enum LaunchRequest: Equatable {
    case run(profile: String, args: [String], logDBus: Bool, log: LogOptions)
    case exec(profile: String, command: [String], root: Bool, log: LogOptions)
    case start(profile: String, log: LogOptions)
    case stop(profile: String, timeout: Int?, log: LogOptions)

    /// `run NAME`, `run NAME -- ARGS…`, `exec NAME`, `exec NAME -- CMD…`,
    /// `start NAME` and `stop NAME`: no option, a name that is not one, and after
    /// the name nothing or `--` and what follows it verbatim. Anything else is nil
    /// and goes to the argument parser, which gives help, errors and the options.
    ///
    /// Why a second reading of four shapes: the parser finds a command's arguments
    /// by reflection, and each first-time protocol-conformance look-up scans every
    /// conformance record of the binary (4,320). That was 8.2 M of a cold `run`'s
    /// 14.4 M launcher instructions, about 1.5 ms of each click and join
    /// (Docs/benchmarks.md). LaunchRequestTests parse a generated corpus both ways
    /// and fail where a plain form differs from the parser's result.
    static func plainForm(_ arguments: [String]) -> LaunchRequest? {
        guard arguments.count >= 2 else { return nil }
        let name = arguments[1]
        guard isPlainName(name) else { return nil }
        let rest = arguments.dropFirst(2)
        let trailing: [String]
        if rest.isEmpty {
            trailing = []
        } else if rest.first == "--" {
            trailing = Array(rest.dropFirst())
        } else {
            return nil
        }
        let log = LogOptions()
        switch arguments[0] {
        case "run": return .run(profile: name, args: trailing, logDBus: false, log: log)
        case "exec": return .exec(profile: name, command: trailing, root: false, log: log)
        case "start" where rest.isEmpty: return .start(profile: name, log: log)
        case "stop" where rest.isEmpty: return .stop(profile: name, timeout: nil, log: log)
        default: return nil
        }
    }

    /// A token the parser can only take as the name: not empty, not an option.
    private static func isPlainName(_ token: String) -> Bool {
        !token.isEmpty && !token.hasPrefix("-")
    }

    /// run and exec pass the app's exit status on (and so fail with 125–127).
    var relaysStatus: Bool {
        switch self {
        case .run, .exec: true
        case .start, .stop: false
        }
    }

    func perform() throws {
        switch self {
        case let .run(profile, args, logDBus, log):
            try Self.run(profile, args: args, logDBus: logDBus, log: log)
        case let .exec(profile, command, root, log):
            try log.bootstrap()
            let starter = ContainerStarter()
            let cwd = starter.context.currentDirectory()
            let argv = command.isEmpty ? [starter.user.shell] : command
            let status = try starter.runSession(profile) { plan in
                try SessionRequest.program(argv, of: plan, hostWorkingDirectory: cwd, asRoot: root)
            }
            throw ExitCode(status)
        case let .start(profile, log):
            try log.bootstrap()
            let starter = ContainerStarter()
            let (name, loaded) = try starter.context.containerName(profile)
            let started = try starter.context.launcher(for: name).start(prepare: {
                try starter.prepareStart(loaded ?? starter.context.loadProfile(name))
            })
            if !started { Console.say(.notice, "\(name) is already running") }
        case let .stop(profile, timeout, log):
            try log.bootstrap()
            let context = CommandContext.current()
            // A container keeps running even if its profile was deleted or broken: stop
            // it by name, with the grace its recorded plan gives. No profile is read.
            let (name, _) = try context.containerName(profile)
            let launcher = context.launcher(for: name)
            if try !launcher.stop(timeout: timeout) {
                Console.say(.error, "\(launcher.name) is not running")
                throw ExitCode(1)
            }
        }
    }

    private static func run(_ profile: String, args: [String], logDBus: Bool, log: LogOptions) throws {
        try log.bootstrap()
        var starter = ContainerStarter()
        starter.logBus = logDBus
        let cwd = starter.context.currentDirectory()
        let status = try starter.runSession(profile, extraArgs: args) { plan in
            guard !plan.argv.isEmpty || !args.isEmpty else {
                throw SandboxError("\(plan.name): the profile has no `command`",
                                   hint: "add command = [\"…\"] to it, or use `sandbox exec \(plan.name) -- CMD`")
            }
            if logDBus && plan.dbus?.log != true {
                Console.say(.notice, plan.dbus == nil
                    ? "--log-dbus: \(plan.name) has no bus proxy (its profile's dbus.mode is not \"filtered\", or none could be started)"
                    : "--log-dbus: \(plan.name) runs already without it; it applies when the container starts (sandbox stop \(plan.name))")
            }
            // Files from a launcher's %U (or the command line) the container does
            // not see go through the document portal, for a start and a join alike.
            let files = FileHandOver.apply(args, plan: plan, cwd: cwd, busAddress: starter.environment["DBUS_SESSION_BUS_ADDRESS"])
            for n in files.notices { Console.say(.notice, n) }
            return SessionRequest.app(of: plan, extraArgs: files.arguments, hostWorkingDirectory: cwd)
        }
        throw ExitCode(status)
    }
}

/// -l and -o as values (GlobalOptions is their parsed form).
struct LogOptions: Equatable {
    var level: Logger.Level = .notice
    var file: String? = nil

    func bootstrap() throws {
        try LogSetup.bootstrap(level: level, file: file)
    }
}

/// The launch path's parsed commands: each is one request.
protocol LaunchCommand: ParsableCommand {
    var request: LaunchRequest { get }
}

extension LaunchCommand {
    func run() throws { try request.perform() }
}
