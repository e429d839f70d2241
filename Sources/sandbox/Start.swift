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
            var plan = try engine.plan(for: profile)
            var hooks = try engine.hooks(for: profile)
            // X11 cookie, PulseAudio module, devices: set up before the spawn (the
            // binds name files this creates), undone after the init exits.
            let desktop = try engine.desktopPlanner(for: profile, home: plan.home).start()
            desktop.apply(to: &plan)
            let networkStopped = hooks.stopped
            hooks.stopped = { plan in
                networkStopped(plan)
                desktop.stop()
            }
            let supervisor = Supervisor(plan: plan, profile: profile, directory: engine.directory,
                                        persistent: persistent, hooks: hooks)
            status = supervisor.run(readyFD: 3, firstClientFD: persistent ? -1 : 4)
            desktop.stop()   // a spawn that failed never reaches hooks.stopped; a second stop does nothing
        } catch {
            Supervisor.reportFailure(readyFD: 3, "\(error)")
            throw ExitCode.failure
        }
        throw ExitCode(status)
    }
}
