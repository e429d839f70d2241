import SandboxCore

/// What the desktop plumbing adds to a LaunchPlan: binds and files (after the
/// engine's base filesystem), variables (between the base environment and the
/// profile's [env]), notices, and groups to keep.
public struct DesktopAdditions: Sendable, Equatable {
    public var mounts: [MountOp] = []
    /// DISPLAY, XAUTHORITY, PULSE_SERVER, PULSE_CLIENTCONFIG, WAYLAND_DISPLAY.
    public var environment: [String: String] = [:]
    public var notices: [String] = []
    /// Facts about this machine said at the first start of a profile only (a missing
    /// optional device, the microphone being off); the log has them every time.
    public var onceNotices: [String] = []
    /// Owning groups of the bound devices that the user is a member of.
    public var supplementaryGroups: [UInt32] = []
    /// For each of those groups, the devices (paths inside) it owns, for the notice
    /// when the group cannot be kept.
    public var groupDevices: [UInt32: [String]] = [:]
    /// Names of those groups on the host (getgrgid), where known.
    public var groupNames: [UInt32: String] = [:]
    /// The sound mediator to run (becomes LaunchPlan.sound).
    public var sound: SoundMediation?
    /// The supervisor's X11 proxy (x11.mode = "untrusted").
    public var x11: X11Mediation?
    public init() {}

    mutating func add(_ other: DesktopAdditions) {
        mounts += other.mounts
        environment.merge(other.environment) { _, new in new }
        notices += other.notices
        onceNotices += other.onceNotices
        supplementaryGroups = Array(Set(supplementaryGroups + other.supplementaryGroups)).sorted()
        groupDevices.merge(other.groupDevices) { $0 + $1 }
        groupNames.merge(other.groupNames) { _, new in new }
        if let s = other.sound { sound = s }
        x11 = other.x11 ?? x11
    }
}

/// The pure half of the desktop plumbing: given what was found on the host
/// (sockets, devices, which sound path works), the exact ops and variables.
/// Everything here is deterministic and unit-tested without X or PulseAudio.
public enum DesktopLayout {
    /// XDG_RUNTIME_DIR inside the container.
    public static func runtimeDir(uid: UInt32) -> String { "/run/user/\(uid)" }

    /// X11: the display's socket file and a one-display Xauthority, both read-only.
    /// `xauthority` is the file written on the host (in the container's state dir);
    /// `socket` the host socket bound at the display's path inside: the server's
    /// own (trusted mode) or the supervisor's X11 proxy (untrusted mode).
    /// `optional` (the proxy's files when x11.required = false): a missing source
    /// is skipped, so a proxy that could not start leaves the app without X.
    public static func x11(display: X11Display, socket: String? = nil, xauthority: String, uid: UInt32,
                           optional: Bool = false) -> DesktopAdditions {
        let inside = runtimeDir(uid: uid) + "/Xauthority"
        var a = DesktopAdditions()
        a.mounts = [
            // Sticky and world-writable, as on the host, so X clients' checks pass.
            .mkdir(path: X11Display.socketDirectory, mode: 0o1777),
            .bind(source: socket ?? display.socketPath, target: display.socketPath, readonly: true, recursive: false, optional: optional),
            .mkdir(path: runtimeDir(uid: uid), mode: 0o700),
            .bind(source: xauthority, target: inside, readonly: true, recursive: false, optional: optional),
        ]
        a.environment = ["DISPLAY": display.insideName, "XAUTHORITY": inside]
        return a
    }

    /// The client.conf the app's libpulse reads: no shared memory (the container
    /// has its own IPC namespace and /dev/shm, so SHM transfers would fail or
    /// leak), and never autospawn a server inside the container.
    public static let pulseClientConf = """
        # Written by sandbox: the sound server is outside this container.
        enable-shm = no
        enable-memfd = no
        autospawn = no

        """

    /// PulseAudio through the sound mediator: the container's own directory
    /// (`directory` on the host, holding client.conf and, once the supervisor
    /// runs, the mediator's socket `native`) bound read-only at the usual place
    /// inside. A directory, not the socket: the socket is created after the spawn.
    public static func pulse(directory: String, uid: UInt32) -> DesktopAdditions {
        let dir = runtimeDir(uid: uid) + "/pulse"
        var a = DesktopAdditions()
        a.mounts = [
            .mkdir(path: dir, mode: 0o755),
            .bind(source: directory, target: dir, readonly: true, recursive: false, optional: false),
        ]
        a.environment = pulseEnvironment(uid: uid)
        return a
    }

    /// PulseAudio unmediated (pulse.mode = "unfiltered-host-socket"): the user's
    /// server socket at the usual place inside, and client.conf.
    public static func pulse(socket: String, uid: UInt32) -> DesktopAdditions {
        let dir = runtimeDir(uid: uid) + "/pulse"
        var a = DesktopAdditions()
        a.mounts = [
            // 0755: the directory may be created by the container's root, not the
            // app's uid; the socket's own permissions are what guard it.
            .mkdir(path: dir, mode: 0o755),
            .bind(source: socket, target: dir + "/native", readonly: true, recursive: false, optional: false),
            .file(path: dir + "/client.conf", contents: pulseClientConf, mode: 0o644),
        ]
        a.environment = pulseEnvironment(uid: uid)
        return a
    }

    static func pulseEnvironment(uid: UInt32) -> [String: String] {
        let dir = runtimeDir(uid: uid) + "/pulse"
        return ["PULSE_SERVER": "unix:" + dir + "/native", "PULSE_CLIENTCONFIG": dir + "/client.conf"]
    }

