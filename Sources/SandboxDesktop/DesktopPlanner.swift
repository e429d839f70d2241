import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// Sets up a container's desktop access — X11, PulseAudio, Wayland, devices —
/// from its profile, and undoes it when the container stops.
///
///     let planner = DesktopPlanner(profile: p, user: u, hostEnvironment: env,
///                                  stateDir: paths.stateDir(p.name), insideHome: plan.home)
///     // every session (run, exec), pure:
///     request.environment = planner.sessionEnvironment(adding: plan.environment)
///     // once per container start, in the process that spawns it, BEFORE the spawn:
///     let desktop = try planner.start()   // checks X, writes the cookie, loads the module
///                                         // (untrusted X: plans the supervisor's proxy, plan.x11)
///     desktop.apply(to: &plan)            // binds, client.conf, notices, groups
///     … spawn, wait for the container's init to exit …
///     desktop.stop()                      // unload the module, remove the files
///
/// `start()` is the only step with effects outside the launcher: it writes the
/// container's Xauthority (trusted X) and may load a PulseAudio module. The
/// module is recorded in the state dir right after it is loaded, and `start()`
/// first undoes whatever a crashed earlier run left. Untrusted X is only
/// described here (`DesktopAdditions.x11`): the supervisor's X11 proxy
/// (SandboxMediators) mints the cookie and writes that Xauthority itself.
/// It must run before the spawn: the binds it returns name files it creates,
/// and which socket is bound depends on whether the sound server loads the module.
public struct DesktopPlanner: Sendable {
    public var profile: Profile
    public var user: UserIdentity
    public var hostEnvironment: [String: String]
    /// $XDG_RUNTIME_DIR/sandbox/NAME on the host; created if missing.
    public var stateDir: String
    /// HOME inside the container (for the environment).
    public var insideHome: String
    /// Where device nodes are looked for.
    public var deviceDiscovery = DeviceDiscovery()
    /// Seconds a sound server may take before the launch gives up on it.
    public var pulseTimeout: Double = 5

    public init(profile: Profile, user: UserIdentity, hostEnvironment: [String: String], stateDir: String, insideHome: String? = nil) {
        self.profile = profile
        self.user = user
        self.hostEnvironment = hostEnvironment
        self.stateDir = stateDir
        self.insideHome = insideHome ?? user.home
    }

    var files: DesktopFiles { DesktopFiles(stateDir: stateDir) }
    var runtimeDir: String { DesktopLayout.runtimeDir(uid: user.uid) }

    /// Checks, creates and loads what the profile asks for. Throws (after undoing
    /// its own partial work) when something required is unavailable.
    public func start() throws(SandboxError) -> DesktopSession {
        try HostFile.makeDirectories(stateDir, mode: 0o700)
        // Whatever is recorded now belongs to a container that is no longer running.
        // In module mode also look for an unrecorded module of ours (the state dir
        // may have been cleared after a crash): we connect to the server anyway.
        // One sound server connection for the scan and the module load (each
        // connection is a libpulse handshake: ~10 ms of the start).
        let pulse: Result<PulseClient, SandboxError>? = profile.pulse.mode == .module ? connectPulse() : nil
        for line in DesktopTeardown(stateDir: stateDir, hostEnvironment: hostEnvironment)
            .run(scanPulse: profile.pulse.mode == .module, client: try? pulse?.get()) {
            log.info("left by an earlier container: \(line)")
        }

        var additions = DesktopAdditions()
        var state = DesktopState()
        do {
            var devices = try DesktopLayout.devices(deviceDiscovery.discover(profile.devices),
                                                    required: profile.devices.required, user: user)
            for gid in devices.supplementaryGroups { devices.groupNames[gid] = Self.groupName(gid) }
            additions.add(devices)
            // Tied to the request, not to what is present: the sysfs view is part of
            // what "GPU/camera access" means, whether or not a device is plugged in now.
            if profile.devices.dri || profile.devices.video {
                additions.add(DesktopLayout.sysfs { FileIO.fileType($0) == S_IFDIR })
            }
            if profile.x11.mode != .none { additions.add(try startX11()) }
            if profile.pulse.mode != .none { additions.add(try startPulse(&state, connected: pulse)) }
            if profile.wayland.enabled { additions.add(startWayland()) }
            if profile.rootfs.mode == .image {
                additions.add(DesktopLayout.sharedLook(hostHome: user.home) { FileIO.fileType($0) == S_IFDIR })
            }
        } catch {
            DesktopTeardown(stateDir: stateDir, hostEnvironment: hostEnvironment).run()
            throw error
        }
        return DesktopSession(additions: additions, profile: profile, planner: self)
    }

