// What a container start needs, as plain values computed from a Profile before
// anything touches the kernel. The runtime turns a LaunchPlan into the C spawn
// request; planners (id maps, mounts, desktop plumbing) only add to it, so each
// is unit-tested without a kernel.

/// One step of the container's filesystem set-up, executed in order inside the
/// new mount namespace, before pivot_root. Paths named `target` are inside the
/// new root (absolute, as the app will see them); the runtime prefixes the
/// staging root.
public enum MountOp: Sendable, Equatable {
    /// Bind a host path. `recursive` is rbind; `readonly` remounts read-only
    /// (nosuid,nodev kept); `optional` skips a missing source with a notice.
    case bind(source: String, target: String, readonly: Bool, recursive: Bool, optional: Bool)
    /// Bind a single device node (a file bind, nosuid; dev access is allowed).
    case device(source: String, target: String, optional: Bool)
    /// A fresh tmpfs, e.g. `mode=0755,size=…`.
    case tmpfs(target: String, options: String)
    /// A fresh procfs for the container's pid namespace.
    case proc(target: String)
    /// A new devpts instance (ptmxmode=0666, newinstance) and /dev/ptmx pointing at it.
    case devpts(target: String)
    /// mkdir -p with this mode.
    case mkdir(path: String, mode: UInt32)
    /// A symlink at `path` pointing to `target`.
    case symlink(target: String, path: String)
    /// A small file written into the new root (passwd, group, resolv.conf, client.conf, …).
    case file(path: String, contents: String, mode: UInt32)
    /// Remount an existing mount point read-only after everything below it is set up.
    case remountReadonly(target: String)
    /// Bind a host directory reached with the user's own credentials, before the
    /// set-up becomes root inside: a FUSE mount without allow_other (the document
    /// store's per-app view) refuses every other uid, container root included.
    case userBind(source: String, target: String, optional: Bool)
}

/// The supervisor's X11 proxy for one container, as plain data (it crosses to
/// the supervisor with the rest of the plan). The proxy listens on
/// `proxySocket`, which the plan binds at /tmp/.X11-unix/X`display` inside, and
/// forwards every connection to `serverSocket` presenting an untrusted cookie
/// it minted over its own connection (the user's cookie from
/// `userXauthority`); it writes that cookie to `containerXauthority`, which the
/// plan binds as the app's XAUTHORITY. See SandboxMediators' X11Proxy.
public struct X11Mediation: Sendable, Equatable {
    /// N of the display :N.
    public var display: UInt32
    /// The real X server's socket on the host, /tmp/.X11-unix/XN.
    public var serverSocket: String
    /// The proxy's listening socket on the host (in the container's state dir).
    public var proxySocket: String
    /// The user's Xauthority file (XAUTHORITY or ~/.Xauthority); may be absent.
    public var userXauthority: String
    /// The container's Xauthority on the host, written by the proxy.
    public var containerXauthority: String
    /// Whether app connections are trusted clients. Always false today: trusted
    /// mode binds the server's socket directly (see Docs/desktop.md).
    public var trusted: Bool
    /// x11.required: false lets the container start without X when the proxy cannot.
    public var required: Bool

    public init(display: UInt32, serverSocket: String, proxySocket: String, userXauthority: String,
                containerXauthority: String, trusted: Bool, required: Bool) {
        self.display = display
        self.serverSocket = serverSocket
        self.proxySocket = proxySocket
        self.userXauthority = userXauthority
        self.containerXauthority = containerXauthority
        self.trusted = trusted
        self.required = required
    }
}

/// A host directory the runtime creates (0700, as the user) before the spawn:
/// `root` is trusted (created as a plain `mkdir -p`); below it — inside a home
/// the app can write — no symlink is followed (issue 9 #3: an app that turned a
/// directory of its home into a symlink steered the launcher's mkdir elsewhere).
public struct HostDirectory: Sendable, Equatable, Hashable {
    public var root: String
    public var path: String
    public init(root: String, path: String) {
        self.root = root
        self.path = path
    }
    /// A directory whose whole path is trusted (the private home itself).
    public init(trusted path: String) {
        self.init(root: path, path: path)
    }
}

/// Namespaces the container gets. User, mount, pid, ipc, uts and cgroup always;
/// net unless network.mode = "host".
public struct NamespaceSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let user = NamespaceSet(rawValue: 1 << 0)
    public static let mount = NamespaceSet(rawValue: 1 << 1)
    public static let pid = NamespaceSet(rawValue: 1 << 2)
    public static let ipc = NamespaceSet(rawValue: 1 << 3)
    public static let uts = NamespaceSet(rawValue: 1 << 4)
    public static let net = NamespaceSet(rawValue: 1 << 5)
    public static let cgroup = NamespaceSet(rawValue: 1 << 6)
    public static let all: NamespaceSet = [.user, .mount, .pid, .ipc, .uts, .net, .cgroup]
}

/// The sound mediator's configuration: plain values, so the plan can be
/// encoded for the supervisor. The supervisor listens on `socketPath` (on the
/// host, in a directory bound into the container at $XDG_RUNTIME_DIR/pulse)
/// and relays each app connection to `upstream`, filtered (SoundPolicy).
public struct SoundMediation: Sendable, Equatable {
    /// The container's socket, on the host.
    public var socketPath: String
    /// The user's sound server: a unix socket path.
    public var upstream: String
    /// pulse.microphone: whether recording streams are allowed.
    public var microphone: Bool

