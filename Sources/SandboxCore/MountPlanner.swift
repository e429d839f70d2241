// The container's filesystem as an ordered list of MountOps, computed from the
// profile without touching the kernel. What the host looks like (which
// directories exist, which are symlinks, the passwd database) comes in through
// `HostFilesystem`, so tests describe a host as plain values.
#if canImport(Glibc)
import Glibc
#endif

/// The facts about the host the mount plan depends on.
public protocol HostFilesystem: Sendable {
    func kind(of path: String) -> HostPathKind
    /// A text file's contents (for /etc/passwd and /etc/group), nil if unreadable.
    func contents(of path: String) -> String?
}

public enum HostPathKind: Sendable, Equatable {
    case missing, directory, file, device
    case symlink(String)
}

/// The real host, through lstat/readlink.
public struct LiveHostFilesystem: HostFilesystem {
    public init() {}
    public func kind(of path: String) -> HostPathKind {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK:
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink(path, &buf, buf.count - 1)
            guard n > 0 else { return .missing }
            return .symlink(String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case S_IFCHR, S_IFBLK: return .device
        default: return .file
        }
    }
    public func contents(of path: String) -> String? { HostFile.read(path) }
}

/// The result of mount planning.
public struct MountPlan: Sendable, Equatable {
    public var ops: [MountOp] = []
    public var notices: [String] = []
    /// Host directories to create before the spawn (private home, protected config).
    public var hostDirectories: [HostDirectory] = []
    /// (host, container) prefixes of the binds, in order.
    public var visible: [VisiblePath] = []
    /// The home directory inside the container.
    public var home: String = "/"

    public struct VisiblePath: Sendable, Equatable {
        public var host: String
        public var container: String
    }
}

public enum MountPlanner {
    /// Host directories that make up a "host" rootfs, bound read-only (symlinks recreated).
    public static let hostRootDirectories = ["usr", "etc", "opt", "bin", "sbin", "lib", "lib64", "lib32", "libx32"]
    /// Device nodes every container gets (bound from the host).
    public static let basicDevices = ["null", "zero", "full", "random", "urandom", "tty"]

