// The typed profile model (schema v1, see Docs/sandbox-profile.5). Profiles are
// parsed once, merged with their includes and defaults, validated, and then every
// other component reads this value; nobody re-reads TOML.

/// A fully merged, validated profile.
public struct Profile: Sendable, Equatable {
    /// The profile's name: its file name without `.toml`; also the container name.
    public var name: String
    /// The file it was loaded from (for messages).
    public var sourcePath: String
    /// `ProfileFingerprint` of the file's bytes as they were parsed: a running
    /// container records it, and a join says when the file has changed since.
    public var sourceFingerprint = ""
    public var description: String = ""
    /// Fragments merged before this file, in order (already applied).
    public var include: [String] = []
    /// argv of the app; `run NAME -- ARGS` appends ARGS.
    public var command: [String] = []
    public var rootfs = RootFS()
    public var home = Home()
    public var idmap = IDMapSettings()
    public var devices = Devices()
    public var x11 = X11()
    public var pulse = Pulse()
    public var wayland = Wayland()
    public var network = Network()
    public var dbus = DBus()
    public var files = Files()
    /// Extra environment, applied last (after the clean base environment).
    public var env: [String: String] = [:]
    public var mounts: [Mount] = []
    public var seccomp = Seccomp()
    public var session = Session()
    public var limits = Limits()
    public var image = Image()
    public var desktop = Desktop()

    public init(name: String, sourcePath: String) {
        self.name = name
        self.sourcePath = sourcePath
    }

