// The session (and system) bus mediator, as plain data for the supervisor: it
// runs xdg-dbus-proxy for the container's lifetime with these rules, in a mount
// namespace whose root holds `identity` as /.flatpak-info, so that
// xdg-desktop-portal — which reads /proc/PID/root/.flatpak-info of the bus peer,
// and the peer is the proxy — sees a sandboxed app named `appID`.
// Docs/desktop.md ("The session bus", "Portals") has the mechanism and limits.

/// What one bus's proxy lets the app do, in xdg-dbus-proxy's (and flatpak's)
/// vocabulary. Names are well-known bus names, optionally ending in `.*`
/// (the name and everything below it); `call`/`broadcast` are `NAME=RULE`
/// with RULE `[METHOD][@PATH]` as xdg-dbus-proxy's --call/--broadcast.
public struct DBusRules: Sendable, Equatable {
    public var talk: [String]
    public var own: [String]
    public var see: [String]
    public var call: [String]
    public var broadcast: [String]

    public init(talk: [String] = [], own: [String] = [], see: [String] = [], call: [String] = [], broadcast: [String] = []) {
        self.talk = talk
        self.own = own
        self.see = see
        self.call = call
        self.broadcast = broadcast
    }

    public var isEmpty: Bool { talk.isEmpty && own.isEmpty && see.isEmpty && call.isEmpty && broadcast.isEmpty }

    /// The proxy options for these rules, in a fixed order.
    public var proxyOptions: [String] {
        see.map { "--see=" + $0 } + talk.map { "--talk=" + $0 } + own.map { "--own=" + $0 }
            + call.map { "--call=" + $0 } + broadcast.map { "--broadcast=" + $0 }
    }
}

/// One proxied bus: the host's bus and the proxy's socket the container gets.
public struct DBusProxiedBus: Sendable, Equatable {
    /// The host bus address, always `unix:path=…` (a container reaches only a socket file).
    public var upstream: String
    /// The proxy's listening socket on the host (in the container's state directory).
    public var socketPath: String
    public var rules: DBusRules

    public init(upstream: String, socketPath: String, rules: DBusRules) {
        self.upstream = upstream
        self.socketPath = socketPath
        self.rules = rules
    }
}

/// What a launch does with host files named by the app's arguments (a
/// launcher's %U/%F): hand them over through the document store, read-only or
/// writable, or leave the arguments alone ([files] hand_over).
public enum FileHandOverMode: String, Sendable, Equatable, CaseIterable {
    case none
    case readOnly = "read-only"
    case readWrite = "read-write"
}

public struct DBusMediation: Sendable, Equatable {
    /// The xdg-dbus-proxy executable (absolute, found by the launcher).
    public var proxy: String
    /// The app id the portals see (`org.sandbox.Profile.NAME`).
    public var appID: String
    /// The session bus proxy (dbus.mode = "filtered"), or nil.
    public var session: DBusProxiedBus?
    /// The system bus proxy ([dbus.system] lists names), or nil.
    public var system: DBusProxiedBus?
    /// The contents of /.flatpak-info in the proxy's root (FlatpakInfo.render).
    public var identity: String
    /// The document store's view for this app on the host
    /// ($XDG_RUNTIME_DIR/doc/by-app/APP_ID), bound at $XDG_RUNTIME_DIR/doc inside;
    /// nil when xdg-document-portal did not run at the start or the portals are
    /// not allowed. (Files handed to the app are exported there: FileChooser, and
    /// a launcher's file arguments.)
    public var documents: String?
    /// How the launcher hands files from the app's arguments to it through
    /// `documents` (only when that is set).
    public var handOver: FileHandOverMode = .readOnly
    /// Pass --log: every message the app sends and every refusal, relayed to the
    /// user's terminal or log file (`sandbox run --log-dbus`, `-l debug`).
    public var log: Bool

    public init(proxy: String, appID: String, session: DBusProxiedBus?, system: DBusProxiedBus?, identity: String, log: Bool,
                documents: String? = nil) {
        self.documents = documents
        self.proxy = proxy
        self.appID = appID
        self.session = session
        self.system = system
        self.identity = identity
        self.log = log
    }

    /// xdg-dbus-proxy's argv: `--fd=READY` (it writes one byte there when every
    /// socket listens, and exits when the other end is closed), then per bus
    /// `ADDRESS PATH --filter [--log] RULES…`. Every name was validated by the
    /// profile decoder, so no element can be read as another option.
    public func proxyArguments(readyFD: Int32) -> [String] {
        var argv = [proxy, "--fd=\(readyFD)"]
        for bus in [session, system].compactMap({ $0 }) {
            argv += [bus.upstream, bus.socketPath, "--filter"]
            if log { argv.append("--log") }
            argv += bus.rules.proxyOptions
        }
        return argv
    }
}

