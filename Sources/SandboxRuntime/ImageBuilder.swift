#if canImport(Glibc)
import Glibc
#endif
import SandboxCore

/// `sandbox create`: builds the rootfs of a `rootfs.mode = "image"` profile with
/// `mmdebstrap --mode=unshare`, as the ordinary user (ids inside the image come from
/// the user's /etc/subuid range, so root in the image is the range's first id).
///
/// mmdebstrap's namespace maps only the subordinate range, so its root cannot even
/// enter a private home (~/.local/share is 0700). It therefore writes a tarball to a
/// pipe, and `tar` unpacks it in a namespace that maps the same range *and* the user
/// (see `namespaceArgv`). The image is unpacked next to the target and renamed into
/// place, so a failed or interrupted build never leaves a half-made rootfs where
/// `run` would use it.
public struct ImageBuilder: Sendable {
    public var profile: Profile
    public var user: UserIdentity
    /// Where the rootfs ends up: rootfs.path (with `~` expanded) or DATA/NAME/rootfs.
    public var target: String

    public init(profile: Profile, user: UserIdentity, paths: Paths) throws(SandboxError) {
        guard profile.rootfs.mode == .image else {
            throw SandboxError("profile \(profile.name) uses rootfs.mode = \"\(profile.rootfs.mode.rawValue)\"; only image profiles have a rootfs to create",
                               hint: "set [rootfs] mode = \"image\" in \(profile.sourcePath)")
        }
        self.profile = profile
        self.user = user
        if let p = profile.rootfs.path {
            let expanded = HostFile.expandHome(p, home: user.home)
            guard expanded.hasPrefix("/") else {
                throw SandboxError("\(profile.sourcePath): rootfs.path '\(p)' is not an absolute path", hint: "write it as /… or ~/…")
            }
            target = expanded
        } else {
            target = paths.rootfsDir(profile.name)
        }
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
    }

    /// Host files handed to mmdebstrap's setup hooks: the extra sources list and keys.
    public struct SetupFiles: Sendable, Equatable {
        /// The directory holding them (no whitespace: mmdebstrap splits hook arguments).
        public var directory: String
        /// Key files copied to /etc/apt/keyrings/ in the image.
        public var keyNames: [String]
        public var hasSources: Bool
    }

    /// The mmdebstrap command line (without the program), pure for the tests.
    /// `proxies` are apt options such as `Acquire::http::Proxy "http://…"` from the host's apt configuration.
    public func mmdebstrapArguments(output: String = "-", setup: SetupFiles?, proxies: [String] = []) -> [String] {
        let image = profile.image
        var args = ["--mode=unshare", "--variant=\(image.variant)"]
        var archs = [image.arch] + image.foreignArchitectures
        // 32-bit programs (Steam, Wine) need the i386 userland next to the native one.
        if profile.seccomp.multiarch && image.arch == "amd64" && !archs.contains("i386") { archs.append("i386") }
        args.append("--architectures=" + archs.joined(separator: ","))
        if image.components != ["main"] && !image.components.isEmpty {
            args.append("--components=" + image.components.joined(separator: ","))
        }
        if !image.packages.isEmpty { args.append("--include=" + image.packages.joined(separator: ",")) }
        for p in proxies { args.append("--aptopt=" + p) }
        if let setup {
            // Setup hooks run after apt is configured and before `apt update`, so keys and
            // sources are there for the first download. apt resolves signed-by= paths on
            // the host during the build, so the build-time list points at our copies of
            // the keys; a customize hook then puts the profile's own lines (pointing at
            // /etc/apt/keyrings/ inside the image) in its place. Plain shell hooks, not
            // mmdebstrap's copy-in (its socket hand-over was seen to hang under load):
            // at setup time the tree is mmdebstrap's own, fresh; at customize time the
            // packages' scripts have run, so the write happens inside the chroot, where
            // a link they planted cannot lead out of the image.
            if !setup.keyNames.isEmpty {
                args.append("--setup-hook=mkdir -p \"$1/etc/apt/keyrings\"")
                for k in setup.keyNames {
                    args.append("--setup-hook=cp \(setup.directory)/keyrings/\(k) \"$1/etc/apt/keyrings/\(k)\"")
                }
            }
            if setup.hasSources {
                let list = Self.sourcesListName
                args.append("--setup-hook=cp \(setup.directory)/build/\(list) \"$1/etc/apt/sources.list.d/\(list)\"")
                args.append("--customize-hook=chroot \"$1\" sh -c 'rm -f /etc/apt/sources.list.d/\(list) && cat >/etc/apt/sources.list.d/\(list)' <\(setup.directory)/final/\(list)")
            }
        }
        // No MIRROR argument: mmdebstrap then uses deb.debian.org and, for a stable
        // release, adds the -updates and security suites itself.
        args += ["--", image.release, output]
        return args
    }

