import ArgumentParser
import Logging
import SandboxCore
import SandboxMediators
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

    @OptionGroup var global: GlobalOptions
    @Argument var profile: String
    @Flag var persistent = false

    func run() async throws {
        do { _ = try global.bootstrap() } catch {
            Supervisor.reportFailure(readyFD: 3, "\(error)")
            throw ExitCode.failure
        }
        let engine = Engine.current()
        let status: Int32
        do {
            let profile = try engine.loadProfile(self.profile)
            var plan = try engine.plan(for: profile)
            var hooks = try engine.hooks(for: profile)
            // X11 cookie, PulseAudio module, devices: set up before the spawn (the
            // binds name files this creates), undone after the init exits.
            let desktopClock = Stopwatch()
            let desktop = try engine.desktopPlanner(for: profile, home: plan.home).start()
            desktop.apply(to: &plan)
            let x11: X11Proxy?   // listening before the spawn binds its socket
            do { x11 = try X11Proxy.start(for: &plan) } catch { desktop.stop(); throw error }
            if profile.x11.mode != .none || profile.pulse.mode != .none || profile.wayland.enabled
                || profile.devices.dri || profile.devices.snd || profile.devices.video {
                log.debug("\(profile.name): desktop set up in \(desktopClock.elapsed): \(desktop.additions.mounts.count) mounts, \(desktop.additions.notices.count) notices")
            }
            let networkStopped = hooks.stopped
            hooks.stopped = { plan in
                networkStopped(plan)
                let clock = Stopwatch()
                desktop.stop()
                log.debug("\(plan.name): desktop torn down in \(clock.elapsed)")
            }
            var supervisor = Supervisor(plan: plan, profile: profile, directory: engine.directory,
                                        persistent: persistent, hooks: hooks)
            supervisor.mediators = { _ in x11.map { [$0] } ?? [] }
            status = supervisor.run(readyFD: 3, firstClientFD: persistent ? -1 : 4)
            x11?.shutdown()   // after a failed spawn; the loop shut it down otherwise
            desktop.stop()   // a spawn that failed never reaches hooks.stopped; a second stop does nothing
        } catch {
            Supervisor.reportFailure(readyFD: 3, "\(error)")
            throw ExitCode.failure
        }
        throw ExitCode(status)
    }
}
