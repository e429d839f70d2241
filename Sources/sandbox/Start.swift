import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a profile's container without running its app; it stays until `sandbox stop`."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.")
    var profile: String

    func run() async throws {
        _ = try global.bootstrap()
        let engine = Engine.current()
        let profile = try engine.loadProfile(self.profile)
        _ = try engine.plan(for: profile)   // bad input is reported here, before anything starts
        do {
            if try !engine.launcher(for: profile).start() {
                Console.err("sandbox: \(profile.name) is already running")
            }
        } catch is AlreadyReported {
            throw ExitCode.failure
        }
    }
}

/// Hidden: the detached supervisor of one container (started by run/exec/start).
/// fd 3: the launcher's status pipe; fd 4 (without --persistent): its connection.
struct Supervise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_supervise", shouldDisplay: false)

    @Argument var profile: String
    @Flag var persistent = false

    func run() async throws {
        let engine = Engine.current()
        let status: Int32
        do {
            let profile = try engine.loadProfile(self.profile)
            let plan = try engine.plan(for: profile)
            let supervisor = Supervisor(plan: plan, profile: profile, directory: engine.directory,
                                        persistent: persistent, hooks: engine.hooks(for: profile))
            status = supervisor.run(readyFD: 3, firstClientFD: persistent ? -1 : 4)
        } catch {
            Supervisor.reportFailure(readyFD: 3, "\(error)")
            throw ExitCode.failure
        }
        throw ExitCode(status)
    }
}