    /// What the build needs from the host, found by `preflight`.
    public struct HostTools: Sendable, Equatable {
        public var mmdebstrap: String
        public var unshare: String
        /// First id of the user's subordinate uid and gid ranges (65536 ids each).
        public var subuid: UInt32
        public var subgid: UInt32
    }

    /// Where the image comes from.
    public enum Source: Sendable, Equatable {
        /// `mmdebstrap --mode=unshare` with the profile's [image] settings.
        case mmdebstrap
        /// A root filesystem tarball (LXC/Incus `rootfs.tar.xz`), ids as in the tarball.
        case tarball(String)
    }

    /// Checks that can fail before anything is written.
    public func preflight(force: Bool, source: Source = .mmdebstrap) throws(SandboxError) -> HostTools {
        var mmdebstrap = ""
        if case .mmdebstrap = source { mmdebstrap = try mmdebstrapPreflight() }
        guard let unshare = HostCommand.find("unshare") else {
            throw SandboxError("unshare(1) is not installed; `sandbox create` unpacks the image with it", hint: "as root: apt install util-linux")
        }
        var starts: [UInt32] = []
        for file in ["/etc/subuid", "/etc/subgid"] {
            let id = file == "/etc/subuid" ? user.uid : user.gid
            let ranges = HostFile.read(file).map { SubordinateIDs.parse(contents: $0, user: user.name, uid: id) } ?? []
            // mmdebstrap takes the user's first line (by name); the unpacking map must use the same ids.
            if let first = ranges.first, first.count >= 65536 {
                starts.append(first.start)
            } else {
                throw SandboxError("`sandbox create` needs a range of 65536 subordinate ids for \(user.name) in \(file); "
                                   + (ranges.isEmpty ? "there is none" : "the largest has \(ranges.map(\.count).max()!)"),
                                   hint: "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(user.name) (pick a range no other user has)")
            }
        }
        var st = stat()
        if lstat(target, &st) == 0 && !force {
            throw SandboxError("\(target) already exists; not replacing it without confirmation",
                               hint: "`sandbox create --yes \(profile.name)` (or --force) builds a new one and deletes the old one")
        }
        return HostTools(mmdebstrap: mmdebstrap, unshare: unshare, subuid: starts[0], subgid: starts[1])
    }

    /// mmdebstrap builds only: the distribution, the program, the keys.
    func mmdebstrapPreflight() throws(SandboxError) -> String {
        guard profile.image.distro == "debian" else {
            throw SandboxError("\(profile.sourcePath): image.distro = \"\(profile.image.distro)\" is not supported; create builds Debian images",
                               hint: "use distro = \"debian\" with a Debian release such as bookworm")
        }
        guard let mmdebstrap = HostCommand.find("mmdebstrap") else {
            throw SandboxError("mmdebstrap is not installed; `sandbox create` builds images with it",
                               hint: "as root: apt install mmdebstrap")
        }
        _ = try ImageKeys.tools(for: profile)
        return mmdebstrap
    }

    /// unshare(1) arguments for a user namespace where uid/gid 0–65534 are the user's
    /// subordinate ranges (as in mmdebstrap's build) and 65536 is the user, running
    /// as root in it: that root owns the image's files and, because the user's own
    /// directories are mapped too, can reach and write the target's 0700 parents.
    public static func namespaceArgv(unshare: String, subuid: UInt32, subgid: UInt32) -> [String] {
        [unshare, "--user", "--map-user=65536", "--map-group=65536",
         "--map-users=\(subuid),0,65536", "--map-groups=\(subgid),0,65536", "--setuid=0", "--setgid=0"]
    }