    /// Wayland: the compositor socket under the same name inside.
    public static func wayland(socket: String, uid: UInt32) -> DesktopAdditions {
        let name = socket.split(separator: "/").last.map(String.init) ?? "wayland-0"
        let dir = runtimeDir(uid: uid)
        var a = DesktopAdditions()
        a.mounts = [
            .mkdir(path: dir, mode: 0o700),
            .bind(source: socket, target: dir + "/" + name, readonly: true, recursive: false, optional: false),
        ]
        a.environment = ["WAYLAND_DISPLAY": name, "XDG_RUNTIME_DIR": dir]
        return a
    }

    /// Devices: each node bound at its own path; missing classes become notices,
    /// or an error when the profile says devices.required.
    public static func devices(_ found: [DeviceDiscovery.Found], required: Bool, user: UserIdentity) throws(SandboxError) -> DesktopAdditions {
        var a = DesktopAdditions()
        var made: Set<String> = ["/dev"]
        var gids: Set<UInt32> = []
        for f in found {
            if f.nodes.isEmpty {
                if required {
                    throw SandboxError("\(f.key): \(f.wanted) is not present on this machine",
                                       hint: "set devices.required = false to start without it, or remove it from the profile")
                }
                a.onceNotices.append("\(f.key): \(f.wanted) is not present on this machine; starting without it")
                continue
            }
            for node in f.nodes {
                let parent = HostFile.dirname(node.path)
                if !made.contains(parent) {
                    // Parents first, so /dev/dri exists before /dev/dri/by-x/…
                    var chain: [String] = []
                    var p = parent
                    while !made.contains(p) && p != "/" { chain.append(p); p = HostFile.dirname(p) }
                    for dir in chain.reversed() {
                        a.mounts.append(.mkdir(path: dir, mode: 0o755))
                        made.insert(dir)
                    }
                }
                // optional: a webcam unplugged between discovery and start must not fail the launch.
                a.mounts.append(.device(source: node.source, target: node.path, optional: true))
                if node.gid != user.gid && user.groups.contains(node.gid) {
                    gids.insert(node.gid)
                    a.groupDevices[node.gid, default: []].append(node.path)
                }
            }
        }
        a.supplementaryGroups = gids.sorted()
        return a
    }

    /// The sysfs directories GPU and camera stacks look devices up in: libdrm's
    /// drmGetDevice2 (Mesa) follows /sys/dev/char/MAJ:MIN to /sys/devices/…/drm,
    /// Chrome's GPU process walks /sys/class/drm and /sys/bus/pci, V4L2 apps read
    /// /sys/class/video4linux. The same set flatpak binds, read-only.
    public static let sysfsDirectories = ["/sys/block", "/sys/bus", "/sys/class", "/sys/dev", "/sys/devices"]

    /// sysfs for devices.dri / devices.video: a small tmpfs at /sys (so nothing is
    /// created in an image's /sys on disk, and nothing else of the host's sysfs —
    /// /sys/kernel, /sys/fs/cgroup, /sys/firmware — is visible), the directories
    /// above bound read-only from the host (recursively: a plain bind of a tree with
    /// locked submounts is refused in a user namespace), then /sys itself read-only.
    /// A fresh sysfs cannot be mounted instead: the kernel allows that only to the
    /// owner of the network namespace, and a "host" network container does not own one.
    /// `exists` is asked for each directory; only present ones are bound.
    public static func sysfs(exists: (String) -> Bool) -> DesktopAdditions {
        var a = DesktopAdditions()
        let present = sysfsDirectories.filter(exists)
        guard !present.isEmpty else { return a }
        a.mounts.append(.tmpfs(target: "/sys", options: "mode=0755,size=16k"))
        for dir in present {
            a.mounts.append(.bind(source: dir, target: dir, readonly: true, recursive: true, optional: false))
        }
        a.mounts.append(.remountReadonly(target: "/sys"))
        return a
    }

    /// Image rootfs: the host's fonts, icons and themes, read-only, so apps look
    /// like the rest of the desktop. Host mode already sees /usr/share. The
    /// user's own fonts go under /usr/local/share/fonts (which fontconfig reads)
    /// rather than into the container's home: a mount point made there would be
    /// a directory owned by the container's root left in the persistent home.
    /// `exists` is asked for each source; only present ones are bound.
    public static func sharedLook(hostHome: String, exists: (String) -> Bool) -> DesktopAdditions {
        var a = DesktopAdditions()
        var binds = ["/usr/share/fonts", "/usr/share/icons", "/usr/share/themes"].map { ($0, $0) }
        binds.append((hostHome + "/.fonts", "/usr/local/share/fonts/sandbox-user-fonts"))
        binds.append((hostHome + "/.local/share/fonts", "/usr/local/share/fonts/sandbox-user-local-fonts"))
        for (source, target) in binds where exists(source) {
            a.mounts.append(.mkdir(path: target, mode: 0o755))
            a.mounts.append(.bind(source: source, target: target, readonly: true, recursive: true, optional: true))
        }
        return a
    }

    /// Splits gids into those the gid map maps 1:1 (inside == outside) and the rest.
    public static func partitionGroups(_ gids: [UInt32], gidMap: [IDMapping]) -> (mapped: [UInt32], unmapped: [UInt32]) {
        var mapped: [UInt32] = [], unmapped: [UInt32] = []
        for g in gids {
            let oneToOne = gidMap.contains { m in
                m.inside == m.outside && g >= m.inside && UInt64(g) < UInt64(m.inside) + UInt64(m.count)
            }
            if oneToOne { mapped.append(g) } else { unmapped.append(g) }
        }
        return (mapped, unmapped)
    }
}