    /// The variables every session of this container gets (DISPLAY, XAUTHORITY,
    /// PULSE_SERVER, PULSE_CLIENTCONFIG, WAYLAND_DISPLAY). Pure: no X or sound
    /// server is contacted, so the launcher and `sandbox exec` compute them
    /// without the supervisor that ran start(). They are what start() adds when
    /// everything is available; if a part was skipped (not required and not
    /// reachable), its variables point at paths that do not exist inside.
    public func sessionEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        if profile.x11.mode != .none, let name = hostEnvironment["DISPLAY"], let display = try? X11Display.parse(name) {
            env.merge(DesktopLayout.x11(display: display, xauthority: files.xauthority, uid: user.uid).environment) { $1 }
        }
        if profile.pulse.mode != .none {
            env.merge(DesktopLayout.pulse(socket: files.pulseSocket, uid: user.uid).environment) { $1 }
        }
        if profile.wayland.enabled, let socket = waylandSocket(), FileIO.fileType(socket) == S_IFSOCK {
            env.merge(DesktopLayout.wayland(socket: socket, uid: user.uid).environment) { $1 }
        }
        return env
    }

    /// A session's environment ("K=V", as the engine built it) with the desktop
    /// variables set; the profile's [env] still wins.
    public func sessionEnvironment(adding env: [String]) -> [String] {
        DesktopSession.merge(env, desktop: sessionEnvironment(), profile: profile.env)
    }

    // MARK: X11

    func startX11() throws(SandboxError) -> DesktopAdditions {
        do {
            return try x11Access()
        } catch {
            guard !profile.x11.required else { throw error }
            log.info("x11: \(error.message); starting without X")
            return notice("x11: \(error.message); starting without X")
        }
    }

    private func x11Access() throws(SandboxError) -> DesktopAdditions {
        guard let name = hostEnvironment["DISPLAY"], !name.isEmpty else {
            throw SandboxError("cannot open display: DISPLAY is not set — is X running? is DISPLAY right?",
                               hint: "set x11.mode = \"none\" to run without X")
        }
        let display = try X11Display.parse(name)
        let source = hostEnvironment["XAUTHORITY"].flatMap { $0.isEmpty ? nil : $0 } ?? user.home + "/.Xauthority"
        if profile.x11.mode == .untrusted {
            // No libX11 here: the supervisor's X11 proxy (SandboxMediators) opens
            // the display, mints the untrusted cookie, writes the container's
            // Xauthority and listens on the socket bound below — before the spawn.
            guard FileIO.fileType(display.socketPath) == S_IFSOCK else {
                throw SandboxError("display \(name) has no socket file \(display.socketPath) — is X running? is DISPLAY right? (an abstract or TCP socket cannot be reached from a container)",
                                   hint: "set x11.mode = \"none\" to run without X")
            }
            guard files.x11ProxySocket.utf8.count < 108 else {   // sizeof(sun_path)
                throw SandboxError("the container's X socket path \(files.x11ProxySocket) is longer than a unix socket allows (107 bytes)",
                                   hint: "use a shorter XDG_RUNTIME_DIR or profile name")
            }
            log.debug("x11: display \(name): untrusted, through the supervisor's proxy at \(files.x11ProxySocket)")
            var a = DesktopLayout.x11(display: display, socket: files.x11ProxySocket, xauthority: files.xauthority, uid: user.uid,
                                      optional: !profile.x11.required)
            a.x11 = X11Mediation(display: display.number, serverSocket: display.socketPath, proxySocket: files.x11ProxySocket,
                                 userXauthority: source, containerXauthority: files.xauthority,
                                 trusted: false, required: profile.x11.required)
            return a
        }
        // Open first: this proves the server answers with the user's cookie.
        _ = try X11Connection(name)
        guard FileIO.fileType(display.socketPath) == S_IFSOCK else {
            throw SandboxError("display \(name) has no socket file \(display.socketPath) (only an abstract or TCP socket), which a container cannot reach",
                               hint: "start the X server without -nolisten unix, or set x11.mode = \"none\"")
        }
        var notices: [String] = []
        let entries = XauthSelection.entries(from: try XauthorityFile.read(source), display: display.number, hostname: Self.hostname())
        log.debug("x11: display \(name): \(entries.count) cookie(s) from \(source) rewritten for \(files.xauthority)")
        if entries.isEmpty {
            notices.append("x11: \(source) has no cookie for display \(name); the app relies on the server's host-based access (xhost)")
        }
        try XauthorityFile.write(entries, to: files.xauthority)
        var a = DesktopLayout.x11(display: display, xauthority: files.xauthority, uid: user.uid)
        a.notices += notices
        return a
    }

    /// The host's name for a group (getgrgid), nil when it has none.
    static func groupName(_ gid: UInt32) -> String? {
        guard let gr = getgrgid(gid) else { return nil }
        return String(cString: gr.pointee.gr_name)
    }

    static func hostname() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.nodename) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    // MARK: PulseAudio

    func connectPulse() -> Result<PulseClient, SandboxError> {
        do throws(SandboxError) {
            return .success(try PulseClient(server: try PulseServer.host(hostEnvironment).address, timeout: pulseTimeout))
        } catch {
            return .failure(error)
        }
    }

    /// `connected`: the connection start() made already (or its error).
    func startPulse(_ state: inout DesktopState, connected: Result<PulseClient, SandboxError>? = nil) throws(SandboxError) -> DesktopAdditions {
        do {
            return try pulseAccess(&state, connected: connected)
        } catch {
            guard !profile.pulse.required else { throw error }
            log.info("pulse: \(error.message); starting without sound")
            return notice("pulse: \(error.message); starting without sound")
        }
    }

    private func pulseAccess(_ state: inout DesktopState, connected: Result<PulseClient, SandboxError>?) throws(SandboxError) -> DesktopAdditions {
        let server = try PulseServer.host(hostEnvironment)
        let client = try (connected ?? connectPulse()).get()
        if profile.pulse.mode == .module {
            let socket = files.pulseSocket
            guard socket.utf8.count < 108 else {   // sizeof(sun_path)
                throw SandboxError("the container's sound socket path \(socket) is longer than a unix socket allows (107 bytes)",
                                   hint: "use a shorter XDG_RUNTIME_DIR or profile name, or pulse.mode = \"socket\"")
            }
            guard !socket.contains("\"") && !socket.contains("\\") else {
                throw SandboxError("the container's sound socket path \(socket) contains a quote or backslash",
                                   hint: "rename the profile, or use pulse.mode = \"socket\"")
            }
            try HostFile.makeDirectories(files.pulseDir, mode: 0o700)
            unlink(socket)
            if let index = try client.loadModule("module-native-protocol-unix",
                                                 argument: DesktopLayout.pulseModuleArgument(socket: socket)) {
                state.pulseModule = index
                try files.writeState(state)
                log.debug("pulse: \(server.address): loaded module-native-protocol-unix #\(index) at \(socket)")
                return DesktopLayout.pulse(socket: socket, uid: user.uid)
            }
            // pipewire-pulse implements the protocol but not this module.
            let serverName = (try? client.serverName()) ?? "the sound server"
            guard let path = server.socketPath else {
                throw SandboxError("\(serverName) at \(server.address) cannot load module-native-protocol-unix and is not a local socket to bind instead",
                                   hint: "set pulse.mode = \"none\"")
            }
            log.info("pulse: \(serverName) cannot load module-native-protocol-unix; falling back to binding \(path)")
            var a = DesktopLayout.pulse(socket: path, uid: user.uid)
            a.notices.append("pulse: \(serverName) cannot load module-native-protocol-unix; binding your sound server's socket \(path) instead (the app shares your session's sound server connection)")
            return a
        }
        guard let path = server.socketPath else {
            throw SandboxError("the sound server \(server.address) is not a local unix socket, so it cannot be bound into the container",
                               hint: "unset PULSE_SERVER or point it at a unix socket, or set pulse.mode = \"none\"")
        }
        log.debug("pulse: binding the sound server's socket \(path)")
        return DesktopLayout.pulse(socket: path, uid: user.uid)
    }

    // MARK: Wayland

    /// $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY (an absolute WAYLAND_DISPLAY is used as is).
    func waylandSocket() -> String? {
        let name = hostEnvironment["WAYLAND_DISPLAY"].flatMap { $0.isEmpty ? nil : $0 } ?? "wayland-0"
        if name.hasPrefix("/") { return name }
        guard let runtime = hostEnvironment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") else { return nil }
        return runtime + "/" + name
    }

    func startWayland() -> DesktopAdditions {
        guard let socket = waylandSocket(), FileIO.fileType(socket) == S_IFSOCK else {
            let name = hostEnvironment["WAYLAND_DISPLAY"] ?? "wayland-0"
            return notice("wayland: no compositor socket \(name) in XDG_RUNTIME_DIR; starting without Wayland")
        }
        return DesktopLayout.wayland(socket: socket, uid: user.uid)
    }

    private func notice(_ text: String) -> DesktopAdditions {
        var a = DesktopAdditions()
        a.notices = [text]
        return a
    }
}