    /// Builds the image from `source`. `progress` gets one line per step; mmdebstrap's
    /// and tar's own messages go to our stderr.
    public func build(force: Bool, source: Source = .mmdebstrap,
                      progress: @Sendable (String) -> Void = { _ in }) async throws(SandboxError) {
        let tools = try preflight(force: force, source: source)
        let ns = Self.namespaceArgv(unshare: tools.unshare, subuid: tools.subuid, subgid: tools.subgid)
        let parent = HostFile.dirname(target)
        try HostFile.makeDirectories(parent, mode: 0o755)
        let base = HostFile.basename(target)
        await Self.removeStaleBuilds(in: parent, base: base, namespace: ns)
        if case .tarball(let file) = source {
            try await build(tarball: file, tools: tools, namespace: ns, parent: parent, base: base, progress: progress)
            return
        }
        let setup = try await writeSetupFiles(progress: progress)
        // Removed whether the build works or not (a defer cannot await).
        var failure: SandboxError?
        do { try await build(tools: tools, namespace: ns, parent: parent, base: base, setup: setup, progress: progress) } catch { failure = error }
        if let setup { _ = await Self.removeOwnTree(setup.directory) }
        if let failure { throw failure }
    }

    /// Device nodes cannot be made in a user namespace; the container mounts its own /dev.
    static func unpackArguments(staging: String, compression: String?) -> [String] {
        ["tar", "--extract", "--numeric-owner", "--preserve-permissions", "--file=-"] + (compression.map { [$0] } ?? [])
            // Anchored: `dev/*` must not drop a usr/…/dev/ directory of the image.
            + ["--directory=" + staging, "--anchored", "--exclude=./dev/*", "--exclude=dev/*"]
    }

