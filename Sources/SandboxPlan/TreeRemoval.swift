#if canImport(Glibc)
import Glibc
#endif
// In SandboxPlan so the supervisor (state directories) and destroy share it.

/// Deletes a tree that an app (or root inside an image) could write, without ever
/// following a symlink: an image rootfs holds links to absolute host paths
/// (/etc/alternatives/…) and a private home holds whatever the app planted.
///
/// Every step is relative to an open directory: `openat(O_NOFOLLOW|O_DIRECTORY)` to
/// descend (a symlink fails with ELOOP/ENOTDIR and is then unlinked as a link), and
/// `unlinkat` to delete. A directory on another filesystem than the tree's top is
/// not entered (like `rm --one-file-system`). Used by `sandbox destroy` and by
/// `create` for a partial or replaced image, inside the user namespace that maps
/// the image's ids (`sandbox _remove-tree`, see `ImageBuilder.removeImageTree`).
public enum TreeRemoval {
    /// A path that could not be removed, and why.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var call: String
        public var errno: Int32
        public var description: String { "\(path): \(call): \(errnoText(errno))" }
    }

    /// Removes `name`, an entry of the directory `parent` (a path the caller trusts:
    /// its components are not followed into the tree). `keep` names entries of the
    /// top directory that stay (`destroy --keep-home` keeps `home`); the top directory
    /// itself is then kept too. Returns what could not be removed; nothing when all went.
    public static func remove(_ name: String, in parent: String, keep: Set<String> = []) -> [Problem] {
        var problems: [Problem] = []
        let dirfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { return [Problem(path: parent, call: "open", errno: errno)] }
        defer { close(dirfd) }
        var st = stat()
        guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            return errno == ENOENT ? [] : [Problem(path: parent + "/" + name, call: "lstat", errno: errno)]
        }
        removeEntry(name, in: dirfd, path: parent + "/" + name, device: nil, keep: keep, problems: &problems)
        return problems
    }

    /// Removes one entry of `dirfd`: a directory is emptied (depth first) and removed,
    /// anything else — a symlink included — is unlinked as itself.
    private static func removeEntry(_ name: String, in dirfd: Int32, path: String, device: UInt?,
                                    keep: Set<String>, problems: inout [Problem]) {
        let child = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        if child < 0 {
            let e = errno
            // Not a directory (a file, a symlink, a socket…): unlink it as it is.
            if e == ENOTDIR || e == ELOOP {
                if unlinkat(dirfd, name, 0) != 0 && errno != ENOENT { problems.append(Problem(path: path, call: "unlink", errno: errno)) }
            } else if e == EACCES, fchmodAndRetry(dirfd, name) {
                removeEntry(name, in: dirfd, path: path, device: device, keep: keep, problems: &problems)
            } else if e != ENOENT {
                problems.append(Problem(path: path, call: "open", errno: e))
            }
            return
        }
        var st = stat()
        guard fstat(child, &st) == 0 else {
            problems.append(Problem(path: path, call: "fstat", errno: errno))
            close(child)
            return
        }
        let dev = UInt(st.st_dev)
        if let device, dev != device {
            problems.append(Problem(path: path, call: "not entered (another filesystem is mounted there)", errno: EXDEV))
            close(child)
            return
        }
        // A directory the owner made unwritable (0500): make it ours to empty.
        if st.st_mode & 0o700 != 0o700 { _ = fchmod(child, 0o700) }
        emptyDirectory(child, path: path, device: dev, keep: keep, problems: &problems)
        if keep.isEmpty, unlinkat(dirfd, name, AT_REMOVEDIR) != 0, errno != ENOENT {
            problems.append(Problem(path: path, call: "rmdir", errno: errno))
        }
    }

    /// Removes every entry of the open directory `fd` except `keep`; closes `fd`.
    private static func emptyDirectory(_ fd: Int32, path: String, device: UInt, keep: Set<String>, problems: inout [Problem]) {
        // fdopendir takes over a descriptor of its own, so entries can be unlinked through `fd`.
        let listing = dup(fd)
        guard listing >= 0, let dir = fdopendir(listing) else {
            problems.append(Problem(path: path, call: "fdopendir", errno: errno))
            if listing >= 0 { close(listing) }
            close(fd)
            return
        }
        var names: [String] = []
        while let e = readdir(dir) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n == "." || n == ".." || keep.contains(n) { continue }
            names.append(n)
        }
        closedir(dir)
        for n in names {
            removeEntry(n, in: fd, path: path + "/" + n, device: device, keep: [], problems: &problems)
        }
        close(fd)
    }

    /// A directory that denies even its owner search or read: chmod it (as its owner,
    /// or as root of a namespace that maps its owner) without following a link.
    private static func fchmodAndRetry(_ dirfd: Int32, _ name: String) -> Bool {
        var st = stat()
        guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR,
              st.st_mode & 0o700 != 0o700 else { return false }
        return fchmodat(dirfd, name, 0o700, AT_SYMLINK_NOFOLLOW) == 0
    }
}