/// The user's sound server as libpulse would find it: $PULSE_SERVER, else
/// $XDG_RUNTIME_DIR/pulse/native.
public struct PulseServer: Sendable, Equatable {
    /// For pa_context_connect: "unix:/run/user/1000/pulse/native", "tcp:host:4713", …
    public var address: String
    /// The socket file, when the server is a local unix socket (only those can be bound).
    public var socketPath: String?

    public static func host(_ env: [String: String]) throws(SandboxError) -> PulseServer {
        if let value = env["PULSE_SERVER"], !value.isEmpty {
            // A list of servers is allowed; the first one is what libpulse tries first.
            let first = String(value.split(separator: " ").first ?? "")
            if first.hasPrefix("unix:") { return PulseServer(address: first, socketPath: String(first.dropFirst(5))) }
            if first.hasPrefix("/") { return PulseServer(address: "unix:" + first, socketPath: first) }
            return PulseServer(address: first, socketPath: nil)
        }
        guard let runtime = env["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") else {
            throw SandboxError("cannot find the sound server: neither PULSE_SERVER nor XDG_RUNTIME_DIR is set",
                               hint: "log in through a session manager, or set pulse.mode = \"none\"")
        }
        let path = runtime + "/pulse/native"
        return PulseServer(address: "unix:" + path, socketPath: path)
    }
}

