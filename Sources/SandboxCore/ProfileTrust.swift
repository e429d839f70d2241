// Whether a profile (or an include, or config.toml) can be trusted: a profile
// decides what runs as the user, so nobody else may be able to change it — not
// the file, and not any directory on the way to it, since whoever can rename a
// directory can put a tree of their own in its place (issue 9 #6: a grandparent
// directory owned by another user was accepted).
//
// The rule, OpenSSH StrictModes' with one documented widening:
//   * every entry that takes part in finding the file — the file, each directory
//     from its own up to `/` (with symlinks resolved), each symlink the path as
//     written goes through and each directory up to `/` above such a symlink — is
//     owned by root or by the user;
//   * none of them is writable by others, nor by a group other than the user's own
//     primary group (Debian's user-private groups make `775 alice:alice` normal);
//   * except a sticky directory (mode +t, like /tmp) above the one that holds the
//     file: others may add names to it, but the kernel lets nobody but an entry's
//     owner, the directory's owner and root rename or delete one, and the one entry
//     the path goes through is itself checked for its owner (a directory or
//     symlink another user planted first is theirs, so it is refused). The
//     directory that holds the file gets no such exception: profiles are looked up
//     there by name, so nobody else may add names to it at all. sshd refuses /tmp
//     anywhere; we accept it as an ancestor because the sticky bit gives exactly
//     the guarantee the check needs and installs and test prefixes under /tmp are
//     common (a hard link another user planted is stopped by
//     fs.protected_hardlinks, on by default since Linux 3.6 and in every Debian).
//   * inside a user namespace of someone else's making (toolbox, distrobox, a
//     rootless container, `unshare -Ur`), files whose owner is not mapped show as
//     the kernel's overflow uid (65534): the host's root-owned /, /home and /usr
//     look like that. There, and only there, the overflow uid counts as root. An
//     unmapped owner cannot be told apart from another unmapped host user, which
//     is the limit of any check made from inside such a namespace; in the initial
//     namespace 65534 is the ordinary user nobody and is refused like any other.
#if canImport(Glibc)
import Glibc
#endif

/// What lstat/stat said about one path on the way to a profile.
public struct TrustEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case file, directory, symlink }
    public var path: String
    public var kind: Kind
    public var uid: UInt32
    public var gid: UInt32
    /// Permission bits with setuid/setgid/sticky (st_mode & 07777).
    public var mode: UInt32
    /// The directory the file is found in (as written or resolved): its names are looked up.
    public var holdsFile: Bool
    public init(path: String, kind: Kind, uid: UInt32, gid: UInt32, mode: UInt32, holdsFile: Bool = false) {
        self.path = path
        self.kind = kind
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.holdsFile = holdsFile
    }
}

/// Why someone other than the user or root could change a profile.
public enum TrustProblem: Sendable, Equatable {
    case ownedByOther(TrustEntry)
    case writableByEveryone(TrustEntry)
    case writableByGroup(TrustEntry)

    public var entry: TrustEntry {
        switch self {
        case .ownedByOther(let e), .writableByEveryone(let e), .writableByGroup(let e): return e
        }
    }
}

public enum ProfileTrust {
    /// The decision for one entry, pure: the user is `uid` with primary group `gid`;
    /// `unmappedOwner` is the overflow uid when running in a nested user namespace.
    public static func judge(_ e: TrustEntry, uid: UInt32, gid: UInt32, unmappedOwner: UInt32? = nil) -> TrustProblem? {
        if e.uid != uid && e.uid != 0 && e.uid != unmappedOwner { return .ownedByOther(e) }
        // A symlink's own mode is always 0777 and it cannot be changed in place,
        // only replaced through its directory, which is checked on its own.
        if e.kind == .symlink { return nil }
        if e.kind == .directory && e.mode & 0o1000 != 0 && !e.holdsFile { return nil }
        if e.mode & 0o002 != 0 { return .writableByEveryone(e) }
        if e.mode & 0o020 != 0 && e.gid != gid { return .writableByGroup(e) }
        return nil
    }

    /// The first problem on a chain, in order (the file first, then upwards).
    public static func firstProblem(_ chain: [TrustEntry], uid: UInt32, gid: UInt32, unmappedOwner: UInt32? = nil) -> TrustProblem? {
        for e in chain { if let p = judge(e, uid: uid, gid: gid, unmappedOwner: unmappedOwner) { return p } }
        return nil
    }

