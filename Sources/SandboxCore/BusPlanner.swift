// Profile [dbus] → what the container gets of the session and system buses
// (pure: the host is read through HostFilesystem, the proxy is only described).
//
//   none      DBUS_SESSION_BUS_ADDRESS=disabled: — every D-Bus library fails at
//             once on it, and none autolaunches a bus (dbus-launch, with dbus-x11
//             installed, would otherwise start one inside that keeps the
//             container alive after the app quits)
//   filtered  the supervisor's xdg-dbus-proxy with the profile's rules, its
//             socket bound at $XDG_RUNTIME_DIR/bus; the proxy's root carries the
//             app's identity for the portals (DBusMediation)
//   host      the user's bus socket bound as it is: no filter, no identity
//
// The system bus is reached only through the proxy, and only when [dbus.system]
// lists names. Whatever cannot be had (no proxy installed, no reachable bus) is a
// notice, and the app starts with the "none" behaviour.

public struct BusPlan: Sendable, Equatable {
    public var mounts: [MountOp] = []
    /// Set in every session unless the profile's [env] sets them.
    public var environment: [String: String] = [:]
    /// Said at every start (what a mode does not protect).
    public var notices: [String] = []
    /// Facts about the machine (no proxy installed, no reachable bus): said at a
    /// profile's first start and when they change, logged always.
    public var onceNotices: [String] = []
    public var mediation: DBusMediation?
    public init() {}
}

public enum BusPlanner {
    /// The address that fails at once (dbus.mode = "none", or when the bus cannot be had).
    public static let disabledAddress = "disabled:"
    /// Where the system bus socket is inside (libdbus's and GDBus's default).
    public static let systemSocketInside = "/run/dbus/system_bus_socket"
    /// The proxy's socket directory (the state directory's `dbus/`) inside,
    /// bound read-only under XDG_RUNTIME_DIR; `bus` and the system socket are
    /// symlinks into it. A directory, so the container can start while the
    /// proxy is still coming up (the supervisor waits for it before the app).
    public static let proxyDirectoryName = ".dbus-proxy"