    /// `keptGroups`: the user's supplementary groups the sessions keep (IDMapPlan.keptGroups);
    /// they get their names and the user as member in the generated /etc/group.
    public static func plan(profile: Profile, paths: Paths, user: UserIdentity,
                            host: HostFilesystem = LiveHostFilesystem(),
                            keptGroups: [UInt32] = []) throws(SandboxError) -> MountPlan {
        var plan = MountPlan()
        let home = user.home
        plan.home = home

        // 1. The root: host directories read-only over a tmpfs, or an image.
        let rootfsSource: String
        switch profile.rootfs.mode {
        case .host:
            rootfsSource = "/"
            plan.ops.append(.tmpfs(target: "/", options: "mode=0755"))
            for dir in hostRootDirectories {
                let path = "/" + dir
                switch host.kind(of: path) {
                case .symlink(let target):
                    // Debian's merged /usr: /bin -> usr/bin; keep the same shape.
                    plan.ops.append(.symlink(target: target, path: path))
                case .directory:
                    plan.ops.append(.bind(source: path, target: path, readonly: true, recursive: true, optional: false))
                    plan.visible.append(.init(host: path, container: path))
                default:
                    continue
                }
            }
        case .image:
            let rootfs = profile.rootfs.path.map { HostFile.expandHome($0, home: home) } ?? paths.rootfsDir(profile.name)
            guard host.kind(of: rootfs) == .directory else {
                throw SandboxError(
                    "\(profile.name): the image rootfs \(rootfs) does not exist",
                    hint: profile.rootfs.path == nil
                        ? "run `sandbox create \(profile.name)` to build it"
                        : "fix rootfs.path in \(profile.sourcePath), or run `sandbox create \(profile.name)`")
            }
            rootfsSource = rootfs
            // Writable, so `sandbox exec --root NAME -- apt-get install …` can change the image.
            plan.ops.append(.bind(source: rootfs, target: "/", readonly: false, recursive: true, optional: false))
        }

        // 2. Kernel file systems and a minimal /dev.
        plan.ops.append(.proc(target: "/proc"))
        plan.ops.append(.tmpfs(target: "/dev", options: "mode=0755,size=1m"))
        for dev in basicDevices {
            plan.ops.append(.device(source: "/dev/" + dev, target: "/dev/" + dev, optional: false))
        }
        plan.ops.append(.devpts(target: "/dev/pts"))
        plan.ops.append(.symlink(target: "pts/ptmx", path: "/dev/ptmx"))
        plan.ops.append(.tmpfs(target: "/dev/shm", options: "mode=1777"))
        plan.ops.append(.symlink(target: "/proc/self/fd", path: "/dev/fd"))
        for (i, name) in ["stdin", "stdout", "stderr"].enumerated() {
            plan.ops.append(.symlink(target: "/proc/self/fd/\(i)", path: "/dev/" + name))
        }
        plan.ops.append(.tmpfs(target: "/tmp", options: "mode=1777"))
        plan.ops.append(.tmpfs(target: "/run", options: "mode=0755"))
        plan.ops.append(.tmpfs(target: "/run/user/\(user.uid)", options: "mode=0700,uid=\(user.uid),gid=\(user.gid)"))

        // 3. Home.
        switch profile.home.mode {
        case .private:
            let dir = paths.homeDir(profile.name)
            plan.hostDirectories.append(HostDirectory(trusted: dir))
            plan.ops.append(.bind(source: dir, target: home, readonly: false, recursive: false, optional: false))
            plan.visible.append(.init(host: dir, container: home))
        case .tmpfs:
            plan.ops.append(.tmpfs(target: home, options: "mode=0700,uid=\(user.uid),gid=\(user.gid)"))
        case .host:
            plan.ops.append(.bind(source: home, target: home, readonly: false, recursive: true, optional: false))
            plan.visible.append(.init(host: home, container: home))
            // Issue 9 #7: the app can write the user's shell start-up files, autostart
            // entries, … : no boundary against persistence. Said at every start.
            plan.notices.append("home.mode = \"host\": \(profile.name) can write your real home, your shell's start-up files included: "
                + "this is no boundary against an app that wants to persist; home.mode = \"host-readonly\" with writable [[mount]]s is safer")
        case .hostReadonly:
            plan.ops.append(.bind(source: home, target: home, readonly: true, recursive: true, optional: false))
            plan.visible.append(.init(host: home, container: home))
        }

        // 4. The profile's [[mount]] entries, in order.
        for (i, m) in profile.mounts.enumerated() {
            let source = HostFile.expandHome(m.source, home: user.home)
            let target = HostFile.expandHome(m.target, home: home)
            let whereText = "\(profile.sourcePath): [[mount]] #\(i + 1)"
            guard source.hasPrefix("/") else {
                throw SandboxError("\(whereText): source '\(m.source)' is not an absolute path", hint: "use /… or ~/…")
            }
            guard target.hasPrefix("/"), !target.split(separator: "/").contains(".."), target != "/" else {
                throw SandboxError("\(whereText): target '\(m.target)' must be an absolute path without '..' and not /",
                                   hint: "use /… or ~/…")
            }
            // The runtime directory holds every container's control socket and the
            // mediators' sockets: bound inside, one container could reach another's
            // init (issue 9 #4). Read-only does not help: connect(2) works on a
            // read-only mount. Refused whether the source is it, above it or in it.
            let runtime = paths.runtimeDir
            let resolved: String = {
                if case .symlink(let t) = host.kind(of: source) { return t.hasPrefix("/") ? t : HostFile.dirname(source) + "/" + t }
                return source
            }()
            for s in Set([source, resolved]) {
                let src = s.count > 1 && s.hasSuffix("/") ? String(s.dropLast()) : s
                if src == runtime || runtime.hasPrefix(src == "/" ? "/" : src + "/") || src.hasPrefix(runtime + "/") {
                    throw SandboxError("\(whereText): source \(m.source) exposes sandbox's runtime directory \(runtime) (every container's control socket) to the app",
                                       hint: "bind a narrower directory that does not contain \(runtime)")
                }
            }
            if host.kind(of: source) == .missing {
                if m.optional {
                    plan.notices.append("\(profile.name): skipping mount \(m.source) -> \(m.target): \(source) does not exist")
                    continue
                }
                throw SandboxError("\(whereText): mount source \(source) does not exist",
                                   hint: "create it, or set optional = true to skip it when absent")
            }
            // A mount point inside a host-backed home is created by the runtime, as the user:
            // created by the init it would belong to a subordinate uid on the host.
            if host.kind(of: source) == .directory, let backing = hostPath(forContainer: target, in: plan.visible) {
                plan.hostDirectories.append(backing)
            }
            plan.ops.append(.bind(source: source, target: target, readonly: m.readonly, recursive: true, optional: m.optional))
            plan.visible.append(.init(host: source, container: target))
        }

        // 5. Keep the app away from sandbox's own configuration and data
        //    (firejail #7154: an app that edits its profile escapes at the next start).
        protect(paths.configDir, mode: .readonly, plan: &plan)
        protect(paths.dataDir, mode: .hidden, plan: &plan)

        // 6. Names for the ids inside: the passthrough user and its group.
        let passwdPath = rootfsSource == "/" ? "/etc/passwd" : rootfsSource + "/etc/passwd"
        let groupPath = rootfsSource == "/" ? "/etc/group" : rootfsSource + "/etc/group"
        // An image that names the user itself (`sandbox create` adds it) keeps its own,
        // writable account files, so container root can add users (apt, adduser);
        // otherwise generated read-only ones are bound over them.
        let passwdText = host.contents(of: passwdPath) ?? ""
        let groupText = host.contents(of: groupPath) ?? ""
        let imageNamesUser = rootfsSource != "/" && names(uid: user.uid, in: passwdText) && names(uid: user.gid, in: groupText)
        if !imageNamesUser {
            plan.ops.append(.file(path: "/etc/passwd", contents: passwd(base: passwdText, user: user, home: home), mode: 0o644))
            plan.ops.append(.file(path: "/etc/group", contents: group(base: groupText, user: user,
                                                                     kept: keptGroups, hostGroups: keptGroups.isEmpty ? "" : rootfsSource == "/" ? groupText : host.contents(of: "/etc/group") ?? ""),
                                  mode: 0o644))
        }

        // 7. The staging tmpfs root itself becomes read-only once everything is mounted on it.
        if profile.rootfs.mode == .host {
            plan.ops.append(.remountReadonly(target: "/"))
        }
        return plan
    }