    public init(socketPath: String, upstream: String, microphone: Bool) {
        self.socketPath = socketPath
        self.upstream = upstream
        self.microphone = microphone
    }
}

/// Everything needed to start container `name` and its first session.
public struct LaunchPlan: Sendable, Equatable {
    public var name: String
    public var namespaces: NamespaceSet = .all
    public var hostname: String
    public var uidMap: [IDMapping] = []
    public var gidMap: [IDMapping] = []
    /// Filesystem set-up, in order.
    public var mounts: [MountOp] = []
    /// The profile's `command` (argv is it plus the first launch's arguments; a
    /// join appends its own arguments to this).
    public var command: [String] = []
    /// The app session: argv, clean environment ("K=V"), working directory, ids inside.
    public var argv: [String] = []
    public var environment: [String] = []
    public var workingDirectory: String = "/"
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    /// Supplementary groups kept inside (mapped gids only), e.g. video/render/audio.
    public var supplementaryGroups: [UInt32] = []
    /// Notices for the user (fallbacks, what a mode does not protect), printed at every start.
    public var notices: [String] = []
    /// Facts about the machine (a missing optional device, the microphone off), printed
    /// at the first start of the profile only (and again when they change); logged always.
    public var onceNotices: [String] = []

    // ---- added by the engine (issue 3) ----
    /// Raw `struct sock_filter` array (8 bytes per instruction) loaded with
    /// seccomp(SECCOMP_SET_MODE_FILTER) as the last step before execve of every
    /// session, after no_new_privs. Empty = no filter. Filled by the policy compiler.
    public var seccompFilter: [UInt8] = []
    /// Seconds of SIGTERM grace before SIGKILL when the container stops.
    public var stopTimeout: Int = 10
    /// RLIMIT_NPROC for everything in the container; 0 = the launcher's own.
    public var processLimit: Int = 0
    /// Host directories the runtime creates (0700) before the spawn: the private
    /// home, and protected directories that must exist to be bound read-only.
    public var hostDirectories: [HostDirectory] = []
    /// (host path prefix, container path prefix) pairs of the plan's binds, in
    /// order; used to find where the user's working directory is visible.
    public var visiblePaths: [(host: String, container: String)] = []
    /// The home directory inside the container.
    public var home: String = "/"
    /// The sound mediator the supervisor runs for the container's lifetime, or
    /// nil (no sound, or the profile's explicit unfiltered-host-socket).
    public var sound: SoundMediation?
    /// The X11 proxy the supervisor runs for the container's lifetime
    /// (x11.mode = "untrusted"); nil when the app gets no proxied display.
    public var x11: X11Mediation?
    /// The bus proxy the supervisor runs for the container's lifetime
    /// (dbus.mode = "filtered", or names on the system bus); nil without one.
    public var dbus: DBusMediation?

    public static func == (a: LaunchPlan, b: LaunchPlan) -> Bool {
        a.name == b.name && a.namespaces == b.namespaces && a.hostname == b.hostname && a.uidMap == b.uidMap && a.command == b.command
            && a.gidMap == b.gidMap && a.mounts == b.mounts && a.argv == b.argv
            && a.environment == b.environment && a.workingDirectory == b.workingDirectory && a.uid == b.uid
            && a.gid == b.gid && a.supplementaryGroups == b.supplementaryGroups && a.notices == b.notices && a.onceNotices == b.onceNotices
            && a.seccompFilter == b.seccompFilter && a.stopTimeout == b.stopTimeout && a.processLimit == b.processLimit
            && a.hostDirectories == b.hostDirectories && a.home == b.home && a.sound == b.sound && a.x11 == b.x11 && a.dbus == b.dbus
            && a.visiblePaths.map { $0.host + "\u{0}" + $0.container } == b.visiblePaths.map { $0.host + "\u{0}" + $0.container }
    }

    /// Whether sessions may call setgroups: only when the gid map holds more than
    /// the user's own gid. Otherwise /proc/PID/setgroups is "deny" — written by
    /// us before a direct own-id map, or by newgidmap, which allows setgroups only
    /// when some range came from /etc/subgid — and the sessions simply keep the
    /// launcher's groups (unmapped ones show as nogroup inside).
    public var setgroupsAllowed: Bool {
        gidMap.contains { !($0.outside == gid && $0.count == 1) }
    }

    /// Adds filesystem steps for other planners (desktop, network): before the final
    /// read-only remount of the root, so new mount points can still be created in `/`.
    public mutating func addMounts(_ ops: [MountOp]) {
        if let last = mounts.last, last == .remountReadonly(target: "/") {
            mounts.insert(contentsOf: ops, at: mounts.count - 1)
        } else {
            mounts += ops
        }
    }

    /// Where a host path is visible inside the container (the last bind covering it wins), or nil.
    public func containerPath(forHost path: String) -> String? {
        for (host, container) in visiblePaths.reversed() {
            if path == host { return container }
            let prefix = host.hasSuffix("/") ? host : host + "/"
            if path.hasPrefix(prefix) {
                let rest = path.dropFirst(prefix.count)
                return (container.hasSuffix("/") ? container : container + "/") + rest
            }
        }
        return nil
    }

    public init(name: String, hostname: String) {
        self.name = name
        self.hostname = hostname
    }
}