/// A started container's desktop access: what to add to its LaunchPlan, and how to undo it.
public struct DesktopSession: Sendable {
    public let additions: DesktopAdditions
    let profile: Profile
    let planner: DesktopPlanner

    /// Adds the mounts after the engine's base filesystem (but before its final
    /// read-only remounts), notices and groups; sets the desktop variables in
    /// the plan's environment unless the profile's [env] sets them (profile wins).
    /// Works on whatever environment the engine built; `environment()` builds one
    /// from scratch with EnvironmentPlanner.
    public func apply(to plan: inout LaunchPlan) {
        var insertAt = plan.mounts.endIndex
        while insertAt > plan.mounts.startIndex, case .remountReadonly = plan.mounts[insertAt - 1] { insertAt -= 1 }
        plan.mounts.insert(contentsOf: additions.mounts, at: insertAt)
        plan.notices += additions.notices
        plan.x11 = additions.x11
        plan.notices += Self.groupNotices(additions, plan: &plan, userName: planner.user.name)
        plan.environment = Self.merge(plan.environment, desktop: additions.environment, profile: profile.env)
    }

    /// Keeps the device groups the gid map maps 1:1 (IDMapPlanner maps the user's
    /// groups that /etc/subgid delegates) and returns a notice for each other one,
    /// naming the /etc/subgid line an administrator would add. Without setgroups
    /// (a gid map of only the user's own gid) nothing is dropped: the sessions keep
    /// the launcher's groups as they are, so there is nothing to say.
    static func groupNotices(_ additions: DesktopAdditions, plan: inout LaunchPlan, userName: String) -> [String] {
        guard plan.setgroupsAllowed else { return [] }
        let (mapped, unmapped) = DesktopLayout.partitionGroups(additions.supplementaryGroups, gidMap: plan.gidMap)
        plan.supplementaryGroups = Array(Set(plan.supplementaryGroups + mapped)).sorted()
        return unmapped.map { gid in
            let name = additions.groupNames[gid].map { "\($0) (\(gid))" } ?? "\(gid)"
            let devices = additions.groupDevices[gid] ?? []
            let shown = devices.prefix(3).joined(separator: ", ") + (devices.count > 3 ? " and \(devices.count - 3) more" : "")
            return "devices: your group \(name), which owns \(shown.isEmpty ? "the devices" : shown), is not delegated to you in /etc/subgid, "
                + "so the app is not a member of it and reaches those devices only through an ACL for your user "
                + "(systemd-logind's uaccess gives one to the active seat's user); "
                + "to keep the group, an administrator adds this line to /etc/subgid: \(userName):\(gid):1"
        }
    }