/// The /.flatpak-info xdg-desktop-portal reads from the bus peer's root. 1.16
/// (Debian 12) reads `[Application] name` (the app id; it must be a valid app id
/// or the peer counts as unsandboxed), and keeps the file for `[Instance]
/// instance-id` and `app-path`, and `[Context] shared` (network); flatpak writes
/// the same groups (common/flatpak-run.c, flatpak_run_add_app_info_args).
public enum FlatpakInfo {
    public static func render(appID: String, instance: String, network: Bool, sessionBusProxy: Bool, systemBusProxy: Bool) -> String {
        var text = "[Application]\nname=\(appID)\nruntime=runtime/org.sandbox.Host/x86_64/host\n\n"
        text += "[Instance]\ninstance-id=\(instance)\napp-path=\nbranch=host\nflatpak-version=1.14.0\n"
        text += "session-bus-proxy=\(sessionBusProxy)\nsystem-bus-proxy=\(systemBusProxy)\n\n"
        text += "[Context]\nshared=\(network ? "network;" : "")ipc;\n"
        return text
    }
}

/// D-Bus name syntax, as xdg-dbus-proxy (g_dbus_is_name) and xdg-desktop-portal
/// (xdp_is_valid_app_id) accept it.
public enum DBusNames {
    /// A well-known bus name: 2+ dot-separated elements of [A-Za-z0-9_-], none
    /// empty or starting with a digit, at most 255 bytes, not starting with ':'.
    public static func isWellKnownName(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (1...255).contains(bytes.count), bytes.first != UInt8(ascii: ":") else { return false }
        let elements = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard elements.count >= 2 else { return false }
        for e in elements {
            guard let first = e.first, !(first >= 48 && first <= 57) else { return false }
            guard e.allSatisfy({ isNameByte($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    /// A name for --talk/--own/--see: a well-known name, optionally with a `.*` suffix.
    public static func isPolicyName(_ s: String) -> Bool {
        isWellKnownName(s.hasSuffix(".*") ? String(s.dropLast(2)) : s)
    }

    /// RULE of --call/--broadcast: `[METHOD][@PATH]`; METHOD `*`, an interface
    /// (optionally `.*`) or interface.member; PATH an object path, optionally `/*`.
    public static func isRule(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        let parts = s.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let method = parts[0]
        if parts.count == 2 {
            var path = parts[1]
            if path.hasSuffix("/*") { path = String(path.dropLast(2)); if path.isEmpty { path = "/" } }
            guard isObjectPath(path) else { return false }
        }
        if method.isEmpty || method == "*" { return parts.count == 2 || method == "*" }
        let iface = method.hasSuffix(".*") ? String(method.dropLast(2)) : method
        return isInterfaceLike(iface)
    }

    /// `NAME=RULE` of --call/--broadcast.
    public static func isNameAndRule(_ s: String) -> Bool {
        guard let eq = s.firstIndex(of: "=") else { return false }
        return isPolicyName(String(s[..<eq])) && isRule(String(s[s.index(after: eq)...]))
    }

    /// `/` or `/a/b_c` (elements of [A-Za-z0-9_], no empty element, no trailing slash).
    public static func isObjectPath(_ s: String) -> Bool {
        guard s.hasPrefix("/") else { return false }
        if s == "/" { return true }
        return s.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
            .allSatisfy { !$0.isEmpty && $0.allSatisfy(isNameByte) }
    }

    /// An interface or interface.member: 2+ elements of [A-Za-z0-9_], none starting with a digit.
    static func isInterfaceLike(_ s: String) -> Bool {
        let elements = s.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard s.utf8.count <= 255, elements.count >= 2 else { return false }
        return elements.allSatisfy { e in
            guard let f = e.first, !(f >= 48 && f <= 57) else { return false }
            return e.allSatisfy(isNameByte)
        }
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 95
    }

    /// The app id of a profile: `org.sandbox.Profile.` + the name as one element
    /// ('.' becomes '_', a leading digit gets '_' before it; '-' is kept, which
    /// both D-Bus and xdg-desktop-portal allow in the last element).
    public static func appID(profile name: String) -> String {
        "org.sandbox.Profile." + element(name)
    }

    /// `name` made a valid bus name element.
    public static func element(_ name: String) -> String {
        var bytes = Array(name.utf8).map { isNameByte($0) || $0 == UInt8(ascii: "-") ? $0 : UInt8(ascii: "_") }
        if bytes.isEmpty || (bytes[0] >= 48 && bytes[0] <= 57) { bytes.insert(UInt8(ascii: "_"), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// `{name}` (the profile name as a bus name element) and `{app_id}` in profile
/// bus names, so a fragment such as gui.toml can grant each app its own MPRIS name.
public enum DBusNamePlaceholders {
    public static func expand(_ s: String, name: String, appID: String) -> String {
        guard s.contains("{") else { return s }
        return s.replacing("{name}", with: name).replacing("{app_id}", with: appID)
    }

    public static func expand(_ rules: DBusRules, profile: String) -> DBusRules {
        let name = DBusNames.element(profile), appID = DBusNames.appID(profile: profile)
        func e(_ list: [String]) -> [String] { list.map { expand($0, name: name, appID: appID) } }
        return DBusRules(talk: e(rules.talk), own: e(rules.own), see: e(rules.see), call: e(rules.call), broadcast: e(rules.broadcast))
    }
}
