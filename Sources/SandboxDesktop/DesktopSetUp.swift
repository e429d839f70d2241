import SandboxCore
import SandboxMediators
#if canImport(Glibc)
import Glibc
#endif

/// Sets up a container's desktop access — X11, PulseAudio, Wayland, devices —
/// from its profile, and undoes it when the container stops.
///
///     let setUp = DesktopSetUp(profile: p, user: u, hostEnvironment: env,
///                              stateDir: paths.stateDir(p.name), insideHome: plan.home)
///     // every session (run, exec), pure:
///     request.environment = setUp.sessionEnvironment(adding: plan.environment)
///     // once per container start, in the process that spawns it, BEFORE the spawn:
///     let desktop = try setUp.start()     // checks X and sound, writes client.conf (and the
///                                         // trusted Xauthority); untrusted X: plans plan.x11
///     desktop.apply(to: &plan)            // binds, notices, groups, plan.sound, plan.x11
///     … spawn (the supervisor runs the sound and X11 mediators from the plan), wait for the init …
///     desktop.stop()                      // remove the files
///
/// `start()` is the only step with effects outside the launcher: it writes the
/// container's Xauthority (trusted X) and sound client.conf; it changes nothing
/// in the X or sound server. Untrusted X and sound are only described here
/// (`DesktopAdditions.x11`, `.sound`): the supervisor's mediators mint the X
/// cookie, write that Xauthority and listen on the sockets. It must run before
/// the spawn: the binds it returns name files and directories it creates.
public struct DesktopSetUp: Sendable {
    public var profile: Profile
    public var user: UserIdentity
    public var hostEnvironment: [String: String]
    /// $XDG_RUNTIME_DIR/sandbox/NAME on the host; created if missing.
    public var stateDir: String
    /// HOME inside the container (for the environment).
    public var insideHome: String
    /// Where device nodes are looked for.
    public var deviceDiscovery = DeviceDiscovery()

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
        for line in DesktopTeardown(stateDir: stateDir, hostEnvironment: hostEnvironment).run() {
            log.info("left by an earlier container: \(line)")
        }

        var additions = DesktopAdditions()
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
            if profile.pulse.mode != .none { additions.add(try startPulse()) }
            if profile.wayland.enabled { additions.add(startWayland()) }
            if profile.rootfs.mode == .image {
                additions.add(DesktopLayout.sharedLook(hostHome: user.home) { FileIO.fileType($0) == S_IFDIR })
            }
        } catch {
            DesktopTeardown(stateDir: stateDir, hostEnvironment: hostEnvironment).run()
            throw error
        }
        return DesktopSession(additions: additions, profile: profile, setUp: self)
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
            env.merge(DesktopLayout.pulse(directory: files.pulseDir, uid: user.uid).environment) { $1 }
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
        guard FileIO.fileType(display.socketPath) == S_IFSOCK else {
            throw SandboxError("cannot open display \(name): no socket file \(display.socketPath) — is X running? is DISPLAY right? (a container reaches only the socket file, not an abstract or TCP socket)",
                               hint: "set x11.mode = \"none\" to run without X")
        }
        var notices: [String] = []
        let all = try Xauthority.read(source)
        // Open first: this proves the server answers with the user's cookie.
        // Pure Swift over the protocol (no libX11); a hung server fails after 5 s.
        let cookie = XauthSelection.cookie(from: all, display: display.number, hostname: Self.hostname())
        try X11ServerConnection.open(socket: display.socketPath, displayName: name, cookie: cookie,
                                     deadline: Deadline(seconds: 5)).close()
        let entries = XauthSelection.entries(from: all, display: display.number, hostname: Self.hostname())
        log.debug("x11: display \(name): \(entries.count) cookie(s) from \(source) rewritten for \(files.xauthority)")
        if entries.isEmpty {
            notices.append("x11: \(source) has no cookie for display \(name); the app relies on the server's host-based access (xhost)")
        }
        try Xauthority.write(entries, to: files.xauthority)
        var a = DesktopLayout.x11(display: display, xauthority: files.xauthority, uid: user.uid)
        a.notices += notices
        return a
    }

    /// The host's name for a group, nil when it has none.
    static func groupName(_ gid: UInt32) -> String? { Accounts.groupName(gid: gid) }

    static func hostname() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.nodename) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    // MARK: PulseAudio

    func startPulse() throws(SandboxError) -> DesktopAdditions {
        do {
            return try pulseAccess()
        } catch {
            guard !profile.pulse.required else { throw error }
            log.info("pulse: \(error.message); starting without sound")
            return notice("pulse: \(error.message); starting without sound")
        }
    }

    /// "module" and "socket": the container's socket is the sound mediator's
    /// (plan.sound; the supervisor creates it after the spawn in the directory
    /// bound here). "unfiltered-host-socket": the user's server socket itself.
    private func pulseAccess() throws(SandboxError) -> DesktopAdditions {
        let server = try PulseServer.host(hostEnvironment)
        guard let path = server.socketPath else {
            throw SandboxError("the sound server \(server.address) is not a local unix socket, which is all the sound mediator relays to",
                               hint: "unset PULSE_SERVER or point it at a unix socket, or set pulse.mode = \"none\"")
        }
        guard Self.accepts(path) else {
            throw SandboxError("no sound server answers at \(path)",
                               hint: "start it (systemctl --user start pulseaudio.socket, or pipewire-pulse.socket), or set pulse.mode = \"none\"")
        }
        if profile.pulse.mode == .unfilteredHostSocket {
            log.debug("pulse: binding the sound server's socket \(path), unmediated")
            var a = DesktopLayout.pulse(socket: path, uid: user.uid)
            a.notices.append("pulse: pulse.mode = \"unfiltered-host-socket\": the app talks to your sound server \(path) unmediated; it can load modules into it, record the microphone and change your default devices")
            return a
        }
        let socket = files.pulseSocket
        guard socket.utf8.count < 108 else {   // sizeof(sun_path)
            throw SandboxError("the container's sound socket path \(socket) is longer than a unix socket allows (107 bytes)",
                               hint: "use a shorter XDG_RUNTIME_DIR or profile name")
        }
        try HostFile.makeDirectories(files.pulseDir, mode: 0o700)
        unlink(socket)
        try HostFile.writeAtomically(DesktopLayout.pulseClientConf, to: files.pulseClientConf, mode: 0o644, durable: false)
        var a = DesktopLayout.pulse(directory: files.pulseDir, uid: user.uid)
        a.sound = SoundMediation(socketPath: socket, upstream: path, microphone: profile.pulse.microphone)
        if !profile.pulse.microphone {
            a.onceNotices.append("pulse: the microphone is off for this app (recording is refused); set pulse.microphone = true in its profile to allow it")
        }
        log.debug("pulse: the sound mediator will listen at \(socket) and relay to \(path)")
        return a
    }

    /// Whether something listens on the unix socket `path` (a connect, no protocol;
    /// non-blocking, so a server that never accepts cannot hang the launcher).
    static func accepts(_ path: String) -> Bool {
        guard FileIO.fileType(path) == S_IFSOCK, case .success(let fd) = MediatorSocket.connect(path) else { return false }
        close(fd)
        return true
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