    /// Sets each desktop variable in a "K=V" list, keeping order, unless the profile sets it.
    static func merge(_ env: [String], desktop: [String: String], profile: [String: String]) -> [String] {
        var result = env
        for (key, value) in desktop.sorted(by: { $0.key < $1.key }) where profile[key] == nil {
            let entry = key + "=" + value
            if let i = result.firstIndex(where: { $0.hasPrefix(key + "=") }) { result[i] = entry } else { result.append(entry) }
        }
        return result
    }

    /// The app's complete environment ("K=V", sorted).
    public func environment() -> [String] {
        EnvironmentPlanner(user: planner.user, hostEnvironment: planner.hostEnvironment,
                           home: planner.insideHome, runtimeDir: DesktopLayout.runtimeDir(uid: planner.user.uid))
            .environment(desktop: additions.environment, profile: profile.env)
    }

    /// Undoes start(): unloads this container's PulseAudio module, revokes its
    /// untrusted X cookie, removes its files. Safe to call twice, or from another
    /// process (everything is read back from the state dir).
    public func stop() {
        for line in DesktopTeardown(stateDir: planner.stateDir, hostEnvironment: planner.hostEnvironment).run() {
            log.debug("\(line)")
        }
    }
}

/// Undoes what the state dir records. Used by stop(), and by start() to clean up
/// after a launcher that died without stopping.
public struct DesktopTeardown: Sendable {
    public var stateDir: String
    public var hostEnvironment: [String: String]
    public init(stateDir: String, hostEnvironment: [String: String]) {
        self.stateDir = stateDir
        self.hostEnvironment = hostEnvironment
    }

    /// Returns what it did or could not do, for the log. `scanPulse` asks the
    /// sound server for modules serving this container's socket even when
    /// nothing is recorded (otherwise the server is only contacted with a record).
    @discardableResult
    /// `client`: an open connection to the sound server to use instead of a new one.
    public func run(scanPulse: Bool = false, client: PulseClient? = nil) -> [String] {
        let files = DesktopFiles(stateDir: stateDir)
        let state = files.readState()
        var report: [String] = []
        report += unloadPulseModules(files: files, recorded: state.pulseModule, scan: scanPulse, client: client)
        unlink(files.xauthority)
        unlink(files.x11ProxySocket)
        unlink(files.pulseSocket)
        rmdir(files.pulseDir)
        unlink(files.state)
        return report
    }

    /// Unloads every module-native-protocol-unix whose argument is exactly this
    /// container's: the recorded index alone is not trusted (the server may have
    /// restarted and given the index to another module), and a crash between
    /// loading and recording leaves a module with no record at all.
    func unloadPulseModules(files: DesktopFiles, recorded: UInt32?, scan: Bool, client given: PulseClient? = nil) -> [String] {
        guard scan || recorded != nil || FileIO.fileType(files.pulseSocket) != nil else { return [] }
        let expected = DesktopLayout.pulseModuleArgument(socket: files.pulseSocket)
        do {
            let client: PulseClient
            if let given { client = given } else { client = try PulseClient(server: try PulseServer.host(hostEnvironment).address, timeout: 3) }
            var report: [String] = []
            for m in try client.modules() where m.name == "module-native-protocol-unix" && m.argument == expected {
                report.append(try client.unloadModule(m.index)
                    ? "pulse: unloaded module \(m.index) (\(files.pulseSocket))"
                    : "pulse: module \(m.index) was already gone")
            }
            return report
        } catch {
            // No server: its modules went with it.
            return ["pulse: \(error.message)"]
        }
    }
}
