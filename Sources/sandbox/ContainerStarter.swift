// The launch path as the commands use it, in order:
//   profile (ProfileStore) → plan (LaunchPlanner + the desktop/net/policy
//   planners, pure) → spawn (supervisor, C) → session (launcher) → teardown.
// `run`, `exec` and `start` go through it; the other commands need only the
// CommandContext.
import ArgumentParser
import SandboxCore
import SandboxDesktop
import SandboxLaunch
import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

struct ContainerStarter {
    let context: CommandContext
    /// `run --log-dbus`: the bus proxy reports every message and refusal.
    var logBus = false

    init(_ context: CommandContext = .current()) { self.context = context }

    var user: UserIdentity { context.user }
    var paths: Paths { context.paths }
    var environment: [String: String] { context.environment }
    var directory: ContainerDirectory { context.directory }

    /// The complete plan for a container start and its sessions (LaunchComposer, from this host's facts).
    func plan(for profile: Profile, extraArgs: [String] = []) throws -> LaunchPlan {
        let clock = Stopwatch()
        activateDocumentPortal(for: profile)
        let facts = HostFacts.live(user: user, paths: paths, environment: environment, workingDirectory: context.currentDirectory())
        let plan = try LaunchComposer.plan(for: profile, extraArgs: extraArgs,
                                           bridge: profile.network.mode == .veth ? try bridge(for: profile) : nil, facts: facts,
                                           logBus: logBus || LogSetup.current.level <= .debug)
        log.debug("\(profile.name): planned in \(clock.elapsed): \(plan.summary)")
        return plan
    }

    /// xdg-document-portal is started by D-Bus activation, so a fresh login may
    /// not have its store mounted yet: ask for its mount point (as `flatpak run`
    /// does) when this profile gets the portals, so the store can be bound.
    func activateDocumentPortal(for profile: Profile) {
        guard profile.dbus.mode == .filtered, BusPlanner.allows(profile.dbus.session, DocumentPortal.busName),
              let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") else { return }
        var st = stat()
        guard stat(runtime + "/doc/by-app", &st) != 0 else { return }
        guard case .success(let path) = BusPlanner.sessionBusPath(environment) else { return }
        do {
            let client = try DBusClient(bus: .path(path), timeoutSeconds: 3)
            try client.call(destination: DocumentPortal.busName, path: DocumentPortal.objectPath,
                            interface: DocumentPortal.busName, member: "GetMountPoint")
            log.debug("\(profile.name): activated xdg-document-portal")
        } catch {
            log.info("\(profile.name): the document portal could not be activated: \(error)")
        }
    }

    func desktopSetUp(for profile: Profile, home: String) -> DesktopSetUp {
        DesktopSetUp(profile: profile, user: user, hostEnvironment: environment,
                     stateDir: directory.stateDir(profile.name), insideHome: home)
    }

    /// The bridge a veth profile attaches to: the profile's, else config.toml's.
    func bridge(for profile: Profile) throws -> String {
        if let bridge = profile.network.bridge { return bridge }
        do {
            return try ProfileStore(paths: paths, user: user).userConfig().bridge
        } catch {
            throw SandboxError(error.description)
        }
    }

    /// How the container's network is attached on the host side (data for the supervisor).
    func networkAttachment(for profile: Profile) throws -> NetworkAttachment {
        switch profile.network.mode {
        case .veth:
            return .veth(bridge: try bridge(for: profile), helper: SandboxNetHelper.installed().path)
        case .pasta:
            return .pasta(pidFile: directory.stateDir(profile.name) + "/pasta.pid",
                          arguments: PastaProcess.arguments(for: profile.network)
                              + ["--dns-forward", NetworkPlanner.pastaDNSAddress])
        case .none, .host:
            return .none
        }
    }

    /// Everything a cold start needs, planned once here: the plan, the desktop's
    /// host-side set-up (done now, under the container's lock; undone by the
    /// supervisor after the container stops, or here if it never starts), the
    /// network attachment, and the launcher's log settings.
    func prepareStart(_ profile: Profile, extraArgs: [String] = []) throws -> PreparedStart {
        var plan = try self.plan(for: profile, extraArgs: extraArgs)
        let network = try networkAttachment(for: profile)
        // X11 cookie, PulseAudio module, devices: set up before the spawn (the
        // binds name files this creates).
        let desktopClock = Stopwatch()
        let desktop = try desktopSetUp(for: profile, home: plan.home).start()
        desktop.apply(to: &plan)
        if profile.x11.mode != .none || profile.pulse.mode != .none || profile.wayland.enabled
            || profile.devices.dri || profile.devices.snd || profile.devices.video {
            log.debug("\(profile.name): desktop set up in \(desktopClock.elapsed): \(desktop.additions.mounts.count) mounts, \(desktop.additions.notices.count) notices")
        }
        let (level, file) = LogSetup.current
        let spec = SupervisorPlan(plan: plan, persistent: false, runtimeDir: directory.root,
                                  profilePath: profile.sourcePath, profileFingerprint: profile.sourceFingerprint,
                                  network: network, logLevel: level.rawValue, logFile: file)
        return PreparedStart(spec: spec, seenNoticesFile: paths.dataDir + "/" + profile.name + "/notices-shown",
                             abandon: { desktop.stop() })
    }

    /// Runs a session in NAME's container: a running one is joined from its
    /// recorded plan without reading the profile; otherwise the profile is loaded
    /// and planned once. The supervisor's own messages were printed already.
    func runSession(_ nameOrPath: String, extraArgs: [String] = [],
                    request: (LaunchPlan) throws -> SessionRequest) throws -> Int32 {
        let (name, loaded) = try context.containerName(nameOrPath)
        return try context.launcher(for: name).runSession(request, prepare: {
            try prepareStart(loaded ?? context.loadProfile(name), extraArgs: extraArgs)
        })
    }
}
