// The few whole-file operations every part needs — read a file, replace one
// atomically, mkdir -p — on Glibc directly: they run on the launch path, where
// Foundation would cost start-up time.
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

public enum HostFile {
    /// Whether a file's status is a root-owned set-user-ID file's: what newuidmap,
    /// newgidmap and sandbox-net must be (the supervisor and doctor ask).
    public static func isSetuidRoot(_ st: stat) -> Bool { st.st_uid == 0 && st.st_mode & S_ISUID != 0 }

    /// The whole file, or why not: the errno of open or read, `.isDirectory`, or
    /// `.fileTooLarge` past `limit` bytes (a file that is clearly not what we expect).
    public static func readBytes(_ path: String, limit: Int = 4 << 20) -> Result<[UInt8], Errno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(Errno(rawValue: errno)) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return .failure(.isDirectory) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { buf in retryingEINTR { Glibc.read(fd, buf.baseAddress, buf.count) } }
            if n < 0 { return .failure(Errno(rawValue: errno)) }
            if n == 0 { return .success(data) }
            data.append(contentsOf: chunk[0..<n])
            if data.count > limit { return .failure(.fileTooLarge) }
        }
    }

    /// The whole file as UTF-8 text; nil when it cannot be read (or is larger than `limit`).
    public static func read(_ path: String, limit: Int = 4 << 20) -> String? {
        try? readBytes(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }.get()
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Replaces `path` with `bytes` (mode `mode`, less the umask) so that a reader sees
    /// the old file or the new one, never half of one: a temporary file beside it
    /// (O_EXCL|O_NOFOLLOW, so nothing planted there is followed), fsync, rename.
    /// `durable: false` skips the fsync, for files of the runtime directory: they do
    /// not outlive a boot, and on a runtime directory that is not a tmpfs the fsync
    /// cost a start milliseconds.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t, durable: Bool = true) throws(SandboxError) {
        let temp = dirname(path) + "/." + basename(path) + ".\(getpid()).tmp"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw SandboxError.system("cannot write \(path)", errno: errno) }
        var failure: Int32? = nil
        do { try writeAll(fd, bytes) } catch { failure = error.rawValue }
        if failure == nil && durable && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == nil && rename(temp, path) != 0 { failure = errno }
        if let failure {
            unlink(temp)
            throw SandboxError.system("cannot write \(path)", errno: failure)
        }
    }

    /// write(2) until every byte is out, EINTR retried; the errno that stopped it.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { buf in retryingEINTR { Glibc.write(fd, buf.baseAddress! + off, buf.count - off) } }
            if n < 0 { throw Errno(rawValue: errno) }
            if n == 0 { throw Errno.noSpace }
            off += n
        }
    }

    public static func writeAtomically(_ text: String, to path: String, mode: mode_t, durable: Bool = true) throws(SandboxError) {
        try writeAtomically(Array(text.utf8), to: path, mode: mode, durable: durable)
    }

    /// mkdir -p: creates the missing directories of `path` with `mode` (less the
    /// umask); existing ones are left as they are. The error names the one that failed.
    public static func makeDirectories(_ path: String, mode: mode_t) throws(SandboxError) {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw SandboxError.system("cannot create \(prefix)", errno: errno)
            }
        }
    }

    /// `mkdir -p` of `dir.path`: `dir.root` as usual, then each component below it
    /// created and opened fd-relative with O_NOFOLLOW, so a symlink planted below
    /// the root (by the app, in its home) is refused instead of followed.
    public static func makeDirectories(_ dir: HostDirectory, mode: mode_t) throws(SandboxError) {
        try makeDirectories(dir.root, mode: mode)
        guard dir.path != dir.root else { return }
        let rootPrefix = dir.root.hasSuffix("/") ? dir.root : dir.root + "/"
        guard dir.path.hasPrefix(rootPrefix) else {
            throw SandboxError("internal error: \(dir.path) is not below \(dir.root)")
        }
        var fd = open(dir.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError.system("cannot open \(dir.root)", errno: errno) }
        defer { close(fd) }
        var walked = dir.root
        for part in dir.path.dropFirst(rootPrefix.count).split(separator: "/") {
            let name = String(part)
            walked += "/" + name
            guard name != "..", name != "." else { throw SandboxError("\(walked): '..' or '.' in a planned directory") }
            if mkdirat(fd, name, mode) != 0 && errno != EEXIST {
                throw SandboxError.system("cannot create \(walked)", errno: errno)
            }
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                let e = errno
                if e == ELOOP || e == ENOTDIR {
                    throw SandboxError("\(walked) is a symlink or not a directory, inside a tree the app can write; sandbox does not follow it",
                                       hint: "remove it (rm \(walked)) if you did not make it yourself, then start again")
                }
                throw SandboxError.system("cannot open \(walked)", errno: e)
            }
            close(fd)
            fd = next
        }
    }

    /// `~` and `~/…` → `home`; any other path as it is (`~user` is not expanded).
    public static func expandHome(_ path: String, home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return (home.hasSuffix("/") ? String(home.dropLast()) : home) + "/" + path.dropFirst(2) }
        return path
    }

    public static func dirname(_ p: String) -> String {
        guard let i = p.lastIndex(of: "/") else { return "." }
        return i == p.startIndex ? "/" : String(p[..<i])
    }

    public static func basename(_ p: String) -> String {
        guard let i = p.lastIndex(of: "/") else { return p }
        return String(p[p.index(after: i)...])
    }
}

extension Substring {
    /// Without leading and trailing blanks (space, tab, CR): one line of a config or /proc file.
    package var trimmingWhitespace: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return s
    }
}