    /// The host path behind a container path, through the writable home binds (nil when not host-backed).
    /// (The bind's host source is the trusted root; what lies below it the app can write.)
    static func hostPath(forContainer path: String, in visible: [MountPlan.VisiblePath]) -> HostDirectory? {
        for v in visible.reversed() where !hostRootDirectories.contains(String(v.host.dropFirst())) {
            let prefix = v.container.hasSuffix("/") ? v.container : v.container + "/"
            if path.hasPrefix(prefix) {
                return HostDirectory(root: v.host, path: (v.host.hasSuffix("/") ? v.host : v.host + "/") + path.dropFirst(prefix.count))
            }
        }
        return nil
    }

    enum Protection { case readonly, hidden }

    /// If a writable bind exposes `dir`, cover it: a read-only bind of itself, or an empty read-only tmpfs.
    static func protect(_ dir: String, mode: Protection, plan: inout MountPlan) {
        var exposedAt: String? = nil
        var exposingRoot = dir
        for v in plan.visible {
            let prefix = v.host.hasSuffix("/") ? v.host : v.host + "/"
            if dir == v.host { exposedAt = v.container; exposingRoot = dir }
            else if dir.hasPrefix(prefix) {
                exposedAt = (v.container.hasSuffix("/") ? v.container : v.container + "/") + dir.dropFirst(prefix.count)
                exposingRoot = v.host
            }
        }
        // Only writable exposure matters, but a read-only bind below a writable one would
        // still let the app create the directory: cover every exposure.
        guard let target = exposedAt else { return }
        // Issue 9 #7: renaming an ancestor (mv ~/.config ~/.c) carries the cover away
        // and leaves the app free to make a fresh ~/.config/sandbox on the host. A
        // mount point cannot be renamed (EBUSY): bind each ancestor below the exposing
        // bind over itself (recursive, so mounts already below it stay).
        let rootPrefix = exposingRoot.hasSuffix("/") ? exposingRoot : exposingRoot + "/"
        if dir.hasPrefix(rootPrefix) {
            let parts = dir.dropFirst(rootPrefix.count).split(separator: "/").dropLast()
            var ancestor = exposingRoot, inside = String(target.dropLast(dir.count - exposingRoot.count))
            for part in parts {
                ancestor += "/" + part
                inside += "/" + part
                plan.hostDirectories.append(HostDirectory(root: exposingRoot, path: ancestor))
                plan.ops.append(.bind(source: ancestor, target: inside, readonly: false, recursive: true, optional: false))
            }
        }
        switch mode {
        case .readonly:
            // It must exist to be bound; otherwise the app could create it through the writable parent.
            // Below the writable bind that exposes it the app may have planted a symlink (~/.config).
            plan.hostDirectories.append(HostDirectory(root: exposingRoot, path: dir))
            plan.ops.append(.bind(source: dir, target: target, readonly: true, recursive: true, optional: false))
        case .hidden:
            // Its mount point must be the user's: made by the container's root it would
            // belong to a subordinate uid on the host, and the user could no longer
            // create data directories there (a first-ever start with a host home).
            plan.hostDirectories.append(HostDirectory(root: exposingRoot, path: dir))
            plan.ops.append(.tmpfs(target: target, options: "mode=0755,size=16k"))
            plan.ops.append(.remountReadonly(target: target))
        }
    }