    /// - proxy: the xdg-dbus-proxy executable, nil when it is not installed.
    /// - log: pass --log to the proxy (`--log-dbus`, `-l debug`).
    public static func plan(profile: Profile, user: UserIdentity, hostEnvironment env: [String: String], stateDir: String,
                            host: HostFilesystem, proxy: String?, log: Bool) -> BusPlan {
        var out = BusPlan()
        let runtime = "/run/user/\(user.uid)"
        let inside = runtime + "/bus"
        let proxyDir = stateDir + "/dbus", proxyDirInside = runtime + "/" + proxyDirectoryName
        let appID = DBusNames.appID(profile: profile.name)
        out.environment["DBUS_SESSION_BUS_ADDRESS"] = disabledAddress

        var session: DBusProxiedBus?
        if profile.dbus.mode != .none {
            switch sessionBusPath(env) {
            case .failure(let why):
                out.onceNotices.append("dbus: \(why); the app starts without a session bus")
            case .success(let path) where host.kind(of: path) == .missing:
                out.onceNotices.append("dbus: the session bus socket \(path) does not exist (is a session bus running?); the app starts without a session bus")
            case .success(let path):
                if profile.dbus.mode == .host {
                    out.mounts.append(.bind(source: path, target: inside, readonly: false, recursive: false, optional: false))
                    out.environment["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + inside
                    out.notices.append("dbus.mode = \"host\": the app talks to your whole session bus, unfiltered (it can ask any service — systemd --user, the secret store, your file manager — to act for it)")
                } else if proxy != nil {
                    var rules = DBusNamePlaceholders.expand(profile.dbus.session, profile: profile.name)
                    // As flatpak: an app may own its own id and the names below it.
                    rules.own = [appID, appID + ".*"] + rules.own
                    session = DBusProxiedBus(upstream: "unix:path=" + path, socketPath: proxyDir + "/bus", rules: rules)
                    out.environment["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + inside
                }
            }
        }

        var system: DBusProxiedBus?
        if !profile.dbus.system.isEmpty && proxy != nil {
            let path = systemBusPath(env)
            if let path, host.kind(of: path) != .missing {
                system = DBusProxiedBus(upstream: "unix:path=" + path, socketPath: proxyDir + "/system-bus",
                                        rules: DBusNamePlaceholders.expand(profile.dbus.system, profile: profile.name))
                out.environment["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + systemSocketInside
            } else {
                out.onceNotices.append("dbus: no system bus socket \(path ?? "(DBUS_SYSTEM_BUS_ADDRESS is not a unix:path= address)"); the app starts without the system bus")
            }
        }

        if let proxy, session != nil || system != nil {
            out.mounts.append(.bind(source: proxyDir, target: proxyDirInside, readonly: true, recursive: false, optional: true))
            if session != nil { out.mounts.append(.symlink(target: proxyDirectoryName + "/bus", path: inside)) }
            if system != nil { out.mounts.append(.symlink(target: proxyDirInside + "/system-bus", path: systemSocketInside)) }
            let identity = FlatpakInfo.render(appID: appID, instance: profile.name, network: profile.network.mode != .none,
                                              sessionBusProxy: session != nil, systemBusProxy: system != nil)
            out.mediation = DBusMediation(proxy: proxy, appID: appID, session: session, system: system, identity: identity, log: log)
            // The document store, as flatpak binds it: this app's view at $XDG_RUNTIME_DIR/doc.
            if let session, allows(session.rules, "org.freedesktop.portal.Documents"),
               let hostRuntime = env["XDG_RUNTIME_DIR"], hostRuntime.hasPrefix("/"),
               host.kind(of: hostRuntime + "/doc/by-app") == .directory {
                let view = hostRuntime + "/doc/by-app/" + appID
                out.mounts.append(.userBind(source: view, target: runtime + "/doc", optional: true))
                out.mediation?.documents = view
                out.mediation?.handOver = profile.files.handOver
            }
        } else if proxy == nil && (profile.dbus.mode == .filtered || !profile.dbus.system.isEmpty) {
            out.onceNotices.append("dbus: xdg-dbus-proxy is not installed (apt install xdg-dbus-proxy); the app starts without a session bus")
        }
        return out
    }

    /// `doctor`'s `session-bus` line: whether dbus.mode = "filtered" can work here.
    public static func assess(hostEnvironment env: [String: String], host: HostFilesystem, proxy: String?) -> DoctorCheck {
        let name = "session-bus"
        guard let proxy else {
            return DoctorCheck(name, .warn, "xdg-dbus-proxy is not installed: apps with dbus.mode = \"filtered\" (the gui fragment) start without a session bus",
                               hint: "apt install xdg-dbus-proxy")
        }
        let path: String
        switch sessionBusPath(env) {
        case .failure(let why):
            return DoctorCheck(name, .warn, why + ": apps start without a session bus",
                               hint: "run sandbox from a desktop session (its DBUS_SESSION_BUS_ADDRESS, or a user bus at $XDG_RUNTIME_DIR/bus)")
        case .success(let p): path = p
        }
        guard host.kind(of: path) != .missing else {
            return DoctorCheck(name, .warn, "the session bus socket \(path) does not exist: apps start without a session bus",
                               hint: "start a session bus (systemctl --user start dbus.socket, or dbus-daemon --session --address=unix:path=\(path))")
        }
        var finding = "\(path), filtered through \(proxy)"
        if let runtime = env["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            finding += host.kind(of: runtime + "/doc/by-app") == .directory
                ? "; the document portal is mounted at \(runtime)/doc"
                : "; no document portal at \(runtime)/doc (apps get no $XDG_RUNTIME_DIR/doc until it runs)"
        }
        return DoctorCheck(name, .ok, finding)
    }

    /// Whether `rules` let the app talk to `name` (a listed name or a `.*` above it).
    public static func allows(_ rules: DBusRules, _ name: String) -> Bool {
        (rules.talk + rules.own).contains { $0 == name || ($0.hasSuffix(".*") && (name == String($0.dropLast(2)) || name.hasPrefix(String($0.dropLast(1))))) }
    }

    public enum Address: Equatable { case success(String), failure(String) }

    /// The host session bus as a socket path: DBUS_SESSION_BUS_ADDRESS's first
    /// `unix:path=` entry, else $XDG_RUNTIME_DIR/bus (systemd's user bus).
    public static func sessionBusPath(_ env: [String: String]) -> Address {
        if let address = env["DBUS_SESSION_BUS_ADDRESS"], !address.isEmpty {
            if let path = socketFile(address) { return .success(path) }
            return .failure("the session bus address \(address) is not a unix:path= socket (an abstract or TCP address cannot be reached from a container)")
        }
        if let runtime = env["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { return .success(runtime + "/bus") }
        return .failure("neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set")
    }

    static func systemBusPath(_ env: [String: String]) -> String? {
        guard let address = env["DBUS_SYSTEM_BUS_ADDRESS"], !address.isEmpty else { return "/run/dbus/system_bus_socket" }
        return socketFile(address)
    }

    /// The first absolute `unix:path=` of an address: a container can only be
    /// given a socket file, bound into it (an abstract socket belongs to the
    /// host's network namespace).
    static func socketFile(_ address: String) -> String? {
        for case .path(let path) in UnixBusAddress.parse(address) where path.hasPrefix("/") { return path }
        return nil
    }
}