    /// Every entry that takes part in finding `path`, read from the host: the file
    /// and its directories up to `/` after symlinks are resolved, then each symlink
    /// of the path as written with the directories above it. Empty when the file
    /// does not exist (reading it reports that).
    public static func chain(_ path: String) -> [TrustEntry] {
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        guard let canonical = realPath(absolute) else { return [] }
        var entries: [TrustEntry] = []
        var seen: Set<String> = []
        func add(_ e: TrustEntry?) {
            guard let e, seen.insert(e.kind.rawValue + ":" + e.path + (e.holdsFile ? ":holds" : "")).inserted else { return }
            entries.append(e)
        }
        func addDirectories(from dir: String, holdingFile: Bool = false) {
            var d = dir
            var first = holdingFile
            while true {
                var e = entry(d, follow: true)
                e?.holdsFile = first
                add(e)
                first = false
                if d == "/" { break }
                d = HostFile.dirname(d)
            }
        }
        add(entry(canonical, follow: true))
        addDirectories(from: HostFile.dirname(canonical), holdingFile: true)
        // A profile that is itself a symlink is found by name in the directory as written.
        if let written = realPath(HostFile.dirname(absolute)), written != HostFile.dirname(canonical) {
            addDirectories(from: written, holdingFile: true)
        }
        // Symlinks on the written path: the link and where it sits.
        var prefix = ""
        for part in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + part
            guard let link = entry(prefix, follow: false), link.kind == .symlink else { continue }
            add(link)
            if let parent = realPath(HostFile.dirname(prefix)) { addDirectories(from: parent) }
        }
        return entries
    }

    /// The check profile loading runs: nil when `path` is safe to use.
    public static func problem(_ path: String, uid: UInt32, gid: UInt32) -> TrustProblem? {
        firstProblem(chain(path), uid: uid, gid: gid, unmappedOwner: nestedOverflowUID())
    }

    /// The overflow uid when this process is not in the initial user namespace
    /// (its uid_map is not the identity "0 0 4294967295"), else nil.
    static func nestedOverflowUID() -> UInt32? {
        guard case .success(let map) = HostFile.readBytes("/proc/self/uid_map", limit: 1 << 16) else { return nil }
        let fields = String(decoding: map, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        if fields == ["0", "0", "4294967295"] { return nil }
        guard case .success(let text) = HostFile.readBytes("/proc/sys/kernel/overflowuid", limit: 64) else { return 65534 }
        return UInt32(String(decoding: text, as: UTF8.self).split(separator: "\n").first ?? "") ?? 65534
    }

    /// "its directory /srv/p is owned by uid 1001 (bob), not by you (1000) or root (mode 755)".
    public static func describe(_ problem: TrustProblem, uid: UInt32) -> String {
        let e = problem.entry
        let mode = String(e.mode, radix: 8)
        switch problem {
        case .ownedByOther:
            return "its \(e.kind.rawValue) \(e.path) is owned by uid \(e.uid)\(userName(e.uid).map { " (\($0))" } ?? ""), not by you (\(uid)) or root (mode \(mode))"
        case .writableByEveryone:
            return "its \(e.kind.rawValue) \(e.path) is writable by every user (mode \(mode), owner \(ownerText(e.uid)))"
        case .writableByGroup:
            return "its \(e.kind.rawValue) \(e.path) is writable by group \(e.gid)\(groupName(e.gid).map { " (\($0))" } ?? "") (mode \(mode), owner \(ownerText(e.uid)))"
        }
    }

    /// The command that fixes it.
    public static func fix(_ problem: TrustProblem, userName: String) -> String {
        let e = problem.entry
        let quoted = "'" + e.path.replacing("'", with: "'\\''") + "'"
        switch problem {
        case .ownedByOther:
            return "as root: chown \(userName) \(quoted); or keep the file where only you and root can change it"
        case .writableByEveryone:
            return e.kind == .directory
                ? "run: chmod o-w \(quoted) (or chmod +t \(quoted) if others must create files in it)"
                : "run: chmod o-w \(quoted)"
        case .writableByGroup:
            return "run: chmod g-w \(quoted)"
        }
    }

    // MARK: Host

    static func entry(_ path: String, follow: Bool) -> TrustEntry? {
        var st = stat()
        guard (follow ? stat(path, &st) : lstat(path, &st)) == 0 else { return nil }
        let kind: TrustEntry.Kind
        switch st.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .file
        }
        return TrustEntry(path: path, kind: kind, uid: st.st_uid, gid: st.st_gid, mode: UInt32(st.st_mode) & 0o7777)
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBufferPointer { b in
            guard getcwd(b.baseAddress, b.count) != nil else { return "/" }
            return String(cString: b.baseAddress!)
        }
    }

    static func ownerText(_ uid: UInt32) -> String {
        if uid == 0 { return "root" }
        return "uid \(uid)" + (userName(uid).map { " (\($0))" } ?? "")
    }

    static func userName(_ uid: UInt32) -> String? { Accounts.user(uid: uid)?.name }

    static func groupName(_ gid: UInt32) -> String? { Accounts.groupName(gid: gid) }
}