    /// Whether a passwd or group file has an entry with this id (third field).
    static func names(uid id: UInt32, in text: String) -> Bool {
        Accounts.firstRecord(id: id, in: text, as: { _ in true }) != nil
    }

    /// The rootfs's system accounts (uid < 1000 and nobody) plus the passthrough user.
    static func passwd(base: String, user: UserIdentity, home: String) -> String {
        var kept: [UInt8] = []
        var hasRoot = false
        ColonDatabase(base).forEachRecord { r in
            guard r.count >= 7, let uid = r.number(2) else { return }
            if uid == user.uid || r.field(0, is: user.name) { return }
            if uid < 1000 || uid == 65534 {
                hasRoot = hasRoot || r.field(0, is: "root")
                kept += r.line
                kept.append(UInt8(ascii: "\n"))
            }
        }
        var text = hasRoot ? "" : "root:x:0:0:root:/root:/bin/sh\n"
        text += String(decoding: kept, as: UTF8.self)
        text += "\(user.name):x:\(user.uid):\(user.gid)::\(home):\(user.shell)\n"
        return text
    }

    /// The rootfs's system groups (gid < 1000 and nogroup) plus the user's primary
    /// group and the supplementary groups the sessions keep (`kept`), those with
    /// the user as their only member. A kept group the rootfs does not name gets
    /// its name from the host's group file (`hostGroups`), else the gid as name.
    static func group(base: String, user: UserIdentity, kept: [UInt32] = [], hostGroups: String = "") -> String {
        func entries(_ text: String) -> [(name: String, gid: UInt32)] {
            var all: [(name: String, gid: UInt32)] = []
            ColonDatabase(text).forEachRecord { r in
                if r.count >= 4, let gid = r.number(2) { all.append((r.string(0), gid)) }
            }
            return all
        }
        var lines: [String] = []
        var primaryName = user.name
        var named: Set<UInt32> = []
        let baseEntries = entries(base)
        for (name, gid) in baseEntries {
            if gid == user.gid { primaryName = name; continue }
            if kept.contains(gid) {
                if named.insert(gid).inserted { lines.append(name + ":x:" + String(gid) + ":" + user.name) }
                continue
            }
            // Member lists name host users that do not exist inside.
            if gid < 1000 || gid == 65534 { lines.append(name + ":x:" + String(gid) + ":") }
        }
        if !lines.contains(where: { $0.hasPrefix("root:") }) { lines.insert("root:x:0:", at: 0) }
        lines.append(primaryName + ":x:" + String(user.gid) + ":")
        if kept.contains(where: { !named.contains($0) && $0 != user.gid }) {
            let hostNames = entries(hostGroups)
            let taken = Set(baseEntries.map(\.name) + [primaryName])
            for gid in kept.sorted() where !named.contains(gid) && gid != user.gid {
                let hostName = hostNames.first { $0.gid == gid }?.name
                let name = hostName.flatMap { taken.contains($0) ? nil : $0 } ?? String(gid)
                lines.append(name + ":x:" + String(gid) + ":" + user.name)
            }
        }
        var text = ""
        for line in lines { text += line; text += "\n" }
        return text
    }
}
