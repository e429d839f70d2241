import ArgumentParser
import Logging
import SandboxCore
import SandboxDesktop
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
        let (name, loaded) = try engine.containerName(self.profile)
        do {
            let started = try engine.launcher(for: name).start(prepare: {
                try engine.prepareStart(loaded ?? engine.loadProfile(name))
            })
            if !started { Console.err("sandbox: \(name) is already running") }
        } catch is AlreadyReported {
            throw ExitCode.failure
        }
    }
}

/// Hidden: run by a container's supervisor after the container stopped, to undo
/// the host-side desktop state the launcher set up (a loaded PulseAudio module,
/// the container's files). Reads only the state directory.
struct DesktopTeardownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_desktop-teardown", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Argument var stateDir: String

    func run() throws {
        _ = try global.bootstrap()
        let clock = Stopwatch()
        for line in DesktopTeardown(stateDir: stateDir, hostEnvironment: Environment.current).run() {
            log.debug("desktop teardown: \(line)")
        }
        log.debug("desktop torn down in \(clock.elapsed)")
    }
}