    public struct RootFS: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable { case host, image }
        public var mode: Mode = .host
        /// For `image`: an explicit rootfs directory instead of DATA/NAME/rootfs (`~` allowed).
        public var path: String? = nil
        public init() {}
    }

    public struct Home: Sendable, Equatable {
        /// `hostReadonly`: the real home read-only; writable parts come from `[[mount]]`.
        public enum Mode: String, Sendable, CaseIterable { case `private`, tmpfs, host, hostReadonly = "host-readonly" }
        public var mode: Mode = .private
        public init() {}
    }

    public struct IDMapSettings: Sendable, Equatable {
        /// Map the user's own uid/gid 1:1 and the rest of 0–65535 into the subordinate ranges.
        public var passthrough: Bool = true
        /// Explicit lxc.id_map style lines "INSIDE OUTSIDE COUNT"; when set they replace the computed map.
        public var uid: [IDMapping] = []
        public var gid: [IDMapping] = []
        public init() {}
    }

    public struct Devices: Sendable, Equatable {
        public var dri: Bool = false
        public var snd: Bool = false
        public var video: Bool = false
        /// Extra device nodes (absolute paths under /dev).
        public var extra: [String] = []
        /// Fail the launch instead of skipping with a notice when a requested device is absent.
        public var required: Bool = false
        public init() {}
    }

    public struct X11: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable { case none, trusted, untrusted }
        public var mode: Mode = .none
        /// Refuse to start when the display cannot be reached (otherwise the app starts without X).
        public var required: Bool = true
        public init() {}
    }

    public struct Pulse: Sendable, Equatable {
        /// "module" and "socket" both give the app the sound mediator's socket (a
        /// filtering proxy run by the supervisor; the names are from before it
        /// existed, when "module" loaded module-native-protocol-unix and "socket"
        /// bound the host's socket). "unfiltered-host-socket" binds the user's own
        /// server socket, unmediated: the app can load modules into it and record.
        public enum Mode: String, Sendable, CaseIterable {
            case none, module, socket
            case unfilteredHostSocket = "unfiltered-host-socket"
        }
        public var mode: Mode = .none
        /// Refuse to start without sound (otherwise the app starts silent, with a notice).
        public var required: Bool = false
        /// Let the app record (CREATE_RECORD_STREAM through the mediator): the
        /// microphone, and the monitors of the user's outputs.
        public var microphone: Bool = false
        public init() {}
    }

    public struct Wayland: Sendable, Equatable {
        public var enabled: Bool = false
        public init() {}
    }

    public struct Network: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable { case none, veth, pasta, host }
        public var mode: Mode = .none
        /// Bridge for `veth`; nil means the per-user config's default (sandboxbr0).
        public var bridge: String? = nil
        /// `pasta` only, all empty by default (outbound only). Ports of the app the
        /// host reaches at its own 127.0.0.1:PORT (never on the host's other addresses).
        public var inboundTCP: [Int] = []
        public var inboundUDP: [Int] = []
        /// Ports of the host's loopback the app reaches at its own 127.0.0.1:PORT.
        public var hostLoopbackTCP: [Int] = []
        public var hostLoopbackUDP: [Int] = []
        public init() {}
    }

    /// The session bus and the portals (Docs/desktop.md): "none" gives the app an
    /// address that fails at once (nothing autolaunches a bus inside),
    /// "filtered" the supervisor's xdg-dbus-proxy with these rules, "host" the
    /// user's own bus socket, unfiltered. The system bus is reached only through
    /// the proxy, and only when `system` lists names.
    public struct DBus: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable { case none, filtered, host }
        public var mode: Mode = .none
        /// Session bus rules; `{name}` and `{app_id}` in a name stand for the
        /// profile name (as a bus name element) and the app id.
        public var session = DBusRules()
        public var system = DBusRules()
        public init() {}
    }

    /// Host files named by the app's arguments (a launcher's %U/%F, or `sandbox run
    /// NAME -- FILE`), outside what the container sees: handed over through the
    /// document store (needs the portals in [dbus]), read-only unless this says so.
    public struct Files: Sendable, Equatable {
        public var handOver: FileHandOverMode = .readOnly
        public init() {}
    }

    public struct Mount: Sendable, Equatable {
        /// Host path; `~` is the user's host home.
        public var source: String
        /// Path inside the container; `~` is the container home. Must be absolute after expansion, no `..`.
        public var target: String
        public var readonly: Bool = true
        /// Skip (with a notice) when the source does not exist.
        public var optional: Bool = false
        public init(source: String, target: String, readonly: Bool = true, optional: Bool = false) {
            self.source = source
            self.target = target
            self.readonly = readonly
            self.optional = optional
        }
    }

    public struct Seccomp: Sendable, Equatable {
        public enum Policy: String, Sendable, CaseIterable { case `default`, none }
        public var profile: Policy = .default
        public var allowUserns: Bool = false
        public var multiarch: Bool = false
        /// Syscall names removed from / added to the default deny list.
        public var allow: [String] = []
        public var deny: [String] = []
        public init() {}
    }

    public struct Limits: Sendable, Equatable {
        /// RLIMIT_NPROC inside the container: tasks (processes and threads) per uid,
        /// counted for this container alone (Linux >= 5.14). The default is above what
        /// a browser with many tabs runs and far below a desktop user's own limit.
        public var processes: Int = 8192
        public init() {}
    }

    public struct Session: Sendable, Equatable {
        /// Seconds of SIGTERM grace before SIGKILL when the container stops.
        public var stopTimeout: Int = 10
        public init() {}
    }

    public struct Image: Sendable, Equatable {
        public var distro: String = "debian"
        public var release: String = "bookworm"
        public var arch: String = "amd64"
        public var variant: String = "minbase"
        /// Archive components, e.g. ["main", "contrib", "non-free"].
        public var components: [String] = ["main"]
        /// Extra dpkg architectures (multiarch), e.g. ["i386"] for Steam.
        public var foreignArchitectures: [String] = []
        public var packages: [String] = []
        /// Extra apt sources lines, e.g. a vendor repository (with its keyring under /etc/apt/keyrings).
        public var sources: [String] = []
        /// OpenPGP keys for `sources` (https:// URLs or absolute host paths), installed
        /// into /etc/apt/keyrings/ under their file name before the sources are used.
        public var keys: [String] = []
        /// Primary-key fingerprints (upper-case hex) a key in `keys` must carry;
        /// required for https keys. Only pinned keys reach the image's keyring.
        public var keyFingerprints: [String] = []
        public init() {}
    }

    public struct Desktop: Sendable, Equatable {
        public var name: String? = nil
        public var icon: String? = nil
        public var comment: String? = nil
        public var categories: [String] = []
        public var mimeTypes: [String] = []
        public init() {}
    }
}