    /// tar's flag for a compressed stream, from its first bytes (tar only guesses
    /// from a file name, and it reads this one from a pipe): nil for a plain tarball.
    public static func compressionFlag(magic: [UInt8]) -> String? {
        func starts(_ m: [UInt8]) -> Bool { magic.count >= m.count && Array(magic.prefix(m.count)) == m }
        if starts([0x1f, 0x8b]) { return "--gzip" }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return "--xz" }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return "--zstd" }
        if starts([0x42, 0x5a, 0x68]) { return "--bzip2" }
        return nil
    }

    func staging(in parent: String, base: String) throws(SandboxError) -> String {
        let staging = "\(parent)/.\(base).partial-\(getpid())"
        guard mkdir(staging, 0o700) == 0 else {
            throw SandboxError.system("cannot create \(staging)", errno: errno)
        }
        return staging
    }

    func build(tools: HostTools, namespace ns: [String], parent: String, base: String, setup: SetupFiles?,
               progress: @Sendable (String) -> Void) async throws(SandboxError) {
        let staging = try staging(in: parent, base: base)
        let mmdebstrap = HostCommand([tools.mmdebstrap] + mmdebstrapArguments(output: "-", setup: setup, proxies: await Self.hostAptOptions()))
        let unpack = HostCommand(ns + Self.unpackArguments(staging: staging, compression: nil))
        progress("building \(profile.image.distro) \(profile.image.release) (\(profile.image.variant)) with mmdebstrap and unpacking it into \(staging) (mmdebstrap's messages follow)")
        let (built, unpacked): (Int32, Int32)
        do {
            (built, unpacked) = try await HostCommand.pipeline(mmdebstrap, unpack)
        } catch {
            await Self.removeImageTree(staging, namespace: ns)
            throw error
        }
        guard built == 0 else {
            await Self.removeImageTree(staging, namespace: ns)
            throw SandboxError("mmdebstrap failed (exit status \(built)) building \(profile.image.release) for \(profile.name); its messages are above",
                               hint: "check image.release, image.packages and image.sources in \(profile.sourcePath), and that apt can reach the mirror")
        }
        guard unpacked == 0 else {
            await Self.removeImageTree(staging, namespace: ns)
            throw SandboxError("unpacking the image into \(staging) failed (tar exit status \(unpacked)); its messages are above")
        }
        try await addUser(to: staging, namespace: ns, progress: progress)
        try await moveIntoPlace(staging, parent: parent, base: base, namespace: ns, progress: progress)
    }

    /// `create --from-tarball`: the tarball is opened as the user (tar, root of the
    /// unpacking namespace, reads it from a pipe), and unpacked with its ids shifted
    /// into the subordinate range exactly as mmdebstrap's output is.
    func build(tarball file: String, tools: HostTools, namespace ns: [String], parent: String, base: String,
               progress: @Sendable (String) -> Void) async throws(SandboxError) {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw SandboxError.system("cannot open the tarball \(file)", errno: errno) }
        var st = stat()
        var magic = [UInt8](repeating: 0, count: 8)
        let got = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 8, 0) }
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, got >= 0 else {
            close(fd)
            throw SandboxError("the tarball \(file) is not a regular file")
        }
        close(fd)
        let compression = Self.compressionFlag(magic: Array(magic.prefix(max(0, got))))
        let staging = try staging(in: parent, base: base)
        let size = Int64(st.st_size)
        progress("unpacking \(file) (\(size >> 20) MiB\(compression.map { ", " + $0.dropFirst(2) } ?? "")) into \(staging)")
        let unpack = HostCommand(ns + Self.unpackArguments(staging: staging, compression: compression)
                                 + ["--checkpoint=1000", "--checkpoint-action=echo=sandbox create: about %u0 MB unpacked"])
        // cat runs as the user: the tarball is read with the user's rights, not root's of the namespace.
        let (read, unpacked): (Int32, Int32)
        do {
            (read, unpacked) = try await HostCommand.pipeline(HostCommand(["cat", "--", file]), unpack)
        } catch {
            await Self.removeImageTree(staging, namespace: ns)
            throw error
        }
        guard read == 0, unpacked == 0 else {
            await Self.removeImageTree(staging, namespace: ns)
            throw SandboxError("unpacking \(file) failed (\(read != 0 ? "reading it: exit status \(read)" : "tar exit status \(unpacked)")); its messages are above",
                               hint: "the file must be a root filesystem tarball (gzip, xz, zstd, bzip2 or plain) with the tree at its top, as LXC/Incus rootfs.tar.xz")
        }
        // A tarball with no /usr or /bin at its top is not a root filesystem (e.g. Incus's unified image with rootfs/ inside).
        // (ENOENT only: a tarball whose top is 0700 leaves the user unable to look, which proves nothing.)
        var probe = stat()
        func missing(_ p: String) -> Bool { lstat(staging + p, &probe) != 0 && errno == ENOENT }
        guard !(missing("/usr") && missing("/bin")) else {
            await Self.removeImageTree(staging, namespace: ns)
            throw SandboxError("\(file) has no /usr or /bin at its top: it is not a root filesystem tarball",
                               hint: "use the image's rootfs tarball (LXC/Incus split images: rootfs.tar.xz), whose members are ./usr, ./etc, …")
        }
        try await addUser(to: staging, namespace: ns, progress: progress)
        try await moveIntoPlace(staging, parent: parent, base: base, namespace: ns, progress: progress)
    }

    /// Adds the passthrough user (and its primary group) to the image's own
    /// /etc/passwd and /etc/group, as the recipe's `useradd` in the container did.
    /// With the user there the container keeps the image's files instead of
    /// binding generated read-only ones over them, so container root can manage
    /// accounts (a maintainer script's `useradd`, `adduser`). Run as root of the
    /// unpacking namespace; a tree whose etc or account files are symlinks (a
    /// hostile tarball pointing at the user's own files) is refused.
    func addUser(to staging: String, namespace ns: [String], progress: @Sendable (String) -> Void) async throws(SandboxError) {
        let home = user.home
        let script = """
            cd "$1" || exit 1
            for f in etc etc/passwd etc/group; do
              if [ -L "$f" ]; then echo "sandbox create: $f in the image is a symlink; not adding the user" >&2; exit 3; fi
            done
            [ -f etc/passwd ] && [ -f etc/group ] || exit 0
            shell=$6; [ -x ".$shell" ] || shell=/bin/sh
            grep -q "^$2:" etc/passwd || awk -F: -v u="$3" '$3 == u { found = 1 } END { exit !found }' etc/passwd \
              || printf '%s:x:%s:%s::%s:%s\n' "$2" "$3" "$4" "$5" "$shell" >>etc/passwd
            awk -F: -v g="$4" '$3 == g { found = 1 } END { exit !found }' etc/group \
              || printf '%s:x:%s:\n' "$7" "$4" >>etc/group
            """
        let groupName = Accounts.groupName(gid: user.gid) ?? user.name
        let result = try await HostCommand(ns + ["sh", "-c", script, "sh", staging, user.name, String(user.uid), String(user.gid),
                                                 home, user.shell, groupName]).run(capture: .combined)
        guard result.status == 0 else {
            await Self.removeImageTree(staging, namespace: ns)
            throw SandboxError("cannot add \(user.name) to the image's accounts: \(result.output)",
                               hint: "the image's /etc/passwd and /etc/group must be plain files")
        }
        progress("added \(user.name) (uid \(user.uid)) to the image's /etc/passwd")
    }

    /// Renames the finished `staging` to the target; an existing target (confirmed
    /// by the caller) is moved aside first and deleted after the swap, so the target
    /// name never points at a partial image.
    func moveIntoPlace(_ staging: String, parent: String, base: String, namespace ns: [String],
                       progress: @Sendable (String) -> Void) async throws(SandboxError) {
        progress("moving the finished image into place: \(target)")
        var st = stat()
        if lstat(target, &st) == 0 {
            // --force: swap, then delete the old tree; the target name never points at a partial image.
            let old = "\(parent)/.\(base).old-\(getpid())"
            guard rename(target, old) == 0 else {
                let e = errno
                await Self.removeImageTree(staging, namespace: ns)
                throw SandboxError.system("cannot move the old \(target) aside", errno: e)
            }
            guard rename(staging, target) == 0 else {
                let e = errno
                _ = rename(old, target)
                await Self.removeImageTree(staging, namespace: ns)
                throw SandboxError.system("cannot rename \(staging) to \(target)", errno: e)
            }
            progress("deleting the replaced image")
            await Self.removeImageTree(old, namespace: ns)
        } else if rename(staging, target) != 0 {
            let e = errno
            await Self.removeImageTree(staging, namespace: ns)
            throw SandboxError.system("cannot rename \(staging) to \(target)", errno: e)
        }
    }

    /// The image's extra sources: /etc/apt/sources.list.d/sandbox-image.list.
    public static let sourcesListName = "sandbox-image.list"

    /// Writes image.sources (twice: for the build and for the image) and the keys of
    /// image.keys (ImageKeys: downloaded, checked against the pins) into a fresh /tmp
    /// directory. World-readable but for the private work directory: mmdebstrap reads
    /// them as root of its user namespace, which is a subordinate id, not the user.
    func writeSetupFiles(progress: @Sendable (String) -> Void) async throws(SandboxError) -> SetupFiles? {
        let image = profile.image
        if image.sources.isEmpty && image.keys.isEmpty { return nil }
        var template = Array("/tmp/sandbox-create.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SandboxError.system("cannot create a directory in /tmp", errno: errno)
        }
        let dir = String(cString: made)
        _ = chmod(dir, 0o755)
        var keyNames: [String] = []
        if let tools = try ImageKeys.tools(for: profile) {
            let work = dir + "/work"
            guard mkdir(work, 0o700) == 0 else { throw SandboxError.system("cannot create \(work)", errno: errno) }
            let keys: [ImageKeys.Key]
            do {
                keys = try await ImageKeys(profile: profile, aptHelper: tools.aptHelper, gpg: tools.gpg).prepare(work: work, progress: progress)
            } catch {
                _ = await Self.removeOwnTree(dir)
                throw error
            }
            _ = await Self.removeOwnTree(work)
            for key in keys {
                try HostFile.makeDirectories(dir + "/keyrings", mode: 0o755)
                try HostFile.writeAtomically(key.contents, to: dir + "/keyrings/" + key.name, mode: 0o644)
                keyNames.append(key.name)
            }
        }
        if !image.sources.isEmpty {
            let final = "# from \(profile.sourcePath) image.sources\n" + image.sources.joined(separator: "\n") + "\n"
            let build = Self.buildTimeSources(final, keyNames: keyNames, keyDirectory: dir + "/keyrings")
            try HostFile.makeDirectories(dir + "/build", mode: 0o755)
            try HostFile.makeDirectories(dir + "/final", mode: 0o755)
            try HostFile.writeAtomically(build, to: dir + "/build/" + Self.sourcesListName, mode: 0o644)
            try HostFile.writeAtomically(final, to: dir + "/final/" + Self.sourcesListName, mode: 0o644)
        }
        return SetupFiles(directory: dir, keyNames: keyNames, hasSources: !image.sources.isEmpty)
    }

    /// The sources text with /etc/apt/keyrings/NAME (for each listed key) pointing at our host copy.
    public static func buildTimeSources(_ text: String, keyNames: [String], keyDirectory: String) -> String {
        var out = text
        // Only whole paths: followed by "]", " " or "," as in `[signed-by=/etc/apt/keyrings/k.gpg arch=amd64]`.
        for k in keyNames {
            for end in ["]", " ", ","] {
                out = out.replacing("=/etc/apt/keyrings/" + k + end, with: "=" + keyDirectory + "/" + k + end)
            }
        }
        return out
    }

    /// The host's apt settings for reaching repositories: proxies, and the CA bundle
    /// for https (a company CA, as `create`'s key download already honours it).
    /// mmdebstrap runs apt with its own configuration, so these would otherwise be lost.
    static let hostAptSettings = ["Acquire::http::Proxy", "Acquire::https::Proxy", "Acquire::https::CaInfo", "Acquire::https::CaPath"]

    static func hostAptOptions() async -> [String] {
        guard let aptConfig = HostCommand.find("apt-config"),
              let r = try? await HostCommand([aptConfig, "dump", "--format", "%f %v%n"] + hostAptSettings).run(capture: .combined),
              r.succeeded else { return [] }
        return Self.aptOptions(dump: r.output)
    }

    /// `--aptopt` values from `apt-config dump --format "%f %v%n"` output.
    static func aptOptions(dump: String) -> [String] {
        var opts: [String] = []
        for line in dump.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, hostAptSettings.contains(String(parts[0])),
                  !parts[1].isEmpty, !parts[1].contains("\"") else { continue }
            opts.append("\(parts[0]) \"\(parts[1])\"")
        }
        return opts
    }

    /// Deletes an image tree: its files belong to the user's subordinate ids, so the
    /// deletion runs as root of the same namespace the image was unpacked in, and it
    /// is `sandbox _remove-tree` (TreeRemoval: fd-relative, never follows a symlink),
    /// not a path-based recursive delete. Returns what could not be removed.
    @discardableResult
    public static func removeImageTree(_ path: String, namespace: [String], keep: [String] = []) async -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        var argv = namespace + [Paths.executablePath(), "_remove-tree"]
        for k in keep { argv += ["--keep", k] }
        argv += ["--", HostFile.dirname(path), HostFile.basename(path)]
        do {
            let r = try await HostCommand(argv).run(capture: .combined)
            return r.succeeded ? nil : r.output.isEmpty ? "exit status \(r.status)" : r.output
        } catch {
            return error.message
        }
    }

    /// The unpacking namespace for `user` (`namespaceArgv` with the first lines of
    /// /etc/subuid and /etc/subgid), or nil without a 65536-id range or unshare(1).
    public static func namespace(for user: UserIdentity) -> [String]? {
        guard let unshare = HostCommand.find("unshare") else { return nil }
        var starts: [UInt32] = []
        for (file, id) in [("/etc/subuid", user.uid), ("/etc/subgid", user.gid)] {
            guard let text = HostFile.read(file),
                  let first = SubordinateIDs.parse(contents: text, user: user.name, uid: id).first,
                  first.count >= 65536 else { return nil }
            starts.append(first.start)
        }
        return namespaceArgv(unshare: unshare, subuid: starts[0], subgid: starts[1])
    }

    /// Leftovers of an interrupted create (`.BASE.partial-PID`, `.BASE.old-PID`) whose
    /// process is gone; a build still running in another process is left alone.
    static func removeStaleBuilds(in parent: String, base: String, namespace: [String]) async {
        guard let dir = opendir(parent) else { return }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            for kind in [".partial-", ".old-"] {
                let prefix = "." + base + kind
                guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)) else { continue }
                if kill(pid, 0) != 0 && errno == ESRCH { stale.append(parent + "/" + name) }
            }
        }
        closedir(dir)
        for path in stale { await removeImageTree(path, namespace: namespace) }
    }

    static func removeOwnTree(_ path: String) async -> Bool {
        (try? await HostCommand(["rm", "-rf", "--one-file-system", "--", path]).run(capture: .combined).succeeded) ?? false
    }
}
